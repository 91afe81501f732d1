// Float64 references for softmax cross-entropy (mean over the batch) and top-1 correct counts.
export function crossEntropyRef(logits: Float64Array, labels: ArrayLike<number>, n: number, k: number): Float64Array {
  let total = 0;
  for (let r = 0; r < n; r++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, logits[r * k + j]);
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(logits[r * k + j] - m);
    total += m + Math.log(s) - logits[r * k + labels[r]];
  }
  return Float64Array.of(total / n);
}

/** d mean-loss / d logits times the upstream gradient g: (softmax - onehot) / N * g. */
export function crossEntropyBackwardRef(logits: Float64Array, labels: ArrayLike<number>, n: number, k: number, g: number): Float64Array {
  const d = new Float64Array(n * k);
  for (let r = 0; r < n; r++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, logits[r * k + j]);
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(logits[r * k + j] - m);
    for (let j = 0; j < k; j++) d[r * k + j] = ((Math.exp(logits[r * k + j] - m) / s - (j === labels[r] ? 1 : 0)) / n) * g;
  }
  return d;
}

export function countCorrectRef(logits: Float64Array, labels: ArrayLike<number>, n: number, k: number): number {
  let correct = 0;
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits[r * k + j] > logits[r * k + best]) best = j;
    if (best === labels[r]) correct++;
  }
  return correct;
}
