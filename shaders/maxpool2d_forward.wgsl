// maxpool2d_forward: y[n, c, oh, ow] = max over the K x K window at (oh*S - P, ow*S - P) of
// x[n, c, ih, iw], skipping padded positions (PyTorch's -inf padding; the launcher requires
// P <= K / 2 so every window holds at least one real input). argmax[n, c, oh, ow] (u32) is the
// winning position ih*W + iw inside the input plane, for maxpool2d_backward. Ties keep the first
// position in row-major window order; a NaN wins over numbers (NaN propagates, as in PyTorch).
// Layout: x NCHW [N, C, H, W]; y and argmax [N, C, OH, OW] (plane = n*C + c).
// Tiling: one invocation per output element on a 3-D grid (x = ow, y = oh, z = plane), so no index
// needs an integer division (slow on CPU drivers); the workgroup is WX x WY x WZ (= 64, chosen by
// the launcher to fit small maps: e.g. 2 x 2 x 16 for a 2 x 2 output) and the plane axis loops past
// 65535 workgroups. K, S, P are override constants: one pipeline per pooling geometry.
override K: u32 = 2;
override S: u32 = 2;
override P: u32 = 0;
override WX: u32 = 8;
override WY: u32 = 8;
override WZ: u32 = 1;

struct Params { planes: u32, h: u32, w: u32, oh: u32, ow: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> argmax: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

@compute @workgroup_size(WX, WY, WZ)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let ow = gid.x;
  let oh = gid.y;
  if (ow >= p.ow || oh >= p.oh) { return; }
  let h0 = i32(oh * S) - i32(P);
  let w0 = i32(ow * S) - i32(P);
  for (var plane = gid.z; plane < p.planes; plane += nwg.z * WZ) {
    let base = plane * p.h * p.w;
    var best = 0.0;
    var best_at = 0xffffffffu;
    for (var kh = 0u; kh < K; kh++) {
      let ih = h0 + i32(kh);
      if (ih < 0 || ih >= i32(p.h)) { continue; }
      for (var kw = 0u; kw < K; kw++) {
        let iw = w0 + i32(kw);
        if (iw < 0 || iw >= i32(p.w)) { continue; }
        let at = u32(ih) * p.w + u32(iw);
        let v = x[base + at];
        if (best_at == 0xffffffffu || (!is_nan(best) && (v > best || is_nan(v)))) {
          best = v;
          best_at = at;
        }
      }
    }
    let o = (plane * p.oh + oh) * p.ow + ow;
    y[o] = best;
    argmax[o] = best_at;
  }
}
