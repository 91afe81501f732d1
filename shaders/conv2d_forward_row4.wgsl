// conv2d_forward_row4: the fast path of y[n,o,oh,ow] = b[o] + sum_{c,kh,kw} x[n,c,oh*S-P+kh,
// ow*S-P+kw] * w[o,c,kh,kw] for "same"-width rows (OW*S == W, W % 4S == 0, S <= 2, P <= 4, KH <= 4,
// KW <= 4, KW-P-S <= 4: every ResNet conv). Also runs the stride-1 input gradient, which is this conv of dy
// with the transposed, flipped kernel (conv2d_pack_weights flip=1). Layouts: x NCHW [N,C,H,W] read
// as vec4, wp = conv2d_pack_weights output [ceil(O/8), C, KH, 8] vec4 (one vec4 = the KW taps of a
// kernel row), b [O], y NCHW [N,O,OH,OW].
//
// Tiling: an invocation owns a 4-column x ROWS-row output tile (n, oh0..oh0+ROWS-1, 4j..4j+3) for
// OB = 4, 8 or 16 output channels (workgroup_id.y = channel block; 4 where the conv has at most 4, or
// for more invocations on a GPU): OB*ROWS vec4 accumulators. Lanes are
// consecutive tiles of a row. For each input channel and each input row the tile touches, a lane
// does S aligned vec4 loads of its own input columns [4Sj, 4Sj+4S) and gets the P halo columns on
// the left / KW-P-S on the right from its neighbour lanes with subgroupShuffleUp/Down (a tile at the
// row start/end gets zeros; a lane at a subgroup edge loads them itself). On lavapipe each storage
// load is a per-lane scalar loop, so this is ~3x fewer loads than one per tap. Weights: lane j (< 8)
// loads the vec4s of its channel's kernel rows once per input channel and subgroupBroadcast hands
// every lane all eight channels' taps. y is stored as vec4.
// WDIRECT = 1 (not with CPACK): every lane loads all eight channels' taps itself instead, from the
// same address across the subgroup (one cached broadcast load on a GPU, where a subgroupBroadcast per
// FMA vec4 competes with the FMAs; on lavapipe a load is a per-lane loop, hence the default 0).
// S_, PAD_, KW_ (override constants) make the column picks compile-time swizzles. Summation order is
// fixed: c ascending, then input rows ascending, then kw ascending (the same with WDIRECT: same bits).
// COLS8 = true (S_ = 1, OW % 8 == 0, OB >= 8, not with CPACK; also the scatter variants and WDIRECT):
// the tile is 8 columns x ROWS rows instead, the lane loading two vec4s per input row like a stride-2
// lane; every weight broadcast then feeds both column halves, half the broadcasts per multiply-add of
// the 4-column x 2-row tile (3x3 stride-1 convs and the parity classes 4-10% faster on lavapipe,
// 2026-11-26). ROWS = 2 (not with WDIRECT) reuses each loaded weight for a second output row and each
// input row for two (4 input rows for 2 output rows of a 3x3 kernel instead of 6): 16 channels x 16
// outputs of accumulators a lane. Same summation order either way: same bits.
//
// Variant `scatter`: the input gradient of a stride-S conv (S = 2 in practice), one launch per parity
// class (rh, rw). The pixels dx[n,c,S*i+rh,S*j+rw] only get the taps kh = kh0 + S*a (a < KHs),
// kw = kw0 + S*b (b < KWs), kh0 = (rh+P) % S, and
//   dx[n,c,S*i+rh,S*j+rw] = sum_{o,a,b} dy[n,o, i + bh - a, j + bw - b] * w[o,c,kh0+S*a,kw0+S*b],
// bh = (rh+P) / S: a stride-1 convolution (S_ = 1) of dy, rows padded by padh = KHs-1-bh and columns
// by PAD_ = KWs-1-bw, with the flipped sub-kernel conv2d_pack_weights packs for the class (or, for a
// 1x1 conv, w^T with CPACK). Same tiling; the results are scattered (stride-S scalar stores) into
// dx [N,C,DH,DW]. Uniform names follow the conv it runs: C = dy channels, H/W = dy size, O = dx
// channels, OH/OW = the class grid, KH = KHs.
// Variant `scatter_shortcut`: the scatter launch of class (0, 0) of a 3x3 stride-2 pad-1 conv (a 1x1
// sub-kernel: KH_ = KW_ = 1, PAD_ = 0, padh = 0) that also adds the input gradient of the block's 1x1
// stride-2 projection shortcut, which lands on exactly these pixels:
//   dx[n,c,2i,2j] = (class sum above) + (sum_o x2[n,o,i,j] * w2[o,c] + 0.0),
// x2 = the shortcut's output gradient (dy's shape), wp2 = its weights packed like wp for a one-tap
// kernel. After the main loop a second loop over x2's channels runs from zero in accumulators of its
// own, with the same multiply-adds in the same order (o ascending) as conv2d_pointwise's `upacc`, so
// dx gets the bits of the two launches apart (class (0, 0), then the shortcut adding into it).
//
// Variant `shortcut`: the forward of a ResNet block's first conv (stride 2, S_ = 2, pad PAD_ < KH_, not
// COLS8 nor WDIRECT nor CPACK) together with its 1x1 stride-2 projection shortcut, which reads exactly
// the centre tap (kh = kw = PAD_) of every window: ysc[n,o,oh,ow] = sum_c wsc[o,c] * x[n,c,2oh,2ow].
// The centre values are already in the lane's own input vec4s (columns 4Sj, +2, +4, +6 of rows
// PAD_ and S_ + PAD_), so the shortcut costs a per-lane weight load per input channel and its own
// accumulators, not a second pass over x. Its sums run c ascending from zero and get + 0.0 at the
// store, as conv2d_pointwise (`down`) does: the same bits as the two convs run apart.
//
// Variant `tex` (config rowTextures): the plain launch reading x through a texture mirror (a read-only
// rgba32float storage texture the runtime copies x into before the launch: src/gpu/runtime.ts), where
// several blocks of output channels read x; `tex_w` (config rowWeightTextures) reads the packed
// weights wp through one instead (every invocation reads them), `tex_xw` both. The same values, so
// the same bits.
enable subgroups;
override WG: u32 = 64;
override ROWS: u32 = 1;
override OB: u32 = 8;   // output channels per invocation: 8 or 16 (two broadcast groups), or 4 (half a block: more, smaller tiles)
// CPACK = 1 (1x1 kernels, C % 4 == 0): wp packs 4 input channels per vec4 instead of the KW taps,
// wp[((ob*C/4 + c/4)*8 + j] = w[ob*8+j, c..c+3], a quarter of the weight loads
override CPACK: u32 = 0;
override S_: u32 = 1;
override PAD_: u32 = 1;
override KW_: u32 = 3;
// ACCUM: add into y (y = y + conv): the input gradient accumulating into a gradient that already
// holds another consumer's part (a residual block's input), instead of a separate add pass
override ACCUM: bool = false;
override WDIRECT: u32 = 0;
override KH_: u32 = 3;  // kernel rows (the uniform KH as a constant, so that the row loop has a constant trip count)
override COLS8: bool = false;
override SPAN: u32 = select(S_, 2u, COLS8);  // (derived, not set by launchers) vec4s of its own input columns a lane loads per input row
// #if scatter scatter_shortcut
struct Params { N: u32, C: u32, H: u32, W: u32, O: u32, OH: u32, OW: u32, KH: u32, padh: i32, rh: u32, rw: u32, stride: u32, DH: u32, DW: u32 }
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
// #else
struct Params { N: u32, C: u32, H: u32, W: u32, O: u32, OH: u32, OW: u32, KH: u32, has_bias: u32 }
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4f>;
// #endif
// #if shortcut
@group(0) @binding(5) var<storage, read> wsc: array<f32>;            // the shortcut's weights [O, C]
@group(0) @binding(6) var<storage, read_write> ysc: array<vec4f>;    // its output, shaped as y
// #elif scatter_shortcut
@group(0) @binding(5) var<storage, read> x2: array<vec4f>;   // the shortcut's output gradient, shaped as x
@group(0) @binding(6) var<storage, read> wp2: array<vec4f>;  // its weights, packed as wp for one tap
// #endif
// #include "texture_rows.wgsl"
// #if tex tex_xw
@group(0) @binding(0) var xt: texture_storage_2d<rgba32float, read>;
fn xAt(i: u32) -> vec4f { return textureLoad(xt, mirrorTexel(i)); }
// #else
@group(0) @binding(0) var<storage, read> x: array<vec4f>;
fn xAt(i: u32) -> vec4f { return x[i]; }
// #endif
// #if tex_w tex_xw
@group(0) @binding(1) var wpt: texture_storage_2d<rgba32float, read>;
fn wAt(i: u32) -> vec4f { return textureLoad(wpt, mirrorTexel(i)); }
// #else
@group(0) @binding(1) var<storage, read> wp: array<vec4f>;
fn wAt(i: u32) -> vec4f { return wp[i]; }
// #endif
@group(0) @binding(4) var<uniform> p: Params;

