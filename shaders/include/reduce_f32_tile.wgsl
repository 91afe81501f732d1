// The shared body of the f32 reductions (reduce_sum, reduce_sum_abs, reduce_sum_squares, reduce_dot,
// reduce_squared_distance). The including kernel declares `mask`, `out` and `p` (n, masked,
// outOffset) and defines `fn term(j: u32) -> vec4f`, the per-element quantity of vec4 j.
// Tiling: 256 invocations a workgroup; invocation t of workgroup g loads the vec4s (g*16 + k)*256 + t,
// k = 0..15 (coalesced, 16384 elements a workgroup), adds them in a fixed order, then after one
// barrier invocation 0 adds the 256 partial sums in order (a tree would cost a barrier per level, and
// barriers are expensive on CPU drivers). No atomics: same inputs,
// same bits. Workgroup g writes out[outOffset + g]; the launcher repeats over the partials
// (reduce_sum) until one value is left. The 16 steps come from a uniform (p.steps, always 16)
// rather than a constant so that the compiler does not unroll the loop: Mesa unrolled reduce_dot's
// (its body is small enough), and the 16 copies of the per-lane loads made the kernel ten times
// longer and 1.4x slower on lavapipe (2026-11-26). Grid folded into y past 65535 groups. Lanes at or past n,
// and (when masked != 0) lanes whose mask is 0, contribute nothing.
var<workgroup> sh: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let g = wid.x + wid.y * nwg.x;
  var acc = 0.0;
  for (var k = 0u; k < p.steps; k++) {  // p.steps = 16: a uniform, so the loop is not unrolled (above)
    let j = (g * p.steps + k) * 256u + lid.x;
    if (j * 4u < p.n) {
      var valid = (vec4u(j * 4u) + vec4u(0u, 1u, 2u, 3u)) < vec4u(p.n);
      if (p.masked != 0u) { valid = valid & (mask[j] != vec4f(0.0)); }
      let t = select(vec4f(0.0), term(j), valid);
      acc = acc + ((t.x + t.y) + (t.z + t.w));
    }
  }
  sh[lid.x] = acc;
  workgroupBarrier();
  if (lid.x == 0u && g * p.steps * 1024u < p.n) {
    var total = 0.0;
    for (var t = 0u; t < 256u; t++) { total += sh[t]; }
    out[p.outOffset + g] = total;
  }
}
