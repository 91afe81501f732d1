// Float64 CPU reference for the 2-D convolution (NCHW activations, OIHW weights), written as
// plainly as the math so it can be trusted:
//   y[n,o,oh,ow]  = b[o] + sum_{c,kh,kw} x[n,c,oh*s-p+kh, ow*s-p+kw] * w[o,c,kh,kw]   (zero padding)
//   dx[n,c,ih,iw] = sum over (o,kh,kw,oh,ow) with oh*s-p+kh = ih, ow*s-p+kw = iw of dy[n,o,oh,ow] * w[o,c,kh,kw]
//   dw[o,c,kh,kw] = sum_{n,oh,ow} dy[n,o,oh,ow] * x[n,c,oh*s-p+kh, ow*s-p+kw]
//   db[o]         = sum_{n,oh,ow} dy[n,o,oh,ow]

export interface ConvShape {
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  KH: number;
  KW: number;
  stride: number;
  pad: number;
}

export function convOutSize(s: ConvShape): { OH: number; OW: number } {
  return {
    OH: Math.floor((s.H + 2 * s.pad - s.KH) / s.stride) + 1,
    OW: Math.floor((s.W + 2 * s.pad - s.KW) / s.stride) + 1,
  };
}

export function conv2dForwardRef(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null, s: ConvShape): Float64Array {
  const { N, C, H, W, O, KH, KW, stride, pad } = s;
  const { OH, OW } = convOutSize(s);
  const y = new Float64Array(N * O * OH * OW);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let acc = b ? b[o] : 0;
          for (let c = 0; c < C; c++) {
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * stride - pad + kh;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * stride - pad + kw;
                if (iw < 0 || iw >= W) continue;
                acc += x[((n * C + c) * H + ih) * W + iw] * w[((o * C + c) * KH + kh) * KW + kw];
              }
            }
          }
          y[((n * O + o) * OH + oh) * OW + ow] = acc;
        }
      }
    }
  }
  return y;
}

export function conv2dInputGradRef(dy: ArrayLike<number>, w: ArrayLike<number>, s: ConvShape): Float64Array {
  const { N, C, H, W, O, KH, KW, stride, pad } = s;
  const { OH, OW } = convOutSize(s);
  const dx = new Float64Array(N * C * H * W);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const g = dy[((n * O + o) * OH + oh) * OW + ow];
          for (let c = 0; c < C; c++) {
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * stride - pad + kh;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * stride - pad + kw;
                if (iw < 0 || iw >= W) continue;
                dx[((n * C + c) * H + ih) * W + iw] += g * w[((o * C + c) * KH + kh) * KW + kw];
              }
            }
          }
        }
      }
    }
  }
  return dx;
}

export function conv2dWeightGradRef(dy: ArrayLike<number>, x: ArrayLike<number>, s: ConvShape): Float64Array {
  const { N, C, H, W, O, KH, KW, stride, pad } = s;
  const { OH, OW } = convOutSize(s);
  const dw = new Float64Array(O * C * KH * KW);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const g = dy[((n * O + o) * OH + oh) * OW + ow];
          for (let c = 0; c < C; c++) {
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * stride - pad + kh;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * stride - pad + kw;
                if (iw < 0 || iw >= W) continue;
                dw[((o * C + c) * KH + kh) * KW + kw] += g * x[((n * C + c) * H + ih) * W + iw];
              }
            }
          }
        }
      }
    }
  }
  return dw;
}

export function conv2dBiasGradRef(dy: ArrayLike<number>, s: ConvShape): Float64Array {
  const { N, O } = s;
  const { OH, OW } = convOutSize(s);
  const db = new Float64Array(O);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < OH * OW; i++) db[o] += dy[(n * O + o) * OH * OW + i];
    }
  }
  return db;
}
