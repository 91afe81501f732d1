// permute_segments: the last step of permuteSegments, a seeded uniformly random permutation of values
// within segments. Inputs are two stable sorts of the positions 0..n-1 by segment key
// s(p) = min(seg[p], numSegments):
//   ordered[j]:  positions by (s, p)            (each segment's positions in increasing order)
//   shuffled[j]: positions by (s, random key)   (each segment's positions in a random order)
// Both put segment k in the same rank range, so out[ordered[j]] = values[shuffled[j]] moves each
// segment's values among that segment's positions by a uniformly random bijection. Positions whose
// segment is fixed (seg >= numSegments, e.g. 0xffffffff for pruned weights) keep their value.
// Layout: values and out any 32-bit dtype [n] (moved as u32 bits); seg, ordered, shuffled u32 [n].
// Tiling: one invocation per rank j, 256 per workgroup (coalesced reads of the two orders, random
// reads of values and writes of out), grid folded into y past 65535 groups.
struct Params { n: u32, numSegments: u32 }
@group(0) @binding(0) var<storage, read> values: array<u32>;
@group(0) @binding(1) var<storage, read> seg: array<u32>;
@group(0) @binding(2) var<storage, read> ordered: array<u32>;
@group(0) @binding(3) var<storage, read> shuffled: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<u32>;
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = gid.x + gid.y * nwg.x * 256u;
  if (j >= p.n) { return; }
  let pos = ordered[j];
  let srcPos = select(shuffled[j], pos, seg[pos] >= p.numSegments);
  out[pos] = values[srcPos];
}
