// permute_radix_count: first step of one LSD radix-sort pass over 4-bit digits d = (key >> shift) & 15.
// Invocation c owns the chunk [c * chunk, min((c + 1) * chunk, n)) of keys and counts its digits:
//   counts[d * numChunks + c] = #{ i in chunk c : digit(keys[i]) == d }
// Digit-major layout, so an exclusive scan of counts gives, for every (digit, chunk), where that
// chunk's elements with that digit start in the output (permute_radix_scatter). Integer counts only,
// no atomics, so the sort is deterministic and stable.
// Tiling: one invocation per chunk (serial over the chunk), 64 per workgroup, grid folded into y.
struct Params { n: u32, shift: u32, numChunks: u32, chunk: u32 }
@group(0) @binding(0) var<storage, read> keys: array<u32>;
@group(0) @binding(1) var<storage, read_write> counts: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = gid.x + gid.y * nwg.x * 64u;
  if (c >= p.numChunks) { return; }
  var h: array<u32, 16>;
  for (var d = 0u; d < 16u; d++) { h[d] = 0u; }
  let start = c * p.chunk;
  let end = min(start + p.chunk, p.n);
  for (var i = start; i < end; i++) {
    let d = (keys[i] >> p.shift) & 15u;
    h[d] = h[d] + 1u;
  }
  for (var d = 0u; d < 16u; d++) { counts[d * p.numChunks + c] = h[d]; }
}
