// conv2d_weight_grad_reduce (split-K pass 2): dw[i] = sum_{q=0}^{nchunks-1} part[q*n + i], i < n =
// O*C*KH*KW. part is conv2d_weight_grad's scratch [nchunks, O, C*KH*KW]; dw is OIHW (a parameter's
// grad buffer). Grid folded into y past 65535 groups.
//
// Tiling: LANES invocations per element, WG / LANES elements per workgroup. Invocation (e, l) of a
// workgroup (e = lid % (WG/LANES), l = lid / (WG/LANES)) sums the chunks q = l, l + LANES, ... in
// ascending order, so consecutive invocations read consecutive elements of one chunk; the LANES
// partials are then added by a fixed halving tree in workgroup memory (l + h into l, h = LANES/2,
// ..., 1). The order depends only on LANES: deterministic. LANES = 1 is the plain ascending sum
// with no barrier (lavapipe runs one invocation's long loop fastest); a GPU wants LANES > 1 when
// there are few elements and many chunks, or the serial loop's load latency dominates.
// Variant `vec4` (n % 4 == 0; n, i and the partials then count vec4s): each invocation sums four
// consecutive elements as one vec4, the same per-element order (same bits) with a quarter of the
// loads, each of them a per-lane loop on lavapipe.
override WG: u32 = 64;
override LANES: u32 = 1;  // a power of two dividing WG
// #if vec4
alias T = vec4f;
// #else
alias T = f32;
// #endif
struct Params { n: u32, nchunks: u32 }
@group(0) @binding(0) var<storage, read> part: array<T>;
@group(0) @binding(1) var<storage, read_write> dw: array<T>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> partial: array<T, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let per = WG / LANES;  // elements per workgroup
  let e = lid % per;
  let l = lid / per;
  let i = (wid.x + wid.y * nwg.x) * per + e;
  var s = T(0.0);
  if (i < p.n) {
    for (var q = l; q < p.nchunks; q += LANES) { s += part[q * p.n + i]; }
  }
  if (LANES == 1u) {
    if (i < p.n) { dw[i] = s; }
    return;
  }
  partial[lid] = s;
  workgroupBarrier();
  for (var h = LANES / 2u; h > 0u; h /= 2u) {
    if (l < h) { partial[lid] += partial[lid + h * per]; }
    workgroupBarrier();
  }
  if (l == 0u && i < p.n) { dw[i] = partial[lid]; }
}
