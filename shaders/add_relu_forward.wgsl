// add_relu_forward: y[i] = max(a[i] + b[i], 0), i < n — a residual block's "out += shortcut(x);
// relu(out)" in one pass. One invocation per element, 256 per workgroup, grid folded into y.
struct Params { n: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < p.n) { y[i] = max(a[i] + b[i], 0.0); }
}
