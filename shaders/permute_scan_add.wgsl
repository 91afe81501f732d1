// permute_scan_add: data[i] += sums[i / 1024], i < n: adds the scanned block totals back to the
// block-local exclusive prefix sums of permute_scan_blocks, completing a multi-level exclusive scan.
// Tiling: one invocation per element, 256 per workgroup, grid folded into y past 65535 groups.
struct Params { n: u32 }
@group(0) @binding(0) var<storage, read_write> data: array<u32>;
@group(0) @binding(1) var<storage, read> sums: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < p.n) { data[i] = data[i] + sums[i / 1024u]; }
}
