// augment_sample: build one normalised f32 NCHW batch [N, 3, 32, 32] from raw CIFAR bytes, applying a
// per-sample 2-D affine transform (crop with zero padding, flip, exact 90° rotations, or any affine with
// bilinear filtering) and optionally a blur, in one pass. Also writes each sample's label.
//
//   src  : N * 768 u32 words; image s is bytes [s*3072, (s+1)*3072) in CIFAR order (R plane, G plane,
//          B plane, 32x32 row-major), 4 pixel bytes per word, little-endian (byte 0 = bits 0..7).
//   prm  : N * 8 u32 words per sample: [a, b, c, d, tx, ty] as f32 bits (gl-matrix mat2d, output pixel
//          (x, y) -> source (a*x + c*y + tx, b*x + d*y + ty), pixel centres at integers), label, and the
//          dataset index (read by gather_images, not here).
//   out  : out[((s*3 + ch)*32 + y)*32 + x] = (v / 255 - mean[ch]) / std[ch], v the sampled source value.
//   labels: labels[s] = prm[s*8 + 6].
//
// Sampling (p.bilinear): 0 = nearest, v = img(floor(sx + 0.5), floor(sy + 0.5)); 1 = bilinear over the four
// neighbours floor(sx), floor(sx)+1 (same in y). Source pixels outside 0..31 read as 0 (zero padding in
// raw pixel space, so padding normalises to -mean/std, as torchvision's RandomCrop(padding=4)).
//
// Blur (p.blur = f in {1, 2, 4, 8, 16, 32}; 1 = off), applied to the source image before sampling, in
// float (no re-quantisation): area downsample to P = 32/f (mean of each f x f block), then bilinear upsample
// back to 32 with align_corners=False, as PyTorch F.interpolate(mode='area') then
// F.interpolate(size=32, mode='bilinear', align_corners=False):
//   u = max((x + 0.5) / f - 0.5, 0), x0 = floor(u), x1 = min(x0 + 1, P - 1), wx = u - x0  (same in y).
//
// Tiling: one workgroup of WG invocations (override, 8 to 256) per (sample, channel) plane; workgroup
// index g = wid.x + wid.y * nwg.x, s = g / 3, ch = g % 3. The plane is staged in workgroup memory (each
// invocation unpacks words t, t+WG, ... = 4 pixels each), blurred there if asked, and each invocation
// then writes output pixels t, t+WG, ... (the same values at any WG).
// Variant `crop_flip` (the launcher picks it when every sample's map is an integer translation with
// an optional horizontal flip, a = +-1, b = c = 0, d = 1, and there is no blur: the training
// augmentation): no workgroup memory and no barrier; one invocation per 4 output rows (s, ch, y0..y0+3),
// 64 invocations per workgroup. Per row it loads the source row's 8 words as two vec4u (none when the
// row is outside the image), reverses them for a flip (word order and bytes), shifts the 32 bytes by
// the column offset with funnel shifts (words outside the row read as 0), and stores the 32 normalised
// floats as two 64-byte structs. On lavapipe every storage access is a per-lane loop, so a row costs
// 2 source loads and 2 stores instead of 6 accesses per 4 pixels, and the sample's 2 parameter loads
// and lavapipe's per-invocation set-up (integer divisions per lane) are shared by 4 rows: 20% fewer
// instructions than one row per invocation, 4% faster (2026-12-06). Same values.
// DIRECT (override, crop_flip only): src and src1 are the dataset's first two chunks themselves
// (p.chunk_images images each; the same buffer twice for a one-chunk dataset) instead of the batch's
// images gathered into a staging buffer: sample s's image is image prm[s*8 + 7] of the dataset, in
// chunk c = index / chunk_images at image index - c * chunk_images. No gather_images dispatch and no
// staging buffer; the same bytes read, the same values.
struct Params {
  n: u32,
  blur: u32,
  bilinear: u32,
  chunk_images: u32,  // DIRECT: images per dataset chunk
  mean: vec4<f32>,
  stdev: vec4<f32>,
}
// #if crop_flip
struct Q16 { a: vec4f, b: vec4f, c: vec4f, d: vec4f }  // 16 floats: one 64-byte access
@group(0) @binding(0) var<storage, read> src: array<vec4u>;
@group(0) @binding(5) var<storage, read> src1: array<vec4u>;  // DIRECT: the dataset's second chunk
@group(0) @binding(1) var<storage, read> prm: array<vec4u>;   // per sample: (a, b, c, d), (tx, ty, label, index)
override DIRECT: bool = false;
@group(0) @binding(2) var<storage, read_write> out: array<Q16>;
// #else
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read> prm: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
// #endif
@group(0) @binding(3) var<storage, read_write> labels: array<u32>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> plane: array<f32, 1024>;
var<workgroup> pooled: array<f32, 256>;

