// Float64 CPU references for the augmentation kernel, written directly from the definitions (array
// padding/cropping/flipping/np.rot90 and PyTorch's interpolate formulas) rather than from the affine
// matrices the GPU path uses, so the matrices are checked too.
const S = 32;

export const MEAN = [0.485, 0.456, 0.406];
export const STD = [0.229, 0.224, 0.225];

/** Planes of one CIFAR image (3072 bytes, CHW) as float64. */
export function planesOf(img: ArrayLike<number>): Float64Array[] {
  return [0, 1, 2].map((c) => Float64Array.from({ length: S * S }, (_, i) => img[c * S * S + i]));
}

/** F.interpolate(mode='area') to S/f then F.interpolate(size=S, mode='bilinear', align_corners=False). */
export function blurRef(plane: Float64Array, f: number): Float64Array {
  if (f === 1) return plane.slice();
  const P = S / f;
  const pooled = new Float64Array(P * P);
  for (let py = 0; py < P; py++) {
    for (let px = 0; px < P; px++) {
      let s = 0;
      for (let y = 0; y < f; y++) for (let x = 0; x < f; x++) s += plane[(py * f + y) * S + px * f + x];
      pooled[py * P + px] = s / (f * f);
    }
  }
  // PyTorch upsample_bilinear2d, align_corners=False: src = scale*(dst+0.5)-0.5 clamped at 0, scale = in/out.
  const idx = (d: number) => {
    const src = Math.max((P / S) * (d + 0.5) - 0.5, 0);
    const i0 = Math.floor(src);
    const i1 = i0 < P - 1 ? i0 + 1 : i0;
    return { i0, i1, l: src - i0 };
  };
  const out = new Float64Array(S * S);
  for (let y = 0; y < S; y++) {
    const { i0: y0, i1: y1, l: ly } = idx(y);
    for (let x = 0; x < S; x++) {
      const { i0: x0, i1: x1, l: lx } = idx(x);
      out[y * S + x] =
        (1 - ly) * ((1 - lx) * pooled[y0 * P + x0] + lx * pooled[y0 * P + x1]) + ly * ((1 - lx) * pooled[y1 * P + x0] + lx * pooled[y1 * P + x1]);
    }
  }
  return out;
}

/** Pad with 4 zeros on every side (40x40), take the 32x32 window at (4+dy, 4+dx). */
export function cropRef(plane: Float64Array, dx: number, dy: number, pad = 4): Float64Array {
  const W = S + 2 * pad;
  const padded = new Float64Array(W * W);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) padded[(y + pad) * W + x + pad] = plane[y * S + x];
  const out = new Float64Array(S * S);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) out[y * S + x] = padded[(y + pad + dy) * W + x + pad + dx];
  return out;
}

export function hflipRef(plane: Float64Array): Float64Array {
  const out = new Float64Array(S * S);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) out[y * S + x] = plane[y * S + (S - 1 - x)];
  return out;
}

/** numpy.rot90(m, k): k quarter turns counterclockwise; one turn is out[i][j] = m[j][n-1-i]. */
export function rot90Ref(plane: Float64Array, k: number): Float64Array {
  let m = plane;
  for (let t = 0; t < ((k % 4) + 4) % 4; t++) {
    const o = new Float64Array(S * S);
    for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) o[i * S + j] = m[j * S + (S - 1 - i)];
    m = o;
  }
  return m;
}

export interface AugRef {
  dx?: number;
  dy?: number;
  flip?: boolean;
  rot?: number;
  blur?: number;
}

function normalise(planes: Float64Array[], mean = MEAN, std = STD): Float64Array {
  const out = new Float64Array(3 * S * S);
  planes.forEach((p, c) => p.forEach((v, i) => (out[c * S * S + i] = (v / 255 - mean[c]) / std[c])));
  return out;
}

/** rot90^k(hflip?(crop(blur(img)))) normalised, [3, 32, 32]. */
export function augmentRef(img: ArrayLike<number>, a: AugRef): Float64Array {
  return normalise(
    planesOf(img).map((p) => {
      let q = blurRef(p, a.blur ?? 1);
      q = cropRef(q, a.dx ?? 0, a.dy ?? 0);
      if (a.flip) q = hflipRef(q);
      return rot90Ref(q, a.rot ?? 0);
    }),
  );
}

/** Generic affine resampling (output pixel -> source pixel via m = [a, b, c, d, tx, ty]), zeros outside. */
export function affineRef(img: ArrayLike<number>, m: ArrayLike<number>, filter: 'nearest' | 'bilinear', blur = 1): Float64Array {
  return normalise(
    planesOf(img).map((p0) => {
      const p = blurRef(p0, blur);
      const at = (x: number, y: number) => (x < 0 || y < 0 || x >= S || y >= S ? 0 : p[y * S + x]);
      const out = new Float64Array(S * S);
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const sx = m[0] * x + m[2] * y + m[4];
          const sy = m[1] * x + m[3] * y + m[5];
          if (filter === 'nearest') out[y * S + x] = at(Math.floor(sx + 0.5), Math.floor(sy + 0.5));
          else {
            const x0 = Math.floor(sx), y0 = Math.floor(sy);
            const ax = sx - x0, ay = sy - y0;
            out[y * S + x] = (1 - ay) * ((1 - ax) * at(x0, y0) + ax * at(x0 + 1, y0)) + ay * ((1 - ax) * at(x0, y0 + 1) + ax * at(x0 + 1, y0 + 1));
          }
        }
      }
      return out;
    }),
  );
}
