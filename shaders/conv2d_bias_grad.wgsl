// conv2d_bias_grad: db[o] = sum_{n,oh,ow} dy[n,o,oh,ow]. Layout: dy NCHW [N,O,OH,OW], db [O].
// One workgroup per output channel (workgroup_id.x = o): invocation l sums elements l, l+WG, ...
// of the flattened (n, oh*OW+ow) range in ascending order, then a fixed-shape tree in workgroup
// memory adds the WG partial sums. Deterministic (no atomics). WG must be a power of two <= 256.
override WG: u32 = 64;
struct Params { N: u32, O: u32, HW: u32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> db: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let o = wid.x;
  let total = p.N * p.HW;
  var s = 0.0;
  for (var i = lid; i < total; i += WG) {
    let n = i / p.HW;
    s += dy[(n * p.O + o) * p.HW + (i - n * p.HW)];
  }
  red[lid] = s;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lid < h) { red[lid] += red[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) { db[o] = red[0]; }
}
