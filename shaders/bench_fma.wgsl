// bench_fma: the FMA-throughput ceiling (benchmark only). Each invocation runs CHAINS (4..16, a
// multiple of 4) independent vec4 chains  a_k = fma(a_k, m, c)  for p.iters iterations, starting from
// a_k = s + 0.1 * k + (0, 1, 2, 3) with s = 1e-3 * (t mod 1024), t = the linear invocation index.
// It writes out[t] = the sum of all chains' components (so no chain is dead code).
// FLOPs = threads * iters * CHAINS * 4 lanes * 2. Independent chains hide the FMA latency; several
// chain counts and workgroup sizes are timed and the best is the ceiling.
// Variant `f16`: the same chains in vec4<f16> (the 'shader-f16' feature), to measure whether half
// precision is any faster on this adapter (on lavapipe it is emulated through f32 conversions).
// UNROLL: steps per trip of the iteration loop (p.iters is a multiple of it); the inner loop of
// constant trip count unrolls. On lavapipe a loop merges each loop-carried value with the execution
// mask once per trip (a vblendvps per chain), so unrolling by 4 raised this ceiling from about 110
// to about 160 GFLOP/s on the 2-vCPU VM.
// Tiling: one invocation per output element, WG per workgroup, grid folded into y.
// #if f16
enable f16;
alias F = f16;
// #else
alias F = f32;
// #endif
override WG: u32 = 64;
override CHAINS: u32 = 8;
override UNROLL: u32 = 1;
struct Params { threads: u32, iters: u32, m: f32, c: f32 }
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.threads) { return; }
  let s = F(f32(t % 1024u) * 1e-3);
  let a0i = vec4<F>(s, s + 1.0, s + 2.0, s + 3.0);
  var a0 = a0i;        var a1 = a0i + 0.1;  var a2 = a0i + 0.2;  var a3 = a0i + 0.3;
  var a4 = a0i + 0.4;  var a5 = a0i + 0.5;  var a6 = a0i + 0.6;  var a7 = a0i + 0.7;
  var a8 = a0i + 0.8;  var a9 = a0i + 0.9;  var a10 = a0i + 1.0; var a11 = a0i + 1.1;
  var a12 = a0i + 1.2; var a13 = a0i + 1.3; var a14 = a0i + 1.4; var a15 = a0i + 1.5;
  let m = vec4<F>(F(p.m));
  let c = vec4<F>(F(p.c));
  for (var i = 0u; i < p.iters; i += UNROLL) {
    for (var u = 0u; u < UNROLL; u++) {
      a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
      if (CHAINS > 4u) { a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c); }
      if (CHAINS > 8u) { a8 = fma(a8, m, c); a9 = fma(a9, m, c); a10 = fma(a10, m, c); a11 = fma(a11, m, c); }
      if (CHAINS > 12u) { a12 = fma(a12, m, c); a13 = fma(a13, m, c); a14 = fma(a14, m, c); a15 = fma(a15, m, c); }
    }
  }
  var sum = a0 + a1 + a2 + a3;
  if (CHAINS > 4u) { sum += a4 + a5 + a6 + a7; }
  if (CHAINS > 8u) { sum += a8 + a9 + a10 + a11; }
  if (CHAINS > 12u) { sum += a12 + a13 + a14 + a15; }
  out[t] = f32(sum.x) + f32(sum.y) + f32(sum.z) + f32(sum.w);
}
