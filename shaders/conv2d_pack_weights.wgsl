// conv2d_pack_weights: repack OIHW weights for the row kernels (conv2d_forward_row4 and its
// scatter variant): one vec4 of kernel-row taps per (output-channel block, input channel,
// packed kernel row, lane):
//   wp[((ob*CI + ci)*KHp + r)*8 + j][t] = wsrc(oo = ob*8 + j, ci, r, t)   (t < KWp <= 4, else 0;
//   oo >= OO gives 0). Forward (flip = 0): OO = O, CI = C, wsrc = w[oo, ci, kh0 + step*r,
//   kw0 + step*t] (kh0 = kw0 = 0, step = 1: the kernel itself). Input gradient (flip = 1, a
//   convolution of dy with the transposed, flipped kernel): OO = C, CI = O, wsrc = w[ci, oo,
//   kh0 + step*(KHp-1-r), kw0 + step*(KWp-1-t)]; for stride S > 1, step = S and (kh0, kw0, KHp,
//   KWp) select the taps of one parity class.
// Layout: w OIHW [O,C,KH,KW]; wp array<vec4f> [ceil(OO/8), CI, KHp, 8]. One invocation per group of
// 8 vec4s, the lanes j = 0..7 of one (block, input channel, packed row): the integer divisions that
// find (block, channel, row) by uniforms, each a per-lane scalar div on lavapipe, run once per 8
// vec4s, and each lane's source index is a step from the last (one invocation per vec4 took 1.7-2.1x as
// long over a ResNet-20 step's 18 packs on lavapipe, 2026-12-08). Every pack is a whole number of
// groups (ceil(OO/8) * CI * KHp * 8 vec4s). WG per workgroup, grid folded into y past 65535 groups.
// Variant `all`: every pack one conv's training step needs, in one dispatch (the conv2d op makes
// them in its forward and its backward reuses them): job 0 is the forward's (flip = 0, every tap),
// jobs 1..S*S the input gradient's parity classes (rh, rw) = ((j-1) / S, (j-1) % S), flip = 1,
// kh0 = (rh + pad) % S, kw0 = (rw + pad) % S, step = S, KHp = ceil((KH - kh0) / S) (S = 1: the
// stride-1 flip, all taps). Each class must have a tap (kh0 < KH, kw0 < KW; the launcher checks).
// Job j's vec4s follow job j-1's, each job's count rounded up to 16 vec4s (256 bytes, so each is
// bindable as its own view; two groups); the rounding's vec4s are written as 0. p.total = the end
// of the last.
override WG: u32 = 64;
// #if all
struct Params { O: u32, C: u32, KH: u32, KW: u32, S: u32, pad: u32, total: u32 }
// #else
struct Params { O: u32, C: u32, KH: u32, KW: u32, flip: u32, total: u32, KHp: u32, KWp: u32, kh0: u32, kw0: u32, step: u32 }
// #endif
@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> wp: array<vec4f>;
@group(0) @binding(2) var<uniform> p: Params;

// Which taps one pack takes: flipped and transposed or not, first tap, step, tap counts.
struct Taps { flip: bool, kh0: u32, kw0: u32, step: u32, KHp: u32, KWp: u32 }

// group g = (output-channel block ob, input channel ci, packed row r) of the pack with taps k, its 8
// vec4s stored from wp[at]: lane j's is w's kernel-row taps of output channel ob*8 + j (0 past the
// output channels)
fn packGroup(g: u32, k: Taps, at: u32) {
  let OO = select(p.O, p.C, k.flip);
  let CI = select(p.C, p.O, k.flip);
  let r = g % k.KHp;
  let q = g / k.KHp;
  let ci = q % CI;
  let ob = q / CI;
  // w's index of lane 0's first tap (t = 0), and the steps to the next lane and the next tap
  var first = ((ob * 8u * p.C + ci) * p.KH + k.kh0 + k.step * r) * p.KW + k.kw0;
  var perLane = p.C * p.KH * p.KW;
  var perTap = i32(k.step);
  if (k.flip) {
    first = ((ci * p.C + ob * 8u) * p.KH + k.kh0 + k.step * (k.KHp - 1u - r)) * p.KW + k.kw0 + k.step * (k.KWp - 1u);
    perLane = p.KH * p.KW;
    perTap = -perTap;
  }
  for (var j = 0u; j < 8u; j++) {
    var v = vec4f(0.0);
    if (ob * 8u + j < OO) {
      var idx = i32(first + j * perLane);
      for (var t = 0u; t < k.KWp; t++) {
        v[t] = w[u32(idx)];
        idx += perTap;
      }
    }
    wp[at + j] = v;
  }
}

// #if all
// job j's taps (0: the forward; 1..S*S: parity class (rh, rw) of the input gradient)
fn jobTaps(j: u32) -> Taps {
  if (j == 0u) { return Taps(false, 0u, 0u, 1u, p.KH, p.KW); }
  let kh0 = ((j - 1u) / p.S + p.pad) % p.S;
  let kw0 = ((j - 1u) % p.S + p.pad) % p.S;
  return Taps(true, kh0, kw0, p.S, (p.KH - kh0 + p.S - 1u) / p.S, (p.KW - kw0 + p.S - 1u) / p.S);
}

// vec4s in a pack with taps k, before rounding
fn packSize(k: Taps) -> u32 {
  let OO = select(p.O, p.C, k.flip);
  let CI = select(p.C, p.O, k.flip);
  return (OO + 7u) / 8u * CI * k.KHp * 8u;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = 8u * (gid.x + gid.y * nwg.x * WG);  // the group's first vec4
  if (i >= p.total) { return; }
  // find the job holding vec4 i: at most 1 + S*S steps
  var base = 0u;
  var k = jobTaps(0u);
  var n = packSize(k);
  for (var j = 1u; j <= p.S * p.S && i >= base + (n + 15u) / 16u * 16u; j++) {
    base += (n + 15u) / 16u * 16u;
    k = jobTaps(j);
    n = packSize(k);
  }
  if (i - base < n) {
    packGroup((i - base) / 8u, k, i);
  } else {
    for (var j = 0u; j < 8u; j++) { wp[i + j] = vec4f(0.0); }  // the job's rounding
  }
}
// #else
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = 8u * (gid.x + gid.y * nwg.x * WG);  // the group's first vec4
  if (i >= p.total) { return; }
  packGroup(i / 8u, Taps(p.flip != 0u, p.kh0, p.kw0, p.step, p.KHp, p.KWp), i);
}
// #endif
