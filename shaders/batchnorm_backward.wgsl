// batchnorm_backward: second pass of the BatchNorm2d backward. With xhat = (x - mean) * invstd,
// S1 = sum_c dy and S2 = sum_c dy * (x - mean) over the M = N*H*W values of channel c:
//   dbeta_c  = S1,   dgamma_c = S2 * invstd,
//   training (batch statistics): dx = gamma * invstd * (dy - S1 / M - (x - mean) * invstd^2 * S2 / M)
//   eval (running statistics are constants):  dx = gamma * invstd * dy.
// Layout: x, dy, dx NCHW; saved [2, C] = (mean, invstd) written by the forward; gamma, dgamma,
// dbeta [C]; partial [C, P] vec2(S1, S2) chunk partials from batchnorm_backward_reduce.
// Tiling: workgroup (p, c) of WG invocations handles chunk p of channel c (channel-local vector
// index j = n*HWV + s, strided by WG: coalesced; V = vec4f, f32 in the `scalar` variant, see
// include/lanes.wgsl). Invocation 0 merges the P partials in order p = 0..P-1
// so all workgroups of a channel agree; workgroup p = 0 writes dgamma_c and dbeta_c. No atomics.
// With RELU (BN fused with its ReLU), dy is masked by y > 0 first, as in batchnorm_backward_reduce
// (y > 0 recomputed from x: gamma and beta bound for that).
override WG: u32 = 64;
override RELU: bool = false;
// FUSED_REDUCE (one chunk per channel, P = 1): the workgroup first runs batchnorm_backward_reduce's
// pass itself (include/batchnorm_grad_sums.wgsl) instead of reading its partial; adding one partial
// to zero is exact, so the bits are those of the two passes. MASK_OUT (only with FUSED_REDUCE): dy is
// the raw gradient of relu(skip + BN(x)), masked by y > 0 and written to dmask (the residual's
// gradient) in that pass, and this pass reads the masked gradient back from dmask (each invocation
// its own elements). Otherwise y and dmask are bound to any buffers and not touched; with
// FUSED_REDUCE, `partial` is bound to any buffer and not read.
override FUSED_REDUCE: bool = false;
override MASK_OUT: bool = false;
// POOLED_DY (with FUSED_REDUCE): the output gradient is that of y's global average pool (the
// network's head; batchnorm_forward_train's POOL): dpool [N, C], and each element of row (n, c)
// gets dpool[n*C + c] / (H*W), computed as avgpool_global_backward computes it (the same bits),
// instead of reading a broadcast gradient that launch would have written. dy is then bound to any
// buffer and not read; without POOLED_DY, dpool is not read.
override POOLED_DY: bool = false;
// #include "lanes.wgsl"

struct Params { n: u32, c: u32, hw: u32, chunk: u32, parts: u32, training: u32 }
@group(0) @binding(0) var<storage, read> x: array<E>;
@group(0) @binding(1) var<storage, read> dy: array<E>;
@group(0) @binding(2) var<storage, read> saved: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> partial: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read_write> dx: array<E>;
@group(0) @binding(6) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(7) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(8) var<storage, read> beta: array<f32>;
@group(0) @binding(9) var<uniform> p: Params;
@group(0) @binding(10) var<storage, read> y: array<E>;
@group(0) @binding(11) var<storage, read_write> dmask: array<E>;
@group(0) @binding(12) var<storage, read> dpool: array<f32>;

// #include "batchnorm_walk.wgsl"

// the output gradient's element i (walk position w of channel c): dy's, or with POOLED_DY the
// pool's gradient of its row shared out
fn dy_at(w: Walk, c: u32, i: u32) -> E {
  if (POOLED_DY) {
    let g = V(dpool[w.nn * p.c + c] / f32(p.hw * VL * EW));
    return elem_of(array<V, 4>(g, g, g, g));
  }
  return dy[i];
}

// #include "batchnorm_grad_sums.wgsl"

// the gradient this pass normalises: the masked one written by the fused first pass, or dy
fn grad_in(w: Walk, c: u32, i: u32) -> E {
  if (FUSED_REDUCE && MASK_OUT) { return dmask[i]; }
  return dy_at(w, c, i);
}

var<workgroup> s_a: f32;
var<workgroup> s_b: f32;
var<workgroup> s_k: f32;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let part = wg.x;
  let c = wg.y;
  let m = p.n * p.hw;
  let mean = saved[c];
  var own = vec2f(0.0);
  if (FUSED_REDUCE) { own = chunk_grad_sums(c, part, lid); }
  if (lid == 0u) {
    var s1 = 0.0;
    var s2 = 0.0;
    if (FUSED_REDUCE) {
      s1 = own.x;
      s2 = own.y;
    }
    for (var q = 0u; q < select(p.parts, 0u, FUSED_REDUCE); q++) {
      let v = partial[c * p.parts + q];
      s1 += v.x;
      s2 += v.y;
    }
    let invstd = saved[p.c + c];
    s_a = gamma[c] * invstd;
    if (p.training != 0u) {
      s_b = s1 / f32(m * VL * EW);
      s_k = invstd * invstd * s2 / f32(m * VL * EW);
    } else {
      s_b = 0.0;
      s_k = 0.0;
    }
    if (part == 0u) {
      dgamma[c] = s2 * invstd;
      dbeta[c] = s1;
    }
  }
  workgroupBarrier();
  let a = s_a;
  let b = s_b;
  let k = s_k;
  // RELU: the mask from the forward's pre-activation, recomputed from x (as batchnorm_backward_reduce)
  let scale = saved[p.c + c] * gamma[c];
  let shift = beta[c];
  for (var w = walk_start(part, lid); w.j < w.end; walk_next(&w)) {
    let i = walk_at(w, c);
    let ed = grad_in(w, c, i);
    let ex = x[i];
    var r = array<V, 4>();
    for (var q = 0u; q < EW; q++) {
      var g = vec_of(ed, q);
      if (RELU) { g = select(V(0.0), g, (vec_of(ex, q) - mean) * scale + shift > V(0.0)); }
      r[q] = a * (g - b - (vec_of(ex, q) - mean) * k);
    }
    dx[i] = elem_of(r);
  }
}
