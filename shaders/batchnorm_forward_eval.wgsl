// batchnorm_forward_eval: y = (x - running_mean_c) / sqrt(running_var_c + eps) * gamma_c + beta_c
// (inference: running statistics, nothing updated). Layout: x, y NCHW; gamma, beta, running_mean,
// running_var [C]; saved [2, C] receives (running_mean, 1 / sqrt(running_var + eps)) so
// batchnorm_backward can also differentiate eval mode.
// Tiling: as batchnorm_forward_train, workgroup (p, c) of WG invocations handles chunk p of channel
// c's M = N*H*W values (channel-local vector index j = n*HWV + s, strided by WG: coalesced; V =
// vec4f, f32 in the `scalar` variant, see include/lanes.wgsl), so the
// per-channel scale and shift are computed once per invocation and no per-element index division
// is needed. Workgroup p = 0 writes saved[c], saved[C + c].
override WG: u32 = 64;
// Fuse the ReLU that follows the BN: y = max(BN(x), 0) (the backward then masks dy by y > 0).
// RESIDUAL: y = act(skip + BN(x)) with skip NCHW like x, the residual add at the end of a ResNet block
// (skip is bound to x and never read without it).
override RELU: bool = false;
override RESIDUAL: bool = false;  // y = act(BN(x) + skip)
// #include "lanes.wgsl"

struct Params { n: u32, c: u32, hw: u32, chunk: u32, parts: u32, eps: f32 }
@group(0) @binding(0) var<storage, read> x: array<E>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read> running_mean: array<f32>;
@group(0) @binding(4) var<storage, read> running_var: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<E>;
@group(0) @binding(6) var<storage, read_write> saved: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;
@group(0) @binding(8) var<storage, read> skip: array<E>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let part = wg.x;
  let c = wg.y;
  let mean = running_mean[c];
  let invstd = 1.0 / sqrt(running_var[c] + p.eps);
  let scale = invstd * gamma[c];
  let shift = beta[c];
  if (part == 0u && lid == 0u) {
    saved[c] = mean;
    saved[p.c + c] = invstd;
  }
  apply_chunk(c, part, lid, mean, scale, shift);
}

// (no stride-2 copy in eval mode)
fn stride2_copy(w: Walk, c: u32, r: array<V, 4>) {}

// #include "batchnorm_apply.wgsl"
