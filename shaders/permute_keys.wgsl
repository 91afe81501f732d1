// permute_keys: start a stable radix sort of the positions 0..n-1 of a tensor (permuteSegments).
//   idx[p] = p, and keys[p] = the Philox4x32-10 word of element p for (seed, stream) (mode 0: random
//   sort keys; counter (p >> 2, stream, 0, 0), word p & 3, as rng_uniform's raw bits), or
//   keys[p] = min(seg[p], numSegments) (mode 1: the segment key; fixed positions 0xffffffff and any
//   id >= numSegments become numSegments, which sorts after every real segment).
// Layout: seg, keys, idx are u32 [n]. Tiling: one invocation per 4 consecutive positions (one Philox
// block), 256 per workgroup, grid folded into y past 65535 groups.
// #include "philox.wgsl"
struct Params { n: u32, mode: u32, key0: u32, key1: u32, stream: u32, numSegments: u32 }
@group(0) @binding(0) var<storage, read> seg: array<u32>;
@group(0) @binding(1) var<storage, read_write> keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> idx: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = gid.x + gid.y * nwg.x * 256u;
  if (b >= (p.n + 3u) / 4u) { return; }
  var r = vec4u(0u);
  if (p.mode == 0u) { r = philox4x32_10(vec4u(b, p.stream, 0u, 0u), vec2u(p.key0, p.key1)); }
  for (var k = 0u; k < 4u; k++) {
    let i = b * 4u + k;
    if (i < p.n) {
      idx[i] = i;
      if (p.mode == 0u) { keys[i] = r[k]; } else { keys[i] = min(seg[i], p.numSegments); }
    }
  }
}
