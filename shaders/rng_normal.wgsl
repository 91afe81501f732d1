// rng_normal: out[i] = mean + std * z_i, i < n, z_i a standard normal from Philox4x32-10 + Box-Muller
// (see include/philox.wgsl): block b = i >> 2 (counter (b, stream, 0, 0), key (key0, key1)) gives the
// four normals of elements 4b..4b+3, so z_i depends only on (seed, stream, i).
// Layout: any contiguous f32 tensor. Tiling: one invocation per block of 4 elements, 256 per
// workgroup, grid folded into y past 65535 groups.
// #include "philox.wgsl"
struct Params { n: u32, key0: u32, key1: u32, stream: u32, mean: f32, stddev: f32 }
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = gid.x + gid.y * nwg.x * 256u;
  if (b >= (p.n + 3u) / 4u) { return; }
  let z = philox_normal4(philox4x32_10(vec4u(b, p.stream, 0u, 0u), vec2u(p.key0, p.key1)));
  for (var k = 0u; k < 4u; k++) {
    let i = b * 4u + k;
    if (i < p.n) { out[i] = p.mean + p.stddev * z[k]; }
  }
}