// Element i of the lane's input span [L | A0 | A1 (SPAN = 2 only) | R]; i = 4 is column 4*SPAN*j.
fn pick(L: vec4f, A0: vec4f, A1: vec4f, R: vec4f, i: u32) -> f32 {
  if (i < 4u) { return L[i]; }
  if (i < 8u) { return A0[i - 4u]; }
  if (SPAN > 1u && i < 12u) { return A1[i - 8u]; }
  return R[i - 4u - 4u * SPAN];
}

struct Acc { a0: vec4f, a1: vec4f, a2: vec4f, a3: vec4f, a4: vec4f, a5: vec4f, a6: vec4f, a7: vec4f }

fn fma8(acc: ptr<function, Acc>, L: vec4f, A0: vec4f, A1: vec4f, R: vec4f, wv4: vec4f) {
  // the KW_ (<= 4) input vectors first, then channel by channel all of its taps: each accumulator is
  // loaded and stored once per kernel row, not once per tap (on lavapipe it lives on the stack)
  var xs: array<vec4f, 4>;
  for (var kw = 0u; kw < KW_; kw++) {
    let i0 = 4u - PAD_ + kw;
    xs[kw] = vec4f(pick(L, A0, A1, R, i0), pick(L, A0, A1, R, i0 + S_), pick(L, A0, A1, R, i0 + 2u * S_), pick(L, A0, A1, R, i0 + 3u * S_));
  }
  var a = (*acc).a0; for (var kw = 0u; kw < KW_; kw++) { a = fma(xs[kw], vec4f(subgroupBroadcast(wv4[kw], 0u)), a); } (*acc).a0 = a;
  a = (*acc).a1; for (var kw = 0u; kw < KW_; kw++) { a = fma(xs[kw], vec4f(subgroupBroadcast(wv4[kw], 1u)), a); } (*acc).a1 = a;
  a = (*acc).a2; for (var kw = 0u; kw < KW_; kw++) { a = fma(xs[kw], vec4f(subgroupBroadcast(wv4[kw], 2u)), a); } (*acc).a2 = a;
  a = (*acc).a3; for (var kw = 0u; kw < KW_; kw++) { a = fma(xs[kw], vec4f(subgroupBroadcast(wv4[kw], 3u)), a); } (*acc).a3 = a;
  if (OB < 8u) { return; }  // OB = 4: a 3-channel stem's input gradient wastes 1 channel in 4, not 5 in 8
  a = (*acc).a4; for (var kw = 0u; kw < KW_; kw++) { a = fma(xs[kw], vec4f(subgroupBroadcast(wv4[kw], 4u)), a); } (*acc).a4 = a;
  a = (*acc).a5; for (var kw = 0u; kw < KW_; kw++) { a = fma(xs[kw], vec4f(subgroupBroadcast(wv4[kw], 5u)), a); } (*acc).a5 = a;
  a = (*acc).a6; for (var kw = 0u; kw < KW_; kw++) { a = fma(xs[kw], vec4f(subgroupBroadcast(wv4[kw], 6u)), a); } (*acc).a6 = a;
  a = (*acc).a7; for (var kw = 0u; kw < KW_; kw++) { a = fma(xs[kw], vec4f(subgroupBroadcast(wv4[kw], 7u)), a); } (*acc).a7 = a;
}

