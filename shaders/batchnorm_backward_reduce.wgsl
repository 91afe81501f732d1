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

var<workgroup> s_dy: array<f32, WG>;
var<workgroup> s_dyx: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let part = wg.x;
  let c = wg.y;
  let m = p.n * p.hw;
  let mean = saved[c];
  // RELU: the forward's pre-activation (x - mean) * scale + shift, recomputed from x with the same
  // expression and operands (saved, gamma, beta), so the mask needs no read of y
  let scale = saved[p.c + c] * gamma[c];
  let shift = beta[c];
  let start = part * p.chunk;
  let end = min(start + p.chunk, m);
  var sdy = V(0.0);
  var sdyx = V(0.0);
  // Channel-local index j = nn*HWV + s advances by WG = step_n*HWV + step_s per iteration; track
  // (nn, s) incrementally instead of dividing per element (integer division is slow on CPU drivers).
  let step_n = WG / p.hw;
  let step_s = WG - step_n * p.hw;
  var nn = (start + lid) / p.hw;
  var s = (start + lid) - nn * p.hw;
  for (var j = start + lid; j < end; j += WG) {
    let i = (nn * p.c + c) * p.hw + s;
    let ed = dy[i];
    let ex = x[i];
    var ey = ed;
    if (MASK_OUT) { ey = y[i]; }
    var r = array<V, 4>();
    for (var q = 0u; q < EW; q++) {
      var g = vec_of(ed, q);
      if (RELU) { g = select(V(0.0), g, (vec_of(ex, q) - mean) * scale + shift > V(0.0)); }
      if (MASK_OUT) { g = select(V(0.0), g, vec_of(ey, q) > V(0.0)); }
      r[q] = g;
      sdy += g;
      sdyx += g * (vec_of(ex, q) - mean);
    }
    if (MASK_OUT) { dmask[i] = elem_of(r); }
    s += step_s;
    nn += step_n;
    if (s >= p.hw) {
      s -= p.hw;
      nn += 1u;
    }
  }
  var a = 0.0;
  var b = 0.0;
  for (var k = 0u; k < VL; k++) {
    a += lane(sdy, k);
    b += lane(sdyx, k);
  }
  s_dy[lid] = a;
  s_dyx[lid] = b;
  workgroupBarrier();
  // One barrier, then invocation 0 sums the WG pairs in order (a tree costs a barrier per level,
  // and barriers are expensive on CPU drivers).
  if (lid == 0u) {
    var a = 0.0;
    var b = 0.0;
    for (var t = 0u; t < WG; t++) {
      a += s_dy[t];
      b += s_dyx[t];
    }
    partial[c * p.parts + part] = vec2<f32>(a, b);
  }
}
