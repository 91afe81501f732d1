// linear_forward: y[n, o] = sum_i x[n, i] * w[o, i] + b[o]   (y = x W^T + b, PyTorch's nn.Linear).
// Layout: x [N, IN] row-major, w [OUT, IN] (PyTorch's fc layout), b [OUT] (read only when
// has_bias != 0; the launcher binds w in its place otherwise), y [N, OUT].
// Tiling: a TS x TS workgroup computes a TS x TS tile of y (one output per invocation; local x
// runs along o, local y along n). The reduction walks IN in steps of TS: each step stages
// x[n0.., k0..] and w[o0.., k0..] tiles in workgroup memory with reads contiguous along IN, then
// every invocation accumulates TS products in a fixed order (deterministic). The w tile is stored
// with a TS+1 row pitch so the column reads hit different banks. Grid: (ceil(OUT/TS), ceil(N/TS)).
override TS: u32 = 16;

struct Params { n: u32, in_features: u32, out_features: u32, has_bias: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> xs: array<f32, TS * TS>;
var<workgroup> ws: array<f32, TS * (TS + 1u)>;

@compute @workgroup_size(TS, TS)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let tx = lid.x;
  let ty = lid.y;
  let n0 = wg.y * TS;
  let o0 = wg.x * TS;
  let n = n0 + ty;
  let o = o0 + tx;
  var acc = 0.0;
  for (var k0 = 0u; k0 < p.in_features; k0 += TS) {
    let k = k0 + tx;
    // x tile: row ty = sample n0 + ty; w tile: row ty = output o0 + ty (both contiguous along k).
    var xv = 0.0;
    if (n0 + ty < p.n && k < p.in_features) { xv = x[(n0 + ty) * p.in_features + k]; }
    xs[ty * TS + tx] = xv;
    var wv = 0.0;
    if (o0 + ty < p.out_features && k < p.in_features) { wv = w[(o0 + ty) * p.in_features + k]; }
    ws[ty * (TS + 1u) + tx] = wv;
    workgroupBarrier();
    for (var kk = 0u; kk < TS; kk++) {
      acc += xs[ty * TS + kk] * ws[tx * (TS + 1u) + kk];
    }
    workgroupBarrier();
  }
  if (n < p.n && o < p.out_features) {
    if (p.has_bias != 0u) { acc += b[o]; }
    y[n * p.out_features + o] = acc;
  }
}
