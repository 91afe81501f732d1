// conv2d_weight_grad_pointwise (split-K pass 1 for 1x1 convs with 32 or 16 input channels, no padding,
// stride S_ = 1 or 2, OW*S == W, OW % 4 == 0: ResNet-20's 32->64 and 16->32 projection shortcuts):
//   part[q,o,c] = sum over the 4-column output tiles (n, oh, 4j..4j+3) of chunk q of
//                 sum_t dy[n,o,oh,4j+t] * x[n,c,S*oh,S*(4j+t)]
// the sums and partials of conv2d_weight_grad_row4 for the same shape and chunk (each (q, o, c) sum runs
// tiles ascending, then t = 0..3, one fma each, from 0): the same bits, and the same reduce after.
// Layouts: x NCHW [N,C,H,W] as vec4, dy NCHW [N,O,OH,OW] as vec4, part [nchunks, O, C] as vec4 along c.
//
// Tiling: one subgroup of 8 invocations a workgroup, split-K chunk q = workgroup_id.z, output channels
// o0..o0+31 (o0 = 32 * workgroup_id.y). Lane k owns input channels 4k..4k+3 and 32 vec4 accumulators,
// one per output channel, each over its 4 input channels. Per tile lane k loads the tile's dy for
// output channels o0 + k + 8u (u < 4) and subgroupBroadcast hands them round; each lane loads its 4
// channels' input columns (S vec4s a channel, the even columns kept for S = 2) and does 32 x 4 vec4
// multiply-adds. conv2d_weight_grad_row4 gives a lane 2 kernel rows (one input channel each for a 1x1
// conv) for the same dy loads and broadcasts; here each serves 4 (32->64 on lavapipe: 0.79-0.83x as
// long in-step, 2026-12-07). At 16 input channels (4 lanes a tile, two chunks a subgroup, dy handed
// round by subgroupShuffle) that layout took 1.3-1.4x as long as conv2d_weight_grad_row4; there the
// roles swap instead (variants `c16`, `c16_tex`: C = 16, ResNet-20's 16->32 projection shortcut):
// lane k owns output channels o0 + k + 8u (u < 4) and 16 vec4 accumulators (4 output channels x 4
// quads of input channels), loads its own 4 output channels' dy and input channels k and k + 8, and
// subgroupBroadcast hands the x values round (16 vec4s a tile). Each broadcast value again serves 4
// multiply-adds (row kernel: 2), with the same loads a lane as the row kernel, and the same sums. On
// lavapipe 0.82-0.99x as long in-step (four runs of 8-10 rounds, 2026-12-07), 0.87-0.93x alone: less
// than at 32 channels, since a lane's 8 loads a tile (4 of dy, 2 of x for each of 2 channels) take
// longer than its 64 vec4 multiply-adds, and those loads are the same as the row kernel's.
// Variant `tex_x` (and `c16_tex`): x read through a texture mirror (src/gpu/runtime.ts) another launch left.
// In a training step ResNet-20's shortcuts run with S_ = 1 on x's stride-2 copy (src/ops/stride2_copy.ts,
// the same sums): a tile's x is one vec4 a channel, where S_ = 2 loads two and keeps half of each.
enable subgroups;
override S_: u32 = 2;   // stride
struct Params { N: u32, C: u32, H: u32, W: u32, O: u32, OH: u32, OW: u32, chunk: u32 }
// #include "texture_rows.wgsl"
// #if tex_x c16_tex
@group(0) @binding(0) var x4t: texture_storage_2d<rgba32float, read>;
fn xAt(i: u32) -> vec4f { return textureLoad(x4t, mirrorTexel(i)); }
// #else
@group(0) @binding(0) var<storage, read> x4: array<vec4f>;
fn xAt(i: u32) -> vec4f { return x4[i]; }
// #endif
@group(0) @binding(2) var<storage, read> dy: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> part: array<vec4f>;
@group(0) @binding(4) var<uniform> p: Params;

// #include "weight_grad_c16.wgsl"

// chunk q's tiles [q0, q1) of the N*OH*(OW/4) 4-column output tiles, and tile q0's (n, oh, j)
struct Chunk { q0: u32, q1: u32, n: u32, oh: u32, j: u32 }
fn chunkOf(q: u32) -> Chunk {
  let TPR = p.OW / 4u;
  let T = p.N * p.OH * TPR;
  let q0 = min(q * p.chunk, T);
  let n = q0 / (p.OH * TPR);
  let rem = q0 - n * p.OH * TPR;
  let oh = rem / TPR;
  return Chunk(q0, min(q0 + p.chunk, T), n, oh, rem - oh * TPR);
}

// tile (n, oh, j)'s dy for output channels o0 + k + 8u, u < 4 (clamped to O - 1: those sums are
// never stored)
struct Dy4 { d0: vec4f, d1: vec4f, d2: vec4f, d3: vec4f }
fn dyOf(n: u32, oh: u32, j: u32, o0: u32, k: u32) -> Dy4 {
  let TPR = p.OW / 4u;
  let cs = p.OH * TPR;  // dy's channel stride, in vec4s
  let dbase = (n * p.O * p.OH + oh) * TPR + j;
  return Dy4(dy[dbase + min(o0 + k, p.O - 1u) * cs], dy[dbase + min(o0 + k + 8u, p.O - 1u) * cs],
             dy[dbase + min(o0 + k + 16u, p.O - 1u) * cs], dy[dbase + min(o0 + k + 24u, p.O - 1u) * cs]);
}

