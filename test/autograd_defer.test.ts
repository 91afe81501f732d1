import { describe, expect, it } from 'vitest';
// BackwardContext.deferTo: a node may leave its part of an input's gradient to a later node's
// backward (conv2dWithShortcut's pairs use it); the engine grants it only when that backward is still
// to come in the pass, and fails loudly when a granted one never runs.
import { backward } from '../src/autograd/backward.js';
import { record } from '../src/autograd/node.js';
import { add, addInto } from '../src/ops/elementwise.js';
import { leaf } from '../src/tensor/param_store.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { useGpu } from './helpers/gpu.js';
import { f32, Rng } from './helpers/random.js';

const gpu = useGpu();

/**
 * Two identity ops of x, `a` and `b`, whose backwards share x's gradient: the first to run asks to
 * defer to the other's output; the second writes both output gradients' sum. `granted` records what
 * deferTo answered; `partnerOf` picks the tensor the first asks about (the other output by default).
 */
function pairedIdentities(x: Tensor, partnerOf?: (other: Tensor) => Tensor) {
  const granted: boolean[] = [];
  let waiting: Tensor | null = null;
  const outs: Tensor[] = [];
  const make = (i: number) => {
    const y = addInto(x, Tensor.zeros(x.gpu, x.shape), Tensor.empty(x.gpu, x.shape));
    return record('identity', [x], y, (dy, ctx) => {
      if (!waiting) {
        const other = outs[1 - i];
        const ok = ctx.deferTo?.(partnerOf ? partnerOf(other) : other) ?? false;
        granted.push(ok);
        if (ok) {
          waiting = dy;
          return [null];
        }
        return [dy];
      }
      const dx = addInto(waiting, dy, ctx.gradOutput(0));
      waiting = null;
      return [dx];
    });
  };
  outs.push(make(0), make(1));
  return { a: outs[0], b: outs[1], granted };
}

describe('BackwardContext.deferTo', () => {
  it("a deferred part reaches x through the partner's backward (the float64 sum of both gradients)", async () => {
    const g = gpu();
    const scope = Scope.open();
    try {
      const rng = new Rng();
      const n = 64;
      const xv = f32(rng.array(n)), ga = f32(rng.array(n)), gb = f32(rng.array(n));
      const x = leaf(g, xv, [n], 'x');
      const { a, b, granted } = pairedIdentities(x);
      // out = a + b weighted by distinct gradients: feed them through a node whose backward hands each its own
      const out = record('split', [a, b], add(a, b), () => [Tensor.fromArray(g, ga, [n]), Tensor.fromArray(g, gb, [n])]);
      backward(out, Tensor.zeros(g, [n]));
      expect(granted, 'the first asked and was granted').toEqual([true]);
      const got = await x.grad!.readF32();
      for (let i = 0; i < n; i++) expect(got[i], `element ${i} seed=${rng.seed}`).toBeCloseTo(ga[i] + gb[i], 5);
    } finally {
      scope.close();
    }
  });

  it('an op handing the same tensor to an input twice (add(x, x)) doubles it, not adds it into itself', async () => {
    const g = gpu();
    const scope = Scope.open();
    try {
      const n = 32;
      const x = leaf(g, new Float64Array(n).fill(1), [n], 'x');
      const r = f32(new Rng().array(n));
      backward(add(x, x), Tensor.fromArray(g, r, [n]));
      expect([...(await x.grad!.readF32())]).toEqual([...r].map((v) => 2 * v));
    } finally {
      scope.close();
    }
  });

  it('is refused for a tensor whose backward is not still to come (then the node keeps its part)', async () => {
    const g = gpu();
    const scope = Scope.open();
    try {
      const n = 16;
      const x = leaf(g, new Float64Array(n).fill(1), [n], 'x');
      const stranger = add(x, x); // requires a gradient, but the loss does not reach it
      const { a, b, granted } = pairedIdentities(x, () => stranger);
      backward(add(a, b), Tensor.fromArray(g, new Float32Array(n).fill(2), [n]));
      expect(granted).toEqual([false, false]);
      // neither deferred: each identity's part was added into x's gradient (2 + 2)
      expect([...(await x.grad!.readF32())]).toEqual(new Array(n).fill(4));
    } finally {
      scope.close();
    }
  });

  it("fails loudly when a granted partner's backward never runs (its output got no gradient)", () => {
    const g = gpu();
    const scope = Scope.open();
    try {
      const n = 16;
      const x = leaf(g, new Float64Array(n).fill(1), [n], 'x');
      const { a, b, granted } = pairedIdentities(x);
      // a node that uses both outputs but hands a gradient only to a (b listed first: a's backward runs
      // first, and asks to defer to b, which is still to come)
      const out = record('one_sided', [b, a], add(a, b), (dy) => [null, dy]);
      expect(() => backward(out, Tensor.zeros(g, [n]))).toThrow(/left part of an input gradient to the backward of a identity output, which got no gradient and never ran/);
      expect(granted).toEqual([true]);
    } finally {
      scope.close();
    }
  });
});
