// [bench record] dw_row4_tk1: the row weight-grad kernel with one kernel row (c,kh) per lane (16 channels).
// conv2d_weight_grad_row4 (split-K pass 1, fast path for the row-kernel shapes: OW*S == W,
// W % 4S == 0, S <= 2, KW <= 4, P <= 4, KW-P-S <= 4):
//   part[q,o,c,kh,kw] = sum over the output tiles (n, oh, 4j..4j+3) of chunk q of
//                       sum_t dy[n,o,oh,4j+t] * x[n,c,oh*S-P+kh, (4j+t)*S-P+kw]
// Layouts: x NCHW [N,C,H,W] (vec4 + scalar views of the same buffer), dy NCHW [N,O,OH,OW] as vec4,
// part [nchunks, O, C*KH*KW]; conv2d_weight_grad_reduce sums part over q in fixed order.
//
// Tiling: lanes over kernel rows r = (c, kh) (workgroup_id.x picks WG of them), 8 output channels
// (OB = 8 or 16) per workgroup (workgroup_id.y), chunk q = workgroup_id.z = a run of consecutive 4-column output
// tiles walked in order by the whole workgroup. Per tile: lane j (< 8) loads the vec4
// dy[n,o0+j,oh,4j..4j+3] (and o0+8+j when OB = 16) and subgroupBroadcast hands all 32 (64) values to every lane; each lane loads
// its input row's S aligned vec4 chunks plus the P left / KW-P-S right halo columns as scalars, and
// accumulates OB channels x KW taps (dot products over the tile's 4 columns). Summation order is
// fixed (tiles ascending, then columns t = 0..3). Needs subgroups of >= 8 invocations.
enable subgroups;
override WG: u32 = 64;
override S_: u32 = 1;
override PAD_: u32 = 1;
override KW_: u32 = 3;
override OB: u32 = 16;  // output channels per workgroup: 8 or 16
struct Params { N: u32, C: u32, H: u32, W: u32, O: u32, OH: u32, OW: u32, KH: u32, chunk: u32 }
@group(0) @binding(0) var<storage, read> x4: array<vec4f>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

fn pick(L: vec4f, A0: vec4f, A1: vec4f, R: vec4f, i: u32) -> f32 {
  if (i < 4u) { return L[i]; }
  if (i < 8u) { return A0[i - 4u]; }
  if (S_ > 1u && i < 12u) { return A1[i - 8u]; }
  return R[i - 4u - 4u * S_];
}

