// fwd_v1: direct conv, lanes over output pixels (n,oh,ow flattened), each invocation 8 output
// channels (two vec4 accumulators); weights OIHW read as scalars (uniform across the workgroup).
override WG: u32 = 64;
struct Params { N: u32, C: u32, H: u32, W: u32, O: u32, OH: u32, OW: u32, KH: u32, KW: u32, stride: u32, pad: u32, has_bias: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let OHW = p.OH * p.OW;
  let P = p.N * OHW;
  let pix = min(gid.x, P - 1u);
  let n = pix / OHW;
  let r = pix - n * OHW;
  let oh = r / p.OW;
  let ow = r - oh * p.OW;
  let o0 = wid.y * 8u;
  let KK = p.KH * p.KW;
  let CKK = p.C * KK;
  let HW = p.H * p.W;
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  let ih0 = i32(oh * p.stride) - i32(p.pad);
  let iw0 = i32(ow * p.stride) - i32(p.pad);
  var xbase = n * p.C * HW;
  var wk = o0 * CKK;
  for (var c = 0u; c < p.C; c++) {
    for (var kh = 0u; kh < p.KH; kh++) {
      let ih = ih0 + i32(kh);
      let rowok = ih >= 0 && ih < i32(p.H);
      for (var kw = 0u; kw < p.KW; kw++) {
        let iw = iw0 + i32(kw);
        let ok = rowok && iw >= 0 && iw < i32(p.W);
        let xi = select(0, ih * i32(p.W) + iw, ok);
        let xv = select(0.0, x[xbase + u32(xi)], ok);
        let wv0 = vec4f(w[wk], w[wk + CKK], w[wk + 2u * CKK], w[wk + 3u * CKK]);
        let wv1 = vec4f(w[wk + 4u * CKK], w[wk + 5u * CKK], w[wk + 6u * CKK], w[wk + 7u * CKK]);
        acc0 = fma(vec4f(xv), wv0, acc0);
        acc1 = fma(vec4f(xv), wv1, acc1);
        wk++;
      }
    }
    xbase += HW;
  }
  if (gid.x >= P) { return; }
  let ybase = (n * p.O + o0) * OHW + r;
  for (var j = 0u; j < 4u; j++) {
    if (o0 + j < p.O) { y[ybase + j * OHW] = acc0[j] + select(0.0, b[o0 + j], p.has_bias != 0u); }
    if (o0 + 4u + j < p.O) { y[ybase + (4u + j) * OHW] = acc1[j] + select(0.0, b[o0 + 4u + j], p.has_bias != 0u); }
  }
}
