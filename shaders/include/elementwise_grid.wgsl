// The grid of the streaming elementwise kernels. Each kernel defines its math on one vector,
// `fn f(u: V, v: V) -> V`, and moves elements E (include/lanes.wgsl: a vec4f, a 64-byte struct of
// four in the `wide` variant, an f32 in the `scalar` one); map2 applies f to each vector of two elements.
// The n elements are split into workgroups of WG invocations that each take K elements, strided by
// WG so neighbouring invocations touch neighbouring elements; the workgroup grid is folded into y
// past 65535 (src/gpu/runtime.ts grid1d). K is an override constant, so the loop unrolls.
override WG: u32 = 64;
override K: u32 = 4;

fn map2(x: E, y: E) -> E {
  var r: array<V, 4>;
  for (var q = 0u; q < EW; q++) { r[q] = f(vec_of(x, q), vec_of(y, q)); }
  return elem_of(r);
}

// index of element k of this invocation (may be >= n: callers check)
fn elem_index(wid: vec3u, nwg: vec3u, lid: u32, k: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG * K + k * WG + lid;
}
