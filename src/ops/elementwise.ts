// Elementwise ops: residual add, ReLU, and in-place accumulation (used by backward).
import { record } from '../autograd/node.js';
import { grid1d } from '../gpu/runtime.js';
import { Tensor } from '../tensor/tensor.js';
import { expectDtype, expectSameShape } from './check.js';

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
  a.gpu.dispatch('add', { bindings: { a, b, out }, uniforms: { n: a.size }, workgroups: grid1d(a.size, 256) });
  return out;
}

/** acc += x, in place, outside autograd. */
export function addInPlace(acc: Tensor, x: Tensor): void {
  expectSameShape('addInPlace', acc, x, ['acc', 'x']);
  acc.gpu.dispatch('add_inplace', { bindings: { acc, x }, uniforms: { n: acc.size }, workgroups: grid1d(acc.size, 256) });
}

/** y = max(x, 0). */
export function relu(x: Tensor): Tensor {
  expectDtype('relu', 'x', x, 'f32');
  const y = Tensor.empty(x.gpu, x.shape, 'f32', 'relu');
  x.gpu.dispatch('relu_forward', { bindings: { x, y }, uniforms: { n: x.size }, workgroups: grid1d(x.size, 256) });
  return record('relu', [x], y, (dy, ctx) => {
    const dx = ctx.gradOutput(0);
    x.gpu.dispatch('relu_backward', { bindings: { y, dy, dx }, uniforms: { n: x.size }, workgroups: grid1d(x.size, 256) });
    return [dx];
  });
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
  a.gpu.dispatch('add_relu_forward', { bindings: { a, b, y }, uniforms: { n: a.size }, workgroups: grid1d(a.size, 256) });
  return record('addRelu', [a, b], y, (dy) => {
    const d = Tensor.empty(a.gpu, a.shape, 'f32', 'grad:add_relu');
    a.gpu.dispatch('relu_backward', { bindings: { y, dy, dx: d }, uniforms: { n: a.size }, workgroups: grid1d(a.size, 256) });
    return [d, d];
  });
}
