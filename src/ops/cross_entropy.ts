// Softmax cross-entropy, mean over the batch, and a GPU top-1 correct count for accuracy.
//
// Labels are u32 class indices. A label >= K is never read out of bounds: it makes that row's loss
// (and gradient) NaN, so the trainer's NaN check on the read-back loss catches it. Validating on the
// CPU here would need a readback, which ops never do; datasets validate labels when they load them
// (`checkLabels` below is the CPU helper for that). NaN/inf logits propagate into the loss unclamped.
import { record } from '../autograd/node.js';
import { grid1d } from '../gpu/runtime.js';
import { shapeStr, Tensor } from '../tensor/tensor.js';
import { expectDtype, expectRank, ShapeError } from './check.js';

/** Invocations of the single-workgroup reductions (loss, correct count). */
const WG = 256;

function checkLogitsLabels(op: string, logits: Tensor, labels: Tensor): [number, number] {
  expectRank(op, 'logits', logits, 2);
  expectDtype(op, 'logits', logits, 'f32');
  expectRank(op, 'labels', labels, 1);
  expectDtype(op, 'labels', labels, 'u32');
  const [n, k] = logits.shape;
  if (labels.shape[0] !== n) throw new ShapeError(op, `labels ${shapeStr(labels.shape)} must have one entry per row of logits ${shapeStr(logits.shape)}`);
  if (n === 0 || k === 0) throw new ShapeError(op, `empty logits ${shapeStr(logits.shape)}`);
  return [n, k];
}

/** CPU check that every label is an integer in [0, numClasses); throws naming the first bad one. */
export function checkLabels(labels: ArrayLike<number>, numClasses: number, what = 'labels'): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) throw new RangeError(`${what}[${i}] = ${v} is not a class index in [0, ${numClasses})`);
  }
}

/**
 * loss = mean_n (logsumexp(logits[n]) - logits[n, labels[n]]), shape [1].
 * logits [N, K] f32, labels [N] u32. Backward: dlogits = (softmax - onehot) / N * dloss.
 */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  const op = 'crossEntropy';
  const [n, k] = checkLogitsLabels(op, logits, labels);
  const gpu = logits.gpu;
  const lse = Tensor.empty(gpu, [n], 'f32', 'cross_entropy.lse');
  const loss = Tensor.empty(gpu, [1], 'f32', 'cross_entropy');
  gpu.dispatch('cross_entropy_forward', { bindings: { logits, labels, lse, loss }, uniforms: { n, k }, workgroups: 1, overrides: { WG } });
  return record('crossEntropy', [logits], loss, (dloss, ctx) => {
    const dlogits = ctx.gradOutput(0);
    gpu.dispatch('cross_entropy_backward', { bindings: { logits, labels, lse, dloss, dlogits }, uniforms: { n, k }, workgroups: grid1d(n * k, 256) });
    return [dlogits];
  });
}

/** Number of rows whose argmax (first maximum) equals the label, as a [1] u32 tensor. No gradient. */
export function countCorrect(logits: Tensor, labels: Tensor): Tensor {
  const [n, k] = checkLogitsLabels('countCorrect', logits, labels);
  const count = Tensor.empty(logits.gpu, [1], 'u32', 'correct');
  logits.gpu.dispatch('accuracy_count', { bindings: { logits, labels, count }, uniforms: { n, k }, workgroups: 1, overrides: { WG } });
  return count;
}
