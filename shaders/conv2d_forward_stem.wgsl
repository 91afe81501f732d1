// conv2d_forward_stem: y[n,o,oh,ow] = b[o] + sum_{c,kh,kw} x[n,c,oh-1+kh, ow-1+kw] * w[o,c,kh,kw],
// a 3x3 stride-1 pad-1 conv with few input channels (CC = C <= 4, an override constant: a network's
// first conv on RGB images). Layouts: x NCHW [N,C,H,W] (W % 16 == 0), w OIHW [O,C,3,3], b [O],
// y NCHW [N,O,H,W].
//
// Tiling: an invocation owns a 16-column x 1-row output tile (n, oh, 16j..16j+15). It first reads the
// tile's 3*CC input rows, 18 columns each (one 64-byte access for its own 16, a scalar on each side
// for the halo; zeros outside the image), and keeps them (on lavapipe: on the stack, only re-read).
// Then it walks the workgroup's OB output channels one at a time: 16 accumulators, the 9*CC weights of
// channel o handed out by subgroup broadcasts (lane q < 8 loads w[o, q + 8m]), one 64-byte store.
// Nothing but the channel counter crosses a loop: the row kernel (conv2d_forward_row4) keeps 16
// channels x 8 columns of accumulators live across its channel loop, each multiply-add a load, a mask
// blend and a store on lavapipe, which a 3-channel conv cannot amortise. Summation order as the row
// kernel (c, then kh, then kw ascending, one fma each, the bias added at the store): the same bits.
// Needs subgroups of >= 8 invocations.
enable subgroups;
override WG: u32 = 64;
override CC: u32 = 3;   // input channels, <= 4
override OB: u32 = 16;  // output channels per workgroup (workgroup_id.y = channel block)
struct Params { N: u32, C: u32, H: u32, W: u32, O: u32, has_bias: u32 }
struct Q16 { a: vec4f, b: vec4f, c: vec4f, d: vec4f }  // 16 floats: one 64-byte access
// the 18 input columns 16j-1 .. 16j+16 of one input row: l | m (16) | r
struct Row18 { l: f32, m: Q16, r: f32 }
@group(0) @binding(0) var<storage, read> x: array<Q16>;
@group(0) @binding(1) var<storage, read> xh: array<f32>;   // x again, as floats: the halo columns
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<Q16>;
@group(0) @binding(5) var<uniform> p: Params;

// column i (0 = the left halo, 1..16 own, 17 = the right halo) of a row; i is a constant after inlining
fn col(r: Row18, i: u32) -> f32 {
  if (i == 0u) { return r.l; }
  if (i < 5u) { return r.m.a[i - 1u]; }
  if (i < 9u) { return r.m.b[i - 5u]; }
  if (i < 13u) { return r.m.c[i - 9u]; }
  if (i < 17u) { return r.m.d[i - 13u]; }
  return r.r;
}

// columns t0..t0+3 shifted by kw
fn cols4(r: Row18, t0: u32, kw: u32) -> vec4f {
  return vec4f(col(r, t0 + kw), col(r, t0 + kw + 1u), col(r, t0 + kw + 2u), col(r, t0 + kw + 3u));
}

// a + the three taps of one kernel row for output columns t0..t0+3 (weights w0, w1, w2 for kw = 0, 1, 2), kw ascending
fn quarter(a: vec4f, r: Row18, t0: u32, w0: f32, w1: f32, w2: f32) -> vec4f {
  return fma(cols4(r, t0, 2u), vec4f(w2), fma(cols4(r, t0, 1u), vec4f(w1), fma(cols4(r, t0, 0u), vec4f(w0), a)));
}

// acc += the three taps of one kernel row, all 16 output columns
fn taps(acc: ptr<function, Q16>, r: Row18, w0: f32, w1: f32, w2: f32) {
  (*acc).a = quarter((*acc).a, r, 0u, w0, w1, w2);
  (*acc).b = quarter((*acc).b, r, 4u, w0, w1, w2);
  (*acc).c = quarter((*acc).c, r, 8u, w0, w1, w2);
  (*acc).d = quarter((*acc).d, r, 12u, w0, w1, w2);
}

// acc += input channel c's 9 taps (kh, then kw ascending); c is a constant after inlining
fn channelTaps(acc: ptr<function, Q16>, src: ptr<function, array<Row18, 12>>, ks: ptr<function, array<f32, 40>>, c: u32) {
  for (var kh = 0u; kh < 3u; kh++) {
    let k = 9u * c + 3u * kh;
    taps(acc, (*src)[3u * c + kh], (*ks)[k], (*ks)[k + 1u], (*ks)[k + 2u]);
  }
}

