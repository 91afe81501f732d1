// relu_backward: dx[i] = dy[i] if y[i] > 0 else 0 (y is the forward output; relu'(0) = 0 as in PyTorch).
struct Params { n: u32 }
@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < p.n) { dx[i] = select(0.0, dy[i], y[i] > 0.0); }
}
