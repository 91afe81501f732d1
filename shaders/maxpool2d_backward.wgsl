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
// Variant `k2s2` (2x2 windows, stride 2, no padding, H even, W % 8 == 0: VGG's pools; every input
// position lies in exactly one window): an invocation owns four consecutive windows of a row
// (x = ow / 4), loads their dy and argmax as one vec4 each and stores the 2 x 8 cell below them as
// four vec4s. Each position gets 0.0 + dy where its window's argmax names it, else 0.0, as the
// general form's accumulator does: the same bits (a -0.0 gradient stays -0.0 in both forms: the
// compiler folds 0.0 + g to g).
override K: u32 = 2;
override S: u32 = 2;
override P: u32 = 0;
override LO: i32 = 0;
override NC: u32 = 1;
override WX: u32 = 8;
override WY: u32 = 8;
override WZ: u32 = 1;

struct Params { planes: u32, h: u32, w: u32, oh: u32, ow: u32 }
// #if k2s2
@group(0) @binding(0) var<storage, read> dy: array<vec4f>;
@group(0) @binding(1) var<storage, read> argmax: array<vec4u>;
@group(0) @binding(2) var<storage, read_write> dx: array<vec4f>;
@group(0) @binding(3) var<uniform> p: Params;

// the two inputs of row `row` under windows t and t + 1 (columns c .. c + 3): 0.0 + g where the
// window's argmax names the position, else 0.0
fn pair(g: vec4f, at: vec4u, row: u32, c: u32, t: u32) -> vec4f {
  let q = row * p.w + c;
  var v = vec4f(0.0);
  if (at[t] == q) { v.x += g[t]; }
  if (at[t] == q + 1u) { v.y += g[t]; }
  if (at[t + 1u] == q + 2u) { v.z += g[t + 1u]; }
  if (at[t + 1u] == q + 3u) { v.w += g[t + 1u]; }
  return v;
}

@compute @workgroup_size(WX, WY, WZ)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = gid.x;  // windows 4j .. 4j + 3 of output row oh
  let oh = gid.y;
  if (4u * j >= p.ow || oh >= p.oh) { return; }
  let w4 = p.w / 4u;
  let c0 = 8u * j;
  let r0 = 2u * oh;
  for (var plane = gid.z; plane < p.planes; plane += nwg.z * WZ) {
    let o = ((plane * p.oh + oh) * p.ow) / 4u + j;
    let g = dy[o];
    let at = argmax[o];
    let top = (plane * p.h + r0) * w4 + 2u * j;
    dx[top] = pair(g, at, r0, c0, 0u);
    dx[top + 1u] = pair(g, at, r0, c0 + 4u, 2u);
    dx[top + w4] = pair(g, at, r0 + 1u, c0, 0u);
    dx[top + w4 + 1u] = pair(g, at, r0 + 1u, c0 + 4u, 2u);
  }
}
// #else
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
// #endif
