// batchnorm_stats: first pass of training-mode BatchNorm2d statistics. For channel c the M = N*H*W
// values x[n, c, h, w] (NCHW, so channel c is N runs of H*W contiguous floats) are split into P
// contiguous chunks of `chunk` values along the channel-local index j = n*HW + hw. Workgroup
// (p, c) reduces chunk p of channel c to (count, mean, M2 = sum (x - mean)^2) and writes it to
// partial[c*P + p] as vec4(count, mean, M2, 0).
// Numerics: each invocation runs Welford's update over its strided slice (j = start + lid + k*WG,
// coalesced: neighbouring invocations read neighbouring floats), then invocation 0 merges the WG
// triples in order with Chan et al.'s pairwise formula (one barrier; a tree would cost one per
// level, and barriers are expensive on CPU drivers). No cancellation from E[x^2] - E[x]^2, no
// atomics, same bits every run. batchnorm_forward_train combines the P partials.
// Grid: (P, C) workgroups of WG invocations.
override WG: u32 = 64;

struct Params { n: u32, c: u32, hw: u32, chunk: u32, parts: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> partial: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> s_cnt: array<f32, WG>;
var<workgroup> s_mean: array<f32, WG>;
var<workgroup> s_m2: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let part = wg.x;
  let c = wg.y;
  let m = p.n * p.hw;
  let start = part * p.chunk;
  let end = min(start + p.chunk, m);
  var cnt = 0.0;
  var mean = 0.0;
  var m2 = 0.0;
  // Channel-local index j = nn*HW + s advances by WG = step_n*HW + step_s per iteration; track
  // (nn, s) incrementally instead of dividing per element (integer division is slow on CPU drivers).
  let step_n = WG / p.hw;
  let step_s = WG - step_n * p.hw;
  var nn = (start + lid) / p.hw;
  var s = (start + lid) - nn * p.hw;
  for (var j = start + lid; j < end; j += WG) {
    let v = x[(nn * p.c + c) * p.hw + s];
    cnt += 1.0;
    let d = v - mean;
    mean += d / cnt;
    m2 += d * (v - mean);
    s += step_s;
    nn += step_n;
    if (s >= p.hw) {
      s -= p.hw;
      nn += 1u;
    }
  }
  s_cnt[lid] = cnt;
  s_mean[lid] = mean;
  s_m2[lid] = m2;
  workgroupBarrier();
  // One barrier, then invocation 0 merges the WG triples in order (a tree costs a barrier per
  // level, and barriers are expensive on CPU drivers; WG serial merges are cheap next to the loads).
  if (lid == 0u) {
    var n_a = s_cnt[0];
    var mean_a = s_mean[0];
    var m2_a = s_m2[0];
    for (var t = 1u; t < WG; t++) {
      let n_b = s_cnt[t];
      let nab = n_a + n_b;
      if (n_b > 0.0) {
        let d = s_mean[t] - mean_a;
        mean_a = mean_a + d * (n_b / nab);
        m2_a = m2_a + s_m2[t] + d * d * (n_a * n_b / nab);
        n_a = nab;
      }
    }
    partial[c * p.parts + part] = vec4<f32>(n_a, mean_a, m2_a, 0.0);
  }
}