fn taps(a: vec4f, d: vec4f, L: vec4f, A0: vec4f, A1: vec4f, R: vec4f) -> vec4f {
  var r = a;
  for (var kw = 0u; kw < KW_; kw++) {
    let i0 = 4u - PAD_ + kw;
    let xv = vec4f(pick(L, A0, A1, R, i0), pick(L, A0, A1, R, i0 + S_), pick(L, A0, A1, R, i0 + 2u * S_), pick(L, A0, A1, R, i0 + 3u * S_));
    r[kw] = fma(d.w, xv.w, fma(d.z, xv.z, fma(d.y, xv.y, fma(d.x, xv.x, r[kw]))));
  }
  return r;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(subgroup_invocation_id) sid: u32) {
  let NR = p.C * p.KH;
  let r = min(wid.x * WG + lid, NR - 1u);
  let c = r / p.KH;
  let kh = r - c * p.KH;
  let TPR = p.OW / 4u;
  let T = p.N * p.OH * TPR;
  let q0 = wid.z * p.chunk;
  let q1 = min(q0 + p.chunk, T);
  let W4 = p.W / 4u;
  let HW = p.H * p.W;
  let OHW4 = p.OH * TPR;
  let o0 = wid.y * OB;
  let olane = min(o0 + (sid & 7u), p.O - 1u);
  let olane2 = min(o0 + 8u + (sid & 7u), p.O - 1u);
  // walk tiles q0..q1 with incremental (n, oh, j)
  var n = q0 / OHW4;
  var rem = q0 - n * OHW4;
  var oh = rem / TPR;
  var j = rem - oh * TPR;
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
  var a4 = vec4f(0.0); var a5 = vec4f(0.0); var a6 = vec4f(0.0); var a7 = vec4f(0.0);
  var b0 = vec4f(0.0); var b1 = vec4f(0.0); var b2 = vec4f(0.0); var b3 = vec4f(0.0);
  var b4 = vec4f(0.0); var b5 = vec4f(0.0); var b6 = vec4f(0.0); var b7 = vec4f(0.0);
  let Wi = i32(p.W);
  for (var q = q0; q < q1; q++) {
    let d = dy[((n * p.O + olane) * p.OH + oh) * TPR + j];
    let ih = i32(oh * S_) - i32(PAD_) + i32(kh);
    let rowok = ih >= 0 && ih < i32(p.H);
    let rowbase = (n * p.C + c) * HW + u32(select(0, ih, rowok)) * p.W;  // element index of the row
    let col0 = 4u * S_ * j;
    var A0 = x4[(rowbase + col0) / 4u];
    var A1 = vec4f(0.0);
    if (S_ > 1u) { A1 = x4[(rowbase + col0) / 4u + 1u]; }
    var L = vec4f(0.0);
    for (var m = 1u; m <= PAD_; m++) {
      let col = i32(col0) - i32(m);
      L[4u - m] = select(0.0, x[rowbase + u32(max(col, 0))], col >= 0);
    }
    var R = vec4f(0.0);
    for (var m = 0u; m + PAD_ + S_ < KW_; m++) {
      let col = col0 + 4u * S_ + m;
      R[m] = select(0.0, x[rowbase + min(col, p.W - 1u)], col < p.W);
    }
    if (!rowok) { A0 = vec4f(0.0); A1 = vec4f(0.0); L = vec4f(0.0); R = vec4f(0.0); }
    a0 = taps(a0, vec4f(subgroupBroadcast(d.x, 0u), subgroupBroadcast(d.y, 0u), subgroupBroadcast(d.z, 0u), subgroupBroadcast(d.w, 0u)), L, A0, A1, R);
    a1 = taps(a1, vec4f(subgroupBroadcast(d.x, 1u), subgroupBroadcast(d.y, 1u), subgroupBroadcast(d.z, 1u), subgroupBroadcast(d.w, 1u)), L, A0, A1, R);
    a2 = taps(a2, vec4f(subgroupBroadcast(d.x, 2u), subgroupBroadcast(d.y, 2u), subgroupBroadcast(d.z, 2u), subgroupBroadcast(d.w, 2u)), L, A0, A1, R);
    a3 = taps(a3, vec4f(subgroupBroadcast(d.x, 3u), subgroupBroadcast(d.y, 3u), subgroupBroadcast(d.z, 3u), subgroupBroadcast(d.w, 3u)), L, A0, A1, R);
    a4 = taps(a4, vec4f(subgroupBroadcast(d.x, 4u), subgroupBroadcast(d.y, 4u), subgroupBroadcast(d.z, 4u), subgroupBroadcast(d.w, 4u)), L, A0, A1, R);
    a5 = taps(a5, vec4f(subgroupBroadcast(d.x, 5u), subgroupBroadcast(d.y, 5u), subgroupBroadcast(d.z, 5u), subgroupBroadcast(d.w, 5u)), L, A0, A1, R);
    a6 = taps(a6, vec4f(subgroupBroadcast(d.x, 6u), subgroupBroadcast(d.y, 6u), subgroupBroadcast(d.z, 6u), subgroupBroadcast(d.w, 6u)), L, A0, A1, R);
    a7 = taps(a7, vec4f(subgroupBroadcast(d.x, 7u), subgroupBroadcast(d.y, 7u), subgroupBroadcast(d.z, 7u), subgroupBroadcast(d.w, 7u)), L, A0, A1, R);
    if (OB > 8u) {
      let e = dy[((n * p.O + olane2) * p.OH + oh) * TPR + j];
      b0 = taps(b0, vec4f(subgroupBroadcast(e.x, 0u), subgroupBroadcast(e.y, 0u), subgroupBroadcast(e.z, 0u), subgroupBroadcast(e.w, 0u)), L, A0, A1, R);
      b1 = taps(b1, vec4f(subgroupBroadcast(e.x, 1u), subgroupBroadcast(e.y, 1u), subgroupBroadcast(e.z, 1u), subgroupBroadcast(e.w, 1u)), L, A0, A1, R);
      b2 = taps(b2, vec4f(subgroupBroadcast(e.x, 2u), subgroupBroadcast(e.y, 2u), subgroupBroadcast(e.z, 2u), subgroupBroadcast(e.w, 2u)), L, A0, A1, R);
      b3 = taps(b3, vec4f(subgroupBroadcast(e.x, 3u), subgroupBroadcast(e.y, 3u), subgroupBroadcast(e.z, 3u), subgroupBroadcast(e.w, 3u)), L, A0, A1, R);
      b4 = taps(b4, vec4f(subgroupBroadcast(e.x, 4u), subgroupBroadcast(e.y, 4u), subgroupBroadcast(e.z, 4u), subgroupBroadcast(e.w, 4u)), L, A0, A1, R);
      b5 = taps(b5, vec4f(subgroupBroadcast(e.x, 5u), subgroupBroadcast(e.y, 5u), subgroupBroadcast(e.z, 5u), subgroupBroadcast(e.w, 5u)), L, A0, A1, R);
      b6 = taps(b6, vec4f(subgroupBroadcast(e.x, 6u), subgroupBroadcast(e.y, 6u), subgroupBroadcast(e.z, 6u), subgroupBroadcast(e.w, 6u)), L, A0, A1, R);
      b7 = taps(b7, vec4f(subgroupBroadcast(e.x, 7u), subgroupBroadcast(e.y, 7u), subgroupBroadcast(e.z, 7u), subgroupBroadcast(e.w, 7u)), L, A0, A1, R);
    }
    j++;
    if (j == TPR) { j = 0u; oh++; if (oh == p.OH) { oh = 0u; n++; } }
  }
  if (wid.x * WG + lid >= NR) { return; }
  let acc = array<vec4f, 16>(a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7);
  let CKK = NR * KW_;
  for (var qq = 0u; qq < OB; qq++) {
    let o = o0 + qq;
    if (o < p.O) {
      for (var kw = 0u; kw < KW_; kw++) { part[(wid.z * p.O + o) * CKK + r * KW_ + kw] = acc[qq][kw]; }
    }
  }
}
