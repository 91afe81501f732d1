// avgpool_global_backward: dx[n, c, h, w] = dy[n, c] / HW (every input of a row gets an equal
// share). Layout: dx NCHW, dy [N, C]; the row of flat index i is i / HW. Tiling: one invocation
// per input element, 256 per workgroup, grid folded into y past 65535 groups.
struct Params { total: u32, hw: u32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < p.total) { dx[i] = dy[i / p.hw] / f32(p.hw); }
}
