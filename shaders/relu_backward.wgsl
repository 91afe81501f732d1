// relu_backward: dx[i] = dy[i] if y[i] > 0 else 0 (y is the forward output; relu'(0) = 0 as in
// PyTorch). Streams elements E (a vec4f, a 64-byte struct of four in the `wide` variant, an f32
// in the `scalar` one), K per invocation (include/elementwise_grid.wgsl).
// #include "lanes.wgsl"
// #include "elementwise_grid.wgsl"
struct Params { n: u32 }  // elements E

fn f(u: V, v: V) -> V { return select(V(0.0), v, u > V(0.0)); }  // u = y, v = dy
@group(0) @binding(0) var<storage, read> y: array<E>;
@group(0) @binding(1) var<storage, read> dy: array<E>;
@group(0) @binding(2) var<storage, read_write> dx: array<E>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var k = 0u; k < K; k++) {
    let i = elem_index(wid, nwg, lid, k);
    if (i < p.n) { dx[i] = map2(y[i], dy[i]); }
  }
}
