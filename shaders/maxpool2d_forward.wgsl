// maxpool2d_forward: y[n, c, oh, ow] = max over the K x K window at (oh*S - P, ow*S - P) of
// x[n, c, ih, iw], skipping padded positions (PyTorch's -inf padding; the launcher requires
// P <= K / 2 so every window holds at least one real input). argmax[n, c, oh, ow] (u32) is the
// winning position ih*W + iw inside the input plane, for maxpool2d_backward. Ties keep the first
// position in row-major window order; a NaN wins over numbers (NaN propagates, as in PyTorch).
// Layout: x NCHW [N, C, H, W]; y and argmax [N, C, OH, OW]. Tiling: one invocation per output
// element, 256 per workgroup (neighbouring invocations take neighbouring ow), grid folded into y.
struct Params { total: u32, h: u32, w: u32, oh: u32, ow: u32, k: u32, stride: u32, pad: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> argmax: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.total) { return; }
  let ow = i % p.ow;
  let t = i / p.ow;
  let oh = t % p.oh;
  let plane = t / p.oh;
  let base = plane * p.h * p.w;
  let h0 = i32(oh * p.stride) - i32(p.pad);
  let w0 = i32(ow * p.stride) - i32(p.pad);
  var best = 0.0;
  var best_at = 0xffffffffu;
  for (var kh = 0u; kh < p.k; kh++) {
    let ih = h0 + i32(kh);
    if (ih < 0 || ih >= i32(p.h)) { continue; }
    for (var kw = 0u; kw < p.k; kw++) {
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
  y[i] = best;
  argmax[i] = best_at;
}
