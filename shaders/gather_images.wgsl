// gather_images: copy the raw bytes of the batch images that live in one dataset chunk into their
// slots of the batch's staging buffer (the input of augment_sample). For j < num_workgroups.x (the
// number of the batch's images in chunk p.chunk):
//   first = idx[p.firsts + p.chunk]                  (where this chunk's stretch of the list begins)
//   k = idx[p.list + first + j]                      (a batch position whose image is in this chunk)
//   i = idx[k * p.stride + p.at]                     (its dataset index, start <= i < start + chunk size)
//   out[k*192 + w] = src[(i - p.start)*192 + w]      for the 192 16-byte words w of one 3,072-byte image.
// The GPU dataset is split into chunks (one storage binding is capped at 128 MiB; CIFAR-10's training
// set is 150 MB), so a batch records one dispatch per chunk it touches; the host lists the batch
// positions grouped by chunk (at word p.list of idx), so the dispatches together write every slot once.
// Everything that changes from batch to batch (the list, where each chunk's stretch begins) is in idx,
// written with the batch's one queue write: the uniforms take one value per chunk and batch size, so a
// step creates no new uniform buffer or bind group however its images fall into the chunks.
// Layout: src = one chunk's images back to back (vec4u); idx = u32 (augment_sample's per-sample
// parameters, stride 8 with the dataset index at word 7, then the list, then one first per chunk);
// out = the batch's images (vec4u).
// Tiling: one workgroup of 64 invocations per image, 3 coalesced words each: lavapipe pays a fixed
// cost per workgroup, and a real GPU still gets 128 x 64 invocations per batch.
struct Params { chunk: u32, firsts: u32, start: u32, list: u32, stride: u32, at: u32 }
@group(0) @binding(0) var<storage, read> src: array<vec4u>;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4u>;
@group(0) @binding(3) var<uniform> p: Params;

const WORDS = 192u; // 3,072 bytes / 16

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let k = idx[p.list + idx[p.firsts + p.chunk] + wg.x];
  let src_at = (idx[k * p.stride + p.at] - p.start) * WORDS;
  let dst_at = k * WORDS;
  for (var w = lid; w < WORDS; w += 64u) {
    out[dst_at + w] = src[src_at + w];
  }
}
