// bench_read: the storage-buffer read-bandwidth ceiling (benchmark only).
// Invocation t of p.threads sums src[t + k * p.threads] over k < PER (element index < p.n4; so
// neighbouring invocations read neighbouring vec4s; CONTIG: src[t*PER + k], its own run) and writes out[t] = the sum of that vec4's lanes.
// Bytes counted: n4 * 16 read (the out writes are 1 / (4 * PER) of that and are not counted).
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
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.threads) { return; }
  var acc = vec4f(0.0);
  for (var k = 0u; k < PER; k++) {
    let i = select(t + k * p.threads, t * PER + k, CONTIG);
    if (i < p.n4 / EW) {
      let e = src[i];
      for (var q = 0u; q < EW; q++) { acc += vec_of(e, q); }
    }
  }
  out[t] = acc.x + acc.y + acc.z + acc.w;
}
