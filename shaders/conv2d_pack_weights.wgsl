// conv2d_pack_weights: repack OIHW weights for the row kernels (conv2d_forward_row4), one vec4 of
// kernel-row taps per (output-channel block, input channel, kernel row, lane):
//   wp[((ob*CI + ci)*KH + kh)*8 + j][kw] = wsrc(oo = ob*8 + j, ci, kh, kw)   (kw < KW <= 4, else 0;
//   oo >= OO gives 0), where for the forward pass (flip = 0) OO = O, CI = C and
//   wsrc = w[oo, ci, kh, kw]; for the stride-1 input gradient (flip = 1, a convolution of dy with the
//   transposed, flipped kernel) OO = C, CI = O and wsrc = w[ci, oo, KH-1-kh, KW-1-kw].
// Layout: w OIHW [O,C,KH,KW]; wp array<vec4f> [ceil(OO/8), CI, KH, 8]. One invocation per vec4,
// WG per workgroup, grid folded into y past 65535 groups.
override WG: u32 = 64;
struct Params { O: u32, C: u32, KH: u32, KW: u32, flip: u32, total: u32 }
@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> wp: array<vec4f>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.total) { return; }
  let flip = p.flip != 0u;
  let OO = select(p.O, p.C, flip);
  let CI = select(p.C, p.O, flip);
  let j = i % 8u;
  let r = i / 8u;
  let kh = r % p.KH;
  let r2 = r / p.KH;
  let ci = r2 % CI;
  let oo = (r2 / CI) * 8u + j;
  var v = vec4f(0.0);
  if (oo < OO) {
    for (var kw = 0u; kw < p.KW; kw++) {
      var idx: u32;
      if (flip) { idx = ((ci * p.C + oo) * p.KH + (p.KH - 1u - kh)) * p.KW + (p.KW - 1u - kw); }
      else { idx = ((oo * p.C + ci) * p.KH + kh) * p.KW + kw; }
      v[kw] = w[idx];
    }
  }
  wp[i] = v;
}
