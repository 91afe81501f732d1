// avgpool_global_backward: dx[n, c, h, w] = dy[n, c] / HW (every input of a row gets an equal
// share). Layout: dx NCHW (row r = n*C + c is HW contiguous floats), dy [N, C].
// Tiling: as avgpool_global_forward, one invocation per row writing its HW floats (no per-element
// index division, no barriers), WG invocations a workgroup, grid folded into y past 65535 groups;
// the row is written an element E at a time (include/lanes.wgsl), p.hw counts elements.
// A training step pools inside the network's last BatchNorm instead (batchnorm_forward_train's POOL,
// batchnorm_backward's POOLED_DY: the same arithmetic, so the same bits); this kernel serves
// evaluation, and channels of several chunks.
override WG: u32 = 64;
// #include "lanes.wgsl"

struct Params { rows: u32, hw: u32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> dx: array<E>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let g = V(dy[r] / f32(p.hw * VL * EW));
  let e = elem_of(array<V, 4>(g, g, g, g));
  let base = r * p.hw;
  for (var j = 0u; j < p.hw; j++) { dx[base + j] = e; }
}
