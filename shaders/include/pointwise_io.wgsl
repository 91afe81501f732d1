// The bindings, stride variants and stores of the 1x1 conv kernels (conv2d_pointwise and
// conv2d_pointwise_tile): dst[n, r, S_OUT*g, S_OUT*h] = b[r] + sum_k wk[r, k] * src[n, k, S_IN*g, S_IN*h]
// over the grid GH x GW (the conv's output size). Variants: `down` (S_IN = 2: the source read at
// every other row and column), `up` (S_OUT = 2: zeros written at every other dst pixel), `upacc`
// (S_OUT = 2, the result added into the even dst pixels, the others neither read nor written);
// none: stride 1 both ways, where the includer's override ACCUM adds into dst (dst = dst + ...).
// Layouts: src, dst NCHW; wk row-major [R, K] as vec4 along k; b [R]. A tile is 16 consecutive grid
// pixels of one image (flat index g*GW + h, 16-aligned): two 8-column runs, each inside one grid row.
// On lavapipe every storage access is a per-lane loop, so the accesses move 64 bytes (Q16) where
// they can: the plain side one Q16 per channel and tile; `down` reads each run's 16 source columns
// as one Q16 and keeps the even ones; `up` writes each run's even dst row as one Q16 with zeros
// interleaved plus the zero row below; `upacc` adds into the 8 even columns of a run with scalar
// accesses (half the floats of a Q16 read and write: 16->32 channels 1.09 against 1.41 ms on
// lavapipe, 2026-11-26; scalar loads of the even columns in place of `down`'s Q16 loads were slower).
struct Params { N: u32, K: u32, HS: u32, WS: u32, R: u32, GH: u32, GW: u32, has_bias: u32 }
struct Q16 { a: vec4f, b: vec4f, c: vec4f, d: vec4f }  // 16 floats: one 64-byte access
// #if down
const S_IN = 2u;
const S_OUT = 1u;
// #elif up
const S_IN = 1u;
const S_OUT = 2u;
// #elif upacc
const S_IN = 1u;
const S_OUT = 2u;
// #else
const S_IN = 1u;
const S_OUT = 1u;
// #endif
@group(0) @binding(0) var<storage, read> src: array<Q16>;
@group(0) @binding(1) var<storage, read> wk: array<vec4f>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
// #if upacc
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
// #else
@group(0) @binding(3) var<storage, read_write> dst: array<Q16>;
// #endif
@group(0) @binding(4) var<uniform> p: Params;

// the two even-column halves of a 16-column source run
fn evens(e: Q16) -> array<vec4f, 2> {
  return array<vec4f, 2>(vec4f(e.a.x, e.a.z, e.b.x, e.b.z), vec4f(e.c.x, e.c.z, e.d.x, e.d.z));
}

// the number of 16-pixel tiles: N images of GH*GW / 16 each
fn tileCount() -> u32 {
  return p.N * (p.GH * p.GW / 16u);
}

// the tile that invocation gi owns, clamped to the last one (lanes past the end compute a copy, so
// that subgroup broadcasts stay uniform): its image n and first flat grid pixel f0
fn tileAt(gi: u32) -> vec2u {
  let P16 = p.GH * p.GW / 16u;             // tiles per image plane
  let t = min(gi, tileCount() - 1u);
  let n = t / P16;
  return vec2u(n, (t - n * P16) * 16u);
}

// where a tile's source values are, in Q16s: `base` for k = 0 (channel k's plane is `plane` further
// on), and for `down` the starts of runs A and B's 16 source columns within a plane
struct SourceAt { base: u32, plane: u32, sA: u32, sB: u32 }
fn sourceAt(n: u32, f0: u32) -> SourceAt {
  let plane = p.HS * p.WS / 16u;
  let fB = f0 + 8u;
  let sA = (2u * (f0 / p.GW) * p.WS + 2u * (f0 % p.GW)) / 16u;
  let sB = (2u * (fB / p.GW) * p.WS + 2u * (fB % p.GW)) / 16u;
  return SourceAt(n * p.K * plane + select(0u, f0 / 16u, S_IN == 1u), plane, sA, sB);
}

// the tile's 16 source values in the source channel whose plane starts at Q16 si (s.base + k * s.plane)
fn sourceTile(s: SourceAt, si: u32) -> Q16 {
  if (S_IN == 2u) {
    let a = evens(src[si + s.sA]);
    let c = evens(src[si + s.sB]);
    return Q16(a[0], a[1], c[0], c[1]);
  }
  return src[si];
}

// #if up
// one 8-column run (u, v) at grid (g, h) of the dst plane starting at Q16 `plane`: its even dst row
// with zeros interleaved, then the zero row below
fn storeRun(plane: u32, g: u32, h: u32, u: vec4f, v: vec4f) {
  let i = plane + (4u * g * p.GW + 2u * h) / 16u;
  dst[i] = Q16(vec4f(u.x, 0.0, u.y, 0.0), vec4f(u.z, 0.0, u.w, 0.0), vec4f(v.x, 0.0, v.y, 0.0), vec4f(v.z, 0.0, v.w, 0.0));
  dst[i + p.GW / 8u] = Q16(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
}
// #elif upacc
// add one 8-column run (u, v) into the even columns of its even dst row, one scalar each
fn storeRun(plane: u32, g: u32, h: u32, u: vec4f, v: vec4f) {
  let i = plane * 16u + 4u * g * p.GW + 2u * h;
  dst[i] += u.x; dst[i + 2u] += u.y; dst[i + 4u] += u.z; dst[i + 6u] += u.w;
  dst[i + 8u] += v.x; dst[i + 10u] += v.y; dst[i + 12u] += v.z; dst[i + 14u] += v.w;
}
// #endif

// dst channel r of a tile (image n, flat grid pixels f0..f0+15), acc plus the bias
fn storeTile(acc: Q16, n: u32, f0: u32, r: u32) {
  var bias = vec4f(0.0);
  if (p.has_bias != 0u) { bias = vec4f(b[r]); }  // no load of b without a bias
  let e = Q16(acc.a + bias, acc.b + bias, acc.c + bias, acc.d + bias);
  let plane = (n * p.R + r) * (S_OUT * S_OUT * p.GH * p.GW / 16u);  // in Q16s
// #if up
  let f1 = f0 + 8u;
  storeRun(plane, f0 / p.GW, f0 % p.GW, e.a, e.b);
  storeRun(plane, f1 / p.GW, f1 % p.GW, e.c, e.d);
// #elif upacc
  let f1 = f0 + 8u;
  storeRun(plane, f0 / p.GW, f0 % p.GW, e.a, e.b);
  storeRun(plane, f1 / p.GW, f1 % p.GW, e.c, e.d);
// #else
  let i = plane + f0 / 16u;
  if (ACCUM) {
    let o = dst[i];
    dst[i] = Q16(o.a + e.a, o.b + e.b, o.c + e.c, o.d + e.d);
  } else {
    dst[i] = e;
  }
// #endif
}
