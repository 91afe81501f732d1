// fill: out[i] = bitcast(bits) for i < n. Any 32-bit dtype (0 is zero for f32/u32/i32; 0x7fc00000 is
// the f32 NaN tests use to poison outputs). One invocation per element, 256 per workgroup.
struct Params { n: u32, bits: u32 }
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < p.n) { out[i] = p.bits; }
}
