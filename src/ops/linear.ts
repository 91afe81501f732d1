// Fully connected layer, PyTorch layout: y = x W^T + b with x [N, IN], W [OUT, IN], b [OUT].
// Three register-blocked kernels (forward, input gradient, weight gradient: 4 x 4 outputs per
// invocation, no workgroup memory or barriers) plus a column sum for the bias gradient; every
// reduction runs in index order (deterministic, no atomics).
import { record } from '../autograd/node.js';
import { grid1d } from '../gpu/runtime.js';
import { shapeStr, Tensor } from '../tensor/tensor.js';
import { expectDtype, expectRank, ShapeError } from './check.js';

/** Invocations per workgroup; each computes a 4 x 4 block of outputs. */
const WG = 64;
const blocks = (v: number) => Math.ceil(v / 4);

/** y[n, o] = sum_i x[n, i] w[o, i] + b[o]. `b` may be null (no bias). */
export function linear(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  const op = 'linear';
  expectRank(op, 'x', x, 2);
  expectRank(op, 'w', w, 2);
  expectDtype(op, 'x', x, 'f32');
  expectDtype(op, 'w', w, 'f32');
  const [n, inFeatures] = x.shape;
  const [outFeatures, wIn] = w.shape;
  if (wIn !== inFeatures) throw new ShapeError(op, `x ${shapeStr(x.shape)} and w ${shapeStr(w.shape)} disagree on in_features (w is [out, in])`);
  if (b) {
    expectDtype(op, 'b', b, 'f32');
    if (b.rank !== 1 || b.shape[0] !== outFeatures) throw new ShapeError(op, `b must have shape [${outFeatures}] for w ${shapeStr(w.shape)}, got ${shapeStr(b.shape)}`);
  }
  if (n === 0 || inFeatures === 0 || outFeatures === 0) throw new ShapeError(op, `empty operand: x ${shapeStr(x.shape)}, w ${shapeStr(w.shape)}`);
  const gpu = x.gpu;
  const dims = { n, in_features: inFeatures, out_features: outFeatures };
  const y = Tensor.empty(gpu, [n, outFeatures], 'f32', 'linear');
  gpu.dispatch('linear_forward', {
    bindings: { x, w, b: b ?? w, y },
    uniforms: { ...dims, has_bias: b ? 1 : 0, blocks_o: blocks(outFeatures) },
    workgroups: grid1d(blocks(n) * blocks(outFeatures), WG),
    overrides: { WG },
  });
  const inputs = b ? [x, w, b] : [x, w];
  return record('linear', inputs, y, (dy, ctx) => {
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    let db: Tensor | null = null;
    if (ctx.needsGrad(0)) {
      dx = ctx.gradOutput(0);
      gpu.dispatch('linear_input_grad', { bindings: { dy, w, dx }, uniforms: { ...dims, blocks_i: blocks(inFeatures) }, workgroups: grid1d(blocks(n) * blocks(inFeatures), WG), overrides: { WG } });
    }
    if (ctx.needsGrad(1)) {
      dw = ctx.gradOutput(1);
      gpu.dispatch('linear_weight_grad', { bindings: { dy, x, dw }, uniforms: { ...dims, blocks_i: blocks(inFeatures) }, workgroups: grid1d(blocks(outFeatures) * blocks(inFeatures), WG), overrides: { WG } });
    }
    if (b && ctx.needsGrad(2)) {
      db = ctx.gradOutput(2);
      gpu.dispatch('linear_bias_grad', { bindings: { dy, db }, uniforms: { n, out_features: outFeatures }, workgroups: grid1d(outFeatures, 256) });
    }
    return b ? [dx, dw, db] : [dx, dw];
  });
}
