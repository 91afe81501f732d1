// batchnorm_forward_eval: y = (x - running_mean_c) / sqrt(running_var_c + eps) * gamma_c + beta_c
// (inference: running statistics, nothing updated). Layout: x, y NCHW (channel of flat index i is
// (i / HW) % C); gamma, beta, running_mean, running_var [C]; saved [2, C] receives
// (running_mean, 1 / sqrt(running_var + eps)) so batchnorm_backward can differentiate eval mode.
// Tiling: one invocation per element, 256 per workgroup, grid folded into y past 65535 groups;
// invocations i < C also write saved[i], saved[C + i].
struct Params { total: u32, c: u32, hw: u32, eps: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read> running_mean: array<f32>;
@group(0) @binding(4) var<storage, read> running_var: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<storage, read_write> saved: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < p.c) {
    saved[i] = running_mean[i];
    saved[p.c + i] = 1.0 / sqrt(running_var[i] + p.eps);
  }
  if (i < p.total) {
    let c = (i / p.hw) % p.c;
    let invstd = 1.0 / sqrt(running_var[c] + p.eps);
    y[i] = (x[i] - running_mean[c]) * (invstd * gamma[c]) + beta[c];
  }
}
