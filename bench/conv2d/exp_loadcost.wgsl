// exp_loadcost: what one vec4 (4 floats) costs to bring into a lane, by kind of access (MODE
// override); timed by bench/load_costs.ts. Every invocation runs p.iters trips of a loop; each trip
// gets one vec4 by the mode's access (MODE 4: a 64-byte struct, four vec4s) at an index j that
// differs per lane (i * 13 + global id * 7, wrapped to p.mask + 1 vec4s: 64 KiB, cache-resident)
// and adds it to a sum (so nothing is dead); MODE 0 is the loop and the add alone, the baseline.
//   0 none (baseline)               1 storage f32 x4 (four scalar loads)   2 storage vec4
//   3 storage vec4 at one address for the whole workgroup (changes each trip)
//   4 storage 64-byte struct        5 uniform-buffer vec4                  6 workgroup memory f32 x4
//   7 read-only storage texture (rgba32float, textureLoad)                 8 sampled texture (textureLoad)
//   9 subgroupBroadcast x4 (constant lanes)   10 subgroupShuffle x4 (computed lanes)
//  12 storage vec4 store      13 storage 64-byte struct store (4 vec4s)
//  14 write-only storage texture store (rgba32float, textureStore, 1024 x 1024)
//  (the stores go to the invocation's own 16 vec4s, rewritten every 16 trips: 16 MiB in all)
//  11 fma x16: sixteen vec4 multiply-adds per trip into four sums (16 independent chains of SIMD
//     lanes, a constant-trip loop Mesa unrolls): the arithmetic the accesses are weighed against
enable subgroups;
override MODE: u32 = 0;
struct Params { iters: u32, mask: u32 }
struct Q16 { a: vec4f, b: vec4f, c: vec4f, d: vec4f }
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read> xv: array<vec4f>;
@group(0) @binding(2) var<storage, read> xq: array<Q16>;
@group(0) @binding(3) var<uniform> xu: array<vec4f, 4096>;
@group(0) @binding(4) var xt: texture_2d<f32>;
@group(0) @binding(5) var xst: texture_storage_2d<rgba32float, read>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;
@group(0) @binding(8) var<storage, read_write> ov: array<vec4f>;
@group(0) @binding(9) var<storage, read_write> oq: array<Q16>;
@group(0) @binding(10) var ot: texture_storage_2d<rgba32float, write>;
var<workgroup> sh: array<f32, 4096>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32,
        @builtin(subgroup_invocation_id) sid: u32) {
  if (MODE == 6u) {
    for (var i = li; i < 4096u; i += 64u) { sh[i] = f32(i); }
    workgroupBarrier();
  }
  var a = vec4f(0.0);
  var b = vec4f(1.0);
  var c = vec4f(2.0);
  var d = vec4f(3.0);
  var idx = gid.x * 7u;
  var uni = wid.x * 7u;
  for (var i = 0u; i < p.iters; i++) {
    let j = idx & p.mask;
    let t = vec2u(j & 63u, j >> 6u);
    if (MODE == 0u) { a += vec4f(f32(j)); }
    if (MODE == 1u) { a += vec4f(xs[4u * j], xs[4u * j + 1u], xs[4u * j + 2u], xs[4u * j + 3u]); }
    if (MODE == 2u) { a += xv[j]; }
    if (MODE == 3u) { a += xv[uni & p.mask]; }
    if (MODE == 4u) { let q = xq[j >> 2u]; a += (q.a + q.b) + (q.c + q.d); }
    if (MODE == 5u) { a += xu[j]; }
    if (MODE == 6u) { a += vec4f(sh[(4u * j) & 4095u], sh[(4u * j + 1u) & 4095u], sh[(4u * j + 2u) & 4095u], sh[(4u * j + 3u) & 4095u]); }
    if (MODE == 7u) { a += textureLoad(xst, t); }
    if (MODE == 8u) { a += textureLoad(xt, t, 0); }
    if (MODE == 9u) { let v = f32(j); a += vec4f(subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u), subgroupBroadcast(v, 5u)); }
    if (MODE == 10u) { let v = f32(j); a += vec4f(subgroupShuffle(v, (sid + 1u) & 7u), subgroupShuffle(v, (sid + 2u) & 7u), subgroupShuffle(v, (sid + 3u) & 7u), subgroupShuffle(v, (sid + 5u) & 7u)); }
    if (MODE == 11u) {
      let v = vec4f(f32(j));
      for (var r = 0u; r < 4u; r++) { a = fma(a, vec4f(0.5), v); b = fma(b, vec4f(0.25), v); c = fma(c, vec4f(0.75), v); d = fma(d, vec4f(0.125), v); }
    }
    // stores: each invocation rewrites its own 16 vec4s (256 bytes, so no two threads share a line)
    let js = gid.x * 16u + (i & 15u);
    if (MODE == 12u) { ov[js] = a + vec4f(f32(j)); }
    if (MODE == 13u) { let v = a + vec4f(f32(j)); oq[js >> 2u] = Q16(v, v + 1.0, v + 2.0, v + 3.0); }
    if (MODE == 14u) { textureStore(ot, vec2u(js & 1023u, js >> 10u), a + vec4f(f32(j))); }
    idx += 13u;
    uni += 13u;
  }
  let s = a + b + c + d;
  out[gid.x] = s.x + s.y + s.z + s.w;
}
