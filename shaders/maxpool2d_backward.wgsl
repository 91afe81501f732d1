// maxpool2d_backward: dx[n, c, ih, iw] = sum of dy[n, c, oh, ow] over the output windows that
// contain (ih, iw) and whose argmax (saved by maxpool2d_forward as ih*W + iw) is this position.
// Gather form: each input element visits its own windows (oh in [ceil((ih+P-K+1)/S), floor((ih+P)/S)],
// likewise ow) in a fixed order, so overlapping windows (3x3 stride 2) need no atomics and the
// result is deterministic. Layout: dx NCHW [N, C, H, W]; dy, argmax [N, C, OH, OW].
// Tiling: one invocation per input element on a 3-D grid (x = iw, y = ih, z = plane: no index
// divisions), workgroup WX x WY x WZ (= 64) chosen by the launcher, plane axis looping past 65535
// workgroups. K, S, P are override constants, so the window-range divisions are by constants.
override K: u32 = 2;
override S: u32 = 2;
override P: u32 = 0;
override WX: u32 = 8;
override WY: u32 = 8;
override WZ: u32 = 1;

// Windows per axis containing one input position, at most.
override NW: u32 = (K + S - 1u) / S;

struct Params { planes: u32, h: u32, w: u32, oh: u32, ow: u32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> argmax: array<u32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// First output index whose window [o*S - P, o*S - P + K) reaches input index i: ceil((i + P - K + 1) / S), >= 0.
fn first_window(i: u32) -> u32 {
  let a = i32(i + P) - i32(K) + 1;
  if (a <= 0) { return 0u; }
  return (u32(a) + S - 1u) / S;
}

@compute @workgroup_size(WX, WY, WZ)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let iw = gid.x;
  let ih = gid.y;
  if (iw >= p.w || ih >= p.h) { return; }
  let at = ih * p.w + iw;
  let oh_begin = first_window(ih);
  let ow_begin = first_window(iw);
  let oh_end = min((ih + P) / S + 1u, p.oh);
  let ow_end = min((iw + P) / S + 1u, p.ow);
  for (var plane = gid.z; plane < p.planes; plane += nwg.z * WZ) {
    let obase = plane * p.oh * p.ow;
    var acc = 0.0;
    // At most NW = ceil(K / S) windows per axis contain a position: constant trip counts (unrolled,
    // no divergent loop control), out-of-range candidates masked.
    for (var a = 0u; a < NW; a++) {
      let oh = oh_begin + a;
      for (var b = 0u; b < NW; b++) {
        let ow = ow_begin + b;
        if (oh < oh_end && ow < ow_end) {
          let o = obase + oh * p.ow + ow;
          if (argmax[o] == at) { acc += dy[o]; }
        }
      }
    }
    dx[plane * p.h * p.w + at] = acc;
  }
}