fn texel(x: i32, y: i32) -> f32 {
  if (x < 0 || x > 31 || y < 0 || y > 31) { return 0.0; }
  return plane[u32(y) * 32u + u32(x)];
}

// #if crop_flip
// word i (0..7) of the row held in lo (words 0..3) and hi (4..7); 0 outside the row (zero padding)
fn word(lo: vec4u, hi: vec4u, i: i32) -> u32 {
  var w = 0u;
  w = select(w, lo.x, i == 0); w = select(w, lo.y, i == 1); w = select(w, lo.z, i == 2); w = select(w, lo.w, i == 3);
  w = select(w, hi.x, i == 4); w = select(w, hi.y, i == 5); w = select(w, hi.z, i == 6); w = select(w, hi.w, i == 7);
  return w;
}

fn bswap(w: u32) -> u32 {
  return (w << 24u) | ((w & 0xff00u) << 8u) | ((w >> 8u) & 0xff00u) | (w >> 24u);
}

fn unpack(w: u32) -> vec4f {
  return vec4f(f32(w & 255u), f32((w >> 8u) & 255u), f32((w >> 16u) & 255u), f32(w >> 24u));
}

// one output row y of plane (s, ch), given the row's sample constants: its 8 source words (zero
// outside the image), reversed for a flip, shifted by the column offset, normalised and stored
fn cropFlipRow(s: u32, img: u32, c: u32, ch: u32, y: u32, ty: i32, flip: bool, q: i32, b: u32, mean: f32, sd: f32) {
  let sy = i32(y) + ty;
  var lo = vec4u(0u);
  var hi = vec4u(0u);
  if (sy >= 0 && sy <= 31) {
    // the row's 8 words: image `img` of src (DIRECT: of chunk c, src or src1)
    let r = (img * 768u + ch * 256u + u32(sy) * 8u) / 4u;
    if (c == 0u) {
      lo = src[r];
      hi = src[r + 1u];
    } else {
      lo = src1[r];
      hi = src1[r + 1u];
    }
  }
  if (flip) {
    let l = lo;
    lo = vec4u(bswap(hi.w), bswap(hi.z), bswap(hi.y), bswap(hi.x));
    hi = vec4u(bswap(l.w), bswap(l.z), bswap(l.y), bswap(l.x));
  }
  var v: array<vec4f, 8>;
  var cur = word(lo, hi, q);
  for (var k = 0; k < 8; k++) {
    let nxt = word(lo, hi, q + k + 1);
    var w = cur;
    if (b > 0u) { w = (cur >> b) | (nxt << (32u - b)); }
    v[k] = (unpack(w) / 255.0 - vec4f(mean)) / vec4f(sd);
    cur = nxt;
  }
  let o = ((s * 3u + ch) * 32u + y) * 2u;
  out[o] = Q16(v[0], v[1], v[2], v[3]);
  out[o + 1u] = Q16(v[4], v[5], v[6], v[7]);
}

// the crop_flip variant's whole body: output rows y0..y0+3 of plane (s, ch)
fn cropFlipRows(s: u32, ch: u32, y0: u32) {
  let m = prm[2u * s];
  let t = prm[2u * s + 1u];
  let flip = bitcast<f32>(m.x) < 0.0;
  // where the sample's image is: slot s of the staging buffer, or (DIRECT) its place in the dataset
  var img = s;
  var c = 0u;
  if (DIRECT) {
    c = t.w / p.chunk_images;
    img = t.w - c * p.chunk_images;
  }
  let tx = i32(bitcast<f32>(t.x));
  let ty = i32(bitcast<f32>(t.y));
  // output column x reads source column x + shift of the row (flip: of the reversed row, whose column
  // c is source column 31 - c; x -> tx - x = 31 - (x + 31 - tx))
  var shift = tx;
  if (flip) { shift = 31 - tx; }
  let q = (shift + 128) / 4 - 32;  // floor(shift / 4) for shift >= -128
  let b = u32(shift - 4 * q) * 8u; // bit offset within the word, 0..24
  // the channel's constants by selects (indexing the uniform by ch would be a per-lane gather)
  let mean = select(select(p.mean.x, p.mean.y, ch == 1u), p.mean.z, ch == 2u);
  let sd = select(select(p.stdev.x, p.stdev.y, ch == 1u), p.stdev.z, ch == 2u);
  // four calls, not a loop: on lavapipe every value a loop carries is merged with the lane mask per trip
  cropFlipRow(s, img, c, ch, y0, ty, flip, q, b, mean, sd);
  cropFlipRow(s, img, c, ch, y0 + 1u, ty, flip, q, b, mean, sd);
  cropFlipRow(s, img, c, ch, y0 + 2u, ty, flip, q, b, mean, sd);
  cropFlipRow(s, img, c, ch, y0 + 3u, ty, flip, q, b, mean, sd);
  if (ch == 0u && y0 == 0u) { labels[s] = t.z; }
}
// #endif

