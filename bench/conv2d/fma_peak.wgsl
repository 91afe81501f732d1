// fma_peak: lavapipe's FMA ceiling. Each invocation runs CHAINS independent vec4 FMA chains
// (a = fma(a, m, c)) for p.iters iterations; FLOPs = invocations * iters * CHAINS * 4 * 2.
// One invocation per element of `out` (the chains' sum, so nothing is dead code).
override WG: u32 = 64;
override CHAINS: u32 = 8;
struct Params { iters: u32, m: f32, c: f32 }
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let s = f32(gid.x) * 1e-7;
  var a0 = vec4f(s, s + 1.0, s + 2.0, s + 3.0);
  var a1 = a0 + 0.1; var a2 = a0 + 0.2; var a3 = a0 + 0.3;
  var a4 = a0 + 0.4; var a5 = a0 + 0.5; var a6 = a0 + 0.6; var a7 = a0 + 0.7;
  var a8 = a0 + 0.8; var a9 = a0 + 0.9; var a10 = a0 + 1.0; var a11 = a0 + 1.1;
  let m = vec4f(p.m); let c = vec4f(p.c);
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    if (CHAINS > 4u) { a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c); }
    if (CHAINS > 8u) { a8 = fma(a8, m, c); a9 = fma(a9, m, c); a10 = fma(a10, m, c); a11 = fma(a11, m, c); }
  }
  let t = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
  out[gid.x] = t.x + t.y + t.z + t.w;
}
