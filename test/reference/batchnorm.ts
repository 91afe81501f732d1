// Float64 references for BatchNorm2d (NCHW), written as plainly as the math.
export interface Shape4 {
  n: number;
  c: number;
  h: number;
  w: number;
}

export interface BatchStats {
  mean: Float64Array;
  /** Biased (divide by M): what training normalises with. */
  varBiased: Float64Array;
  /** Unbiased (divide by M - 1): what the running variance tracks. */
  varUnbiased: Float64Array;
}

export function batchStatsRef(x: Float64Array, s: Shape4): BatchStats {
  const { n, c, h, w } = s;
  const hw = h * w;
  const m = n * hw;
  const mean = new Float64Array(c);
  const varBiased = new Float64Array(c);
  const varUnbiased = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    for (let b = 0; b < n; b++) for (let i = 0; i < hw; i++) sum += x[(b * c + ch) * hw + i];
    const mu = sum / m;
    let ss = 0;
    for (let b = 0; b < n; b++) for (let i = 0; i < hw; i++) ss += (x[(b * c + ch) * hw + i] - mu) ** 2;
    mean[ch] = mu;
    varBiased[ch] = ss / m;
    varUnbiased[ch] = ss / (m - 1);
  }
  return { mean, varBiased, varUnbiased };
}

/** y = (x - mean_c) / sqrt(var_c + eps) * gamma_c + beta_c with the given per-channel mean/var. */
export function batchNormApplyRef(x: Float64Array, gamma: Float64Array, beta: Float64Array, mean: Float64Array, variance: Float64Array, s: Shape4, eps: number): Float64Array {
  const hw = s.h * s.w;
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const ch = Math.floor(i / hw) % s.c;
    y[i] = ((x[i] - mean[ch]) / Math.sqrt(variance[ch] + eps)) * gamma[ch] + beta[ch];
  }
  return y;
}

/** Training-mode forward: batch statistics (biased variance). */
export function batchNormTrainRef(x: Float64Array, gamma: Float64Array, beta: Float64Array, s: Shape4, eps = 1e-5): Float64Array {
  const st = batchStatsRef(x, s);
  return batchNormApplyRef(x, gamma, beta, st.mean, st.varBiased, s, eps);
}

/** PyTorch's running-stat update: running = (1 - m) * running + m * batch (unbiased variance). */
export function runningUpdateRef(runningMean: Float64Array, runningVar: Float64Array, st: BatchStats, momentum: number): { mean: Float64Array; var: Float64Array } {
  return {
    mean: runningMean.map((r, i) => (1 - momentum) * r + momentum * st.mean[i]),
    var: runningVar.map((r, i) => (1 - momentum) * r + momentum * st.varUnbiased[i]),
  };
}

/** Analytic backward (training: through the batch statistics; eval: running stats constant). */
export function batchNormBackwardRef(
  x: Float64Array,
  gamma: Float64Array,
  dy: Float64Array,
  s: Shape4,
  eps: number,
  stats: { mean: Float64Array; variance: Float64Array; training: boolean },
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const { n, c, h, w } = s;
  const hw = h * w;
  const m = n * hw;
  const dx = new Float64Array(x.length);
  const dgamma = new Float64Array(c);
  const dbeta = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    const invstd = 1 / Math.sqrt(stats.variance[ch] + eps);
    let sdy = 0;
    let sdyxhat = 0;
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < hw; i++) {
        const k = (b * c + ch) * hw + i;
        sdy += dy[k];
        sdyxhat += dy[k] * (x[k] - stats.mean[ch]) * invstd;
      }
    }
    dbeta[ch] = sdy;
    dgamma[ch] = sdyxhat;
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < hw; i++) {
        const k = (b * c + ch) * hw + i;
        const xhat = (x[k] - stats.mean[ch]) * invstd;
        dx[k] = stats.training ? (gamma[ch] * invstd * (m * dy[k] - sdy - xhat * sdyxhat)) / m : gamma[ch] * invstd * dy[k];
      }
    }
  }
  return { dx, dgamma, dbeta };
}
