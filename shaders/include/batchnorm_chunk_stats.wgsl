// The statistics of chunk `part` of channel c, shared by batchnorm_stats (which writes them out as a
// partial) and batchnorm_forward_train's FUSED_STATS mode (a channel in one chunk: no second pass).
// Each invocation runs Welford's update over its strided slice of vectors (j = start + lid + k*WG,
// coalesced), one running mean/M2 per vector lane, merges its VL lanes in order with Chan et al.'s
// pairwise formula, then invocation 0 merges the WG triples in order (one barrier; a tree would cost
// one per level, and barriers are expensive on CPU drivers). Returns (count, mean, M2) of the chunk
// in invocation 0 (the other invocations get their own partial). Call it in uniform control flow.
// The including kernel declares x (array<E>), p (n, c, hw, chunk) and WG, and includes lanes.wgsl.
// #include "batchnorm_walk.wgsl"
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

fn chunk_stats(c: u32, part: u32, lid: u32) -> vec3f {
  var cnt = 0.0;
  var mean = V(0.0);
  var m2 = V(0.0);
  for (var w = walk_start(part, lid); w.j < w.end; walk_next(&w)) {
    let e = x[walk_at(w, c)];
    for (var q = 0u; q < EW; q++) {
      let v = vec_of(e, q);
      cnt += 1.0;
      let d = v - mean;
      mean += d / cnt;
      m2 += d * (v - mean);
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
    for (var q = 1u; q < WG; q++) { t = chan(t, vec3f(s_cnt[q], s_mean[q], s_m2[q])); }
  }
  return t;
}
