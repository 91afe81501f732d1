// conv2d_pointwise: a 1x1 convolution (no padding) as one kernel for both directions, a GEMM over
// channels with the stride applied on the way in or on the way out:
//   dst[n, r, S_OUT*g, S_OUT*h] = b[r] + sum_k wk[r, k] * src[n, k, S_IN*g, S_IN*h]
// and zeros at every other dst pixel (S_OUT = 2 writes them too: no separate zero fill).
//   forward      src = x [N,C,H,W], wk = w [O,C] (OIHW with 1x1 taps), S_IN = stride, S_OUT = 1
//   input grad   src = dy [N,O,OH,OW], wk = w^T [C,O] (transpose2d), S_IN = 1, S_OUT = stride
// (g, h) runs over the grid GH x GW (the conv's output size). Needs GW % 8 == 0, GH*GW % 16 == 0,
// K % 4 == 0, src rows of width S_IN*GW and dst of exactly S_OUT*GH x S_OUT*GW.
// Layouts: src, dst NCHW; wk row-major [R, K] as vec4 along k; b [R].
// Tiling: an invocation owns 16 consecutive grid pixels of one image plane (flat index g*GW + h,
// 16-aligned): two 8-column runs, A and B, each inside one grid row (B is A's right half when
// GW >= 16, the next row's first 8 when GW == 8), for OB = 8 or 16 dst channels (workgroup_id.y =
// channel block): 4*OB vec4 accumulators. Per 4 channels k, lane q (< 8) loads the vec4
// wk[r0 + q + 8i, k..k+3] of each 8-channel group i and subgroupBroadcast hands it to every lane;
// each broadcast weight feeds four vec4 FMAs.
// The bindings, the stride variants (`down`, `up`, `upacc`) and the tile's reads and stores (64-byte
// accesses where they can be, scalar adds for `upacc`) are shaders/include/pointwise_io.wgsl's.
// Summation order fixed: k ascending. Needs subgroups of >= 8 invocations.
// OB = 32 (four 8-channel groups; pointwiseChannels 32, lavapipe's default): every source Q16 feeds
// twice the channels of 16 (16->32 forward 9% faster on lavapipe).
enable subgroups;
override WG: u32 = 64;
override OB: u32 = 16;    // dst channels per invocation: 8, 16 or 32
// ACCUM: add into dst (dst = dst + ...; for S_OUT = 2 the pixels between are left alone, variant
// `upacc`): the input gradient accumulating into a gradient that already holds another consumer's part
override ACCUM: bool = false;
// #include "pointwise_io.wgsl"

// 8 dst channels x 4 pixels: a_q is channel q's vec4
struct Acc { a0: vec4f, a1: vec4f, a2: vec4f, a3: vec4f, a4: vec4f, a5: vec4f, a6: vec4f, a7: vec4f }
// the 16 pixels of a tile for 8 channels
struct Tile { c0: Acc, c1: Acc, c2: Acc, c3: Acc }

