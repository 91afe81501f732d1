// batchnorm_backward_reduce: first pass of the BatchNorm2d backward. For channel c, with mean and
// invstd from saved [2, C] (forward statistics), chunk p of the channel's M = N*H*W values
// (channel-local vector index j = n*HWV + s, chunked as in batchnorm_stats) reduces to
//   partial[c*P + p] = vec2(sum dy, sum dy * (x - mean)).
// Layout: x, dy NCHW, read a vector V at a time (vec4f; f32 in the `scalar` variant, see
// include/lanes.wgsl). Tiling: workgroup (p, c) of WG invocations; each invocation sums its strided
// slice (coalesced) per vector lane, adds its VL lanes in order, then invocation 0 adds the WG pairs
// in order after one barrier. No atomics.
// batchnorm_backward merges the P partials in order. With RELU (BN fused with its ReLU), dy is the
// gradient of max(BN(x), 0) = y and is first masked: dy := dy where y > 0, else 0. y > 0 is
// recomputed from x as the forward computed it, (x - mean) * (invstd * gamma) + beta > 0: the same
// operands and operations, so the same decision, without a pass over y.
// MASK_OUT (the end of a residual block, y = relu(skip + BN(x))): dy is masked by the output y > 0,
// read from y, and the masked gradient (relu_backward's select(0, dy, y > 0), the residual's
// gradient too) is written to dmask for batchnorm_backward: one pass instead of a separate
// relu_backward before this one.
override WG: u32 = 64;
override RELU: bool = false;
override MASK_OUT: bool = false;
// #include "lanes.wgsl"

struct Params { n: u32, c: u32, hw: u32, chunk: u32, parts: u32 }
@group(0) @binding(0) var<storage, read> x: array<E>;
@group(0) @binding(1) var<storage, read> dy: array<E>;
@group(0) @binding(2) var<storage, read> saved: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read> gamma: array<f32>;
@group(0) @binding(6) var<storage, read> beta: array<f32>;
@group(0) @binding(7) var<storage, read> y: array<E>;
@group(0) @binding(8) var<storage, read_write> dmask: array<E>;
@group(0) @binding(5) var<uniform> p: Params;

// #include "batchnorm_walk.wgsl"
fn dy_at(w: Walk, c: u32, i: u32) -> E { return dy[i]; }

// #include "batchnorm_grad_sums.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let sums = chunk_grad_sums(wg.y, wg.x, lid);
  if (lid == 0u) { partial[wg.y * p.parts + wg.x] = sums; }
}
