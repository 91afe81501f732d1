// permute_segment_ids: the segment id of every weight for the shuffles of Figs. 5-6 (permuteSegments).
// Weights are [O, I, S] row-major (conv OIHW with S = H*W; fc [out, in] with S = 1; element
// i = (o * I + c) * S + k). By mode the id is
//   0 layer: 0,  1 output filter: o,  2 input channel: c,  3 kernel position: k
// and with sameSign != 0 it becomes 2 * id + (w < 0), so values only move among positions of their
// own sign (zeros count as non-negative). Pruned positions (mask == 0) get 0xffffffff (fixed).
// Tiling: one invocation per element, 256 per workgroup, grid folded into y past 65535 groups.
struct Params { n: u32, channels: u32, inner: u32, mode: u32, sameSign: u32 }
@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read> mask: array<f32>;
@group(0) @binding(2) var<storage, read_write> ids: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  var id = 0u;
  if (p.mode == 1u) { id = i / (p.channels * p.inner); }
  else if (p.mode == 2u) { id = (i / p.inner) % p.channels; }
  else if (p.mode == 3u) { id = i % p.inner; }
  if (p.sameSign != 0u) { id = 2u * id + select(0u, 1u, w[i] < 0.0); }
  ids[i] = select(0xffffffffu, id, mask[i] != 0.0);
}
