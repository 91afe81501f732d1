// Fixed, class-balanced subsets for quick runs (--train-subset N / --test-subset N).
//
// Definition: class c gets q = floor(N / C) images, plus one more for the lowest (N mod C) classes;
// the images of class c are its first quota images in file order. The result is sorted (file order).
// Deterministic, no seed, and balanced to within one image per class for any N.

/** Per-class quotas for a subset of size n over `numClasses` classes. */
export function subsetQuotas(n: number, numClasses = 10): number[] {
  const q = Math.floor(n / numClasses);
  const r = n % numClasses;
  return Array.from({ length: numClasses }, (_, c) => q + (c < r ? 1 : 0));
}

/** Indices (ascending) of the balanced subset of size n of a split with these labels. */
export function balancedSubset(labels: ArrayLike<number>, n: number, numClasses = 10): Uint32Array {
  if (!Number.isInteger(n) || n < 0) throw new Error(`subset size must be a non-negative integer, got ${n}`);
  if (n > labels.length) throw new Error(`subset of ${n} images requested from a split of ${labels.length}`);
  const quota = subsetQuotas(n, numClasses);
  const taken = new Array<number>(numClasses).fill(0);
  const out = new Uint32Array(n);
  let k = 0;
  for (let i = 0; i < labels.length && k < n; i++) {
    const c = labels[i];
    if (c < 0 || c >= numClasses) throw new Error(`balancedSubset: label ${c} at ${i} outside 0..${numClasses - 1}`);
    if (taken[c] < quota[c]) {
      taken[c]++;
      out[k++] = i;
    }
  }
  if (k < n) {
    const short = quota.map((q, c) => ({ c, q, have: taken[c] })).filter((x) => x.have < x.q);
    throw new Error(`balanced subset of ${n}: not enough images in class ${short.map((s) => `${s.c} (${s.have} of ${s.q})`).join(', ')}`);
  }
  return out;
}
