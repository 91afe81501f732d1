// fill: out[i] = bitcast(bits) for every 32-bit word of a tensor. Any 32-bit dtype (0 is zero for
// f32/u32/i32; 0x7fc00000 is the f32 NaN tests use to poison outputs). Written as u32 so any bit
// pattern is stored unchanged. One store per invocation, of an element E: a vec4u (default), a
// 64-byte struct of four vec4u (variant `wide`, size % 16 == 0) or one u32 (variant `scalar`); on
// lavapipe wider stores move more bytes per per-lane loop trip (see include/lanes.wgsl). n counts
// elements; 256 invocations per workgroup, the grid folded into y.
// #if wide
struct E { a: vec4u, b: vec4u, c: vec4u, d: vec4u }
fn splat(bits: u32) -> E { let v = vec4u(bits); return E(v, v, v, v); }
// #elif scalar
alias E = u32;
fn splat(bits: u32) -> E { return bits; }
// #else
alias E = vec4u;
fn splat(bits: u32) -> E { return vec4u(bits); }
// #endif
struct Params { n: u32, bits: u32 }
@group(0) @binding(0) var<storage, read_write> out: array<E>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < p.n) { out[i] = splat(p.bits); }
}
