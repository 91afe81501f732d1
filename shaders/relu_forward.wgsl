// relu_forward: y[i] = max(x[i], 0), i < n. Streams elements E (a vec4f, a 64-byte struct of four
// in the `wide` variant, an f32 in the `scalar` one), K per invocation (include/elementwise_grid.wgsl).
// #include "lanes.wgsl"
// #include "elementwise_grid.wgsl"
struct Params { n: u32 }  // elements E

fn f(u: V, v: V) -> V { return max(u, V(0.0)); }
@group(0) @binding(0) var<storage, read> x: array<E>;
@group(0) @binding(1) var<storage, read_write> y: array<E>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var k = 0u; k < K; k++) {
    let i = elem_index(wid, nwg, lid, k);
    if (i < p.n) { y[i] = map2(x[i], x[i]); }
  }
}