// #if crop_flip
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let quad = (wid.x + wid.y * nwg.x) * 64u + t;  // (s * 3 + ch) * 8 + y / 4
  if (quad >= p.n * 24u) { return; }
  let g = quad / 8u;
  cropFlipRows(g / 3u, g % 3u, (quad % 8u) * 4u);
}
// #else
// WG (a power of two, 8 to 256) invocations a plane: each unpacks words t, t + WG, ... and computes
// output pixels t, t + WG, ... (the same values at any WG). On lavapipe a workgroup that meets a
// barrier pays per subgroup: the launcher takes one subgroup (8) there, 256 on a GPU.
override WG: u32 = 256;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let g = wid.x + wid.y * nwg.x;
  if (g >= p.n * 3u) { return; }  // uniform across the workgroup: no invocation skips a barrier
  let s = g / 3u;
  let ch = g % 3u;
  for (var u = t; u < 256u; u += WG) {
    let w = src[s * 768u + ch * 256u + u];
    plane[4u * u] = f32(w & 255u);
    plane[4u * u + 1u] = f32((w >> 8u) & 255u);
    plane[4u * u + 2u] = f32((w >> 16u) & 255u);
    plane[4u * u + 3u] = f32(w >> 24u);
  }
  workgroupBarrier();

  if (p.blur > 1u) {
    let f = p.blur;
    let P = 32u / f;
    for (var u = t; u < P * P; u += WG) {
      let by = (u / P) * f;
      let bx = (u % P) * f;
      var acc = 0.0;
      for (var yy = 0u; yy < f; yy++) {
        for (var xx = 0u; xx < f; xx++) { acc += plane[(by + yy) * 32u + bx + xx]; }
      }
      pooled[u] = acc / f32(f * f);
    }
    workgroupBarrier();
    let inv = 1.0 / f32(f);
    for (var i = t; i < 1024u; i += WG) {
      let uy = max((f32(i / 32u) + 0.5) * inv - 0.5, 0.0);
      let ux = max((f32(i % 32u) + 0.5) * inv - 0.5, 0.0);
      let y0 = u32(floor(uy));
      let x0 = u32(floor(ux));
      let y1 = min(y0 + 1u, P - 1u);
      let x1 = min(x0 + 1u, P - 1u);
      let wy = uy - f32(y0);
      let wx = ux - f32(x0);
      let top = (1.0 - wx) * pooled[y0 * P + x0] + wx * pooled[y0 * P + x1];
      let bot = (1.0 - wx) * pooled[y1 * P + x0] + wx * pooled[y1 * P + x1];
      plane[i] = (1.0 - wy) * top + wy * bot;
    }
    workgroupBarrier();
  }

  let b = s * 8u;
  let ma = bitcast<f32>(prm[b]);
  let mb = bitcast<f32>(prm[b + 1u]);
  let mc = bitcast<f32>(prm[b + 2u]);
  let md = bitcast<f32>(prm[b + 3u]);
  let tx = bitcast<f32>(prm[b + 4u]);
  let ty = bitcast<f32>(prm[b + 5u]);
  let mean = p.mean[ch];
  let sd = p.stdev[ch];
  let ob = g * 1024u;
  for (var i = t; i < 1024u; i += WG) {
    let x = f32(i % 32u);
    let y = f32(i / 32u);
    let sx = ma * x + mc * y + tx;
    let sy = mb * x + md * y + ty;
    var v = 0.0;
    if (p.bilinear == 0u) {
      v = texel(i32(floor(sx + 0.5)), i32(floor(sy + 0.5)));
    } else {
      let fx = floor(sx);
      let fy = floor(sy);
      let ax = sx - fx;
      let ay = sy - fy;
      let ix = i32(fx);
      let iy = i32(fy);
      let top = (1.0 - ax) * texel(ix, iy) + ax * texel(ix + 1, iy);
      let bot = (1.0 - ax) * texel(ix, iy + 1) + ax * texel(ix + 1, iy + 1);
      v = (1.0 - ay) * top + ay * bot;
    }
    out[ob + i] = (v / 255.0 - mean) / sd;
  }
  if (ch == 0u && t == 0u) { labels[s] = prm[b + 6u]; }
}
// #endif
