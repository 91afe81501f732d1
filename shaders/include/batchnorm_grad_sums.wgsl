// The first pass of the BatchNorm2d backward for chunk `part` of channel c, shared by
// batchnorm_backward_reduce (which writes the result out as a partial) and batchnorm_backward's
// FUSED_REDUCE mode (a channel in one chunk: one pass). Returns (sum dy, sum dy * (x - mean)) of the
// chunk in invocation 0 (zeros in the others), dy masked first: with RELU by the forward's
// pre-activation recomputed from x, with MASK_OUT by y > 0, and then also written to dmask. Each
// invocation sums its strided slice per vector lane and adds its VL lanes in order; invocation 0
// adds the WG pairs in order after one barrier. Call it in uniform control flow.
// The including kernel declares x, y, dmask (array<E>), saved, gamma, beta, p (n, c, hw, chunk),
// WG, RELU and MASK_OUT, dy_at(w, c, i) (the output gradient's element i, at walk position w of
// channel c), and includes lanes.wgsl.
// #include "batchnorm_walk.wgsl"
var<workgroup> s_dy: array<f32, WG>;
var<workgroup> s_dyx: array<f32, WG>;

fn chunk_grad_sums(c: u32, part: u32, lid: u32) -> vec2f {
  let mean = saved[c];
  // RELU: the forward's pre-activation (x - mean) * scale + shift, recomputed from x with the same
  // expression and operands (saved, gamma, beta), so the mask needs no read of y
  let scale = saved[p.c + c] * gamma[c];
  let shift = beta[c];
  var sdy = V(0.0);
  var sdyx = V(0.0);
  for (var w = walk_start(part, lid); w.j < w.end; walk_next(&w)) {
    let i = walk_at(w, c);
    let ed = dy_at(w, c, i);
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
  var sums = vec2f(0.0);
  if (lid == 0u) {
    var a = 0.0;
    var b = 0.0;
    for (var t = 0u; t < WG; t++) {
      a += s_dy[t];
      b += s_dyx[t];
    }
    sums = vec2f(a, b);
  }
  return sums;
}
