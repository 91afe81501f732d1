// The shared body of the f32 reductions (reduce_sum, reduce_sum_abs, reduce_sum_squares, reduce_dot,
// reduce_squared_distance). The including kernel declares `mask`, `out` and `p` (n, masked,
// outOffset, steps) and defines `fn term(j: u32) -> vec4f`, the per-element quantity of vec4 j.
// Tiling: 64 invocations a workgroup; invocation t of workgroup g sums its own run of p.steps (64)
// consecutive vec4s, j = (g*64 + t)*steps + k, k ascending, into a vec4 accumulator (each component
// its own sum), adds the components as (x + y) + (z + w), then after one barrier invocation 0 adds the
// 64 lane sums in order (16384 elements a workgroup). A run per lane, not lanes striding through the
// tile together: on lavapipe each storage load is a per-lane loop whatever the pattern, and the run
// keeps a lane's loads in its own cache lines; with 64 invocations instead of 256 there are fewer to
// suspend at the barrier. The first pass over ResNet-20's 273,664 parameters took 0.105-0.115 ms
// against 0.157 for 256 coalesced lanes (bench/exp/reduce_variants.ts, 2026-12-07). A run that lies
// wholly inside n and is not masked skips the per-element checks (the same sums: every term counts).
// The steps come from a uniform (p.steps, always 64) rather than a constant so that the compiler does
// not unroll the loop: Mesa unrolled reduce_dot's (its body is small enough), and the copies of the
// per-lane loads made the kernel ten times longer and 1.4x slower on lavapipe (2026-11-26). No
// atomics: same inputs, same bits. Workgroup g writes out[outOffset + g]; the launcher repeats over
// the partials (reduce_sum) until one value is left. Grid folded into y past 65535 groups. Lanes at
// or past n, and (when masked != 0) lanes whose mask is 0, contribute nothing.
var<workgroup> sh: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let g = wid.x + wid.y * nwg.x;
  let base = (g * 64u + lid.x) * p.steps;
  var acc = vec4f(0.0);
  if (p.masked == 0u && (base + p.steps) * 4u <= p.n) {
    for (var k = 0u; k < p.steps; k++) { acc += term(base + k); }
  } else {
    for (var k = 0u; k < p.steps; k++) {
      let j = base + k;
      if (j * 4u < p.n) {
        var valid = (vec4u(j * 4u) + vec4u(0u, 1u, 2u, 3u)) < vec4u(p.n);
        if (p.masked != 0u) { valid = valid & (mask[j] != vec4f(0.0)); }
        acc += select(vec4f(0.0), term(j), valid);
      }
    }
  }
  sh[lid.x] = (acc.x + acc.y) + (acc.z + acc.w);
  workgroupBarrier();
  if (lid.x == 0u && g * p.steps * 256u < p.n) {
    var total = 0.0;
    for (var t = 0u; t < 64u; t++) { total += sh[t]; }
    out[p.outOffset + g] = total;
  }
}
