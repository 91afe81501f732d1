// scatter: out[idx[i]] = src[i], i < n; any 32-bit dtype (moved as u32 bits). Indices outside out
// (idx[i] >= nout) are skipped. idx must not repeat (with repeats the winner is unspecified).
// Elements of out no index names keep their values.
// Layout: contiguous src [n], idx [n] (u32), out [nout]. Tiling: one invocation per source element,
// 256 per workgroup (coalesced reads, random writes), grid folded into y past 65535 groups.
struct Params { n: u32, nout: u32 }
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let j = idx[i];
  if (j < p.nout) { out[j] = src[i]; }
}
