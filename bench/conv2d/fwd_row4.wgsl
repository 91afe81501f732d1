// fwd_row4: lanes = 4-column output tiles of one row (n, oh, ow0..ow0+3), 8 output channels per
// lane. Per (c, kh) input row a lane does ONE aligned vec4 load per stride step of its own input
// columns and gets the few halo columns (pad on the left, KW-pad-S on the right) from its
// neighbours with subgroupShuffleUp/Down (lanes at a subgroup edge load them directly). Weights:
// lane j loads w[o0+j, c, kh, kw], subgroupBroadcast to all. S_, PAD_, KW_ are override constants
// so the column picks are compile-time swizzles. Needs W % (4*S) == 0, OW*S == W, PAD_ <= 3,
// KW_ <= 3, KW_-PAD_-S_ <= 1.
enable subgroups;
override WG: u32 = 64;
override S_: u32 = 1;
override PAD_: u32 = 1;
override KW_: u32 = 3;
struct Params { N: u32, C: u32, H: u32, W: u32, O: u32, OH: u32, OW: u32, KH: u32, KW: u32, stride: u32, pad: u32, has_bias: u32 }
@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

// element i of the span [L(4) | A0(4) | A1(4) if S_ > 1 | R(4)], span index 4 <-> input column 4*S*j
fn pick(L: vec4f, A0: vec4f, A1: vec4f, R: vec4f, i: u32) -> f32 {
  if (i < 4u) { return L[i]; }
  if (i < 8u) { return A0[i - 4u]; }
  if (S_ > 1u && i < 12u) { return A1[i - 8u]; }
  return R[i - 4u - 4u * S_];
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(subgroup_invocation_id) sid: u32, @builtin(subgroup_size) sgs: u32) {
  let TPR = p.OW / 4u;                 // tiles per output row
  let T = p.N * p.OH * TPR;
  let g = min((wid.x + wid.z * nwg.x) * WG + lid, T - 1u);
  let row = g / TPR;
  let j = g - row * TPR;
  let n = row / p.OH;
  let oh = row - n * p.OH;
  let W4 = p.W / 4u;
  let HW4 = p.H * W4;
  var xrow = n * p.C * HW4 + S_ * j;     // vec4 index of the lane's first own chunk in row 0
  let o0 = wid.y * 8u;
  let KK = p.KH * KW_;
  var wk = min(o0 + (sid & 7u), p.O - 1u) * p.C * KK;
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
  var a4 = vec4f(0.0); var a5 = vec4f(0.0); var a6 = vec4f(0.0); var a7 = vec4f(0.0);
  let ih0 = i32(oh * S_) - i32(PAD_);
  let firstTile = j == 0u;
  let lastTile = j + 1u == TPR;
  let needL = PAD_ > 0u && sid == 0u && !firstTile;
  let needR = KW_ > PAD_ + S_ && sid + 1u == sgs && !lastTile;
  for (var c = 0u; c < p.C; c++) {
    for (var kh = 0u; kh < p.KH; kh++) {
      let ih = ih0 + i32(kh);
      let rowok = ih >= 0 && ih < i32(p.H);
      let base = xrow + u32(select(0, ih, rowok)) * W4;
      var A0 = x[base];
      var A1 = vec4f(0.0);
      if (S_ > 1u) { A1 = x[base + 1u]; }
      let last = select(A0, A1, S_ > 1u);
      var L = vec4f(0.0, 0.0, 0.0, subgroupShuffleUp(last.w, 1u));
      if (PAD_ > 1u) { L.z = subgroupShuffleUp(last.z, 1u); }
      if (PAD_ > 2u) { L.y = subgroupShuffleUp(last.y, 1u); }
      var R = vec4f(subgroupShuffleDown(A0.x, 1u), 0.0, 0.0, 0.0);
      if (needL) { L = x[base - 1u]; }
      if (needR) { R = x[base + S_]; }
      if (firstTile) { L = vec4f(0.0); }
      if (lastTile) { R = vec4f(0.0); }
      if (!rowok) { A0 = vec4f(0.0); A1 = vec4f(0.0); L = vec4f(0.0); R = vec4f(0.0); }
      for (var kw = 0u; kw < KW_; kw++) {
        let i0 = 4u - PAD_ + kw;
        let xv = vec4f(pick(L, A0, A1, R, i0), pick(L, A0, A1, R, i0 + S_), pick(L, A0, A1, R, i0 + 2u * S_), pick(L, A0, A1, R, i0 + 3u * S_));
        let wv = w[wk];
        a0 = fma(xv, vec4f(subgroupBroadcast(wv, 0u)), a0);
        a1 = fma(xv, vec4f(subgroupBroadcast(wv, 1u)), a1);
        a2 = fma(xv, vec4f(subgroupBroadcast(wv, 2u)), a2);
        a3 = fma(xv, vec4f(subgroupBroadcast(wv, 3u)), a3);
        a4 = fma(xv, vec4f(subgroupBroadcast(wv, 4u)), a4);
        a5 = fma(xv, vec4f(subgroupBroadcast(wv, 5u)), a5);
        a6 = fma(xv, vec4f(subgroupBroadcast(wv, 6u)), a6);
        a7 = fma(xv, vec4f(subgroupBroadcast(wv, 7u)), a7);
        wk++;
      }
    }
    xrow += HW4;
  }
  if ((wid.x + wid.z * nwg.x) * WG + lid >= T) { return; }
  let OHW = p.OH * p.OW;
  let ybase = n * p.O * OHW + oh * p.OW + 4u * j;
  let acc = array<vec4f, 8>(a0, a1, a2, a3, a4, a5, a6, a7);
  for (var q = 0u; q < 8u; q++) {
    let o = o0 + q;
    if (o < p.O) {
      let v = acc[q] + vec4f(select(0.0, b[o], p.has_bias != 0u));
      let yi = ybase + o * OHW;
      y[yi] = v.x; y[yi + 1u] = v.y; y[yi + 2u] = v.z; y[yi + 3u] = v.w;
    }
  }
}