// fma8 for the two column halves of a COLS8 tile (span columns 0..3 and 4..7): each broadcast feeds both
fn fma8x2(accA: ptr<function, Acc>, accB: ptr<function, Acc>, L: vec4f, A0: vec4f, A1: vec4f, R: vec4f, wv4: vec4f) {
  var xa: array<vec4f, 4>;
  var xb: array<vec4f, 4>;
  for (var kw = 0u; kw < KW_; kw++) {
    let i0 = 4u - PAD_ + kw;
    xa[kw] = vec4f(pick(L, A0, A1, R, i0), pick(L, A0, A1, R, i0 + 1u), pick(L, A0, A1, R, i0 + 2u), pick(L, A0, A1, R, i0 + 3u));
    xb[kw] = vec4f(pick(L, A0, A1, R, i0 + 4u), pick(L, A0, A1, R, i0 + 5u), pick(L, A0, A1, R, i0 + 6u), pick(L, A0, A1, R, i0 + 7u));
  }
  var ws: array<vec4f, 4>;
  var a: vec4f;
  for (var kw = 0u; kw < KW_; kw++) { ws[kw] = vec4f(subgroupBroadcast(wv4[kw], 0u)); }
  a = (*accA).a0; for (var kw = 0u; kw < KW_; kw++) { a = fma(xa[kw], ws[kw], a); } (*accA).a0 = a;
  a = (*accB).a0; for (var kw = 0u; kw < KW_; kw++) { a = fma(xb[kw], ws[kw], a); } (*accB).a0 = a;
  for (var kw = 0u; kw < KW_; kw++) { ws[kw] = vec4f(subgroupBroadcast(wv4[kw], 1u)); }
  a = (*accA).a1; for (var kw = 0u; kw < KW_; kw++) { a = fma(xa[kw], ws[kw], a); } (*accA).a1 = a;
  a = (*accB).a1; for (var kw = 0u; kw < KW_; kw++) { a = fma(xb[kw], ws[kw], a); } (*accB).a1 = a;
  for (var kw = 0u; kw < KW_; kw++) { ws[kw] = vec4f(subgroupBroadcast(wv4[kw], 2u)); }
  a = (*accA).a2; for (var kw = 0u; kw < KW_; kw++) { a = fma(xa[kw], ws[kw], a); } (*accA).a2 = a;
  a = (*accB).a2; for (var kw = 0u; kw < KW_; kw++) { a = fma(xb[kw], ws[kw], a); } (*accB).a2 = a;
  for (var kw = 0u; kw < KW_; kw++) { ws[kw] = vec4f(subgroupBroadcast(wv4[kw], 3u)); }
  a = (*accA).a3; for (var kw = 0u; kw < KW_; kw++) { a = fma(xa[kw], ws[kw], a); } (*accA).a3 = a;
  a = (*accB).a3; for (var kw = 0u; kw < KW_; kw++) { a = fma(xb[kw], ws[kw], a); } (*accB).a3 = a;
  if (OB < 8u) { return; }
  for (var kw = 0u; kw < KW_; kw++) { ws[kw] = vec4f(subgroupBroadcast(wv4[kw], 4u)); }
  a = (*accA).a4; for (var kw = 0u; kw < KW_; kw++) { a = fma(xa[kw], ws[kw], a); } (*accA).a4 = a;
  a = (*accB).a4; for (var kw = 0u; kw < KW_; kw++) { a = fma(xb[kw], ws[kw], a); } (*accB).a4 = a;
  for (var kw = 0u; kw < KW_; kw++) { ws[kw] = vec4f(subgroupBroadcast(wv4[kw], 5u)); }
  a = (*accA).a5; for (var kw = 0u; kw < KW_; kw++) { a = fma(xa[kw], ws[kw], a); } (*accA).a5 = a;
  a = (*accB).a5; for (var kw = 0u; kw < KW_; kw++) { a = fma(xb[kw], ws[kw], a); } (*accB).a5 = a;
  for (var kw = 0u; kw < KW_; kw++) { ws[kw] = vec4f(subgroupBroadcast(wv4[kw], 6u)); }
  a = (*accA).a6; for (var kw = 0u; kw < KW_; kw++) { a = fma(xa[kw], ws[kw], a); } (*accA).a6 = a;
  a = (*accB).a6; for (var kw = 0u; kw < KW_; kw++) { a = fma(xb[kw], ws[kw], a); } (*accB).a6 = a;
  for (var kw = 0u; kw < KW_; kw++) { ws[kw] = vec4f(subgroupBroadcast(wv4[kw], 7u)); }
  a = (*accA).a7; for (var kw = 0u; kw < KW_; kw++) { a = fma(xa[kw], ws[kw], a); } (*accA).a7 = a;
  a = (*accB).a7; for (var kw = 0u; kw < KW_; kw++) { a = fma(xb[kw], ws[kw], a); } (*accB).a7 = a;
}

