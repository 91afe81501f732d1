// linear_weight_grad: dw[o, i] = sum_n dy[n, o] * x[n, i]   (dW = dY^T X, summed over the batch).
// Layout: dy [N, OUT], x [N, IN], dw [OUT, IN] (PyTorch's fc layout), all row-major.
// Tiling: a TS x TS workgroup computes a TS x TS tile of dw (local x along i, local y along o),
// walking the batch in steps of TS: it stages dy[n0.., o0..] (contiguous along o) and
// x[n0.., i0..] (contiguous along i) in workgroup memory, then each invocation accumulates TS
// products in batch order (deterministic, no atomics). The dy tile uses a TS+1 pitch so the
// column reads hit different banks. Grid: (ceil(IN/TS), ceil(OUT/TS)). The bias gradient is
// linear_bias_grad.
override TS: u32 = 16;

struct Params { n: u32, in_features: u32, out_features: u32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> dys: array<f32, TS * (TS + 1u)>;
var<workgroup> xs: array<f32, TS * TS>;

@compute @workgroup_size(TS, TS)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let tx = lid.x;
  let ty = lid.y;
  let o0 = wg.y * TS;
  let i0 = wg.x * TS;
  let o = o0 + ty;
  let i = i0 + tx;
  var acc = 0.0;
  for (var n0 = 0u; n0 < p.n; n0 += TS) {
    // Row ty of both tiles is sample n0 + ty.
    var dv = 0.0;
    if (n0 + ty < p.n && o0 + tx < p.out_features) { dv = dy[(n0 + ty) * p.out_features + o0 + tx]; }
    dys[ty * (TS + 1u) + tx] = dv;
    var xv = 0.0;
    if (n0 + ty < p.n && i < p.in_features) { xv = x[(n0 + ty) * p.in_features + i]; }
    xs[ty * TS + tx] = xv;
    workgroupBarrier();
    for (var kk = 0u; kk < TS; kk++) {
      acc += dys[kk * (TS + 1u) + ty] * xs[kk * TS + tx];
    }
    workgroupBarrier();
  }
  if (o < p.out_features && i < p.in_features) { dw[o * p.in_features + i] = acc; }
}
