// fwd_wgmem (a variant on record, not shipped): the textbook GPU tiling of a 3x3 stride-1 pad-1
// conv forward, y[n,o,oh,ow] = sum_{c,kh,kw} x[n,c,oh-1+kh,ow-1+kw] * w[o,c,kh,kw], through
// workgroup memory, to measure it against the shipped register tiling (conv2d_forward_row4).
// Layouts: x NCHW [N,C,H,W] as vec4 (W % 4 == 0), wp = conv2d_pack_weights output [ceil(O/8), C, 3, 8]
// vec4 (one vec4 = the 3 taps of a kernel row), y NCHW as vec4.
//
// Tiling: a workgroup of 64 invocations owns R = 64 / (W/4) consecutive output rows of one image
// (R divides H: the 32x32 and 16x16 maps) and 16 output channels (workgroup_id.y); an invocation owns
// 4 columns of one row x 16 channels (16 vec4 accumulators). Per block of CB input channels, the
// workgroup copies the R + 2 input rows the tile needs into workgroup memory (zero rows outside the
// image, a zero vec4 either side of each row for the padding) and the block's 16 x CB x 3 packed
// weight rows, then a barrier; each invocation reads its 3 vec4s per input row and the weights from
// there (the same address in every lane), then a second barrier before the next block is copied.
// Summation order as conv2d_forward_row4: c ascending, kh ascending, kw ascending, fma chains.
enable subgroups;
override CB: u32 = 4;          // input channels per block (C % CB == 0)
override W4: u32 = 8;          // vec4s per row (W / 4)
override R: u32 = 64u / W4;    // output rows per workgroup
override SW: u32 = W4 + 2u;    // vec4s per row in workgroup memory (a zero vec4 each side)
// WBCAST: lane q (of 8) reads only channels q and q + 8 of the weights from workgroup memory and
// subgroupBroadcast hands them out (as the shipped kernel does from storage): only x is tiled
override WBCAST: bool = false;
struct Params { N: u32, C: u32, H: u32, W: u32, O: u32, OH: u32, OW: u32, KH: u32, has_bias: u32 }
@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> wp: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4f>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> xs: array<vec4f, 1440>;        // CB (<= 8) x (R + 2) x SW: 800 at 32x32, 864 at 16x16
var<workgroup> ws: array<vec4f, 16 * 8 * 3>;   // 16 channels x CB x 3 kernel rows

