// reduce_dot: per-workgroup partial sums of a[i] * b[i], i < n (dot products, cosines). Optionally masked (masked != 0: only elements with mask != 0 count; unmasked launches bind a as the mask).
// Tiling: 256 invocations a workgroup; invocation t of workgroup g loads the vec4s g*4096 + k*256 + t,
// k = 0..15 (coalesced, 16384 elements a workgroup), adds them in a fixed order, then the workgroup
// reduces its 256 partial sums in a fixed binary tree in workgroup memory. No atomics: same inputs,
// same bits. Workgroup g writes out[outOffset + g]; the launcher repeats over the partials
// (reduce_sum / reduce_sum_u32) until one value is left. Grid folded into y past 65535 groups.
// Layout: contiguous tensors bound as vec4 arrays whose binding is rounded up to 16 bytes; lanes at
// or past n are zeroed.
struct Params { n: u32, masked: u32, outOffset: u32 }
@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read> mask: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
var<workgroup> sh: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let g = wid.x + wid.y * nwg.x;
  var acc = 0.0;
  for (var k = 0u; k < 16u; k++) {
    let j = g * 4096u + k * 256u + lid.x;
    if (j * 4u < p.n) {
      var valid = (vec4u(j * 4u) + vec4u(0u, 1u, 2u, 3u)) < vec4u(p.n);
      if (p.masked != 0u) { valid = valid & (mask[j] != vec4f(0.0)); }
      let x = a[j];
      let y = b[j];
      let t = select(vec4f(0.0), x * y, valid);
      acc = acc + ((t.x + t.y) + (t.z + t.w));
    }
  }
  sh[lid.x] = acc;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid.x < s) { sh[lid.x] = sh[lid.x] + sh[lid.x + s]; }
    workgroupBarrier();
  }
  if (lid.x == 0u && g * 16384u < p.n) { out[p.outOffset + g] = sh[0]; }
}
