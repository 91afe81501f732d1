// linear_forward: y[n, o] = sum_i x[n, i] * w[o, i] + b[o]   (y = x W^T + b, PyTorch's nn.Linear).
// Layout: x [N, IN] row-major, w [OUT, IN] (PyTorch's fc layout), b [OUT] (read only when
// has_bias != 0; the launcher binds w in its place otherwise), y [N, OUT].
// Tiling: each invocation computes a 4 x 4 register block y[n0..n0+3, o0..o0+3], walking IN once:
// per step it loads 4 floats of x (rows n0..n0+3) and 4 of w (rows o0..o0+3), each row read
// contiguously, for 16 multiply-adds. No workgroup memory and no barriers (they are costly on CPU
// drivers; the caches serve the re-reads). Rows past the edges are clamped to the last row for the
// loads and not stored. Sums run in index order: deterministic. Invocation t takes block
// (t / blocks_o, t % blocks_o); WG invocations a workgroup, grid folded into y past 65535 groups.
override WG: u32 = 64;

struct Params { n: u32, in_features: u32, out_features: u32, has_bias: u32, blocks_o: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = gid.x + gid.y * nwg.x * WG;
  let nb = t / p.blocks_o;
  let n0 = nb * 4u;
  if (n0 >= p.n) { return; }
  let o0 = (t - nb * p.blocks_o) * 4u;
  let k = p.in_features;
  let xr = vec4<u32>(n0, min(n0 + 1u, p.n - 1u), min(n0 + 2u, p.n - 1u), min(n0 + 3u, p.n - 1u)) * k;
  let last_o = p.out_features - 1u;
  let wr = vec4<u32>(min(o0, last_o), min(o0 + 1u, last_o), min(o0 + 2u, last_o), min(o0 + 3u, last_o)) * k;
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  for (var i = 0u; i < k; i++) {
    let wv = vec4<f32>(w[wr.x + i], w[wr.y + i], w[wr.z + i], w[wr.w + i]);
    a0 += x[xr.x + i] * wv;
    a1 += x[xr.y + i] * wv;
    a2 += x[xr.z + i] * wv;
    a3 += x[xr.w + i] * wv;
  }
  var bias = vec4<f32>(0.0);
  if (p.has_bias != 0u) {
    bias = vec4<f32>(b[min(o0, last_o)], b[min(o0 + 1u, last_o)], b[min(o0 + 2u, last_o)], b[min(o0 + 3u, last_o)]);
  }
  let rows = array<vec4<f32>, 4>(a0 + bias, a1 + bias, a2 + bias, a3 + bias);
  for (var r = 0u; r < 4u; r++) {
    if (n0 + r >= p.n) { break; }
    for (var c = 0u; c < 4u; c++) {
      if (o0 + c < p.out_features) { y[(n0 + r) * p.out_features + o0 + c] = rows[r][c]; }
    }
  }
}
