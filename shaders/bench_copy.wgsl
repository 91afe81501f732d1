// bench_copy: the storage read+write bandwidth ceiling (benchmark only): dst[i] = src[i] for i < n4,
// vec4 elements. Invocation t of p.threads copies elements t + k * p.threads, k < PER (or, CONTIG,
// t*PER + k).
// Bytes counted: n4 * 16 read + n4 * 16 written (what memory-bound kernels that read and write,
// like BN or SGD, are compared against).
// Tiling: one invocation per PER elements (vec4s, or 64-byte structs in the `wide` variant), WG per workgroup, grid folded into y.
override WG: u32 = 256;
override PER: u32 = 8;
// CONTIG: invocation t takes the PER consecutive elements t*PER + k instead (its own contiguous run);
// lavapipe runs each access as a per-lane loop, so a lane's run is what stays in cache lines
override CONTIG: bool = false;
// Element E: a vec4, or in the `wide` variant a 64-byte struct of four (include/lanes.wgsl);
// p.n4 counts vec4s, the kernel moves p.n4 / EW elements.
// #include "lanes.wgsl"
struct Params { n4: u32, threads: u32 }
@group(0) @binding(0) var<storage, read> src: array<E>;
@group(0) @binding(1) var<storage, read_write> dst: array<E>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.threads) { return; }
  for (var k = 0u; k < PER; k++) {
    let i = select(t + k * p.threads, t * PER + k, CONTIG);
    if (i < p.n4 / EW) { dst[i] = src[i]; }
  }
}
