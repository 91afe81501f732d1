// avgpool_global_forward: y[n, c] = (1 / HW) * sum_{h, w} x[n, c, h, w] (global average pool).
// Layout: x NCHW, so each output is the mean of one contiguous row of HW floats; y [N, C] row-major
// (flat index r = n*C + c is the row number). Tiling: one invocation per row, summing its HW floats
// in order (deterministic), WG invocations a workgroup, grid folded into y past 65535 groups. The
// maps reaching the global pool are small (HW = 64, 16 or 49), so a per-row loop beats a workgroup
// tree per row: no workgroup memory, no barriers (very costly on CPU drivers such as lavapipe).
// Rows are read an element E at a time (include/lanes.wgsl: 16 floats in the `wide` variant, 4 by
// default, 1 in the `scalar` one for HW % 4 != 0); p.hw counts elements, the sum runs per vector
// lane and then over the lanes, in a fixed order.
// A training step pools inside the network's last BatchNorm instead (batchnorm_forward_train's POOL,
// batchnorm_backward's POOLED_DY: the same arithmetic, so the same bits); this kernel serves
// evaluation, and channels of several chunks.
override WG: u32 = 64;
// #include "lanes.wgsl"

struct Params { rows: u32, hw: u32 }
@group(0) @binding(0) var<storage, read> x: array<E>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn row_elem(i: u32) -> E { return x[i]; }
// #include "row_mean.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  y[r] = row_mean(r * p.hw, p.hw);
}
