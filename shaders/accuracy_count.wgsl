// accuracy_count: count[0] = #{ n : argmax_k z[n, k] == label[n] } (top-1 correct predictions).
// argmax takes the first maximum; a NaN logit counts as the maximum (first NaN wins), as in
// PyTorch. A label >= K is never correct. Layout: logits [N, K] row-major f32, labels [N] u32,
// count [1] u32. Tiling: a single workgroup of WG invocations (power of two); invocation t scans
// rows t, t + WG, ..., then a fixed-order integer tree. Deterministic, no atomics.
override WG: u32 = 256;

struct Params { n: u32, k: u32 }
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> count: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> s_cnt: array<u32, WG>;

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = 0u;
  for (var r = lid; r < p.n; r += WG) {
    let base = r * p.k;
    var best = logits[base];
    var best_at = 0u;
    for (var j = 1u; j < p.k; j++) {
      let v = logits[base + j];
      if (!is_nan(best) && (v > best || is_nan(v))) {
        best = v;
        best_at = j;
      }
    }
    if (best_at == labels[r]) { acc += 1u; }
  }
  s_cnt[lid] = acc;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { s_cnt[lid] += s_cnt[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { count[0] = s_cnt[0]; }
}
