// maxpool2d_backward: dx[n, c, ih, iw] = sum of dy[n, c, oh, ow] over the output windows whose
// argmax (saved by maxpool2d_forward as ih*W + iw inside the plane) is this position.
// Gather form, no atomics, deterministic: each invocation owns an S x S cell of input positions
// (rows cy*S .. cy*S+S-1, columns cx*S .. cx*S+S-1) and visits the NC x NC windows that can touch
// it, oh = cy + LO + a, ow = cx + LO + b (a, b < NC; the launcher derives LO = ceil((P-K+1)/S) and
// NC from K, S, P), loading each window's argmax and dy once for all S*S positions of the cell and
// adding dy to the position it names. Windows are visited in row-major (oh, ow) order. A position
// that no window covers (floor mode drops trailing rows/columns) gets 0.
// Layout: dx NCHW [N, C, H, W]; dy, argmax [N, C, OH, OW] (plane = n*C + c).
// Tiling: 3-D grid over (cell column, cell row, plane) with a WX x WY x WZ (= 64) workgroup chosen
// by the launcher; the plane axis loops past 65535 workgroups. K, S, P, LO, NC are override
// constants (one pipeline per pooling geometry), so the kernel does no integer division. S <= 4.
override K: u32 = 2;
override S: u32 = 2;
override P: u32 = 0;
override LO: i32 = 0;
override NC: u32 = 1;
override WX: u32 = 8;
override WY: u32 = 8;
override WZ: u32 = 1;

struct Params { planes: u32, h: u32, w: u32, oh: u32, ow: u32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> argmax: array<u32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WX, WY, WZ)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let cx = gid.x;
  let cy = gid.y;
  let x0 = cx * S;
  let y0 = cy * S;
  if (x0 >= p.w || y0 >= p.h) { return; }
  for (var plane = gid.z; plane < p.planes; plane += nwg.z * WZ) {
    let obase = plane * p.oh * p.ow;
    var acc = array<f32, 16>();
    for (var a = 0u; a < NC; a++) {
      let oh = i32(cy) + LO + i32(a);
      if (oh < 0 || oh >= i32(p.oh)) { continue; }
      for (var b = 0u; b < NC; b++) {
        let ow = i32(cx) + LO + i32(b);
        if (ow < 0 || ow >= i32(p.ow)) { continue; }
        let o = obase + u32(oh) * p.ow + u32(ow);
        let at = argmax[o];
        let g = dy[o];
        for (var ry = 0u; ry < S; ry++) {
          for (var rx = 0u; rx < S; rx++) {
            if (at == (y0 + ry) * p.w + x0 + rx) { acc[ry * S + rx] += g; }
          }
        }
      }
    }
    let base = plane * p.h * p.w;
    for (var ry = 0u; ry < S; ry++) {
      for (var rx = 0u; rx < S; rx++) {
        if (y0 + ry < p.h && x0 + rx < p.w) { dx[base + (y0 + ry) * p.w + x0 + rx] = acc[ry * S + rx]; }
      }
    }
  }
}
