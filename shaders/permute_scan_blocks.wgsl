// permute_scan_blocks: in-place exclusive prefix sum of u32 data within blocks of 1024, and each
// block's total in sums[block] (the launcher scans sums recursively and adds them back with
// permute_scan_add). Used for the radix sort's digit offsets.
//   data[i] <- sum_{block start <= j < i} data[j];  sums[g] = sum over block g
// Tiling: 256 invocations a workgroup, one block each; invocation t owns 4 consecutive elements
// (serial prefix), then a Hillis-Steele scan of the 256 thread totals in workgroup memory.
// Integer adds only: exact and deterministic. Grid folded into y past 65535 groups.
struct Params { n: u32 }
@group(0) @binding(0) var<storage, read_write> data: array<u32>;
@group(0) @binding(1) var<storage, read_write> sums: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> sh: array<u32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let g = wid.x + wid.y * nwg.x;
  let base = g * 1024u + lid.x * 4u;
  var v: array<u32, 4>;
  var total = 0u;
  for (var k = 0u; k < 4u; k++) {
    let i = base + k;
    var x = 0u;
    if (i < p.n) { x = data[i]; }
    v[k] = total;
    total = total + x;
  }
  sh[lid.x] = total;
  workgroupBarrier();
  for (var off = 1u; off < 256u; off = off << 1u) {
    var add = 0u;
    if (lid.x >= off) { add = sh[lid.x - off]; }
    workgroupBarrier();
    sh[lid.x] = sh[lid.x] + add;
    workgroupBarrier();
  }
  let before = sh[lid.x] - total;
  for (var k = 0u; k < 4u; k++) {
    let i = base + k;
    if (i < p.n) { data[i] = before + v[k]; }
  }
  if (lid.x == 255u && g * 1024u < p.n) { sums[g] = sh[255]; }
}
