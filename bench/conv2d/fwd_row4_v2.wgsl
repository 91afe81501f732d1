// [bench record] fwd_row4_v2: shipped row kernel before vec4 stores and per-channel weight preload.
// conv2d_forward_row4: the fast path of y[n,o,oh,ow] = b[o] + sum_{c,kh,kw} x[n,c,oh*S-P+kh,
// ow*S-P+kw] * w[o,c,kh,kw] for "same"-width rows (OW*S == W, W % 4S == 0, S <= 2, P <= 4, KW <= 4,
// KW-P-S <= 4: every ResNet conv). Also runs the stride-1 input gradient, which is this conv of dy
// with the transposed, flipped kernel (conv2d_pack_weights flip=1). Layouts: x NCHW [N,C,H,W] read
// as vec4, wp = conv2d_pack_weights output [ceil(O/8), C, KH, 8] vec4 (one vec4 = the KW taps of a
// kernel row), b [O], y NCHW [N,O,OH,OW].
//
// Tiling: an invocation owns a 4-column x ROWS-row output tile (n, oh0..oh0+ROWS-1, 4j..4j+3) for
// 8 output channels (workgroup_id.y = channel block): 8*ROWS vec4 accumulators. Lanes are
// consecutive tiles of a row. For each input channel and each input row the tile touches, a lane
// does S aligned vec4 loads of its own input columns [4Sj, 4Sj+4S) and gets the P halo columns on
// the left / KW-P-S on the right from its neighbour lanes with subgroupShuffleUp/Down (a tile at the
// row start/end gets zeros; a lane at a subgroup edge loads them itself). On lavapipe each storage
// load is a per-lane scalar loop, so this is ~3x fewer loads than one per tap. Weights: lane j (< 8)
// loads the vec4 of its channel's kernel row and subgroupBroadcast hands every lane all eight.
// S_, PAD_, KW_ (override constants) make the column picks compile-time swizzles. Summation order is
// fixed: c ascending, then input rows ascending, then kw ascending.
enable subgroups;
override WG: u32 = 64;
override ROWS: u32 = 1;
override S_: u32 = 1;
override PAD_: u32 = 1;
override KW_: u32 = 3;
struct Params { N: u32, C: u32, H: u32, W: u32, O: u32, OH: u32, OW: u32, KH: u32, has_bias: u32 }
@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> wp: array<vec4f>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

// Element i of the lane's input span [L | A0 | A1 (S_ = 2 only) | R]; i = 4 is column 4*S_*j.
fn pick(L: vec4f, A0: vec4f, A1: vec4f, R: vec4f, i: u32) -> f32 {
  if (i < 4u) { return L[i]; }
  if (i < 8u) { return A0[i - 4u]; }
  if (S_ > 1u && i < 12u) { return A1[i - 8u]; }
  return R[i - 4u - 4u * S_];
}

struct Acc { a0: vec4f, a1: vec4f, a2: vec4f, a3: vec4f, a4: vec4f, a5: vec4f, a6: vec4f, a7: vec4f }

fn fma8(acc: ptr<function, Acc>, L: vec4f, A0: vec4f, A1: vec4f, R: vec4f, wv4: vec4f) {
  for (var kw = 0u; kw < KW_; kw++) {
    let i0 = 4u - PAD_ + kw;
    let xv = vec4f(pick(L, A0, A1, R, i0), pick(L, A0, A1, R, i0 + S_), pick(L, A0, A1, R, i0 + 2u * S_), pick(L, A0, A1, R, i0 + 3u * S_));
    let wv = wv4[kw];
    (*acc).a0 = fma(xv, vec4f(subgroupBroadcast(wv, 0u)), (*acc).a0);
    (*acc).a1 = fma(xv, vec4f(subgroupBroadcast(wv, 1u)), (*acc).a1);
    (*acc).a2 = fma(xv, vec4f(subgroupBroadcast(wv, 2u)), (*acc).a2);
    (*acc).a3 = fma(xv, vec4f(subgroupBroadcast(wv, 3u)), (*acc).a3);
    (*acc).a4 = fma(xv, vec4f(subgroupBroadcast(wv, 4u)), (*acc).a4);
    (*acc).a5 = fma(xv, vec4f(subgroupBroadcast(wv, 5u)), (*acc).a5);
    (*acc).a6 = fma(xv, vec4f(subgroupBroadcast(wv, 6u)), (*acc).a6);
    (*acc).a7 = fma(xv, vec4f(subgroupBroadcast(wv, 7u)), (*acc).a7);
  }
}