// the eight lanes' values of s, lane by lane
fn bcast8(s: f32) -> array<f32, 8> {
  return array<f32, 8>(subgroupBroadcast(s, 0u), subgroupBroadcast(s, 1u), subgroupBroadcast(s, 2u), subgroupBroadcast(s, 3u),
                       subgroupBroadcast(s, 4u), subgroupBroadcast(s, 5u), subgroupBroadcast(s, 6u), subgroupBroadcast(s, 7u));
}

// input row ih of channel c for the tile (n, j), zeros outside the image
fn loadRow(n: u32, c: u32, ih: i32, j: u32) -> Row18 {
  let ok = ih >= 0 && ih < i32(p.H);
  let row = ((n * p.C + c) * p.H + u32(select(0, ih, ok))) * p.W;  // a clamped row, zeroed after
  let f = row + 16u * j;
  let TPR = p.W / 16u;
  let l = xh[select(f, f - 1u, j > 0u)];
  let r = xh[select(f, f + 16u, j + 1u < TPR)];
  var out: Row18;
  out.m = x[f / 16u];
  out.l = select(0.0, l, ok && j > 0u);
  out.r = select(0.0, r, ok && j + 1u < TPR);
  if (!ok) { out.m = Q16(); }
  return out;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(subgroup_invocation_id) sid: u32) {
  let TPR = p.W / 16u;
  let T = p.N * p.H * TPR;
  let gi = (wid.x + wid.z * nwg.x) * WG + lid;
  let g = min(gi, T - 1u);  // lanes past the end compute a copy: the broadcasts need every lane
  let rowi = g / TPR;
  let j = g - rowi * TPR;
  let n = rowi / p.H;
  let oh = rowi - n * p.H;
  var src: array<Row18, 12>;
  for (var c = 0u; c < CC; c++) {
    src[3u * c] = loadRow(n, c, i32(oh) - 1, j);
    src[3u * c + 1u] = loadRow(n, c, i32(oh), j);
    src[3u * c + 2u] = loadRow(n, c, i32(oh) + 1, j);
  }
  let q = sid & 7u;
  let K = 9u * CC;
  let o0 = wid.y * OB;
  let HW16 = p.H * TPR;
  for (var i = 0u; i < OB; i++) {
    let o = o0 + i;
    if (o >= p.O) { break; }
    let wb = o * K;
    let k0 = bcast8(w[wb + min(q, K - 1u)]);
    let k1 = bcast8(w[wb + min(8u + q, K - 1u)]);
    let k2 = bcast8(w[wb + min(16u + q, K - 1u)]);
    var k3 = array<f32, 8>();
    var k4 = array<f32, 8>();
    if (CC > 2u) { k3 = bcast8(w[wb + min(24u + q, K - 1u)]); }
    if (CC > 3u) { k4 = bcast8(w[wb + min(32u + q, K - 1u)]); }
    // weight k = c*9 + kh*3 + kw lives in k_{k/8}[k%8]
    var ks = array<f32, 40>(k0[0], k0[1], k0[2], k0[3], k0[4], k0[5], k0[6], k0[7],
                            k1[0], k1[1], k1[2], k1[3], k1[4], k1[5], k1[6], k1[7],
                            k2[0], k2[1], k2[2], k2[3], k2[4], k2[5], k2[6], k2[7],
                            k3[0], k3[1], k3[2], k3[3], k3[4], k3[5], k3[6], k3[7],
                            k4[0], k4[1], k4[2], k4[3], k4[4], k4[5], k4[6], k4[7]);
    var acc = Q16();
    channelTaps(&acc, &src, &ks, 0u);
    if (CC > 1u) { channelTaps(&acc, &src, &ks, 1u); }
    if (CC > 2u) { channelTaps(&acc, &src, &ks, 2u); }
    if (CC > 3u) { channelTaps(&acc, &src, &ks, 3u); }
    if (p.has_bias != 0u) {
      let bv = vec4f(b[o]);
      acc = Q16(acc.a + bv, acc.b + bv, acc.c + bv, acc.d + bv);
    }
    if (gi < T) { y[(n * p.O + o) * HW16 + oh * TPR + j] = acc; }
  }
}
