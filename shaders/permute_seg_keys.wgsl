// permute_seg_keys: keys[j] = min(seg[idx[j]], numSegments), j < n: the segment key of the position
// at rank j of a sort by random keys, so the following stable sort by segment keeps the random order
// inside each segment (permuteSegments). Fixed positions (0xffffffff) sort after every segment.
// Layout: seg, idx, keys u32 [n]. Tiling: one invocation per j, 256 per workgroup, grid folded into y.
struct Params { n: u32, numSegments: u32 }
@group(0) @binding(0) var<storage, read> seg: array<u32>;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read_write> keys: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = gid.x + gid.y * nwg.x * 256u;
  if (j < p.n) { keys[j] = min(seg[idx[j]], p.numSegments); }
}
