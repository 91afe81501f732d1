// add: out[i] = a[i] + b[i], i < n (residual connections; gradient accumulation when out aliases
// nothing). Streams elements E (a vec4f, a 64-byte struct of four in the `wide` variant, an f32 in
// the `scalar` one), K per invocation (include/elementwise_grid.wgsl).
// #include "lanes.wgsl"
// #include "elementwise_grid.wgsl"
struct Params { n: u32 }  // elements E

fn f(u: V, v: V) -> V { return u + v; }
@group(0) @binding(0) var<storage, read> a: array<E>;
@group(0) @binding(1) var<storage, read> b: array<E>;
@group(0) @binding(2) var<storage, read_write> out: array<E>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var k = 0u; k < K; k++) {
    let i = elem_index(wid, nwg, lid, k);
    if (i < p.n) { out[i] = map2(a[i], b[i]); }
  }
}
