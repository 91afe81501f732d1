// linear_input_grad: dx[n, i] = sum_o dy[n, o] * w[o, i]   (dX = dY W).
// Layout: dy [N, OUT], w [OUT, IN] (PyTorch's fc layout), dx [N, IN], all row-major.
// Tiling: a TS x TS workgroup computes a TS x TS tile of dx (local x along i, local y along n),
// walking OUT in steps of TS: it stages dy[n0.., o0..] (contiguous along o) and w[o0.., i0..]
// (contiguous along i) in workgroup memory, then each invocation accumulates TS products in a
// fixed order (deterministic). Grid: (ceil(IN/TS), ceil(N/TS)).
override TS: u32 = 16;

struct Params { n: u32, in_features: u32, out_features: u32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> dys: array<f32, TS * TS>;
var<workgroup> ws: array<f32, TS * TS>;

@compute @workgroup_size(TS, TS)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let tx = lid.x;
  let ty = lid.y;
  let n0 = wg.y * TS;
  let i0 = wg.x * TS;
  let n = n0 + ty;
  let i = i0 + tx;
  var acc = 0.0;
  for (var o0 = 0u; o0 < p.out_features; o0 += TS) {
    var dv = 0.0;
    if (n0 + ty < p.n && o0 + tx < p.out_features) { dv = dy[(n0 + ty) * p.out_features + o0 + tx]; }
    dys[ty * TS + tx] = dv;
    var wv = 0.0;
    if (o0 + ty < p.out_features && i < p.in_features) { wv = w[(o0 + ty) * p.in_features + i]; }
    ws[ty * TS + tx] = wv;
    workgroupBarrier();
    for (var kk = 0u; kk < TS; kk++) {
      acc += dys[ty * TS + kk] * ws[kk * TS + tx];
    }
    workgroupBarrier();
  }
  if (n < p.n && i < p.in_features) { dx[n * p.in_features + i] = acc; }
}
