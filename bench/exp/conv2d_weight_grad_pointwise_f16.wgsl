// Experiment on record (2026-12-08), not a shipped kernel: bench/exp/shortcut16_f16.ts times it.
// conv2d_weight_grad_pointwise's variant c16 (split-K pass 1 of the 1x1 weight gradient at C = 16,
// ResNet-20's 16->32 projection shortcut read from x's stride-2 copy, so S = 1) with both operands
// stored as packed half-precision pairs: u32 i of xh / dyh holds columns 2i and 2i + 1 of the NCHW
// tensor (pack2x16float), read back with unpack2x16float (core WGSL: no `enable f16`). A vec4u is
// then 8 columns, so a trip covers an 8-column tile with the f32 kernel's 6 loads a lane (4 of dy for
// the lane's output channels o0 + k + 8u, 2 of x for input channels k and k + 8), half the per-lane
// accesses per multiply-add. Everything else is c16's: x handed round by subgroupBroadcast, 16 vec4
// accumulators (4 output channels x 4 quads of input channels), columns summed in ascending order
// (tiles ascending, then columns 0..7), partials [nchunks, O, C]; `chunk` counts 8-column tiles.
enable subgroups;
struct Params { N: u32, C: u32, H: u32, W: u32, O: u32, OH: u32, OW: u32, chunk: u32 }
@group(0) @binding(0) var<storage, read> xh: array<vec4u>;
@group(0) @binding(2) var<storage, read> dyh: array<vec4u>;
@group(0) @binding(3) var<storage, read_write> part: array<vec4f>;
@group(0) @binding(4) var<uniform> p: Params;

// 8 columns of one channel, unpacked: columns 0..3 and 4..7
struct H8 { lo: vec4f, hi: vec4f }
fn unpack8(u: vec4u) -> H8 {
  let a = unpack2x16float(u.x); let b = unpack2x16float(u.y);
  let c = unpack2x16float(u.z); let d = unpack2x16float(u.w);
  return H8(vec4f(a, b), vec4f(c, d));
}
// #include "weight_grad_c16.wgsl"

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(subgroup_invocation_id) sid: u32) {
  let k = sid;
  let q = wid.z;
  let TPR = p.OW / 8u;           // 8-column tiles a row
  let T = p.N * p.OH * TPR;
  let o0 = wid.y * 32u;
  var acc: array<vec4f, 16>;
  let q0 = min(q * p.chunk, T);
  let q1 = min(q0 + p.chunk, T);
  let cs = p.OH * TPR;           // a channel's stride in vec4u (dy and x: same grid, S = 1)
  var n = q0 / cs;
  var r = q0 - n * cs;           // (oh, j) within the channel plane
  for (var s = q0; s < q1; s++) {
    let dbase = n * p.O * cs + r;
    let xbase = n * p.C * cs + r;
    let d0 = unpack8(dyh[dbase + min(o0 + k, p.O - 1u) * cs]);
    let d1 = unpack8(dyh[dbase + min(o0 + k + 8u, p.O - 1u) * cs]);
    let d2 = unpack8(dyh[dbase + min(o0 + k + 16u, p.O - 1u) * cs]);
    let d3 = unpack8(dyh[dbase + min(o0 + k + 24u, p.O - 1u) * cs]);
    let xa = unpack8(xh[xbase + k * cs]);
    let xb = unpack8(xh[xbase + (k + 8u) * cs]);
    // columns 0..3, then 4..7: the f32 kernel's order (tiles ascending, columns ascending)
    step4(&acc, 0u, quad(xa.lo, 0u), d0.lo, d1.lo, d2.lo, d3.lo);
    step4(&acc, 1u, quad(xa.lo, 1u), d0.lo, d1.lo, d2.lo, d3.lo);
    step4(&acc, 2u, quad(xb.lo, 0u), d0.lo, d1.lo, d2.lo, d3.lo);
    step4(&acc, 3u, quad(xb.lo, 1u), d0.lo, d1.lo, d2.lo, d3.lo);
    step4(&acc, 0u, quad(xa.hi, 0u), d0.hi, d1.hi, d2.hi, d3.hi);
    step4(&acc, 1u, quad(xa.hi, 1u), d0.hi, d1.hi, d2.hi, d3.hi);
    step4(&acc, 2u, quad(xb.hi, 0u), d0.hi, d1.hi, d2.hi, d3.hi);
    step4(&acc, 3u, quad(xb.hi, 1u), d0.hi, d1.hi, d2.hi, d3.hi);
    r++;
    if (r == cs) { r = 0u; n++; }
  }
  for (var u = 0u; u < 4u; u++) {
    let o = o0 + k + 8u * u;
    if (o < p.O) {
      for (var m = 0u; m < 4u; m++) { part[(q * p.O + o) * 4u + m] = acc[4u * u + m]; }
    }
  }
}
