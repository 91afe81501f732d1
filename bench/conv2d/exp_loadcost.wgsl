// exp_loadcost: cost of one load in a loop on lavapipe, by kind (MODE override):
// 0 = scalar storage load, 1 = vec4 storage load (array<vec4f>), 2 = workgroup-memory scalar load,
// 3 = no load (loop + 4 dependent adds only), 4 = subgroupShuffle of a register value.
enable subgroups;
override MODE: u32 = 0;
struct Params { iters: u32, mask: u32 }
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read> xv: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
var<workgroup> sh: array<f32, 1024>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) sid: u32) {
  for (var i = li; i < 1024u; i += 64u) { sh[i] = f32(i); }
  workgroupBarrier();
  var a = vec4f(0.0);
  var idx = gid.x * 7u;
  for (var i = 0u; i < p.iters; i++) {
    let j = idx & p.mask;
    if (MODE == 0u) { a += vec4f(xs[j], xs[j + 1u], xs[j + 2u], xs[j + 3u]); }
    if (MODE == 1u) { a += xv[j >> 2u]; }
    if (MODE == 2u) { a += vec4f(sh[j & 1023u], sh[(j + 1u) & 1023u], sh[(j + 2u) & 1023u], sh[(j + 3u) & 1023u]); }
    if (MODE == 3u) { a += vec4f(f32(j)); }
    if (MODE == 4u) { let v = f32(j); a += vec4f(subgroupShuffle(v, (sid + 1u) & 7u), subgroupShuffle(v, (sid + 2u) & 7u), subgroupShuffle(v, (sid + 3u) & 7u), subgroupShuffle(v, (sid + 5u) & 7u)); }
    idx += 13u;
  }
  out[gid.x] = a.x + a.y + a.z + a.w;
}
