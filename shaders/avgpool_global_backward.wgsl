// avgpool_global_backward: dx[n, c, h, w] = dy[n, c] / HW (every input of a row gets an equal
// share). Layout: dx NCHW (row r = n*C + c is HW contiguous floats), dy [N, C].
// Tiling: as avgpool_global_forward, one workgroup of WG invocations per row (grid folded into y
// past 65535 rows), invocation t writing dx[r*HW + t + k*WG]: coalesced, no index division.
override WG: u32 = 64;

struct Params { rows: u32, hw: u32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wg.x + wg.y * nwg.x;
  if (r >= p.rows) { return; }
  let g = dy[r] / f32(p.hw);
  let base = r * p.hw;
  for (var j = lid; j < p.hw; j += WG) { dx[base + j] = g; }
}
