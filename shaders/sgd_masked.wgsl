// sgd_masked: one fused masked SGD step (PyTorch form, momentum, weight decay on every parameter)
// over the whole flat parameter store, per element:
//   g = (grad + weightDecay * w) * mask;  v = (momentum * v + g) * mask;  w = (w - lr * v) * mask
// where mask == 0 the results are written as +0 exactly, so pruned weights, their momentum and their
// (used) gradient stay 0. The learning rate is read from a 1-float storage buffer (lr[0]) so the
// recorded step stays the same when the schedule changes it; momentum and decay are uniforms.
// Layout: params, grads, momenta, masks are the ParamStore's four flat f32 buffers (same layout,
// zero padding between tensors, mask 0 there), viewed as vec4 (the flat size is a multiple of 64).
// Tiling: one invocation per vec4 (4 parameters), 256 per workgroup, grid folded into y.
struct Params { n4: u32, momentum: f32, weightDecay: f32 }
@group(0) @binding(0) var<storage, read_write> w: array<vec4f>;
@group(0) @binding(1) var<storage, read> grad: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> v: array<vec4f>;
@group(0) @binding(3) var<storage, read> mask: array<vec4f>;
@group(0) @binding(4) var<storage, read> lr: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n4) { return; }
  let m = mask[i];
  let keep = m != vec4f(0.0);
  let zero = vec4f(0.0);
  let wi = w[i];
  let g = (grad[i] + p.weightDecay * wi) * m;
  let vi = select(zero, (p.momentum * v[i] + g) * m, keep);
  v[i] = vi;
  w[i] = select(zero, (wi - lr[0] * vi) * m, keep);
}
