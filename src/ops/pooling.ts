// Pooling over NCHW activations: global average pooling (the head of every CIFAR ResNet, WRN,
// VGG — VGG's final 2x2 average pool over a 2x2 map is the global one — and ResNet-18) and 2-D
// max pooling (VGG's 2x2/2, ResNet-18's ImageNet stem 3x3/2 pad 1). Max pooling saves the argmax
// (u32, position inside the input plane) in the forward; the backward gathers, each invocation
// for a stride x stride cell of inputs from the windows that can contain it, so overlapping
// windows need no atomics and the result is deterministic.
import { record } from '../autograd/node.js';
import { grid1d } from '../gpu/runtime.js';
import { shapeStr, Tensor } from '../tensor/tensor.js';
import { expectDtype, expectRank, ShapeError } from './check.js';
import { streamLayout } from '../gpu/lanes.js';

/** Invocations per workgroup of the global average pool (one row each). */
const AVG_WG = 64;

/** y[n, c] = mean over (h, w) of x[n, c, h, w]. */
export function globalAvgPool(x: Tensor): Tensor {
  const op = 'globalAvgPool';
  expectRank(op, 'x', x, 4);
  expectDtype(op, 'x', x, 'f32');
  const [n, c, h, w] = x.shape;
  const rows = n * c;
  if (rows === 0 || h * w === 0) throw new ShapeError(op, `empty input x ${shapeStr(x.shape)}`);
  const { variant, floats } = streamLayout(h * w); // rows read 16, 4 or 1 floats at a time
  const hw = (h * w) / floats;
  const gpu = x.gpu;
  const y = Tensor.empty(gpu, [n, c], 'f32', 'avgpool');
  gpu.dispatch('avgpool_global_forward', { bindings: { x, y }, uniforms: { rows, hw }, workgroups: grid1d(rows, AVG_WG), overrides: { WG: AVG_WG }, variant });
  return record('globalAvgPool', [x], y, (dy, ctx) => {
    const dx = ctx.gradOutput(0);
    gpu.dispatch('avgpool_global_backward', { bindings: { dy, dx }, uniforms: { rows, hw }, workgroups: grid1d(rows, AVG_WG), overrides: { WG: AVG_WG }, variant });
    return [dx];
  });
}

export interface MaxPoolOptions {
  kernel: number;
  /** Defaults to kernel; at most 4. */
  stride?: number;
  /** Implicit -inf padding on each side; at most kernel / 2 (as PyTorch requires). Default 0. */
  padding?: number;
}

/** Output size of a pooling window along one axis (floor mode, as PyTorch's default). */
export function poolOutSize(size: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((size + 2 * padding - kernel) / stride) + 1;
}

const POOL_WG = 64;
/** Largest max-pool stride: maxpool2d_backward holds an S x S cell of gradients (16 registers). */
const MAX_STRIDE = 4;
const MAX_GRID = 65535;

const pow2ceil = (v: number) => 2 ** Math.ceil(Math.log2(Math.max(1, v)));

/**
 * A 64-invocation workgroup WX x WY x WZ and grid for a (width, height, planes) launch: x and y
 * cover the map (powers of two up to its size), z takes several planes of small maps; the grid's z
 * is capped at 65535 and the kernels loop over the remaining planes.
 */
export function planeGrid(width: number, height: number, planes: number): { overrides: { WX: number; WY: number; WZ: number }; workgroups: [number, number, number] } {
  const WX = Math.min(pow2ceil(width), POOL_WG);
  const WY = Math.min(pow2ceil(height), POOL_WG / WX);
  const WZ = POOL_WG / (WX * WY);
  return { overrides: { WX, WY, WZ }, workgroups: [Math.ceil(width / WX), Math.ceil(height / WY), Math.min(Math.ceil(planes / WZ), MAX_GRID)] };
}

/** y = max over each kernel x kernel window (stride, padding) of x [N, C, H, W]. */
export function maxPool2d(x: Tensor, options: MaxPoolOptions): Tensor {
  const op = 'maxPool2d';
  const { kernel: k, stride = options.kernel, padding: pad = 0 } = options;
  expectRank(op, 'x', x, 4);
  expectDtype(op, 'x', x, 'f32');
  if (!Number.isInteger(k) || k < 1 || !Number.isInteger(stride) || stride < 1 || !Number.isInteger(pad) || pad < 0) {
    throw new ShapeError(op, `kernel ${k}, stride ${stride}, padding ${pad} must be integers with kernel, stride >= 1, padding >= 0`);
  }
  if (pad > k / 2) throw new ShapeError(op, `padding ${pad} must be at most half the kernel ${k}`);
  if (stride > MAX_STRIDE) throw new ShapeError(op, `stride ${stride} is above the supported ${MAX_STRIDE} (the backward keeps a stride x stride cell in registers)`);
  const [n, c, h, w] = x.shape;
  const oh = poolOutSize(h, k, stride, pad);
  const ow = poolOutSize(w, k, stride, pad);
  if (oh < 1 || ow < 1) throw new ShapeError(op, `x ${shapeStr(x.shape)} is smaller than the ${k}x${k} window (padding ${pad})`);
  const gpu = x.gpu;
  const y = Tensor.empty(gpu, [n, c, oh, ow], 'f32', 'maxpool');
  const argmax = Tensor.empty(gpu, [n, c, oh, ow], 'u32', 'maxpool.argmax');
  const dims = { planes: n * c, h, w, oh, ow };
  const geometry = { K: k, S: stride, P: pad };
  // VGG's 2x2 stride-2 pools on maps whose rows split into 8-column runs take the kernels' k2s2
  // variants: four outputs (windows) an invocation, vec4 accesses, the same bits as the general form
  const k2s2 = k === 2 && stride === 2 && pad === 0 && h % 2 === 0 && w % 8 === 0;
  const variant = k2s2 ? 'k2s2' : undefined;
  const fwdGrid = planeGrid(k2s2 ? ow / 4 : ow, oh, n * c);
  gpu.dispatch('maxpool2d_forward', { bindings: { x, y, argmax }, uniforms: dims, workgroups: fwdGrid.workgroups, overrides: { ...geometry, ...fwdGrid.overrides }, variant });
  return record('maxPool2d', [x], y, (dy, ctx) => {
    const dx = ctx.gradOutput(0);
    // Each invocation owns an S x S cell of inputs (k2s2: a 2 x 8 run of four windows' cells); the
    // windows that can touch a cell are oh = cell + LO + a, a < NC (offsets from the window range
    // [ceil((i+P-K+1)/S), floor((i+P)/S)]).
    const lo = Math.ceil((pad - k + 1) / stride);
    const hi = Math.floor((stride - 1 + pad) / stride);
    const bwdGrid = k2s2 ? fwdGrid : planeGrid(Math.ceil(w / stride), Math.ceil(h / stride), n * c);
    gpu.dispatch('maxpool2d_backward', {
      bindings: { dy, argmax, dx },
      uniforms: dims,
      workgroups: bwdGrid.workgroups,
      overrides: { ...geometry, LO: lo, NC: hi - lo + 1, ...bwdGrid.overrides },
      variant,
    });
    return [dx];
  });
}
