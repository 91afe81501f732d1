// Float64 reference for the masked SGD step (PyTorch form):
//   g = (grad + wd * w) * mask;  v = momentum * v + g;  v *= mask;  w = (w - lr * v) * mask
export function sgdMaskedRef(
  w: Float64Array,
  grad: ArrayLike<number>,
  v: Float64Array,
  mask: ArrayLike<number>,
  lr: number,
  momentum: number,
  weightDecay: number,
): void {
  for (let i = 0; i < w.length; i++) {
    const g = (grad[i] + weightDecay * w[i]) * mask[i];
    v[i] = (momentum * v[i] + g) * mask[i];
    w[i] = (w[i] - lr * v[i]) * mask[i];
  }
}
