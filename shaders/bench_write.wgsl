// bench_write: the storage-buffer write-bandwidth ceiling (benchmark only).
// Invocation t of p.threads writes dst[t + k * p.threads] (CONTIG: dst[t*PER + k]) = vec4(p.value) for k < PER (element index
// < p.n4). Bytes counted: n4 * 16 written.
// Tiling: one invocation per PER elements (vec4s, or 64-byte structs in the `wide` variant), WG per workgroup, grid folded into y.
override WG: u32 = 256;
override PER: u32 = 8;
// CONTIG: invocation t takes the PER consecutive elements t*PER + k instead (its own contiguous run);
// lavapipe runs each access as a per-lane loop, so a lane's run is what stays in cache lines
override CONTIG: bool = false;
// Element E: a vec4, or in the `wide` variant a 64-byte struct of four (include/lanes.wgsl);
// p.n4 counts vec4s, the kernel moves p.n4 / EW elements.
// #include "lanes.wgsl"
struct Params { n4: u32, threads: u32, value: f32 }
@group(0) @binding(0) var<storage, read_write> dst: array<E>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.threads) { return; }
  let v = elem_of(array<V, 4>(V(p.value), V(p.value), V(p.value), V(p.value)));
  for (var k = 0u; k < PER; k++) {
    let i = select(t + k * p.threads, t * PER + k, CONTIG);
    if (i < p.n4 / EW) { dst[i] = v; }
  }
}