// fma8 with WDIRECT: channel q's taps of this kernel row are wp[wb + q], the same for every lane;
// the 4 output columns start `col` columns into the span (4 for a COLS8 tile's right half)
fn fma8d(acc: ptr<function, Acc>, L: vec4f, A0: vec4f, A1: vec4f, R: vec4f, wb: u32, col: u32) {
  let w0 = wAt(wb); let w1 = wAt(wb + 1u); let w2 = wAt(wb + 2u); let w3 = wAt(wb + 3u);
  var w4 = vec4f(0.0); var w5 = vec4f(0.0); var w6 = vec4f(0.0); var w7 = vec4f(0.0);
  if (OB >= 8u) { w4 = wAt(wb + 4u); w5 = wAt(wb + 5u); w6 = wAt(wb + 6u); w7 = wAt(wb + 7u); }
  for (var kw = 0u; kw < KW_; kw++) {
    let i0 = 4u - PAD_ + kw + col;
    let xv = vec4f(pick(L, A0, A1, R, i0), pick(L, A0, A1, R, i0 + S_), pick(L, A0, A1, R, i0 + 2u * S_), pick(L, A0, A1, R, i0 + 3u * S_));
    (*acc).a0 = fma(xv, vec4f(w0[kw]), (*acc).a0);
    (*acc).a1 = fma(xv, vec4f(w1[kw]), (*acc).a1);
    (*acc).a2 = fma(xv, vec4f(w2[kw]), (*acc).a2);
    (*acc).a3 = fma(xv, vec4f(w3[kw]), (*acc).a3);
    if (OB < 8u) { continue; }
    (*acc).a4 = fma(xv, vec4f(w4[kw]), (*acc).a4);
    (*acc).a5 = fma(xv, vec4f(w5[kw]), (*acc).a5);
    (*acc).a6 = fma(xv, vec4f(w6[kw]), (*acc).a6);
    (*acc).a7 = fma(xv, vec4f(w7[kw]), (*acc).a7);
  }
}

