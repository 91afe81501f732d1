// conv2d_pointwise_tile: a 1x1 convolution (no padding), the same sums as conv2d_pointwise, for both
// directions, with the stride applied on the way in or on the way out:
//   dst[n, r, S_OUT*g, S_OUT*h] = b[r] + sum_k wk[r, k] * src[n, k, S_IN*g, S_IN*h]
// and zeros at every other dst pixel for S_OUT = 2 (variant `up`), or (variant `upacc`) added into the
// even dst pixels, the others left alone.
//   forward      src = x [N,C,H,W], wk = w [O,C] (OIHW with 1x1 taps), S_IN = stride, S_OUT = 1
//   input grad   src = dy [N,O,OH,OW], wk = w^T [C,O] (transpose2d), S_IN = 1, S_OUT = stride
// (g, h) runs over the grid GH x GW (the conv's output size). Needs KC = K <= 32, K % 4 == 0,
// GW % 8 == 0, GH*GW % 16 == 0. Layouts: src, dst NCHW; wk row-major [R, K] as vec4 along k; b [R].
// Tiling: an invocation owns 16 consecutive grid pixels of one image (flat index g*GW + h, 16-aligned:
// two 8-column runs, each inside one grid row, as conv2d_pointwise). It reads the tile's source values
// for every k once (K 64-byte structs; for S_IN = 2 the even columns of two), then walks the
// workgroup's RB dst channels one at a time: 16 accumulators, the K weights of channel r handed out by
// subgroup broadcasts (lane q < 8 loads w[r, 4q..4q+3]), one 64-byte store (or 16 scalar adds for
// `upacc`). Where conv2d_pointwise keeps 16 pixels x 32 channels of accumulators live across its k
// loop (on lavapipe: on the stack, each fma a load, a mask blend and a store), here nothing but the
// channel counter crosses a loop: the k loop is written out (KC is a constant) and the source values
// are only re-read. lavapipe: the 16->32 stride-2 forward 1.2-1.4x, 32->64 1.5-1.7x faster than
// conv2d_pointwise (2026-12-07); the launcher keeps conv2d_pointwise where R < K (the shortcuts'
// input gradients: the source read amortised over fewer channels, slower there). In a training step
// ResNet-20's shortcut forwards read x's stride-2 copy (src/ops/stride2_copy.ts) with S_IN = 1: every
// source float loaded is used (`down` drops the odd columns of each 64-byte load; it serves evaluation
// and x without a copy). Summation order as
// conv2d_pointwise (k ascending, one fma each): the same bits. Needs subgroups of >= 8 invocations.
enable subgroups;
override WG: u32 = 32;    // invocations (tiles) per workgroup
override KC: u32 = 16;    // K as a constant, <= 32 and % 4 == 0
override RB: u32 = 64;    // dst channels per workgroup (workgroup_id.y = channel block)
// ACCUM (stride 1): add into dst (dst = dst + ...); stride 2 accumulates as variant `upacc`
override ACCUM: bool = false;
// #include "pointwise_io.wgsl"

fn fma16(acc: ptr<function, Q16>, x: Q16, w: f32) {
  let s = vec4f(w);
  (*acc).a = fma(x.a, s, (*acc).a);
  (*acc).b = fma(x.b, s, (*acc).b);
  (*acc).c = fma(x.c, s, (*acc).c);
  (*acc).d = fma(x.d, s, (*acc).d);
}

// acc += w.x xs[4j] + w.y xs[4j+1] + w.z xs[4j+2] + w.w xs[4j+3], in that order
fn step4(acc: ptr<function, Q16>, xs: ptr<function, array<Q16, 32>>, w: vec4f, j: u32) {
  fma16(acc, (*xs)[4u * j], w.x);
  fma16(acc, (*xs)[4u * j + 1u], w.y);
  fma16(acc, (*xs)[4u * j + 2u], w.z);
  fma16(acc, (*xs)[4u * j + 3u], w.w);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(subgroup_invocation_id) sid: u32) {
  let gi = (wid.x + wid.z * nwg.x) * WG + lid;
  let tile = tileAt(gi);
  let n = tile.x;
  let f0 = tile.y;
  // the tile's source values for every k, read once (as a loop or written out as calls, the
  // forwards timed the same on lavapipe)
  let at = sourceAt(n, f0);
  var xs: array<Q16, 32>;
  var si = at.base;
  for (var k = 0u; k < KC; k++) {
    xs[k] = sourceTile(at, si);
    si += at.plane;
  }
  let q = sid & 7u;
  let K4 = KC / 4u;
  let r0 = wid.y * RB;
  for (var i = 0u; i < RB; i++) {
    let r = r0 + i;
    if (r >= p.R) { break; }
    let w = wk[r * K4 + min(q, K4 - 1u)];  // lane q: w[r, 4q..4q+3]
    var acc = Q16();
    step4(&acc, &xs, subgroupBroadcast(w, 0u), 0u);
    if (KC > 4u) { step4(&acc, &xs, subgroupBroadcast(w, 1u), 1u); }
    if (KC > 8u) { step4(&acc, &xs, subgroupBroadcast(w, 2u), 2u); }
    if (KC > 12u) { step4(&acc, &xs, subgroupBroadcast(w, 3u), 3u); }
    if (KC > 16u) { step4(&acc, &xs, subgroupBroadcast(w, 4u), 4u); }
    if (KC > 20u) { step4(&acc, &xs, subgroupBroadcast(w, 5u), 5u); }
    if (KC > 24u) { step4(&acc, &xs, subgroupBroadcast(w, 6u), 6u); }
    if (KC > 28u) { step4(&acc, &xs, subgroupBroadcast(w, 7u), 7u); }
    if (gi < tileCount()) { storeTile(acc, n, f0, r); }
  }
}
