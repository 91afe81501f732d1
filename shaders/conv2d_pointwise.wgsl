// conv2d_pointwise: a 1x1 convolution (no padding) as one kernel for both directions, a GEMM over
// channels with the stride applied on the way in or on the way out:
//   dst[n, r, S_OUT*g, S_OUT*h] = b[r] + sum_k wk[r, k] * src[n, k, S_IN*g, S_IN*h]
// and zeros at every other dst pixel (S_OUT = 2 writes them too: no separate zero fill).
//   forward      src = x [N,C,H,W], wk = w [O,C] (OIHW with 1x1 taps), S_IN = stride, S_OUT = 1
//   input grad   src = dy [N,O,OH,OW], wk = w^T [C,O] (transpose2d), S_IN = 1, S_OUT = stride
// (g, h) runs over the grid GH x GW (the conv's output size). Needs GW % 4 == 0, K % 4 == 0,
// src rows of width S_IN*GW and dst of exactly S_OUT*GH x S_OUT*GW.
// Layouts: src, dst NCHW as vec4; wk row-major [R, K] as vec4 along k; b [R].
// Tiling: an invocation owns 4 consecutive grid columns of one grid row for OB = 8, 16 or 32 dst
// channels (workgroup_id.y = channel block): OB vec4 accumulators. Per 4 channels k, lane q (< 8)
// loads the vec4 wk[r0 + q + 8i, k..k+3] of each 8-channel group i and subgroupBroadcast hands it
// to every lane, so each src vec4 load (two for S_IN = 2: columns 8j..8j+7, even ones kept) feeds
// OB vec4 FMAs. Summation order fixed: k ascending. Needs subgroups of >= 8 invocations.
enable subgroups;
override WG: u32 = 64;
override OB: u32 = 16;    // dst channels per invocation: 8, 16 or 32
override S_IN: u32 = 1;   // 1 or 2
override S_OUT: u32 = 1;  // 1 or 2
// ACCUM: add into dst (dst = dst + ...; for S_OUT = 2 the pixels between are left alone): the
// input gradient accumulating into a gradient that already holds another consumer's part
override ACCUM: bool = false;
struct Params { N: u32, K: u32, HS: u32, WS: u32, R: u32, GH: u32, GW: u32, has_bias: u32 }
@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(1) var<storage, read> wk: array<vec4f>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<vec4f>;
@group(0) @binding(4) var<uniform> p: Params;

struct Acc { a0: vec4f, a1: vec4f, a2: vec4f, a3: vec4f, a4: vec4f, a5: vec4f, a6: vec4f, a7: vec4f }

// acc.a_q += v * (lane q's w), q < 8
fn fma8(acc: ptr<function, Acc>, v: vec4f, w: f32) {
  (*acc).a0 = fma(v, vec4f(subgroupBroadcast(w, 0u)), (*acc).a0);
  (*acc).a1 = fma(v, vec4f(subgroupBroadcast(w, 1u)), (*acc).a1);
  (*acc).a2 = fma(v, vec4f(subgroupBroadcast(w, 2u)), (*acc).a2);
  (*acc).a3 = fma(v, vec4f(subgroupBroadcast(w, 3u)), (*acc).a3);
  (*acc).a4 = fma(v, vec4f(subgroupBroadcast(w, 4u)), (*acc).a4);
  (*acc).a5 = fma(v, vec4f(subgroupBroadcast(w, 5u)), (*acc).a5);
  (*acc).a6 = fma(v, vec4f(subgroupBroadcast(w, 6u)), (*acc).a6);
  (*acc).a7 = fma(v, vec4f(subgroupBroadcast(w, 7u)), (*acc).a7);
}

