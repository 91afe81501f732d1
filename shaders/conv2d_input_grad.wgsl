// conv2d_input_grad: dx[n,c,ih,iw] = sum over (o,kh,kw) with oh*s - p + kh = ih, ow*s - p + kw = iw,
// 0 <= oh < OH, 0 <= ow < OW, of dy[n,o,oh,ow] * w[o,c,kh,kw]. Layouts: dy NCHW [N,O,OH,OW],
// w OIHW [O,C,KH,KW], dx NCHW [N,C,H,W].
//
// Stride s is handled by parity classes, so no lane does a masked-out multiply: workgroup_id.z
// (mod s*s) picks the class (rh, rw) = input pixels with ih % s == rh, iw % s == rw; for them the
// contributing taps are exactly kh = (rh + p) % s + s*i, kw = (rw + p) % s + s*j (uniform across
// the workgroup), with oh = (ih + p - kh) / s exact. Within a class the pixels (n, i, j) are
// flattened; an invocation computes 4 consecutive class pixels x 8 input channels (workgroup_id.y
// picks the 8-channel block). Lane j (< 8) loads w[o,c0+j,kh,kw] and subgroupBroadcast(., j) gives
// every lane the eight weights (storage loads are per-lane loops on lavapipe; this cuts weight
// traffic 8x). Summation order fixed (o, kh, kw ascending). Needs subgroups of >= 8 invocations.
// workgroup_id.x (+ (z / (s*s)) * num_workgroups.x past 65535 groups) picks the 4*WG-pixel block.
enable subgroups;
override WG: u32 = 64;
struct Params { N: u32, C: u32, H: u32, W: u32, O: u32, OH: u32, OW: u32, KH: u32, KW: u32, stride: u32, pad: u32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(subgroup_invocation_id) sid: u32) {
  let s = p.stride;
  let cls = wid.z % (s * s);
  let rh = cls / s;
  let rw = cls - rh * s;
  // class sub-grid: ih = rh + s*i (i < Hc), iw = rw + s*j (j < Wc)
  let Hc = (p.H + s - 1u - rh) / s;
  let Wc = (p.W + s - 1u - rw) / s;
  let HWc = Hc * Wc;
  let Pc = p.N * HWc;
  let OHW = p.OH * p.OW;
  let pix0 = ((wid.x + (wid.z / (s * s)) * nwg.x) * WG + lid) * 4u;
  var yb: vec4u;
  var ohb: vec4i;
  var owb: vec4i;
  for (var t = 0u; t < 4u; t++) {
    let pix = min(pix0 + t, max(Pc, 1u) - 1u);
    let n = pix / max(HWc, 1u);
    let r = pix - n * HWc;
    let i = r / max(Wc, 1u);
    let j = r - i * Wc;
    yb[t] = n * p.O * OHW;
    // oh = (ih + p - kh) / s for kh = kh0 + s*a  ->  ohb - a
    ohb[t] = (i32(rh + s * i + p.pad) - i32((rh + p.pad) % s)) / i32(s);
    owb[t] = (i32(rw + s * j + p.pad) - i32((rw + p.pad) % s)) / i32(s);
  }
  let kh0 = (rh + p.pad) % s;
  let kw0 = (rw + p.pad) % s;
  let c0 = wid.y * 8u;
  let KK = p.KH * p.KW;
  let CKK = p.C * KK;
  let wlane = min(c0 + (sid & 7u), p.C - 1u) * KK;
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
  var a4 = vec4f(0.0); var a5 = vec4f(0.0); var a6 = vec4f(0.0); var a7 = vec4f(0.0);
  let OHi = i32(p.OH);
  let OWi = i32(p.OW);
  for (var o = 0u; o < p.O; o++) {
    var a = 0;
    for (var kh = kh0; kh < p.KH; kh += s) {
      let oh = ohb - vec4i(a);
      let rowok = (oh >= vec4i(0)) & (oh < vec4i(OHi));
      var bcol = 0;
      for (var kw = kw0; kw < p.KW; kw += s) {
        let ow = owb - vec4i(bcol);
        let ok = rowok & (ow >= vec4i(0)) & (ow < vec4i(OWi));
        let yi = vec4u(select(vec4i(0), oh * OWi + ow, ok)) + yb;
        let gv = select(vec4f(0.0), vec4f(dy[yi.x], dy[yi.y], dy[yi.z], dy[yi.w]), ok);
        let wv = w[o * CKK + wlane + kh * p.KW + kw];
        a0 = fma(gv, vec4f(subgroupBroadcast(wv, 0u)), a0);
        a1 = fma(gv, vec4f(subgroupBroadcast(wv, 1u)), a1);
        a2 = fma(gv, vec4f(subgroupBroadcast(wv, 2u)), a2);
        a3 = fma(gv, vec4f(subgroupBroadcast(wv, 3u)), a3);
        a4 = fma(gv, vec4f(subgroupBroadcast(wv, 4u)), a4);
        a5 = fma(gv, vec4f(subgroupBroadcast(wv, 5u)), a5);
        a6 = fma(gv, vec4f(subgroupBroadcast(wv, 6u)), a6);
        a7 = fma(gv, vec4f(subgroupBroadcast(wv, 7u)), a7);
        bcol++;
      }
      a++;
    }
    yb += vec4u(OHW);
  }
  let acc = array<vec4f, 8>(a0, a1, a2, a3, a4, a5, a6, a7);
  let HW = p.H * p.W;
  for (var t = 0u; t < 4u; t++) {
    let pix = pix0 + t;
    if (pix >= Pc) { break; }
    let n = pix / HWc;
    let r = pix - n * HWc;
    let i = r / Wc;
    let j = r - i * Wc;
    let sp = (rh + s * i) * p.W + rw + s * j;
    for (var q = 0u; q < 8u; q++) {
      let c = c0 + q;
      if (c < p.C) { dx[(n * p.C + c) * HW + sp] = acc[q][t]; }
    }
  }
}
