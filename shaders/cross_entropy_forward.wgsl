// cross_entropy_forward: softmax cross-entropy averaged over the batch,
//   lse[n] = log sum_k exp(z[n, k])   (computed as m + log sum exp(z - m), m = max_k z[n, k])
//   loss   = (1 / N) * sum_n (lse[n] - z[n, label[n]]).
// A label >= K makes its row's loss NaN (no out-of-bounds read; the NaN reaches the loss the trainer
// reads back, so a bad label cannot pass silently). NaN or inf logits also give a NaN/inf loss: no
// clamping. Layout: logits [N, K] row-major f32, labels [N] u32, lse [N] (saved for the backward),
// loss [1]. Tiling: a single workgroup of WG invocations (power of two); invocation t handles rows
// t, t + WG, ... (summing their losses in that order), then a fixed-order tree: deterministic.
override WG: u32 = 256;

struct Params { n: u32, k: u32 }
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> s_sum: array<f32, WG>;

fn quiet_nan() -> f32 {
  var bits = 0x7fc00000u; // a runtime value: WGSL rejects NaN constant expressions
  return bitcast<f32>(bits);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var r = lid; r < p.n; r += WG) {
    let base = r * p.k;
    var m = logits[base];
    for (var j = 1u; j < p.k; j++) { m = max(m, logits[base + j]); }
    var s = 0.0;
    for (var j = 0u; j < p.k; j++) { s += exp(logits[base + j] - m); }
    let l = m + log(s);
    lse[r] = l;
    let label = labels[r];
    if (label < p.k) { acc += l - logits[base + label]; } else { acc += quiet_nan(); }
  }
  s_sum[lid] = acc;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { s_sum[lid] += s_sum[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { loss[0] = s_sum[0] / f32(p.n); }
}
