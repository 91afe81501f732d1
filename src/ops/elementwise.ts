// Elementwise ops: residual add, ReLU, and in-place accumulation (used by backward).
import { record } from '../autograd/node.js';
import { grid1d, type BufferRange } from '../gpu/runtime.js';
import { Tensor } from '../tensor/tensor.js';
import { expectDtype, expectSameShape } from './check.js';
import { streamLayout } from '../gpu/lanes.js';

/** Invocations per workgroup of the streaming kernels (include/elementwise_grid.wgsl). */
const WG = 64;

/**
 * Launch a streaming elementwise kernel over `size` floats, in its widest variant the size allows:
 * 64-byte structs of four vec4s (`wide`, two per invocation: the copy-ceiling shape of `npm run
 * bench`), vec4s (four per invocation), or f32s (`scalar`) when the size is not a multiple of 4.
 */
function streamElementwise(t: Tensor, kernel: string, bindings: Record<string, BufferRange>): void {
  const { variant, floats } = streamLayout(t.size);
  const K = variant === 'wide' ? 2 : 4;
  const n = t.size / floats;
  t.gpu.dispatch(kernel, { bindings, uniforms: { n }, workgroups: grid1d(n, WG * K), overrides: { WG, K }, variant });
}

/** out = a + b (same shape). Backward passes the gradient to both inputs unchanged. */
export function add(a: Tensor, b: Tensor): Tensor {
  expectSameShape('add', a, b);
  expectDtype('add', 'a', a, 'f32');
  expectDtype('add', 'b', b, 'f32');
  const out = addInto(a, b, Tensor.empty(a.gpu, a.shape, 'f32', 'add'));
  return record('add', [a, b], out, (gy) => [gy, gy]);
}

/** out = a + b into a given tensor, outside autograd. Returns out. */
export function addInto(a: Tensor, b: Tensor, out: Tensor): Tensor {
  expectSameShape('addInto', a, b);
  expectSameShape('addInto', a, out, ['a', 'out']);
  for (const [name, t] of [['a', a], ['b', b], ['out', out]] as const) expectDtype('addInto', name, t, 'f32');
  streamElementwise(a, 'add', { a, b, out });
  return out;
}

/** acc += x, in place, outside autograd. */
export function addInPlace(acc: Tensor, x: Tensor): void {
  expectSameShape('addInPlace', acc, x, ['acc', 'x']);
  expectDtype('addInPlace', 'acc', acc, 'f32');
  expectDtype('addInPlace', 'x', x, 'f32');
  streamElementwise(acc, 'add_inplace', { acc, x });
}

/** y = max(x, 0). */
export function relu(x: Tensor): Tensor {
  expectDtype('relu', 'x', x, 'f32');
  const y = Tensor.empty(x.gpu, x.shape, 'f32', 'relu');
  streamElementwise(x, 'relu_forward', { x, y });
  return record('relu', [x], y, (dy, ctx) => [reluBackwardInto(y, dy, ctx.gradOutput(0))]);
}

/** dx = dy where y > 0, else 0 (a ReLU's gradient from its output y), outside autograd. Returns dx. */
export function reluBackwardInto(y: Tensor, dy: Tensor, dx: Tensor): Tensor {
  expectSameShape('reluBackwardInto', y, dy, ['y', 'dy']);
  expectSameShape('reluBackwardInto', y, dx, ['y', 'dx']);
  streamElementwise(y, 'relu_backward', { y, dy, dx });
  return dx;
}

/**
 * y = relu(a + b), the end of a residual block, in one kernel. Backward: the ReLU's gradient
 * (relu_backward on y) goes to both inputs unchanged.
 */
export function addRelu(a: Tensor, b: Tensor): Tensor {
  expectSameShape('addRelu', a, b);
  expectDtype('addRelu', 'a', a, 'f32');
  expectDtype('addRelu', 'b', b, 'f32');
  const y = Tensor.empty(a.gpu, a.shape, 'f32', 'add_relu');
  streamElementwise(a, 'add_relu_forward', { a, b, y });
  return record('addRelu', [a, b], y, (dy) => {
    const d = reluBackwardInto(y, dy, Tensor.empty(a.gpu, a.shape, 'f32', 'grad:add_relu'));
    return [d, d];
  });
}