fn store(acc: Acc, n: u32, oh: u32, col: u32, o0: u32) {
  let OHW = p.OH * p.OW;
  let ybase = n * p.O * OHW + oh * p.OW + col;
  let a = array<vec4f, 8>(acc.a0, acc.a1, acc.a2, acc.a3, acc.a4, acc.a5, acc.a6, acc.a7);
  for (var q = 0u; q < 8u; q++) {
    let o = o0 + q;
    if (o < p.O) {
      let v = a[q] + vec4f(select(0.0, b[o], p.has_bias != 0u));
      let yi = ybase + o * OHW;
      y[yi] = v.x; y[yi + 1u] = v.y; y[yi + 2u] = v.z; y[yi + 3u] = v.w;
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(subgroup_invocation_id) sid: u32, @builtin(subgroup_size) sgs: u32) {
  let TPR = p.OW / 4u;                      // tiles per output row
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
  var xc = n * p.C * HW4 + S_ * j;          // vec4 index of the lane's first own chunk, row 0, channel c
  let o0 = wid.y * 8u;
  var wc = wid.y * p.C * p.KH * 8u + (sid & 7u);  // wp index for (c, kh = 0), this lane's channel
  var acc0: Acc;
  var acc1: Acc;
  let firstTile = j == 0u;
  let lastTile = j + 1u == TPR;
  let needL = PAD_ > 0u && sid == 0u && !firstTile;
  let needR = KW_ > PAD_ + S_ && sid + 1u == sgs && !lastTile;
  let ih0 = i32(oh0 * S_) - i32(PAD_);
  let M = p.KH + S_ * (ROWS - 1u);          // input rows the tile touches
  for (var c = 0u; c < p.C; c++) {
    for (var m = 0u; m < M; m++) {
      let ih = ih0 + i32(m);
      let rowok = ih >= 0 && ih < i32(p.H);
      let base = xc + u32(select(0, ih, rowok)) * W4;
      var A0 = x[base];
      var A1 = vec4f(0.0);
      if (S_ > 1u) { A1 = x[base + 1u]; }
      let last = select(A0, A1, S_ > 1u);
      var L = vec4f(0.0);
      for (var q = 1u; q <= PAD_; q++) { L[4u - q] = subgroupShuffleUp(last[4u - q], 1u); }
      var R = vec4f(0.0);
      for (var q = 0u; q + PAD_ + S_ < KW_; q++) { R[q] = subgroupShuffleDown(A0[q], 1u); }
      if (needL) { L = x[base - 1u]; }
      if (needR) { R = x[base + S_]; }
      if (firstTile) { L = vec4f(0.0); }
      if (lastTile) { R = vec4f(0.0); }
      if (!rowok) { A0 = vec4f(0.0); A1 = vec4f(0.0); L = vec4f(0.0); R = vec4f(0.0); }
      if (m < p.KH) { fma8(&acc0, L, A0, A1, R, wp[wc + m * 8u]); }
      if (ROWS > 1u && m >= S_ && m - S_ < p.KH) { fma8(&acc1, L, A0, A1, R, wp[wc + (m - S_) * 8u]); }
    }
    xc += HW4;
    wc += p.KH * 8u;
  }
  if (gi >= T) { return; }
  store(acc0, n, oh0, 4u * j, o0);
  if (ROWS > 1u && oh0 + 1u < p.OH) { store(acc1, n, oh0 + 1u, 4u * j, o0); }
}
