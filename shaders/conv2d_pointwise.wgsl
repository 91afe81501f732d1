// conv2d_pointwise: a 1x1 convolution (no padding) as one kernel for both directions, a GEMM over
// channels with the stride applied on the way in or on the way out:
//   dst[n, r, S_OUT*g, S_OUT*h] = b[r] + sum_k wk[r, k] * src[n, k, S_IN*g, S_IN*h]
// and zeros at every other dst pixel (S_OUT = 2 writes them too: no separate zero fill).
//   forward      src = x [N,C,H,W], wk = w [O,C] (OIHW with 1x1 taps), S_IN = stride, S_OUT = 1
//   input grad   src = dy [N,O,OH,OW], wk = w^T [C,O] (transpose2d), S_IN = 1, S_OUT = stride
// (g, h) runs over the grid GH x GW (the conv's output size). Needs GW % 8 == 0, K % 4 == 0, src
// rows of width S_IN*GW and dst of exactly S_OUT*GH x S_OUT*GW.
// Layouts: src, dst NCHW; wk row-major [R, K] as vec4 along k; b [R].
// Tiling: an invocation owns 8 consecutive grid columns of one grid row for OB = 8 or 16 dst
// channels (workgroup_id.y = channel block): 2*OB vec4 accumulators. Per 4 channels k, lane q (< 8)
// loads the vec4 wk[r0 + q + 8i, k..k+3] of each 8-channel group i and subgroupBroadcast hands it
// to every lane; each broadcast weight feeds two vec4 FMAs. On lavapipe every storage access is a
// per-lane loop, so the strided sides use 64-byte accesses: variant `down` (S_IN = 2) reads the 16
// source columns of a tile as one struct and keeps the even ones; variant `up` (S_OUT = 2) writes
// the 16 dst columns of a tile row as one struct, zeros interleaved, and the zero row below as
// another. Summation order fixed: k ascending. Needs subgroups of >= 8 invocations.
enable subgroups;
override WG: u32 = 64;
override OB: u32 = 16;    // dst channels per invocation: 8 or 16
// ACCUM: add into dst (dst = dst + ...; for S_OUT = 2 the pixels between are left alone): the
// input gradient accumulating into a gradient that already holds another consumer's part
override ACCUM: bool = false;
struct Params { N: u32, K: u32, HS: u32, WS: u32, R: u32, GH: u32, GW: u32, has_bias: u32 }
struct Q16 { a: vec4f, b: vec4f, c: vec4f, d: vec4f }  // 16 floats: one 64-byte access
// #if down
const S_IN = 2u;
const S_OUT = 1u;
@group(0) @binding(0) var<storage, read> src: array<Q16>;
@group(0) @binding(3) var<storage, read_write> dst: array<vec4f>;
// #elif up
const S_IN = 1u;
const S_OUT = 2u;
@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dst: array<Q16>;
// #else
const S_IN = 1u;
const S_OUT = 1u;
@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dst: array<vec4f>;
// #endif
@group(0) @binding(1) var<storage, read> wk: array<vec4f>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

struct Acc { a0: vec4f, a1: vec4f, a2: vec4f, a3: vec4f, a4: vec4f, a5: vec4f, a6: vec4f, a7: vec4f }

// lo.a_q += u * (lane q's w), hi.a_q += v * (lane q's w), q < 8: one broadcast, two FMAs
fn fma8x2(lo: ptr<function, Acc>, hi: ptr<function, Acc>, u: vec4f, v: vec4f, w: f32) {
  var s = vec4f(subgroupBroadcast(w, 0u)); (*lo).a0 = fma(u, s, (*lo).a0); (*hi).a0 = fma(v, s, (*hi).a0);
  s = vec4f(subgroupBroadcast(w, 1u)); (*lo).a1 = fma(u, s, (*lo).a1); (*hi).a1 = fma(v, s, (*hi).a1);
  s = vec4f(subgroupBroadcast(w, 2u)); (*lo).a2 = fma(u, s, (*lo).a2); (*hi).a2 = fma(v, s, (*hi).a2);
  s = vec4f(subgroupBroadcast(w, 3u)); (*lo).a3 = fma(u, s, (*lo).a3); (*hi).a3 = fma(v, s, (*hi).a3);
  s = vec4f(subgroupBroadcast(w, 4u)); (*lo).a4 = fma(u, s, (*lo).a4); (*hi).a4 = fma(v, s, (*hi).a4);
  s = vec4f(subgroupBroadcast(w, 5u)); (*lo).a5 = fma(u, s, (*lo).a5); (*hi).a5 = fma(v, s, (*hi).a5);
  s = vec4f(subgroupBroadcast(w, 6u)); (*lo).a6 = fma(u, s, (*lo).a6); (*hi).a6 = fma(v, s, (*hi).a6);
  s = vec4f(subgroupBroadcast(w, 7u)); (*lo).a7 = fma(u, s, (*lo).a7); (*hi).a7 = fma(v, s, (*hi).a7);
}

