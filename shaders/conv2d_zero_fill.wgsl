// conv2d_zero_fill: out[i] = vec4(0), i < n4: zeroes a tensor whose size is a multiple of 4, four
// floats per store (a quarter of the per-lane stores of the scalar fill). Used by the stride-2 input
// gradient for the dx pixels no kernel tap reaches (e.g. 3/4 of dx for a 1x1 stride-2 conv).
// Layout: out array<vec4f>. One invocation per vec4, WG per workgroup, grid folded into y.
override WG: u32 = 64;
struct Params { n4: u32 }
@group(0) @binding(0) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n4) { out[i] = vec4f(0.0); }
}
