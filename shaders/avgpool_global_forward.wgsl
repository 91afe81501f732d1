// avgpool_global_forward: y[n, c] = (1 / HW) * sum_{h, w} x[n, c, h, w] (global average pool).
// Layout: x NCHW, so each output is the mean of one contiguous row of HW floats; y [N, C] row-major
// (flat index r = n*C + c is the row number). Tiling: one workgroup of WG invocations (power of two)
// per row, grid folded into y past 65535 rows; invocation t sums x[r*HW + t + k*WG] (coalesced),
// then a fixed-order tree in workgroup memory. Deterministic, no atomics.
override WG: u32 = 64;

struct Params { rows: u32, hw: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> s_sum: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wg.x + wg.y * nwg.x;
  var acc = 0.0;
  if (r < p.rows) {
    let base = r * p.hw;
    for (var j = lid; j < p.hw; j += WG) { acc += x[base + j]; }
  }
  s_sum[lid] = acc;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { s_sum[lid] += s_sum[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u && r < p.rows) { y[r] = s_sum[0] / f32(p.hw); }
}