// #if shortcut
// the shortcut's multiply-adds for one input channel, both output rows (ROWS = 2; a second
// accumulator for ROWS = 1 is left unused): a.a_q += x0 * w_q, b.a_q += x1 * w_q, w_q lane q's weight
fn fmaCenter(a: ptr<function, Acc>, b: ptr<function, Acc>, x0: vec4f, x1: vec4f, wl: f32) {
  var w = vec4f(subgroupBroadcast(wl, 0u)); (*a).a0 = fma(x0, w, (*a).a0); if (ROWS > 1u) { (*b).a0 = fma(x1, w, (*b).a0); }
  w = vec4f(subgroupBroadcast(wl, 1u)); (*a).a1 = fma(x0, w, (*a).a1); if (ROWS > 1u) { (*b).a1 = fma(x1, w, (*b).a1); }
  w = vec4f(subgroupBroadcast(wl, 2u)); (*a).a2 = fma(x0, w, (*a).a2); if (ROWS > 1u) { (*b).a2 = fma(x1, w, (*b).a2); }
  w = vec4f(subgroupBroadcast(wl, 3u)); (*a).a3 = fma(x0, w, (*a).a3); if (ROWS > 1u) { (*b).a3 = fma(x1, w, (*b).a3); }
  w = vec4f(subgroupBroadcast(wl, 4u)); (*a).a4 = fma(x0, w, (*a).a4); if (ROWS > 1u) { (*b).a4 = fma(x1, w, (*b).a4); }
  w = vec4f(subgroupBroadcast(wl, 5u)); (*a).a5 = fma(x0, w, (*a).a5); if (ROWS > 1u) { (*b).a5 = fma(x1, w, (*b).a5); }
  w = vec4f(subgroupBroadcast(wl, 6u)); (*a).a6 = fma(x0, w, (*a).a6); if (ROWS > 1u) { (*b).a6 = fma(x1, w, (*b).a6); }
  w = vec4f(subgroupBroadcast(wl, 7u)); (*a).a7 = fma(x0, w, (*a).a7); if (ROWS > 1u) { (*b).a7 = fma(x1, w, (*b).a7); }
}

// ysc for the tile, as store() writes y (+ 0.0: the bits conv2d_pointwise stores without a bias)
fn storeShortcut(acc: Acc, n: u32, oh: u32, j: u32, o0: u32) {
  let OHW4 = p.OH * p.OW / 4u;
  let ybase = n * p.O * OHW4 + oh * (p.OW / 4u) + j;
  let a = array<vec4f, 8>(acc.a0, acc.a1, acc.a2, acc.a3, acc.a4, acc.a5, acc.a6, acc.a7);
  for (var q = 0u; q < 8u; q++) {
    let o = o0 + q;
    if (o < p.O) { ysc[ybase + o * OHW4] = a[q] + vec4f(0.0); }
  }
}
// #endif

// #if scatter_shortcut
// main + (shortcut + 0.0), channel by channel: the sum the class stores plus the shortcut's, as
// conv2d_pointwise's `upacc` adds its result (+ 0.0 for the bias it does not have) into dx
fn plus(m: Acc, s: Acc) -> Acc {
  let z = vec4f(0.0);
  return Acc(m.a0 + (s.a0 + z), m.a1 + (s.a1 + z), m.a2 + (s.a2 + z), m.a3 + (s.a3 + z),
             m.a4 + (s.a4 + z), m.a5 + (s.a5 + z), m.a6 + (s.a6 + z), m.a7 + (s.a7 + z));
}
// #endif

// #if scatter scatter_shortcut
// dx[n, o0+q, oh*stride+rh, (4j+t)*stride+rw] for the class pixels that exist
fn store(acc: Acc, n: u32, oh: u32, j: u32, o0: u32) {
  let row = oh * p.stride + p.rh;
  if (row >= p.DH) { return; }
  let a = array<vec4f, 8>(acc.a0, acc.a1, acc.a2, acc.a3, acc.a4, acc.a5, acc.a6, acc.a7);
  for (var q = 0u; q < min(OB, 8u); q++) {
    let o = o0 + q;
    if (o < p.O) {
      let base = ((n * p.O + o) * p.DH + row) * p.DW;
      for (var t = 0u; t < 4u; t++) {
        let col = (4u * j + t) * p.stride + p.rw;
        if (col < p.DW) {
          if (ACCUM) { y[base + col] = y[base + col] + a[q][t]; } else { y[base + col] = a[q][t]; }
        }
      }
    }
  }
}
// #else
// y is written as vec4 (OW % 4 == 0, tiles start at multiples of 4): a quarter of the stores.
fn store(acc: Acc, n: u32, oh: u32, j: u32, o0: u32) {
  let OHW4 = p.OH * p.OW / 4u;
  let ybase = n * p.O * OHW4 + oh * (p.OW / 4u) + j;
  let a = array<vec4f, 8>(acc.a0, acc.a1, acc.a2, acc.a3, acc.a4, acc.a5, acc.a6, acc.a7);
  for (var q = 0u; q < min(OB, 8u); q++) {
    let o = o0 + q;
    if (o < p.O) {
      // no load of b without a bias (select() would load it anyway: a per-lane loop on lavapipe)
      var v = a[q];
      if (p.has_bias != 0u) { v += vec4f(b[o]); }
      let i = ybase + o * OHW4;
      if (ACCUM) { y[i] = y[i] + v; } else { y[i] = v; }
    }
  }
}
// #endif

