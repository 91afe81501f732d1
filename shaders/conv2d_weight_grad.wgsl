// conv2d_weight_grad (split-K pass 1): for pixel chunk q (workgroup_id.z),
//   part[q,o,k] = sum_{pix in chunk q} dy[n,o,oh,ow] * x[n,c,oh*s-p+kh, ow*s-p+kw],  k = (c,kh,kw),
// pix = (n,oh,ow) flattened, chunk q = [q*chunk, min((q+1)*chunk, N*OH*OW)). Layouts: x NCHW
// [N,C,H,W], dy NCHW [N,O,OH,OW], part [nchunks, O, C*KH*KW] (scratch); conv2d_weight_grad_reduce
// then sums part over q in ascending order into dw [O,C,KH,KW]. No atomics: deterministic.
//
// Tiling (implicit GEMM dW[o,k] = dY[o,pix] X[k,pix]^T, reduction over pix): lanes over k; an
// invocation owns 3 k-entries (k = k0 + lid + WG*t, t < 3) x 8 output channels (workgroup_id.y
// picks the block), 24 accumulators, and walks the chunk's pixels in order. Per pixel, lane j (< 8)
// loads dy[n,o0+j,oh,ow] and subgroupBroadcast(., j) gives every lane the eight values (storage
// loads are per-lane loops on lavapipe; this cuts dy traffic 8x); each lane loads its 3 x values.
// workgroup_id.x picks the block of 3*WG k-entries. Needs subgroups of >= 8 invocations.
enable subgroups;
override WG: u32 = 64;
struct Params { N: u32, C: u32, H: u32, W: u32, O: u32, OH: u32, OW: u32, KH: u32, KW: u32, stride: u32, pad: u32, chunk: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> part: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(subgroup_invocation_id) sid: u32) {
  let KK = p.KH * p.KW;
  let CKK = p.C * KK;
  let HW = p.H * p.W;
  let OHW = p.OH * p.OW;
  let P = p.N * OHW;
  let kbase = wid.x * 3u * WG + lid;
  // per-lane tap t: channel offset, row/col offsets (clamped k for lanes past the end)
  var xoff: vec3u;
  var dh: vec3i;
  var dw_: vec3i;
  for (var t = 0u; t < 3u; t++) {
    let k = min(kbase + t * WG, CKK - 1u);
    let c = k / KK;
    let r = k - c * KK;
    let kh = r / p.KW;
    xoff[t] = c * HW;
    dh[t] = i32(kh) - i32(p.pad);
    dw_[t] = i32(r - kh * p.KW) - i32(p.pad);
  }
  let o0 = wid.y * 8u;
  let olane = min(o0 + (sid & 7u), p.O - 1u);
  let q0 = wid.z * p.chunk;
  let q1 = min(q0 + p.chunk, P);
  // walk pixels q0..q1 with incremental (n, oh, ow)
  var n = q0 / OHW;
  var r = q0 - n * OHW;
  var oh = r / p.OW;
  var ow = r - oh * p.OW;
  var a0 = vec3f(0.0); var a1 = vec3f(0.0); var a2 = vec3f(0.0); var a3 = vec3f(0.0);
  var a4 = vec3f(0.0); var a5 = vec3f(0.0); var a6 = vec3f(0.0); var a7 = vec3f(0.0);
  let Hi = i32(p.H);
  let Wi = i32(p.W);
  for (var q = q0; q < q1; q++) {
    let g = dy[(n * p.O + olane) * OHW + oh * p.OW + ow];
    let ih = vec3i(i32(oh * p.stride)) + dh;
    let iw = vec3i(i32(ow * p.stride)) + dw_;
    let ok = (ih >= vec3i(0)) & (ih < vec3i(Hi)) & (iw >= vec3i(0)) & (iw < vec3i(Wi));
    let xi = vec3u(select(vec3i(0), ih * Wi + iw, ok)) + xoff + vec3u(n * p.C * HW);
    let xv = select(vec3f(0.0), vec3f(x[xi.x], x[xi.y], x[xi.z]), ok);
    a0 = fma(xv, vec3f(subgroupBroadcast(g, 0u)), a0);
    a1 = fma(xv, vec3f(subgroupBroadcast(g, 1u)), a1);
    a2 = fma(xv, vec3f(subgroupBroadcast(g, 2u)), a2);
    a3 = fma(xv, vec3f(subgroupBroadcast(g, 3u)), a3);
    a4 = fma(xv, vec3f(subgroupBroadcast(g, 4u)), a4);
    a5 = fma(xv, vec3f(subgroupBroadcast(g, 5u)), a5);
    a6 = fma(xv, vec3f(subgroupBroadcast(g, 6u)), a6);
    a7 = fma(xv, vec3f(subgroupBroadcast(g, 7u)), a7);
    ow++;
    if (ow == p.OW) { ow = 0u; oh++; if (oh == p.OH) { oh = 0u; n++; } }
  }
  let acc = array<vec3f, 8>(a0, a1, a2, a3, a4, a5, a6, a7);
  for (var t = 0u; t < 3u; t++) {
    let k = kbase + t * WG;
    if (k >= CKK) { break; }
    for (var j = 0u; j < 8u; j++) {
      let o = o0 + j;
      if (o < p.O) { part[(wid.z * p.O + o) * CKK + k] = acc[j][t]; }
    }
  }
}
