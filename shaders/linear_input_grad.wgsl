// linear_input_grad: dx[n, i] = sum_o dy[n, o] * w[o, i]   (dX = dY W).
// Layout: dy [N, OUT], w [OUT, IN] (PyTorch's fc layout), dx [N, IN], all row-major.
// Tiling: each invocation computes a 4 x 4 register block dx[n0..n0+3, i0..i0+3], walking OUT
// once: per step 4 floats of dy (rows n0..n0+3, each read contiguously along o) and 4 contiguous
// floats of w's row o, for 16 multiply-adds. No workgroup memory, no barriers; edge rows/columns
// are clamped for the loads and not stored. Sums run in index order: deterministic. Invocation t
// takes block (t / blocks_i, t % blocks_i); WG a workgroup, grid folded into y past 65535 groups.
override WG: u32 = 64;

struct Params { n: u32, in_features: u32, out_features: u32, blocks_i: u32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = gid.x + gid.y * nwg.x * WG;
  let nb = t / p.blocks_i;
  let n0 = nb * 4u;
  if (n0 >= p.n) { return; }
  let i0 = (t - nb * p.blocks_i) * 4u;
  let m = p.out_features;
  let dr = vec4<u32>(n0, min(n0 + 1u, p.n - 1u), min(n0 + 2u, p.n - 1u), min(n0 + 3u, p.n - 1u)) * m;
  let last_i = p.in_features - 1u;
  let wc = vec4<u32>(min(i0, last_i), min(i0 + 1u, last_i), min(i0 + 2u, last_i), min(i0 + 3u, last_i));
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  for (var o = 0u; o < m; o++) {
    let base = o * p.in_features;
    let wv = vec4<f32>(w[base + wc.x], w[base + wc.y], w[base + wc.z], w[base + wc.w]);
    a0 += dy[dr.x + o] * wv;
    a1 += dy[dr.y + o] * wv;
    a2 += dy[dr.z + o] * wv;
    a3 += dy[dr.w + o] * wv;
  }
  let rows = array<vec4<f32>, 4>(a0, a1, a2, a3);
  for (var r = 0u; r < 4u; r++) {
    if (n0 + r >= p.n) { break; }
    for (var c = 0u; c < 4u; c++) {
      if (i0 + c < p.in_features) { dx[(n0 + r) * p.in_features + i0 + c] = rows[r][c]; }
    }
  }
}
