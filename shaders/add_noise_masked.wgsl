// add_noise_masked: w[i] += std * z_i where mask[i] != 0 (pruned weights stay exactly as they are),
// i < n. z_i is the same standard normal rng_normal gives element i for (seed, stream): Philox4x32-10
// block b = i >> 2, counter (b, stream, 0, 0), key (key0, key1), Box-Muller (include/philox.wgsl).
// Fig. 7's perturbation w' = w_k + eps, eps ~ N(0, std^2), fused into one pass, in place.
// Layout: w and mask are same-shape contiguous f32 tensors (a parameter and its mask).
// Tiling: one invocation per block of 4 elements, 256 per workgroup, grid folded into y.
// #include "philox.wgsl"
struct Params { n: u32, key0: u32, key1: u32, stream: u32, stddev: f32 }
@group(0) @binding(0) var<storage, read_write> w: array<f32>;
@group(0) @binding(1) var<storage, read> mask: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = gid.x + gid.y * nwg.x * 256u;
  if (b >= (p.n + 3u) / 4u) { return; }
  let z = philox_normal4(philox4x32_10(vec4u(b, p.stream, 0u, 0u), vec2u(p.key0, p.key1)));
  for (var k = 0u; k < 4u; k++) {
    let i = b * 4u + k;
    if (i < p.n && mask[i] != 0.0) { w[i] = w[i] + p.stddev * z[k]; }
  }
}
