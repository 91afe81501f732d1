// transpose2d: out[j, i] = a[i, j] for a row-major [rows, cols] matrix (the 1x1 conv's input
// gradient multiplies by w^T). One invocation per output element, WG per workgroup, grid folded
// into y past 65535 groups. Reads are strided; it runs on weight-sized matrices only.
override WG: u32 = 64;
struct Params { rows: u32, cols: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = gid.x + gid.y * nwg.x * WG;
  if (o >= p.rows * p.cols) { return; }
  let j = o / p.rows;  // output row = input column
  let i = o - j * p.rows;
  out[o] = a[i * p.cols + j];
}
