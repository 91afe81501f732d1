// linear_bias_grad: db[o] = sum_n dy[n, o] (the bias gradient of linear_forward).
// Layout: dy [N, OUT] row-major, db [OUT]. Tiling: one invocation per output feature, 256 per
// workgroup; it sums its column in batch order (neighbouring invocations read neighbouring
// floats of each row, so the loads coalesce). Deterministic, no atomics.
struct Params { n: u32, out_features: u32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> db: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = gid.x + gid.y * nwg.x * 256u;
  if (o >= p.out_features) { return; }
  var acc = 0.0;
  for (var n = 0u; n < p.n; n++) { acc += dy[n * p.out_features + o]; }
  db[o] = acc;
}
