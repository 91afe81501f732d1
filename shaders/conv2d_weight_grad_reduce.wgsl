// conv2d_weight_grad_reduce (split-K pass 2): dw[i] = sum_{q=0}^{nchunks-1} part[q*n + i], i < n =
// O*C*KH*KW, summed in ascending q (fixed order: deterministic). part is conv2d_weight_grad's
// scratch [nchunks, O, C*KH*KW]; dw is OIHW (a parameter's grad buffer). One invocation per
// element, WG per workgroup, grid folded into y past 65535 groups.
override WG: u32 = 64;
struct Params { n: u32, nchunks: u32 }
@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read_write> dw: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  var s = 0.0;
  for (var q = 0u; q < p.nchunks; q++) { s += part[q * p.n + i]; }
  dw[i] = s;
}
