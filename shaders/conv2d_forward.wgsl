// conv2d_forward: y[n,o,oh,ow] = b[o] + sum_{c,kh,kw} x[n,c,oh*s-p+kh, ow*s-p+kw] * w[o,c,kh,kw]
// (zero padding p, stride s). Layouts: x NCHW [N,C,H,W], w OIHW [O,C,KH,KW], b [O], y NCHW [N,O,OH,OW].
//
// Tiling (implicit GEMM Y[o, pix] = W[o, k] X[k, pix], k = (c,kh,kw), pix = (n,oh,ow) flattened):
// one invocation computes 4 consecutive flattened output pixels x 8 output channels (eight vec4
// accumulators, one per channel, lanes = pixels). A workgroup is WG invocations = 4*WG pixels of one
// 8-channel block (workgroup_id.y). The weights are read once per subgroup, not once per lane: lane
// j (< 8) loads w[o0+j, k] and subgroupBroadcast(., j) hands all eight values to every lane. On
// lavapipe every storage load is a per-lane scalar loop (uniform or not), so this cuts the weight
// traffic 8x; the 4 pixels per lane reuse each broadcast 4x. Needs subgroups of >= 8 invocations.
// Summation order over k is fixed (c, kh, kw ascending): same inputs, same bits.
enable subgroups;
override WG: u32 = 64;
struct Params { N: u32, C: u32, H: u32, W: u32, O: u32, OH: u32, OW: u32, KH: u32, KW: u32, stride: u32, pad: u32, has_bias: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(subgroup_invocation_id) sid: u32) {
  let OHW = p.OH * p.OW;
  let P = p.N * OHW;
  let HW = p.H * p.W;
  let pix0 = ((wid.x + wid.z * nwg.x) * WG + lid) * 4u; // grid folded into z past 65535 groups
  var xb: vec4u;
  var ih0: vec4i;
  var iw0: vec4i;
  for (var t = 0u; t < 4u; t++) {
    let pix = min(pix0 + t, P - 1u);
    let n = pix / OHW;
    let r = pix - n * OHW;
    let oh = r / p.OW;
    let ow = r - oh * p.OW;
    xb[t] = n * p.C * HW;
    ih0[t] = i32(oh * p.stride) - i32(p.pad);
    iw0[t] = i32(ow * p.stride) - i32(p.pad);
  }
  let o0 = wid.y * 8u;
  let KK = p.KH * p.KW;
  let CKK = p.C * KK;
  var wk = min(o0 + (sid & 7u), p.O - 1u) * CKK;
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
  var a4 = vec4f(0.0); var a5 = vec4f(0.0); var a6 = vec4f(0.0); var a7 = vec4f(0.0);
  let Hi = i32(p.H);
  let Wi = i32(p.W);
  for (var c = 0u; c < p.C; c++) {
    for (var kh = 0u; kh < p.KH; kh++) {
      let ih = ih0 + vec4i(i32(kh));
      let rowok = (ih >= vec4i(0)) & (ih < vec4i(Hi));
      for (var kw = 0u; kw < p.KW; kw++) {
        let iw = iw0 + vec4i(i32(kw));
        let ok = rowok & (iw >= vec4i(0)) & (iw < vec4i(Wi));
        let xi = vec4u(select(vec4i(0), ih * Wi + iw, ok)) + xb;
        let xv = select(vec4f(0.0), vec4f(x[xi.x], x[xi.y], x[xi.z], x[xi.w]), ok);
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
    xb += vec4u(HW);
  }
  let acc = array<vec4f, 8>(a0, a1, a2, a3, a4, a5, a6, a7);
  for (var t = 0u; t < 4u; t++) {
    let pix = pix0 + t;
    if (pix >= P) { break; }
    let n = pix / OHW;
    let r = pix - n * OHW;
    for (var j = 0u; j < 8u; j++) {
      let o = o0 + j;
      if (o < p.O) {
        var v = acc[j][t];
        if (p.has_bias != 0u) { v += b[o]; }  // no load of b without a bias
        y[(n * p.O + o) * OHW + r] = v;
      }
    }
  }
}
