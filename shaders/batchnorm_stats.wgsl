// batchnorm_stats: first pass of training-mode BatchNorm2d statistics. For channel c the M = N*H*W
// values x[n, c, h, w] (NCHW, so channel c is N runs of H*W contiguous floats) are split into P
// contiguous chunks of `chunk` elements along the channel-local element index j = n*HWV + s (E =
// a vec4f, a 64-byte struct of four in the `wide` variant, an f32 in the `scalar` one, see
// include/lanes.wgsl; HWV = H*W / (values per element)). Workgroup (p, c)
// reduces chunk p of channel c to (count, mean, M2 = sum (x - mean)^2) and writes it to
// partial[c*P + p] as vec4(count, mean, M2, 0).
// Numerics (include/batchnorm_chunk_stats.wgsl): Welford per invocation, then Chan et al.'s pairwise
// merges in a fixed order. No cancellation from E[x^2] - E[x]^2, no atomics, same bits every run.
// batchnorm_forward_train combines the P partials (or, for a channel in one chunk, computes them
// itself with the same include: FUSED_STATS, and this pass does not run).
// Grid: (P, C) workgroups of WG invocations.
override WG: u32 = 64;
// #include "lanes.wgsl"

struct Params { n: u32, c: u32, hw: u32, chunk: u32, parts: u32 }
@group(0) @binding(0) var<storage, read> x: array<E>;
@group(0) @binding(1) var<storage, read_write> partial: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Params;

// #include "batchnorm_chunk_stats.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let a = chunk_stats(wg.y, wg.x, lid);
  if (lid == 0u) { partial[wg.y * p.parts + wg.x] = vec4<f32>(a, 0.0); }
}
