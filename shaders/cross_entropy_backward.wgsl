// cross_entropy_backward: d loss / d z[n, k] = (softmax(z[n])_k - [k == label[n]]) / N * g, with
// softmax(z[n])_k = exp(z[n, k] - lse[n]) (lse saved by cross_entropy_forward) and g = dloss[0] the
// upstream gradient of the mean loss. A label >= K gives a NaN row (its loss was NaN too).
// Layout: logits, dlogits [N, K] row-major; labels [N] u32; lse [N]; dloss [1].
// Tiling: one invocation per logit, 256 per workgroup, grid folded into y past 65535 groups.
struct Params { n: u32, k: u32 }
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read> lse: array<f32>;
@group(0) @binding(3) var<storage, read> dloss: array<f32>;
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n * p.k) { return; }
  let r = i / p.k;
  let j = i - r * p.k;
  let label = labels[r];
  var onehot = select(0.0, 1.0, j == label);
  if (label >= p.k) {
    var bits = 0x7fc00000u; // runtime NaN (WGSL rejects NaN constant expressions)
    onehot = bitcast<f32>(bits);
  }
  dlogits[i] = (exp(logits[i] - lse[r]) - onehot) * (dloss[0] / f32(p.n));
}
