// batchnorm_forward_train: y = (x - mean_c) * invstd_c * gamma_c + beta_c with the batch statistics
// of channel c over (N, H, W): mean and biased variance var_c = M2 / M, invstd = 1 / sqrt(var + eps).
// Layout: x, y NCHW; gamma, beta, running_mean, running_var [C]; partial [C, P] vec4(count, mean,
// M2, 0) from batchnorm_stats; saved [2, C] = (mean, invstd) for the backward.
// Tiling: same grid as batchnorm_stats, workgroup (p, c) normalises chunk p of channel c
// (channel-local vector index j = n*HWV + s, strided by WG so reads and writes coalesce; V = vec4f,
// f32 in the `scalar` variant, see include/lanes.wgsl). Invocation 0
// first merges the P partials in order p = 0..P-1 (Chan's formula), so every workgroup of a channel
// gets identical statistics; workgroup p = 0 also writes `saved` and updates the running stats in
// place (PyTorch semantics: running = (1 - momentum) * running + momentum * batch, with the
// UNBIASED variance M2 / (M - 1) for running_var; the launcher rejects M = 1).
override WG: u32 = 64;
// Fuse the ReLU that follows the BN: y = max(BN(x), 0) (the backward then masks dy by y > 0).
// RESIDUAL: y = act(skip + BN(x)) with skip NCHW like x, the residual add at the end of a ResNet block
// (skip is bound to x and never read without it).
override RELU: bool = false;
override RESIDUAL: bool = false;  // y = act(BN(x) + skip)
// FUSED_STATS (one chunk per channel, P = 1): the workgroup computes the chunk's statistics itself,
// exactly as batchnorm_stats would (include/batchnorm_chunk_stats.wgsl), instead of reading a
// partial; Chan's merge of a single partial is exact, so the bits are those of the two passes.
// `partial` is then bound to any buffer and not read.
override FUSED_STATS: bool = false;
// STRIDE2_COPY (`wide` variant, W % 16 == 0, H even): also write y's values at even rows and
// columns, y2[n, c, h, w] = y[n, c, 2h, 2w] ([N, C, H/2, W/2] as vec4s), for a 1x1 stride-2 conv
// that reads y next (a ResNet block's projection shortcut): it then reads the quarter of y it uses,
// contiguously, instead of 64-byte loads half of whose floats it drops. ROW_ELEMS = W / 16 elements
// an image row; an element on an even row stores its 8 even columns as two vec4s. y2 is bound to a
// buffer nothing else in the dispatch binds when the copy is off, and not written.
override STRIDE2_COPY: bool = false;
override ROW_ELEMS: u32 = 2u;
// POOL (one chunk per channel, P = 1: the workgroup writes all of channel c): also the global
// average pool of y, pooled[n*C + c] = mean over (h, w) of y[n, c], for a network's head. After a
// storage barrier, invocation lid sums rows n = lid, lid + WG, ... of y as this workgroup just wrote
// them, each in order as avgpool_global_forward sums a row (per vector lane, then the lanes, then
// one division): the same bits, without that launch's second pass over y from memory. pooled is
// bound to a buffer nothing else in the dispatch binds when POOL is off, and not written.
override POOL: bool = false;
// #include "lanes.wgsl"
// #include "batchnorm_chunk_stats.wgsl"

struct Params { n: u32, c: u32, hw: u32, chunk: u32, parts: u32, eps: f32, momentum: f32 }
@group(0) @binding(0) var<storage, read> x: array<E>;
@group(0) @binding(1) var<storage, read> partial: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<E>;
@group(0) @binding(5) var<storage, read_write> saved: array<f32>;
@group(0) @binding(6) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(7) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(8) var<uniform> p: Params;
@group(0) @binding(9) var<storage, read> skip: array<E>;
@group(0) @binding(10) var<storage, read_write> y2: array<vec4f>;
@group(0) @binding(11) var<storage, read_write> pooled: array<f32>;

var<workgroup> s_mu: f32;
var<workgroup> s_scale: f32;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let part = wg.x;
  let c = wg.y;
  let m = p.n * p.hw * VL * EW;  // values per channel
  var own = vec3f(0.0);
  if (FUSED_STATS) { own = chunk_stats(c, part, lid); }
  if (lid == 0u) {
    var cnt = 0.0;
    var mean = 0.0;
    var m2 = 0.0;
    if (FUSED_STATS) {
      cnt = own.x;
      mean = own.y;
      m2 = own.z;
    }
    for (var q = 0u; q < select(p.parts, 0u, FUSED_STATS); q++) {
      let b = partial[c * p.parts + q];
      let nab = cnt + b.x;
      if (nab > 0.0) {
        let d = b.y - mean;
        mean = mean + d * (b.x / nab);
        m2 = m2 + b.z + d * d * (cnt * b.x / nab);
        cnt = nab;
      }
    }
    let var_b = m2 / f32(m);
    let invstd = 1.0 / sqrt(var_b + p.eps);
    s_mu = mean;
    s_scale = invstd * gamma[c];
    if (part == 0u) {
      saved[c] = mean;
      saved[p.c + c] = invstd;
      let var_u = m2 / f32(m - 1u);
      running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * mean;
      running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * var_u;
    }
  }
  workgroupBarrier();
  let mean = s_mu;
  let scale = s_scale;
  let shift = beta[c];
  apply_chunk(c, part, lid, mean, scale, shift);
  if (POOL) {
    storageBarrier();
    for (var nn = lid; nn < p.n; nn += WG) { pooled[nn * p.c + c] = row_mean((nn * p.c + c) * p.hw, p.hw); }
  }
}

// #if wide
// element w.s of image w.nn's plane c, values r: its even columns into y2 when its row is even
fn stride2_copy(w: Walk, c: u32, r: array<V, 4>) {
  if (!STRIDE2_COPY) { return; }
  let row = w.s / ROW_ELEMS;
  if ((row & 1u) != 0u) { return; }
  let col = w.s - row * ROW_ELEMS;  // the element's place in its row (16 floats each)
  let rows2 = p.hw / (2u * ROW_ELEMS);  // rows of a y2 plane (H / 2), each 2 * ROW_ELEMS vec4s
  let o = ((w.nn * p.c + c) * rows2 + row / 2u) * (2u * ROW_ELEMS) + 2u * col;
  y2[o] = vec4f(r[0].x, r[0].z, r[1].x, r[1].z);
  y2[o + 1u] = vec4f(r[2].x, r[2].z, r[3].x, r[3].z);
}
// #else
fn stride2_copy(w: Walk, c: u32, r: array<V, 4>) {}  // (the launcher sets STRIDE2_COPY only in `wide`)
// #endif

// #include "batchnorm_apply.wgsl"
fn row_elem(i: u32) -> E { return y[i]; }
// #include "row_mean.wgsl"