// dst channels r0..r0+7 at grid row g, grid columns 4j..4j+3 (and the zero pixels around them)
fn store(acc: Acc, n: u32, g: u32, j: u32, r0: u32) {
  let WD4 = p.GW * S_OUT / 4u;             // dst row, in vec4s
  let HWD4 = p.GH * S_OUT * WD4;
  let a = array<vec4f, 8>(acc.a0, acc.a1, acc.a2, acc.a3, acc.a4, acc.a5, acc.a6, acc.a7);
  for (var q = 0u; q < 8u; q++) {
    let r = r0 + q;
    if (r >= p.R) { continue; }
    let v = a[q] + vec4f(select(0.0, b[r], p.has_bias != 0u));
    let base = (n * p.R + r) * HWD4 + g * S_OUT * WD4;
    if (S_OUT == 1u) {
      if (ACCUM) { dst[base + j] = dst[base + j] + v; } else { dst[base + j] = v; }
    } else if (ACCUM) {
      dst[base + 2u * j] = dst[base + 2u * j] + vec4f(v.x, 0.0, v.y, 0.0);
      dst[base + 2u * j + 1u] = dst[base + 2u * j + 1u] + vec4f(v.z, 0.0, v.w, 0.0);
    } else {
      dst[base + 2u * j] = vec4f(v.x, 0.0, v.y, 0.0);
      dst[base + 2u * j + 1u] = vec4f(v.z, 0.0, v.w, 0.0);
      dst[base + WD4 + 2u * j] = vec4f(0.0);
      dst[base + WD4 + 2u * j + 1u] = vec4f(0.0);
    }
  }
}

// one source channel: its vec4 of grid columns (two loads for S_IN = 2, even columns kept) times
// the 8-channel groups' weights w0..w3 (lane q's value for dst channel r0 + 8i + q)
fn fmaChannel(acc0: ptr<function, Acc>, acc1: ptr<function, Acc>, acc2: ptr<function, Acc>, acc3: ptr<function, Acc>,
              si: u32, w0: f32, w1: f32, w2: f32, w3: f32) {
  var sv = src[si];
  if (S_IN == 2u) {
    let hi = src[si + 1u];
    sv = vec4f(sv.x, sv.z, hi.x, hi.z);
  }
  fma8(acc0, sv, w0);
  if (OB > 8u) { fma8(acc1, sv, w1); }
  if (OB > 16u) { fma8(acc2, sv, w2); fma8(acc3, sv, w3); }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(subgroup_invocation_id) sid: u32) {
  let TPR = p.GW / 4u;
  let T = p.N * p.GH * TPR;
  let gi = (wid.x + wid.z * nwg.x) * WG + lid;
  let t = min(gi, T - 1u);                 // lanes past the end compute a copy: broadcasts stay uniform
  let row = t / TPR;
  let j = t - row * TPR;
  let n = row / p.GH;
  let g = row - n * p.GH;
  let WS4 = p.WS / 4u;
  let HWS4 = p.HS * WS4;
  var si = n * p.K * HWS4 + g * S_IN * WS4 + S_IN * j;  // src vec4 index, channel k = 0
  let r0 = wid.y * OB;
  let q = sid & 7u;
  let K4 = p.K / 4u;
  let w0 = min(r0 + q, p.R - 1u) * K4;
  let w1 = min(r0 + 8u + q, p.R - 1u) * K4;
  let w2 = min(r0 + 16u + q, p.R - 1u) * K4;
  let w3 = min(r0 + 24u + q, p.R - 1u) * K4;
  var acc0: Acc;
  var acc1: Acc;
  var acc2: Acc;
  var acc3: Acc;
  for (var k4 = 0u; k4 < K4; k4++) {
    let v0 = wk[w0 + k4];
    var v1 = vec4f(0.0); var v2 = vec4f(0.0); var v3 = vec4f(0.0);
    if (OB > 8u) { v1 = wk[w1 + k4]; }
    if (OB > 16u) { v2 = wk[w2 + k4]; v3 = wk[w3 + k4]; }
    // the 4 channels k4*4 .. k4*4+3, unrolled (constant vector components)
    fmaChannel(&acc0, &acc1, &acc2, &acc3, si, v0.x, v1.x, v2.x, v3.x);
    fmaChannel(&acc0, &acc1, &acc2, &acc3, si + HWS4, v0.y, v1.y, v2.y, v3.y);
    fmaChannel(&acc0, &acc1, &acc2, &acc3, si + 2u * HWS4, v0.z, v1.z, v2.z, v3.z);
    fmaChannel(&acc0, &acc1, &acc2, &acc3, si + 3u * HWS4, v0.w, v1.w, v2.w, v3.w);
    si += 4u * HWS4;
  }
  if (gi >= T) { return; }
  store(acc0, n, g, j, r0);
  if (OB > 8u) { store(acc1, n, g, j, r0 + 8u); }
  if (OB > 16u) { store(acc2, n, g, j, r0 + 16u); store(acc3, n, g, j, r0 + 24u); }
}
