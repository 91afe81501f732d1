// Float64 references for pooling (NCHW), written as plainly as the math.
export function globalAvgPoolRef(x: Float64Array, n: number, c: number, h: number, w: number): Float64Array {
  const y = new Float64Array(n * c);
  for (let r = 0; r < n * c; r++) {
    let s = 0;
    for (let i = 0; i < h * w; i++) s += x[r * h * w + i];
    y[r] = s / (h * w);
  }
  return y;
}

/** x[:, :, ::2, ::2] of an NCHW array (H and W even): a tensor's stride-2 copy (src/ops/stride2_copy.ts). */
export function evenPixelsRef(x: ArrayLike<number>, n: number, c: number, h: number, w: number): Float64Array {
  const y = new Float64Array(n * c * (h / 2) * (w / 2));
  let k = 0;
  for (let p = 0; p < n * c; p++) for (let r = 0; r < h; r += 2) for (let col = 0; col < w; col += 2) y[k++] = x[(p * h + r) * w + col];
  return y;
}

export interface PoolGeometry {
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  stride: number;
  pad: number;
}

export function poolOut(g: PoolGeometry): { oh: number; ow: number } {
  return { oh: Math.floor((g.h + 2 * g.pad - g.k) / g.stride) + 1, ow: Math.floor((g.w + 2 * g.pad - g.k) / g.stride) + 1 };
}

/** Max over each window, padded positions skipped; argmax = ih*W + iw of the first maximum. */
export function maxPool2dRef(x: Float64Array, g: PoolGeometry): { y: Float64Array; argmax: Uint32Array } {
  const { n, c, h, w, k, stride, pad } = g;
  const { oh, ow } = poolOut(g);
  const y = new Float64Array(n * c * oh * ow);
  const argmax = new Uint32Array(y.length);
  for (let plane = 0; plane < n * c; plane++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let best = -Infinity;
        let at = -1;
        for (let kh = 0; kh < k; kh++) {
          for (let kw = 0; kw < k; kw++) {
            const ih = i * stride - pad + kh;
            const iw = j * stride - pad + kw;
            if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
            const v = x[plane * h * w + ih * w + iw];
            if (at < 0 || v > best) {
              best = v;
              at = ih * w + iw;
            }
          }
        }
        y[(plane * oh + i) * ow + j] = best;
        argmax[(plane * oh + i) * ow + j] = at;
      }
    }
  }
  return { y, argmax };
}
