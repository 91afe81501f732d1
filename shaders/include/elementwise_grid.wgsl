// The grid of the streaming elementwise kernels: the n vectors (V, include/lanes.wgsl) are split
// into workgroups of WG invocations that each take K vectors, strided by WG so neighbouring
// invocations touch neighbouring vectors (coalesced); the workgroup grid is folded into y past
// 65535 (src/gpu/runtime.ts grid1d). Several vectors per invocation amortise lavapipe's fixed cost
// per invocation; the loop over k is unrolled by the driver (K is an override constant).
override WG: u32 = 64;
override K: u32 = 4;

// index of vector k of this invocation (may be >= n: callers check)
fn elem_index(wid: vec3u, nwg: vec3u, lid: u32, k: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG * K + k * WG + lid;
}
