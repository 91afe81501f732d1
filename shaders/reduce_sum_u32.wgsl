// reduce_sum_u32: per-workgroup partial sums of u32 counts a[i], i < n (the later passes of the counting
// reductions; totals must stay below 2^32).
// Tiling as include/reduce_f32_tile.wgsl: 64 invocations a workgroup; invocation t of workgroup g adds
// its own run of p.steps (64) consecutive vec4s from (g*64 + t)*steps (16384 elements a workgroup), then
// after one barrier invocation 0 adds the 64 partial counts. No atomics: same inputs,
// same bits. Workgroup g writes out[outOffset + g]; the launcher repeats over the partials
// (reduce_sum / reduce_sum_u32) until one value is left. Grid folded into y past 65535 groups.
// Layout: contiguous tensors bound as vec4 arrays whose binding is rounded up to 16 bytes; lanes at
// or past n are zeroed.
struct Params { n: u32, outOffset: u32, steps: u32 }
@group(0) @binding(0) var<storage, read> a: array<vec4u>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> sh: array<u32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let g = wid.x + wid.y * nwg.x;
  let base = (g * 64u + lid.x) * p.steps;
  var acc = vec4u(0u);
  for (var k = 0u; k < p.steps; k++) {  // p.steps = 64: a uniform, so the loop is not unrolled (include/reduce_f32_tile.wgsl)
    let j = base + k;
    if (j * 4u < p.n) {
      var valid = (vec4u(j * 4u) + vec4u(0u, 1u, 2u, 3u)) < vec4u(p.n);
      let x = a[j];
      let t = select(vec4u(0u), x, valid);
      acc += t;
    }
  }
  sh[lid.x] = (acc.x + acc.y) + (acc.z + acc.w);
  workgroupBarrier();
  // invocation 0 adds the 64 counts (integers: any order gives the same sum); a tree would cost a
  // barrier per level, and a barrier suspends and resumes every invocation on CPU drivers
  if (lid.x == 0u && g * p.steps * 256u < p.n) {
    var total = 0u;
    for (var t = 0u; t < 64u; t++) { total += sh[t]; }
    out[p.outOffset + g] = total;
  }
}
