// The normalising pass shared by batchnorm_forward_train and batchnorm_forward_eval: for channel c,
// the invocations of chunk `part` write y = (x - mean) * scale + shift over their slice of the
// channel's N*HW values (an element E at a time, include/lanes.wgsl; p.hw and p.chunk count elements),
// plus skip[i] when the override RESIDUAL is set (the residual add at the end of a ResNet block,
// skip + BN(x) as add_relu_forward would sum it: the same bits), then max(y, 0) when the override
// RELU is set (BN fused with the ReLU that follows it). After each element's store it calls
// stride2_copy(w, c, r) with the element's values, which the including kernel defines (to write y's
// stride-2 copy, batchnorm_forward_train's STRIDE2_COPY, or to do nothing).
// The including kernel declares x, skip, y (array<E>), p (n, c, hw, chunk), WG, RESIDUAL, RELU and
// stride2_copy.
// #include "batchnorm_walk.wgsl"
fn apply_chunk(c: u32, part: u32, lid: u32, mean: f32, scale: f32, shift: f32) {
  for (var w = walk_start(part, lid); w.j < w.end; walk_next(&w)) {
    let i = walk_at(w, c);
    let e = x[i];
    var sk = e;
    if (RESIDUAL) { sk = skip[i]; }
    var r = array<V, 4>();
    for (var q = 0u; q < EW; q++) {
      var v = (vec_of(e, q) - mean) * scale + shift;
      if (RESIDUAL) { v = vec_of(sk, q) + v; }
      r[q] = select(v, max(v, V(0.0)), RELU);
    }
    y[i] = elem_of(r);
    stride2_copy(w, c, r);
  }
}