// one output channel's three taps of one kernel row
fn tap3(a: vec4f, w: vec4f, x0: vec4f, x1: vec4f, x2: vec4f) -> vec4f {
  return fma(x2, vec4f(w.z), fma(x1, vec4f(w.y), fma(x0, vec4f(w.x), a)));
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(subgroup_invocation_id) sid: u32) {
  let blocksPerImage = p.H / R;
  let n = wid.x / blocksPerImage;
  let oh0 = (wid.x - n * blocksPerImage) * R;
  let r = lid / W4;          // this invocation's row in the tile
  let j = lid - r * W4;      // its 4-column group
  let o0 = wid.y * 16u;
  let HW4 = p.H * W4;
  // the zero vec4s either side of each row are never overwritten
  for (var i = lid; i < CB * (R + 2u); i += 64u) {
    xs[i * SW] = vec4f(0.0);
    xs[i * SW + SW - 1u] = vec4f(0.0);
  }
  var acc = array<vec4f, 16>();
  for (var c0 = 0u; c0 < p.C; c0 += CB) {
    // copy the block's input rows oh0 - 1 .. oh0 + R (zeros outside the image)
    for (var i = lid; i < CB * (R + 2u) * W4; i += 64u) {
      let q = i / W4;                 // (c, row) of the block
      let col = i - q * W4;
      let cc = q / (R + 2u);
      let rr = q - cc * (R + 2u);
      let ih = i32(oh0 + rr) - 1;
      var v = vec4f(0.0);
      if (ih >= 0 && ih < i32(p.H)) { v = x[(n * p.C + c0 + cc) * HW4 + u32(ih) * W4 + col]; }
      xs[q * SW + 1u + col] = v;
    }
    // and the 16 channels' packed kernel rows: ws[(o * CB + cc) * 3 + kh]
    for (var i = lid; i < 16u * CB * 3u; i += 64u) {
      let o = i / (CB * 3u);
      let rest = i - o * CB * 3u;
      let cc = rest / 3u;
      let kh = rest - cc * 3u;
      let og = min(o0 + o, p.O - 1u);
      ws[i] = wp[(((og / 8u) * p.C + c0 + cc) * 3u + kh) * 8u + (og & 7u)];
    }
    workgroupBarrier();
    for (var cc = 0u; cc < CB; cc++) {
      for (var kh = 0u; kh < 3u; kh++) {
        let base = (cc * (R + 2u) + r + kh) * SW + j;
        let L = xs[base];
        let A = xs[base + 1u];
        let Rt = xs[base + 2u];
        let x0 = vec4f(L.w, A.x, A.y, A.z);
        let x2 = vec4f(A.y, A.z, A.w, Rt.x);
        // the 16 channels written out (constant indices: the accumulators stay out of scratch)
        let wi = cc * 3u + kh;
        let S = CB * 3u;
        if (WBCAST) {
          let wa = ws[wi + (sid & 7u) * S];
          let wb = ws[wi + (8u + (sid & 7u)) * S];
          acc[0] = tap3(acc[0], vec4f(subgroupBroadcast(wa, 0u)), x0, A, x2);
          acc[1] = tap3(acc[1], vec4f(subgroupBroadcast(wa, 1u)), x0, A, x2);
          acc[2] = tap3(acc[2], vec4f(subgroupBroadcast(wa, 2u)), x0, A, x2);
          acc[3] = tap3(acc[3], vec4f(subgroupBroadcast(wa, 3u)), x0, A, x2);
          acc[4] = tap3(acc[4], vec4f(subgroupBroadcast(wa, 4u)), x0, A, x2);
          acc[5] = tap3(acc[5], vec4f(subgroupBroadcast(wa, 5u)), x0, A, x2);
          acc[6] = tap3(acc[6], vec4f(subgroupBroadcast(wa, 6u)), x0, A, x2);
          acc[7] = tap3(acc[7], vec4f(subgroupBroadcast(wa, 7u)), x0, A, x2);
          acc[8] = tap3(acc[8], vec4f(subgroupBroadcast(wb, 0u)), x0, A, x2);
          acc[9] = tap3(acc[9], vec4f(subgroupBroadcast(wb, 1u)), x0, A, x2);
          acc[10] = tap3(acc[10], vec4f(subgroupBroadcast(wb, 2u)), x0, A, x2);
          acc[11] = tap3(acc[11], vec4f(subgroupBroadcast(wb, 3u)), x0, A, x2);
          acc[12] = tap3(acc[12], vec4f(subgroupBroadcast(wb, 4u)), x0, A, x2);
          acc[13] = tap3(acc[13], vec4f(subgroupBroadcast(wb, 5u)), x0, A, x2);
          acc[14] = tap3(acc[14], vec4f(subgroupBroadcast(wb, 6u)), x0, A, x2);
          acc[15] = tap3(acc[15], vec4f(subgroupBroadcast(wb, 7u)), x0, A, x2);
          continue;
        }
        acc[0] = tap3(acc[0], ws[wi], x0, A, x2);
        acc[1] = tap3(acc[1], ws[wi + S], x0, A, x2);
        acc[2] = tap3(acc[2], ws[wi + 2u * S], x0, A, x2);
        acc[3] = tap3(acc[3], ws[wi + 3u * S], x0, A, x2);
        acc[4] = tap3(acc[4], ws[wi + 4u * S], x0, A, x2);
        acc[5] = tap3(acc[5], ws[wi + 5u * S], x0, A, x2);
        acc[6] = tap3(acc[6], ws[wi + 6u * S], x0, A, x2);
        acc[7] = tap3(acc[7], ws[wi + 7u * S], x0, A, x2);
        acc[8] = tap3(acc[8], ws[wi + 8u * S], x0, A, x2);
        acc[9] = tap3(acc[9], ws[wi + 9u * S], x0, A, x2);
        acc[10] = tap3(acc[10], ws[wi + 10u * S], x0, A, x2);
        acc[11] = tap3(acc[11], ws[wi + 11u * S], x0, A, x2);
        acc[12] = tap3(acc[12], ws[wi + 12u * S], x0, A, x2);
        acc[13] = tap3(acc[13], ws[wi + 13u * S], x0, A, x2);
        acc[14] = tap3(acc[14], ws[wi + 14u * S], x0, A, x2);
        acc[15] = tap3(acc[15], ws[wi + 15u * S], x0, A, x2);
      }
    }
    workgroupBarrier();
  }
  let OHW4 = p.OH * W4;
  let yb = n * p.O * OHW4 + (oh0 + r) * W4 + j;
  for (var o = 0u; o < 16u; o++) {
    if (o0 + o < p.O) { y[yb + (o0 + o) * OHW4] = acc[o]; }
  }
}
