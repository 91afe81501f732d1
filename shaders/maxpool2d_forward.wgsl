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
// Variant `k2s2` (2x2 windows, stride 2, no padding, W % 8 == 0, and H even for the backward's
// variant: VGG's pools; the launcher picks both or neither): an invocation owns
// four consecutive outputs of a row (x = ow / 4), reads its two input rows as two vec4s each and
// stores y and argmax as one vec4 each: 6 storage accesses for 4 outputs instead of 24. The same
// comparisons in the same window order (row-major), so the same values, argmax and NaN handling.
override K: u32 = 2;
override S: u32 = 2;
override P: u32 = 0;
override WX: u32 = 8;
override WY: u32 = 8;
override WZ: u32 = 1;

struct Params { planes: u32, h: u32, w: u32, oh: u32, ow: u32 }
// #if k2s2
@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> y: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> argmax: array<vec4u>;
// #else
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> argmax: array<u32>;
// #endif
@group(0) @binding(3) var<uniform> p: Params;

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

// the window's next value v at position `at` against the best so far (the generic loop's test)
fn better(best: f32, best_at: u32, v: f32) -> bool {
  return best_at == 0xffffffffu || (!is_nan(best) && (v > best || is_nan(v)));
}
// #if k2s2

// the max and argmax of the 2x2 window whose top-left input is (row r0, column c): a, b from row r0
// (columns c, c + 1), d, e from row r0 + 1
struct Best { v: f32, at: u32 }
fn window(a: f32, b: f32, d: f32, e: f32, r0: u32, c: u32) -> Best {
  var best = a;
  var at = r0 * p.w + c;
  if (better(best, at, b)) { best = b; at = at + 1u; }
  let below = (r0 + 1u) * p.w + c;
  if (better(best, at, d)) { best = d; at = below; }
  if (better(best, at, e)) { best = e; at = below + 1u; }
  return Best(best, at);
}

@compute @workgroup_size(WX, WY, WZ)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = gid.x;  // outputs 4j .. 4j + 3 of row oh
  let oh = gid.y;
  if (4u * j >= p.ow || oh >= p.oh) { return; }
  let w4 = p.w / 4u;
  let c0 = 8u * j;
  for (var plane = gid.z; plane < p.planes; plane += nwg.z * WZ) {
    let top = (plane * p.h + 2u * oh) * w4 + 2u * j;
    let t0 = x[top];
    let t1 = x[top + 1u];
    let u0 = x[top + w4];
    let u1 = x[top + w4 + 1u];
    let r0 = 2u * oh;
    let m0 = window(t0.x, t0.y, u0.x, u0.y, r0, c0);
    let m1 = window(t0.z, t0.w, u0.z, u0.w, r0, c0 + 2u);
    let m2 = window(t1.x, t1.y, u1.x, u1.y, r0, c0 + 4u);
    let m3 = window(t1.z, t1.w, u1.z, u1.w, r0, c0 + 6u);
    let o = ((plane * p.oh + oh) * p.ow) / 4u + j;
    y[o] = vec4f(m0.v, m1.v, m2.v, m3.v);
    argmax[o] = vec4u(m0.at, m1.at, m2.at, m3.at);
  }
}
// #else

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
        if (better(best, best_at, v)) {
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
// #endif
