// batchnorm_stats: first pass of training-mode BatchNorm2d statistics. For channel c the M = N*H*W
// values x[n, c, h, w] (NCHW, so channel c is N runs of H*W contiguous floats) are split into P
// contiguous chunks of `chunk` elements along the channel-local element index j = n*HWV + s (E =
// a vec4f, a 64-byte struct of four in the `wide` variant, an f32 in the `scalar` one, see
// include/lanes.wgsl; HWV = H*W / (values per element)). Workgroup (p, c)
// reduces chunk p of channel c to (count, mean, M2 = sum (x - mean)^2) and writes it to
// partial[c*P + p] as vec4(count, mean, M2, 0).
// Numerics: each invocation runs Welford's update over its strided slice of vectors (j = start +
// lid + k*WG, coalesced), one running mean/M2 per vector lane, merges its VL lanes in order with Chan
// et al.'s pairwise formula, then invocation 0 merges the WG triples in order (one barrier; a
// tree would cost one per level, and barriers are expensive on CPU drivers). No cancellation from
// E[x^2] - E[x]^2, no atomics, same bits every run. batchnorm_forward_train combines the P partials.
// Grid: (P, C) workgroups of WG invocations.
override WG: u32 = 64;
// #include "lanes.wgsl"

struct Params { n: u32, c: u32, hw: u32, chunk: u32, parts: u32 }
@group(0) @binding(0) var<storage, read> x: array<E>;
@group(0) @binding(1) var<storage, read_write> partial: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> s_cnt: array<f32, WG>;
var<workgroup> s_mean: array<f32, WG>;
var<workgroup> s_m2: array<f32, WG>;

// (count, mean, M2) of set a followed by set b (Chan et al.); b empty leaves a unchanged
fn chan(a: vec3f, b: vec3f) -> vec3f {
  let nab = a.x + b.x;
  if (b.x == 0.0) { return a; }
  let d = b.y - a.y;
  return vec3f(nab, a.y + d * (b.x / nab), a.z + b.z + d * d * (a.x * b.x / nab));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let part = wg.x;
  let c = wg.y;
  let m = p.n * p.hw;
  let start = part * p.chunk;
  let end = min(start + p.chunk, m);
  var cnt = 0.0;
  var mean = V(0.0);
  var m2 = V(0.0);
  // Channel-local index j = nn*HWV + s advances by WG = step_n*HWV + step_s per iteration; track
  // (nn, s) incrementally instead of dividing per element (integer division is slow on CPU drivers).
  let step_n = WG / p.hw;
  let step_s = WG - step_n * p.hw;
  var nn = (start + lid) / p.hw;
  var s = (start + lid) - nn * p.hw;
  for (var j = start + lid; j < end; j += WG) {
    let e = x[(nn * p.c + c) * p.hw + s];
    for (var q = 0u; q < EW; q++) {
      let v = vec_of(e, q);
      cnt += 1.0;
      let d = v - mean;
      mean += d / cnt;
      m2 += d * (v - mean);
    }
    s += step_s;
    nn += step_n;
    if (s >= p.hw) {
      s -= p.hw;
      nn += 1u;
    }
  }
  var t = vec3f(cnt, lane(mean, 0u), lane(m2, 0u));
  for (var k = 1u; k < VL; k++) { t = chan(t, vec3f(cnt, lane(mean, k), lane(m2, k))); }
  s_cnt[lid] = t.x;
  s_mean[lid] = t.y;
  s_m2[lid] = t.z;
  workgroupBarrier();
  // One barrier, then invocation 0 merges the WG triples in order (a tree costs a barrier per
  // level, and barriers are expensive on CPU drivers; WG serial merges are cheap next to the loads).
  if (lid == 0u) {
    var a = vec3f(s_cnt[0], s_mean[0], s_m2[0]);
    for (var q = 1u; q < WG; q++) { a = chan(a, vec3f(s_cnt[q], s_mean[q], s_m2[q])); }
    partial[c * p.parts + part] = vec4<f32>(a, 0.0);
  }
}
