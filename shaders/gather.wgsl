// gather: out[i] = src[idx[i]], i < n; any 32-bit dtype (moved as u32 bits). An index outside src
// (idx[i] >= nsrc) writes 0xffffffff (NaN as f32) so the caller's bug shows.
// Layout: contiguous src [nsrc], idx [n] (u32), out [n]. Tiling: one invocation per output element,
// 256 per workgroup (coalesced reads of idx and writes of out; reads of src are random), grid folded
// into y past 65535 groups.
struct Params { n: u32, nsrc: u32 }
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let j = idx[i];
  out[i] = select(0xffffffffu, src[min(j, p.nsrc - 1u)], j < p.nsrc);
}