// tile.c_i.a_q += x.i * (lane q's w), q < 8: one broadcast feeds four vec4 FMAs
fn fma8x4(t: ptr<function, Tile>, x: Q16, w: f32) {
  var s = vec4f(subgroupBroadcast(w, 0u)); (*t).c0.a0 = fma(x.a, s, (*t).c0.a0); (*t).c1.a0 = fma(x.b, s, (*t).c1.a0); (*t).c2.a0 = fma(x.c, s, (*t).c2.a0); (*t).c3.a0 = fma(x.d, s, (*t).c3.a0);
  s = vec4f(subgroupBroadcast(w, 1u)); (*t).c0.a1 = fma(x.a, s, (*t).c0.a1); (*t).c1.a1 = fma(x.b, s, (*t).c1.a1); (*t).c2.a1 = fma(x.c, s, (*t).c2.a1); (*t).c3.a1 = fma(x.d, s, (*t).c3.a1);
  s = vec4f(subgroupBroadcast(w, 2u)); (*t).c0.a2 = fma(x.a, s, (*t).c0.a2); (*t).c1.a2 = fma(x.b, s, (*t).c1.a2); (*t).c2.a2 = fma(x.c, s, (*t).c2.a2); (*t).c3.a2 = fma(x.d, s, (*t).c3.a2);
  s = vec4f(subgroupBroadcast(w, 3u)); (*t).c0.a3 = fma(x.a, s, (*t).c0.a3); (*t).c1.a3 = fma(x.b, s, (*t).c1.a3); (*t).c2.a3 = fma(x.c, s, (*t).c2.a3); (*t).c3.a3 = fma(x.d, s, (*t).c3.a3);
  s = vec4f(subgroupBroadcast(w, 4u)); (*t).c0.a4 = fma(x.a, s, (*t).c0.a4); (*t).c1.a4 = fma(x.b, s, (*t).c1.a4); (*t).c2.a4 = fma(x.c, s, (*t).c2.a4); (*t).c3.a4 = fma(x.d, s, (*t).c3.a4);
  s = vec4f(subgroupBroadcast(w, 5u)); (*t).c0.a5 = fma(x.a, s, (*t).c0.a5); (*t).c1.a5 = fma(x.b, s, (*t).c1.a5); (*t).c2.a5 = fma(x.c, s, (*t).c2.a5); (*t).c3.a5 = fma(x.d, s, (*t).c3.a5);
  s = vec4f(subgroupBroadcast(w, 6u)); (*t).c0.a6 = fma(x.a, s, (*t).c0.a6); (*t).c1.a6 = fma(x.b, s, (*t).c1.a6); (*t).c2.a6 = fma(x.c, s, (*t).c2.a6); (*t).c3.a6 = fma(x.d, s, (*t).c3.a6);
  s = vec4f(subgroupBroadcast(w, 7u)); (*t).c0.a7 = fma(x.a, s, (*t).c0.a7); (*t).c1.a7 = fma(x.b, s, (*t).c1.a7); (*t).c2.a7 = fma(x.c, s, (*t).c2.a7); (*t).c3.a7 = fma(x.d, s, (*t).c3.a7);
}

fn ch(a: Acc, q: u32) -> vec4f {
  switch q {
    case 0u: { return a.a0; }
    case 1u: { return a.a1; }
    case 2u: { return a.a2; }
    case 3u: { return a.a3; }
    case 4u: { return a.a4; }
    case 5u: { return a.a5; }
    case 6u: { return a.a6; }
    default: { return a.a7; }
  }
}

// dst channels r0..r0+7 of the tile (n, flat grid pixels f0..f0+15)
fn store(t: Tile, n: u32, f0: u32, r0: u32) {
  for (var q = 0u; q < 8u; q++) {
    let r = r0 + q;
    if (r >= p.R) { continue; }
    storeTile(Q16(ch(t.c0, q), ch(t.c1, q), ch(t.c2, q), ch(t.c3, q)), n, f0, r);
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(subgroup_invocation_id) sid: u32) {
  let gi = (wid.x + wid.z * nwg.x) * WG + lid;
  let tile = tileAt(gi);
  let n = tile.x;
  let f0 = tile.y;
  let at = sourceAt(n, f0);
  var si = at.base;
  let r0 = wid.y * OB;
  let q = sid & 7u;
  let K4 = p.K / 4u;
  let w0 = min(r0 + q, p.R - 1u) * K4;
  let w1 = min(r0 + 8u + q, p.R - 1u) * K4;
  let w2 = min(r0 + 16u + q, p.R - 1u) * K4;
  let w3 = min(r0 + 24u + q, p.R - 1u) * K4;
  var t0: Tile;
  var t1: Tile;
  var t2: Tile;  // OB = 32: channels r0+16..r0+23
  var t3: Tile;  // and r0+24..r0+31
  for (var k4 = 0u; k4 < K4; k4++) {
    let v0 = wk[w0 + k4];
    var v1 = vec4f(0.0);
    if (OB > 8u) { v1 = wk[w1 + k4]; }
    var v2 = vec4f(0.0);
    var v3 = vec4f(0.0);
    if (OB > 16u) { v2 = wk[w2 + k4]; v3 = wk[w3 + k4]; }
    for (var kk = 0u; kk < 4u; kk++) {
      let x = sourceTile(at, si);
      si += at.plane;
      fma8x4(&t0, x, v0[kk]);
      if (OB > 8u) { fma8x4(&t1, x, v1[kk]); }
      if (OB > 16u) { fma8x4(&t2, x, v2[kk]); fma8x4(&t3, x, v3[kk]); }
    }
  }
  if (gi >= tileCount()) { return; }
  store(t0, n, f0, r0);
  if (OB > 8u) { store(t1, n, f0, r0 + 8u); }
  if (OB > 16u) { store(t2, n, f0, r0 + 16u); store(t3, n, f0, r0 + 24u); }
}
