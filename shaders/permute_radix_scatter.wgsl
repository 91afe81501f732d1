// permute_radix_scatter: second step of one LSD radix-sort pass over 4-bit digits
// d = (key >> shift) & 15. offsets is the exclusive scan of permute_radix_count's digit-major counts;
// invocation c walks its chunk in order and moves each (key, idx) pair to
//   dst = offsets[d * numChunks + c] + (number of earlier elements of chunk c with digit d)
// which is a stable counting sort by the digit (equal digits keep their order).
// Layout: keysIn, idxIn, keysOut, idxOut u32 [n]; offsets u32 [16 * numChunks].
// Tiling: one invocation per chunk (serial over the chunk), 64 per workgroup, grid folded into y.
struct Params { n: u32, shift: u32, numChunks: u32, chunk: u32 }
@group(0) @binding(0) var<storage, read> keysIn: array<u32>;
@group(0) @binding(1) var<storage, read> idxIn: array<u32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read_write> keysOut: array<u32>;
@group(0) @binding(4) var<storage, read_write> idxOut: array<u32>;
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = gid.x + gid.y * nwg.x * 64u;
  if (c >= p.numChunks) { return; }
  var o: array<u32, 16>;
  for (var d = 0u; d < 16u; d++) { o[d] = offsets[d * p.numChunks + c]; }
  let start = c * p.chunk;
  let end = min(start + p.chunk, p.n);
  for (var i = start; i < end; i++) {
    let k = keysIn[i];
    let d = (k >> p.shift) & 15u;
    let dst = o[d];
    o[d] = dst + 1u;
    keysOut[dst] = k;
    idxOut[dst] = idxIn[i];
  }
}