// the packed weight row kh (< 4) of this input channel, from the four preloaded rows
fn wrow(w0: vec4f, w1: vec4f, w2: vec4f, w3: vec4f, kh: u32) -> vec4f {
  return select(select(select(w0, w1, kh == 1u), w2, kh == 2u), w3, kh == 3u);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(subgroup_invocation_id) sid: u32, @builtin(subgroup_size) sgs: u32) {
  let TPR = p.OW / (4u * SPAN / S_);        // tiles per output row
  let RB = (p.OH + ROWS - 1u) / ROWS;       // row blocks per image
  let T = p.N * RB * TPR;
  let gi = (wid.x + wid.z * nwg.x) * WG + lid;
  let g = min(gi, T - 1u);
  let rb = g / TPR;
  let j = g - rb * TPR;
  let n = rb / RB;
  let oh0 = (rb - n * RB) * ROWS;
  let W4 = p.W / 4u;
  let HW4 = p.H * W4;
  var xc = n * p.C * HW4 + SPAN * j;        // vec4 index of the lane's first own chunk, row 0, channel c
  let o0 = wid.y * OB;
  // this lane's channel in its 8-channel weight block; OB = 4 takes half a block (lanes 4..7 repeat
  // lanes 0..3, so broadcasts from lanes 0..3 give channels o0..o0+3)
  let lch = select(sid & 7u, (o0 & 7u) + (sid & 3u), OB < 8u);
  var wc = (o0 / 8u) * p.C * KH_ * 8u + lch;  // wp index for (c, kh = 0), this lane's channel
  let wg2 = p.C * KH_ * 8u;                          // offset of the second 8-channel block
  var acc0: Acc;  // row 0, channels o0..o0+7
  var acc1: Acc;  // row 1 (COLS8: row 0, columns 4..7)
  var acc2: Acc;  // row 0, channels o0+8..o0+15 (OB = 16)
  var acc3: Acc;  // row 1, channels o0+8.. (COLS8: row 0, columns 4..7)
  var acc4: Acc;  // COLS8 with ROWS = 2: row 1, columns 0..3, channels o0..o0+7
  var acc5: Acc;  // row 1, columns 4..7
  var acc6: Acc;  // row 1, columns 0..3, channels o0+8..
  var acc7: Acc;  // row 1, columns 4..7, channels o0+8..
  let firstTile = j == 0u;
  let lastTile = j + 1u == TPR;
  let needL = PAD_ > 0u && sid == 0u && !firstTile;
  // last active lane of its subgroup (a workgroup smaller than the subgroup ends it early)
  let needR = KW_ > PAD_ + S_ && (sid + 1u == sgs || lid + 1u == WG) && !lastTile;
// #if scatter scatter_shortcut
  let ih0 = i32(oh0) - p.padh;
// #else
  let ih0 = i32(oh0 * S_) - i32(PAD_);
// #endif
  let M = KH_ + S_ * (ROWS - 1u);          // input rows the tile touches
  var cq0 = vec4f(0.0);  // CPACK: this lane's weights for input channels c & ~3 .. +3
  var cq1 = vec4f(0.0);
  var wcp = (o0 / 8u) * (p.C / 4u) * 8u + lch;
  let wg2p = (p.C / 4u) * 8u;
// #if shortcut
  var sc0: Acc;  // the shortcut's row 0, channels o0..o0+7
  var sc1: Acc;  // row 1
  var sc2: Acc;  // row 0, channels o0+8.. (OB = 16)
  var sc3: Acc;  // row 1, channels o0+8..
  var wsi0 = min(o0 + lch, p.O - 1u) * p.C;       // wsc index of (this lane's channel, c)
  var wsi1 = min(o0 + 8u + lch, p.O - 1u) * p.C;  // and of its channel in the second block
// #endif
  for (var c = 0u; c < p.C; c++) {
// #if shortcut
    let ws0 = wsc[wsi0];
    var ws1 = 0.0;
    if (OB > 8u) { ws1 = wsc[wsi1]; }
    wsi0 += 1u;
    wsi1 += 1u;
// #endif
    // this input channel's packed kernel rows (KH <= 4), loaded once and reused by every row
    var w0 = vec4f(0.0); var w1 = vec4f(0.0); var w2 = vec4f(0.0); var w3 = vec4f(0.0);
    var v0 = vec4f(0.0); var v1 = vec4f(0.0); var v2 = vec4f(0.0); var v3 = vec4f(0.0);
    if (WDIRECT != 0u) {
      // loaded per kernel row in fma8d
    } else if (CPACK == 0u) {
      w0 = wAt(wc);
      if (KH_ > 1u) { w1 = wAt(wc + 8u); }
      if (KH_ > 2u) { w2 = wAt(wc + 16u); }
      if (KH_ > 3u) { w3 = wAt(wc + 24u); }
      if (OB > 8u) {
        v0 = wAt(wc + wg2);
        if (KH_ > 1u) { v1 = wAt(wc + wg2 + 8u); }
        if (KH_ > 2u) { v2 = wAt(wc + wg2 + 16u); }
        if (KH_ > 3u) { v3 = wAt(wc + wg2 + 24u); }
      }
    } else {
      if ((c & 3u) == 0u) {
        cq0 = wAt(wcp);
        if (OB > 8u) { cq1 = wAt(wcp + wg2p); }
        wcp += 8u;
      }
      w0 = vec4f(cq0[c & 3u]);
      v0 = vec4f(cq1[c & 3u]);
    }
// #if shortcut
    var xc0 = vec4f(0.0);
    var xc1 = vec4f(0.0);
// #endif
    for (var m = 0u; m < M; m++) {
      if (!(m < KH_ || (ROWS > 1u && m >= S_ && m - S_ < KH_))) { continue; }  // row unused (KH < S)
      let ih = ih0 + i32(m);
      let rowok = ih >= 0 && ih < i32(p.H);
      let base = xc + u32(select(0, ih, rowok)) * W4;
      var A0 = xAt(base);
      var A1 = vec4f(0.0);
      if (SPAN > 1u) { A1 = xAt(base + 1u); }
      let last = select(A0, A1, SPAN > 1u);
      var L = vec4f(0.0);
      for (var q = 1u; q <= PAD_; q++) { L[4u - q] = subgroupShuffleUp(last[4u - q], 1u); }
      var R = vec4f(0.0);
      for (var q = 0u; q + PAD_ + S_ < KW_; q++) { R[q] = subgroupShuffleDown(A0[q], 1u); }
      if (needL) { L = xAt(base - 1u); }
      if (needR) { R = xAt(base + SPAN); }
      if (firstTile) { L = vec4f(0.0); }
      if (lastTile) { R = vec4f(0.0); }
      if (!rowok) { A0 = vec4f(0.0); A1 = vec4f(0.0); L = vec4f(0.0); R = vec4f(0.0); }
// #if shortcut
      // the centre taps x[2oh, 2(4j + t)] of output row 0 (input row PAD_) and row 1 (S_ + PAD_),
      // used after the row loop (accumulators carried by this loop are blended on every trip)
      if (m == PAD_) { xc0 = vec4f(A0.x, A0.z, A1.x, A1.z); }
      if (ROWS > 1u && m == S_ + PAD_) { xc1 = vec4f(A0.x, A0.z, A1.x, A1.z); }
// #endif
      if (WDIRECT != 0u) {
        let wb = wc - lch + (o0 & 7u);  // (block, c, kh = 0, channel o0)
        if (COLS8) {  // both halves of the row: the second one's weight loads hit the cache
          fma8d(&acc0, L, A0, A1, R, wb + m * 8u, 0u);
          fma8d(&acc1, L, A0, A1, R, wb + m * 8u, 4u);
          if (OB > 8u) { fma8d(&acc2, L, A0, A1, R, wb + wg2 + m * 8u, 0u); fma8d(&acc3, L, A0, A1, R, wb + wg2 + m * 8u, 4u); }
          continue;
        }
        if (m < KH_) {
          fma8d(&acc0, L, A0, A1, R, wb + m * 8u, 0u);
          if (OB > 8u) { fma8d(&acc2, L, A0, A1, R, wb + wg2 + m * 8u, 0u); }
        }
        if (ROWS > 1u && m >= S_ && m - S_ < KH_) {
          fma8d(&acc1, L, A0, A1, R, wb + (m - S_) * 8u, 0u);
          if (OB > 8u) { fma8d(&acc3, L, A0, A1, R, wb + wg2 + (m - S_) * 8u, 0u); }
        }
        continue;
      }
      if (COLS8) {
        if (ROWS == 1u || m < KH_) {
          fma8x2(&acc0, &acc1, L, A0, A1, R, wrow(w0, w1, w2, w3, m));
          if (OB > 8u) { fma8x2(&acc2, &acc3, L, A0, A1, R, wrow(v0, v1, v2, v3, m)); }
        }
        if (ROWS > 1u && m >= S_ && m - S_ < KH_) {
          fma8x2(&acc4, &acc5, L, A0, A1, R, wrow(w0, w1, w2, w3, m - S_));
          if (OB > 8u) { fma8x2(&acc6, &acc7, L, A0, A1, R, wrow(v0, v1, v2, v3, m - S_)); }
        }
        continue;
      }
      if (m < KH_) {
        fma8(&acc0, L, A0, A1, R, wrow(w0, w1, w2, w3, m));
        if (OB > 8u) { fma8(&acc2, L, A0, A1, R, wrow(v0, v1, v2, v3, m)); }
      }
      if (ROWS > 1u && m >= S_ && m - S_ < KH_) {
        fma8(&acc1, L, A0, A1, R, wrow(w0, w1, w2, w3, m - S_));
        if (OB > 8u) { fma8(&acc3, L, A0, A1, R, wrow(v0, v1, v2, v3, m - S_)); }
      }
    }
// #if shortcut
    fmaCenter(&sc0, &sc1, xc0, xc1, ws0);
    if (OB > 8u) { fmaCenter(&sc2, &sc3, xc0, xc1, ws1); }
// #endif
    xc += HW4;
    wc += KH_ * 8u;
  }
// #if scatter_shortcut
  // the shortcut's sums for the same tile: x2's rows oh0.. (the class grid is x2's grid), from zero
  var s0: Acc;
  var s1: Acc;
  var s2: Acc;
  var s3: Acc;
  var s4: Acc;  // COLS8 with ROWS = 2: row 1
  var s5: Acc;
  var s6: Acc;
  var s7: Acc;
  let z = vec4f(0.0);
  var xs = n * p.C * HW4 + SPAN * j;
  var ws = (o0 / 8u) * p.C * 8u + lch;
  for (var c = 0u; c < p.C; c++) {
    let u0 = wp2[ws];
    var u1 = vec4f(0.0);
    if (OB > 8u) { u1 = wp2[ws + p.C * 8u]; }
    for (var m = 0u; m < ROWS; m++) {
      // (no branch on the row: the broadcasts below need uniform control flow)
      let rowok = oh0 + m < p.H;
      let base = xs + select(0u, oh0 + m, rowok) * W4;
      var A0 = x2[base];
      var A1 = vec4f(0.0);
      if (SPAN > 1u) { A1 = x2[base + 1u]; }
      if (!rowok) { A0 = z; A1 = z; }
      if (COLS8 && m == 0u) {
        fma8x2(&s0, &s1, z, A0, A1, z, u0);
        if (OB > 8u) { fma8x2(&s2, &s3, z, A0, A1, z, u1); }
      } else if (COLS8) {
        fma8x2(&s4, &s5, z, A0, A1, z, u0);
        if (OB > 8u) { fma8x2(&s6, &s7, z, A0, A1, z, u1); }
      } else if (m == 0u) {
        fma8(&s0, z, A0, A1, z, u0);
        if (OB > 8u) { fma8(&s2, z, A0, A1, z, u1); }
      } else {
        fma8(&s1, z, A0, A1, z, u0);
        if (OB > 8u) { fma8(&s3, z, A0, A1, z, u1); }
      }
    }
    xs += HW4;
    ws += 8u;
  }
  acc0 = plus(acc0, s0);
  acc1 = plus(acc1, s1);
  acc2 = plus(acc2, s2);
  acc3 = plus(acc3, s3);
  if (COLS8 && ROWS > 1u) {
    acc4 = plus(acc4, s4);
    acc5 = plus(acc5, s5);
    acc6 = plus(acc6, s6);
    acc7 = plus(acc7, s7);
  }
// #endif
  if (gi >= T) { return; }
  if (COLS8) {
    store(acc0, n, oh0, 2u * j, o0);
    store(acc1, n, oh0, 2u * j + 1u, o0);
    if (OB > 8u) { store(acc2, n, oh0, 2u * j, o0 + 8u); store(acc3, n, oh0, 2u * j + 1u, o0 + 8u); }
    if (ROWS > 1u && oh0 + 1u < p.OH) {
      store(acc4, n, oh0 + 1u, 2u * j, o0);
      store(acc5, n, oh0 + 1u, 2u * j + 1u, o0);
      if (OB > 8u) { store(acc6, n, oh0 + 1u, 2u * j, o0 + 8u); store(acc7, n, oh0 + 1u, 2u * j + 1u, o0 + 8u); }
    }
    return;
  }
  store(acc0, n, oh0, j, o0);
  if (OB > 8u) { store(acc2, n, oh0, j, o0 + 8u); }
  if (ROWS > 1u && oh0 + 1u < p.OH) {
    store(acc1, n, oh0 + 1u, j, o0);
    if (OB > 8u) { store(acc3, n, oh0 + 1u, j, o0 + 8u); }
  }
// #if shortcut
  storeShortcut(sc0, n, oh0, j, o0);
  if (OB > 8u) { storeShortcut(sc2, n, oh0, j, o0 + 8u); }
  if (ROWS > 1u && oh0 + 1u < p.OH) {
    storeShortcut(sc1, n, oh0 + 1u, j, o0);
    if (OB > 8u) { storeShortcut(sc3, n, oh0 + 1u, j, o0 + 8u); }
  }
// #endif
}
