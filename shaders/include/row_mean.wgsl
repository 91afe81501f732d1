// The mean of one row of `len` elements E starting at element `base` (an NCHW plane: H*W floats), in
// the global average pool's fixed order: per vector lane over the row's elements, then the VL lanes
// in order, then one division. avgpool_global_forward and batchnorm_forward_train's POOL both use it,
// so the fused head gives the pool's bits. The including kernel includes lanes.wgsl and defines
// row_elem(i) -> E, element i of the tensor it averages.
fn row_mean(base: u32, len: u32) -> f32 {
  var acc = V(0.0);
  for (var j = 0u; j < len; j++) {
    let e = row_elem(base + j);
    for (var q = 0u; q < EW; q++) { acc += vec_of(e, q); }
  }
  var total = 0.0;
  for (var k = 0u; k < VL; k++) { total += lane(acc, k); }
  return total / f32(len * VL * EW);
}
