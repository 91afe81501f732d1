// linear_weight_grad: dw[o, i] = sum_n dy[n, o] * x[n, i]   (dW = dY^T X, summed over the batch).
// Layout: dy [N, OUT], x [N, IN], dw [OUT, IN] (PyTorch's fc layout), all row-major.
// Tiling: each invocation computes a 4 x 4 register block dw[o0..o0+3, i0..i0+3], walking the
// batch once: per sample 4 contiguous floats of dy's row and 4 contiguous floats of x's row, for 16
// multiply-adds. No workgroup memory, no barriers, no atomics; edge rows/columns are clamped for
// the loads and not stored. Sums run in batch order: deterministic. Invocation t takes block
// (t / blocks_i, t % blocks_i); WG a workgroup, grid folded into y past 65535 groups. The bias
// gradient is linear_bias_grad.
override WG: u32 = 64;

struct Params { n: u32, in_features: u32, out_features: u32, blocks_i: u32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = gid.x + gid.y * nwg.x * WG;
  let ob = t / p.blocks_i;
  let o0 = ob * 4u;
  if (o0 >= p.out_features) { return; }
  let i0 = (t - ob * p.blocks_i) * 4u;
  let last_o = p.out_features - 1u;
  let last_i = p.in_features - 1u;
  let dc = vec4<u32>(o0, min(o0 + 1u, last_o), min(o0 + 2u, last_o), min(o0 + 3u, last_o));
  let xc = vec4<u32>(min(i0, last_i), min(i0 + 1u, last_i), min(i0 + 2u, last_i), min(i0 + 3u, last_i));
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  for (var n = 0u; n < p.n; n++) {
    let db = n * p.out_features;
    let xb = n * p.in_features;
    let xv = vec4<f32>(x[xb + xc.x], x[xb + xc.y], x[xb + xc.z], x[xb + xc.w]);
    a0 += dy[db + dc.x] * xv;
    a1 += dy[db + dc.y] * xv;
    a2 += dy[db + dc.z] * xv;
    a3 += dy[db + dc.w] * xv;
  }
  let rows = array<vec4<f32>, 4>(a0, a1, a2, a3);
  for (var r = 0u; r < 4u; r++) {
    if (o0 + r >= p.out_features) { break; }
    for (var c = 0u; c < 4u; c++) {
      if (i0 + c < p.in_features) { dw[(o0 + r) * p.in_features + i0 + c] = rows[r][c]; }
    }
  }
}