// channel c's 4 input values of tile (n, oh, j), one per output column t
fn xcols(c: u32, n: u32, oh: u32, j: u32) -> vec4f {
  let i = (((n * p.C + c) * p.H + S_ * oh) * p.W + 4u * S_ * j) / 4u;
  let a = xAt(i);
  if (S_ == 1u) { return a; }
  let b = xAt(i + 1u);
  return vec4f(a.x, a.z, b.x, b.z);
}

// #if c16 c16_tex
@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(subgroup_invocation_id) sid: u32) {
  let k = sid;                // output channels o0 + k + 8u; input channels k and k + 8 loaded
  let q = wid.z;
  let TPR = p.OW / 4u;
  let o0 = wid.y * 32u;
  var acc: array<vec4f, 16>;  // [u * 4 + m]: output channel o0 + k + 8u, input channels 4m..4m+3
  let ch = chunkOf(q);
  var n = ch.n;
  var oh = ch.oh;
  var j = ch.j;
  for (var s = ch.q0; s < ch.q1; s++) {
    let d = dyOf(n, oh, j, o0, k);     // this lane's output channels' dy
    let xa = xcols(k, n, oh, j);       // input channel k
    let xb = xcols(k + 8u, n, oh, j);  // input channel k + 8
    step4(&acc, 0u, quad(xa, 0u), d.d0, d.d1, d.d2, d.d3);
    step4(&acc, 1u, quad(xa, 1u), d.d0, d.d1, d.d2, d.d3);
    step4(&acc, 2u, quad(xb, 0u), d.d0, d.d1, d.d2, d.d3);
    step4(&acc, 3u, quad(xb, 1u), d.d0, d.d1, d.d2, d.d3);
    j++;
    if (j == TPR) { j = 0u; oh++; if (oh == p.OH) { oh = 0u; n++; } }
  }
  for (var u = 0u; u < 4u; u++) {
    let o = o0 + k + 8u * u;
    if (o < p.O) {
      for (var m = 0u; m < 4u; m++) { part[(q * p.O + o) * 4u + m] = acc[4u * u + m]; }  // [q, o, 4m..4m+3] of C = 16
    }
  }
}
// #else
// output channels o0 + 8u + k, k < 8, from lane k's du (subgroupBroadcast takes constant lanes)
fn step8(acc: ptr<function, array<vec4f, 32>>, u: u32, du: vec4f, xt0: vec4f, xt1: vec4f, xt2: vec4f, xt3: vec4f) {
  let b0 = subgroupBroadcast(du, 0u); let b1 = subgroupBroadcast(du, 1u);
  let b2 = subgroupBroadcast(du, 2u); let b3 = subgroupBroadcast(du, 3u);
  let b4 = subgroupBroadcast(du, 4u); let b5 = subgroupBroadcast(du, 5u);
  let b6 = subgroupBroadcast(du, 6u); let b7 = subgroupBroadcast(du, 7u);
  (*acc)[8u * u] = fma4((*acc)[8u * u], b0, xt0, xt1, xt2, xt3);
  (*acc)[8u * u + 1u] = fma4((*acc)[8u * u + 1u], b1, xt0, xt1, xt2, xt3);
  (*acc)[8u * u + 2u] = fma4((*acc)[8u * u + 2u], b2, xt0, xt1, xt2, xt3);
  (*acc)[8u * u + 3u] = fma4((*acc)[8u * u + 3u], b3, xt0, xt1, xt2, xt3);
  (*acc)[8u * u + 4u] = fma4((*acc)[8u * u + 4u], b4, xt0, xt1, xt2, xt3);
  (*acc)[8u * u + 5u] = fma4((*acc)[8u * u + 5u], b5, xt0, xt1, xt2, xt3);
  (*acc)[8u * u + 6u] = fma4((*acc)[8u * u + 6u], b6, xt0, xt1, xt2, xt3);
  (*acc)[8u * u + 7u] = fma4((*acc)[8u * u + 7u], b7, xt0, xt1, xt2, xt3);
}

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(subgroup_invocation_id) sid: u32) {
  let k = sid;                // input channels 4k..4k+3
  let q = wid.z;
  let TPR = p.OW / 4u;
  let o0 = wid.y * 32u;
  let c0 = 4u * k;
  var acc: array<vec4f, 32>;
  let ch = chunkOf(q);
  var n = ch.n;
  var oh = ch.oh;
  var j = ch.j;
  for (var s = ch.q0; s < ch.q1; s++) {
    let d = dyOf(n, oh, j, o0, k);  // this lane's share of the tile's dy: o = o0 + k + 8u
    let x0 = xcols(c0, n, oh, j);
    let x1 = xcols(c0 + 1u, n, oh, j);
    let x2 = xcols(c0 + 2u, n, oh, j);
    let x3 = xcols(c0 + 3u, n, oh, j);
    let xt0 = vec4f(x0.x, x1.x, x2.x, x3.x);  // column 0 of the lane's 4 channels
    let xt1 = vec4f(x0.y, x1.y, x2.y, x3.y);
    let xt2 = vec4f(x0.z, x1.z, x2.z, x3.z);
    let xt3 = vec4f(x0.w, x1.w, x2.w, x3.w);
    step8(&acc, 0u, d.d0, xt0, xt1, xt2, xt3);
    step8(&acc, 1u, d.d1, xt0, xt1, xt2, xt3);
    step8(&acc, 2u, d.d2, xt0, xt1, xt2, xt3);
    step8(&acc, 3u, d.d3, xt0, xt1, xt2, xt3);
    j++;
    if (j == TPR) { j = 0u; oh++; if (oh == p.OH) { oh = 0u; n++; } }
  }
  for (var m = 0u; m < 32u; m++) {
    let o = o0 + m;
    if (o < p.O) { part[(q * p.O + o) * 8u + k] = acc[m]; }  // [q, o, 4k..4k+3] of C = 32
  }
}
// #endif
