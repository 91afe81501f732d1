// maxpool2d_backward: dx[n, c, ih, iw] = sum of dy[n, c, oh, ow] over the output windows that
// contain (ih, iw) and whose argmax (saved by maxpool2d_forward as ih*W + iw) is this position.
// Gather form: each input element visits its own windows (oh in [ceil((ih+P-K+1)/S), floor((ih+P)/S)],
// likewise ow) in a fixed order, so overlapping windows (3x3 stride 2) need no atomics and the
// result is deterministic. Layout: dx NCHW [N, C, H, W]; dy, argmax [N, C, OH, OW].
// Tiling: one invocation per input element, 256 per workgroup, grid folded into y past 65535.
struct Params { total: u32, h: u32, w: u32, oh: u32, ow: u32, k: u32, stride: u32, pad: u32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> argmax: array<u32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// First output index whose window [o*S - P, o*S - P + K) reaches input index i: ceil((i + P - K + 1) / S), >= 0.
fn first_window(i: u32) -> u32 {
  let a = i32(i + p.pad) - i32(p.k) + 1;
  if (a <= 0) { return 0u; }
  return (u32(a) + p.stride - 1u) / p.stride;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.total) { return; }
  let iw = i % p.w;
  let t = i / p.w;
  let ih = t % p.h;
  let plane = t / p.h;
  let at = ih * p.w + iw;
  let obase = plane * p.oh * p.ow;
  let oh_end = min((ih + p.pad) / p.stride + 1u, p.oh);
  let ow_end = min((iw + p.pad) / p.stride + 1u, p.ow);
  var acc = 0.0;
  for (var oh = first_window(ih); oh < oh_end; oh++) {
    for (var ow = first_window(iw); ow < ow_end; ow++) {
      let o = obase + oh * p.ow + ow;
      if (argmax[o] == at) { acc += dy[o]; }
    }
  }
  dx[i] = acc;
}