// dst channels r0..r0+7 at grid row g, grid columns 8j..8j+7 (and the zero pixels around them)
fn store(lo: Acc, hi: Acc, n: u32, g: u32, j: u32, r0: u32) {
  let A = array<vec4f, 8>(lo.a0, lo.a1, lo.a2, lo.a3, lo.a4, lo.a5, lo.a6, lo.a7);
  let B = array<vec4f, 8>(hi.a0, hi.a1, hi.a2, hi.a3, hi.a4, hi.a5, hi.a6, hi.a7);
  for (var q = 0u; q < 8u; q++) {
    let r = r0 + q;
    if (r >= p.R) { continue; }
    let bias = vec4f(select(0.0, b[r], p.has_bias != 0u));
    let u = A[q] + bias;
    let v = B[q] + bias;
// #if up
    // dst rows of 2*GW floats = GW / 8 structs: this tile's even row, then the zero row below it
    let row = p.GW / 8u;
    let i = (n * p.R + r) * (2u * p.GH * row) + 2u * g * row + j;
    let e = Q16(vec4f(u.x, 0.0, u.y, 0.0), vec4f(u.z, 0.0, u.w, 0.0), vec4f(v.x, 0.0, v.y, 0.0), vec4f(v.z, 0.0, v.w, 0.0));
    if (ACCUM) {
      let o = dst[i];
      dst[i] = Q16(o.a + e.a, o.b + e.b, o.c + e.c, o.d + e.d);
    } else {
      dst[i] = e;
      dst[i + row] = Q16(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
    }
// #else
    let i = (n * p.R + r) * (p.GH * p.GW / 4u) + g * (p.GW / 4u) + 2u * j;
    if (ACCUM) { dst[i] = dst[i] + u; dst[i + 1u] = dst[i + 1u] + v; } else { dst[i] = u; dst[i + 1u] = v; }
// #endif
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(subgroup_invocation_id) sid: u32) {
  let TPR = p.GW / 8u;
  let T = p.N * p.GH * TPR;
  let gi = (wid.x + wid.z * nwg.x) * WG + lid;
  let t = min(gi, T - 1u);                 // lanes past the end compute a copy: broadcasts stay uniform
  let rowi = t / TPR;
  let j = t - rowi * TPR;
  let n = rowi / p.GH;
  let g = rowi - n * p.GH;
  // src index of this tile, channel k = 0, and the step per channel: 16-float structs (down) or vec4s
  let per = select(4u, 16u, S_IN == 2u);
  let plane = p.HS * p.WS / per;
  var si = n * p.K * plane + g * S_IN * (p.WS / per) + select(2u * j, j, S_IN == 2u);
  let r0 = wid.y * OB;
  let q = sid & 7u;
  let K4 = p.K / 4u;
  let w0 = min(r0 + q, p.R - 1u) * K4;
  let w1 = min(r0 + 8u + q, p.R - 1u) * K4;
  var lo0: Acc; var hi0: Acc; var lo1: Acc; var hi1: Acc;
  for (var k4 = 0u; k4 < K4; k4++) {
    let v0 = wk[w0 + k4];
    var v1 = vec4f(0.0);
    if (OB > 8u) { v1 = wk[w1 + k4]; }
    for (var kk = 0u; kk < 4u; kk++) {
      var u: vec4f;
      var v: vec4f;
// #if down
      let e = src[si];
      u = vec4f(e.a.x, e.a.z, e.b.x, e.b.z);
      v = vec4f(e.c.x, e.c.z, e.d.x, e.d.z);
// #else
      u = src[si];
      v = src[si + 1u];
// #endif
      fma8x2(&lo0, &hi0, u, v, v0[kk]);
      if (OB > 8u) { fma8x2(&lo1, &hi1, u, v, v1[kk]); }
      si += plane;
    }
  }
  if (gi >= T) { return; }
  store(lo0, hi0, n, g, j, r0);
  if (OB > 8u) { store(lo1, hi1, n, g, j, r0 + 8u); }
}
