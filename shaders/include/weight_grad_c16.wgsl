// conv2d_weight_grad_pointwise's c16 tile (variants c16, c16_tex; also the packed-f16 experiment
// bench/exp/conv2d_weight_grad_pointwise_f16.wgsl): a lane owns output channels o0 + k + 8u (u < 4)
// and 16 vec4 accumulators acc[4u + m] over input channels 4m..4m+3; lane l holds input channel l
// (m < 2) or 8 + l (m >= 2) of a 4-column tile, and subgroupBroadcast hands those values round.
// fma4 serves the 32-channel path too.

// a + the tile's 4 products for one output channel (dy columns dm) and the lane's 4 input channels
// (column t's values xtt), t ascending: per (o, c) the order of conv2d_weight_grad_row4's dot4
fn fma4(a: vec4f, dm: vec4f, xt0: vec4f, xt1: vec4f, xt2: vec4f, xt3: vec4f) -> vec4f {
  var r = fma(vec4f(dm.x), xt0, a);
  r = fma(vec4f(dm.y), xt1, r);
  r = fma(vec4f(dm.z), xt2, r);
  return fma(vec4f(dm.w), xt3, r);
}

// the 4 vec4s of input channels 4m..4m+3 at columns t = 0..3 (xt0..xt3 of fma4), from lanes 4h..4h+3's
// xv (h = m % 2; lane l holds channel l of its 8 in xv): column t of each lane, broadcast
struct Cols { t0: vec4f, t1: vec4f, t2: vec4f, t3: vec4f }
fn quad(xv: vec4f, h: u32) -> Cols {
  var b0: vec4f; var b1: vec4f; var b2: vec4f; var b3: vec4f;
  if (h == 0u) {
    b0 = subgroupBroadcast(xv, 0u); b1 = subgroupBroadcast(xv, 1u); b2 = subgroupBroadcast(xv, 2u); b3 = subgroupBroadcast(xv, 3u);
  } else {
    b0 = subgroupBroadcast(xv, 4u); b1 = subgroupBroadcast(xv, 5u); b2 = subgroupBroadcast(xv, 6u); b3 = subgroupBroadcast(xv, 7u);
  }
  return Cols(vec4f(b0.x, b1.x, b2.x, b3.x), vec4f(b0.y, b1.y, b2.y, b3.y), vec4f(b0.z, b1.z, b2.z, b3.z), vec4f(b0.w, b1.w, b2.w, b3.w));
}

// the tile's products for the lane's 4 output channels (dy columns d0..d3) and input channels 4m..4m+3
fn step4(acc: ptr<function, array<vec4f, 16>>, m: u32, x: Cols, d0: vec4f, d1: vec4f, d2: vec4f, d3: vec4f) {
  (*acc)[m] = fma4((*acc)[m], d0, x.t0, x.t1, x.t2, x.t3);
  (*acc)[4u + m] = fma4((*acc)[4u + m], d1, x.t0, x.t1, x.t2, x.t3);
  (*acc)[8u + m] = fma4((*acc)[8u + m], d2, x.t0, x.t1, x.t2, x.t3);
  (*acc)[12u + m] = fma4((*acc)[12u + m], d3, x.t0, x.t1, x.t2, x.t3);
}
