// rng_uniform: out[i] = lo + (hi - lo) * u_i (f32 bits), or out[i] = raw Philox bits (raw != 0, u32
// tensors), i < n. u_i is the Philox4x32-10 uniform of element i (see include/philox.wgsl):
// block b = i >> 2 has counter (b, stream, 0, 0) and key (key0, key1); element i uses word i & 3.
// Layout: any contiguous 32-bit tensor, written as u32 bits. Tiling: one invocation per Philox block
// (4 consecutive elements), 256 invocations per workgroup, grid folded into y past 65535 groups.
// #include "philox.wgsl"
struct Params { n: u32, key0: u32, key1: u32, stream: u32, lo: f32, hi: f32, raw: u32 }
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = gid.x + gid.y * nwg.x * 256u;
  if (b >= (p.n + 3u) / 4u) { return; }
  let r = philox4x32_10(vec4u(b, p.stream, 0u, 0u), vec2u(p.key0, p.key1));
  let scale = p.hi - p.lo;
  for (var k = 0u; k < 4u; k++) {
    let i = b * 4u + k;
    if (i < p.n) {
      let u = bitcast<u32>(p.lo + scale * philox_uniform(r[k]));
      out[i] = select(u, r[k], p.raw != 0u);
    }
  }
}
