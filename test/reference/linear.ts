// Float64 reference for the fully connected layer: y = x W^T + b, x [N, IN], W [OUT, IN], b [OUT].
export function linearRef(x: Float64Array, w: Float64Array, b: Float64Array | null, n: number, inFeatures: number, outFeatures: number): Float64Array {
  const y = new Float64Array(n * outFeatures);
  for (let r = 0; r < n; r++) {
    for (let o = 0; o < outFeatures; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inFeatures; i++) s += x[r * inFeatures + i] * w[o * inFeatures + i];
      y[r * outFeatures + o] = s;
    }
  }
  return y;
}

/** Analytic gradients: dx = dy W, dW = dy^T x, db = column sums of dy. */
export function linearBackwardRef(x: Float64Array, w: Float64Array, dy: Float64Array, n: number, inFeatures: number, outFeatures: number): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dx = new Float64Array(n * inFeatures);
  const dw = new Float64Array(outFeatures * inFeatures);
  const db = new Float64Array(outFeatures);
  for (let r = 0; r < n; r++) {
    for (let o = 0; o < outFeatures; o++) {
      const g = dy[r * outFeatures + o];
      db[o] += g;
      for (let i = 0; i < inFeatures; i++) {
        dx[r * inFeatures + i] += g * w[o * inFeatures + i];
        dw[o * inFeatures + i] += g * x[r * inFeatures + i];
      }
    }
  }
  return { dx, dw, db };
}
