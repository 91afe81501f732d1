// conv2d_pack_weights: repack OIHW weights for the row kernels (conv2d_forward_row4 and its
// scatter variant): one vec4 of kernel-row taps per (output-channel block, input channel,
// packed kernel row, lane):
//   wp[((ob*CI + ci)*KHp + r)*8 + j][t] = wsrc(oo = ob*8 + j, ci, r, t)   (t < KWp <= 4, else 0;
//   oo >= OO gives 0). Forward (flip = 0): OO = O, CI = C, wsrc = w[oo, ci, kh0 + step*r,
//   kw0 + step*t] (kh0 = kw0 = 0, step = 1: the kernel itself). Input gradient (flip = 1, a
//   convolution of dy with the transposed, flipped kernel): OO = C, CI = O, wsrc = w[ci, oo,
//   kh0 + step*(KHp-1-r), kw0 + step*(KWp-1-t)]; for stride S > 1, step = S and (kh0, kw0, KHp,
//   KWp) select the taps of one parity class.
// Layout: w OIHW [O,C,KH,KW]; wp array<vec4f> [ceil(OO/8), CI, KHp, 8]. One invocation per vec4,
// WG per workgroup, grid folded into y past 65535 groups.
override WG: u32 = 64;
struct Params { O: u32, C: u32, KH: u32, KW: u32, flip: u32, total: u32, KHp: u32, KWp: u32, kh0: u32, kw0: u32, step: u32 }
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
  let q = i / 8u;
  let r = q % p.KHp;
  let q2 = q / p.KHp;
  let ci = q2 % CI;
  let oo = (q2 / CI) * 8u + j;
  var v = vec4f(0.0);
  if (oo < OO) {
    for (var t = 0u; t < p.KWp; t++) {
      var idx: u32;
      if (flip) {
        let kh = p.kh0 + p.step * (p.KHp - 1u - r);
        let kw = p.kw0 + p.step * (p.KWp - 1u - t);
        idx = ((ci * p.C + oo) * p.KH + kh) * p.KW + kw;
      } else {
        idx = ((oo * p.C + ci) * p.KH + p.kh0 + p.step * r) * p.KW + p.kw0 + p.step * t;
      }
      v[t] = w[idx];
    }
  }
  wp[i] = v;
}
