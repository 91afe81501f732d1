// The grid and element type of the streaming elementwise kernels. Each kernel defines its math on
// one vector, `fn f(u: V, v: V) -> V` (V from include/lanes.wgsl: vec4f, f32 in the `scalar`
// variant), and moves elements E: V itself, or in the `wide` variant a 64-byte struct of four vec4s
// (lavapipe runs every storage access as a per-lane loop, so one 64-byte access per element moves
// four times the bytes per loop trip; it is the shape that sets the copy ceiling in `npm run bench`).
// The n elements are split into workgroups of WG invocations that each take K elements, strided by
// WG so neighbouring invocations touch neighbouring elements; the workgroup grid is folded into y
// past 65535 (src/gpu/runtime.ts grid1d). K is an override constant, so the loop unrolls.
override WG: u32 = 64;
override K: u32 = 4;
// #if wide
struct E { a: V, b: V, c: V, d: V }
fn map2(x: E, y: E) -> E { return E(f(x.a, y.a), f(x.b, y.b), f(x.c, y.c), f(x.d, y.d)); }
// #else
alias E = V;
fn map2(x: E, y: E) -> E { return f(x, y); }
// #endif

// index of element k of this invocation (may be >= n: callers check)
fn elem_index(wid: vec3u, nwg: vec3u, lid: u32, k: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG * K + k * WG + lid;
}
