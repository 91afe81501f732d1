// A split uploaded to the GPU once, and the augmenter that turns a batch of indices into a normalised
// f32 NCHW batch and its labels, recorded into the gpu's current command stream.
//
// Layout on the GPU: the raw bytes (3,072 per image, CIFAR order) in chunks of at most `chunkImages`
// images, each its own storage buffer (one binding is capped at 128 MiB on lavapipe; the training set
// is 150 MB): by default as many images as one binding holds (defaultChunkImages).
// Image i of a chunk sits at byte (i - chunk.start) * 3072, a multiple of 256. Labels stay on the host:
// they are written per batch, with the transforms, so label overrides (random labels, rotation labels)
// cost nothing on the GPU.
//
// One batch = one gpu.write (per-sample transforms, labels and dataset indices, 32 bytes a sample) and
// ONE dispatch of `augment_sample`. Crop/flip (training, evaluation) on a dataset of at most two chunks
// reads the images from the chunks themselves (its DIRECT override); otherwise one dispatch of
// `gather_images` per chunk the batch touches first copies the batch's raw images (3 KB each) into a
// pooled staging tensor.
import type { GpuBuffer } from '../gpu/buffer_pool.js';
import { isCpuAdapter } from '../gpu/cpu_adapter.js';
import { grid1d, type Gpu } from '../gpu/runtime.js';
import { isPowerOfTwoIn } from '../gpu/workgroup_size.js';
import { Tensor } from '../tensor/tensor.js';
import { IMAGE_BYTES, IMAGE_SIZE, type CifarSplit } from './cifar10.js';
import { compose, cropFlip, identity, rot90, trainDraw, type Affine } from './transforms.js';

/**
 * An integer translation with an optional horizontal flip (a = +-1, b = c = 0, d = 1, integer tx, ty
 * with |tx|, |ty| <= 96: the kernel's shift arithmetic holds for shifts >= -128, and an image moved
 * further is all padding anyway), as float32 values: augment_sample's `crop_flip` variant computes it exactly.
 */
function isCropFlip(m: Float32Array): boolean {
  const [a, b, c, d, tx, ty] = m;
  return (a === 1 || a === -1) && b === 0 && c === 0 && d === 1 && Number.isInteger(tx) && Number.isInteger(ty) && Math.abs(tx) <= 96 && Math.abs(ty) <= 96;
}

/** Normalisation used by open_lth (and the paper's protocol). */
export const CIFAR_MEAN = [0.485, 0.456, 0.406] as const;
export const CIFAR_STD = [0.229, 0.224, 0.225] as const;

/**
 * Default images per chunk: as many as one storage binding (and one buffer) of this device holds, so a
 * batch gathers with as few dispatches as the limits allow: CIFAR-10's training set is 2 chunks of
 * 43,690 images under the 128 MiB binding limit (lavapipe), 1 where a binding may hold 150 MB.
 * (It was 16,384 images, 48 MiB: 4 chunks and 4 gather dispatches a batch.)
 */
export function defaultChunkImages(gpu: Gpu): number {
  const limits = gpu.device.limits;
  return Math.floor(Math.min(Number(limits.maxStorageBufferBindingSize), Number(limits.maxBufferSize)) / IMAGE_BYTES);
}

const WORDS_PER_IMAGE = IMAGE_BYTES / 4; // 768
const PARAM_WORDS = 8;
/** Word of a sample's parameters holding its dataset index (read by gather_images; augment_sample ignores it). */
const INDEX_WORD = 7;

export interface UploadOptions {
  /** Images per GPU buffer (tests use tiny values to cross chunk boundaries). */
  chunkImages?: number;
}

export interface DataChunk {
  buf: GpuBuffer;
  /** First image index in this chunk. */
  start: number;
  count: number;
}

/** A batch's positions grouped by dataset chunk (GpuDataset.gatherPlan): one gather dispatch per run. */
export interface GatherPlan {
  /** Batch positions, chunk by chunk. */
  order: Uint32Array;
  /** Each touched chunk's stretch of `order`. */
  runs: { chunk: number; first: number; count: number }[];
  /** Where each chunk's stretch of `order` begins (every chunk, touched or not): gather_images reads it from idx. */
  firsts: Uint32Array;
}

/** A split's images on the GPU (immutable), its labels on the host. */
export class GpuDataset {
  readonly chunks: DataChunk[] = [];
  readonly chunkImages: number;
  private destroyed = false;

  private constructor(
    readonly gpu: Gpu,
    readonly name: string,
    readonly n: number,
    /** The split's true labels (host). */
    readonly labels: Uint8Array,
    chunkImages: number,
  ) {
    this.chunkImages = chunkImages;
  }

  /** Upload a split once (one queue write per chunk). */
  static upload(gpu: Gpu, split: CifarSplit, opts: UploadOptions = {}): GpuDataset {
    const maxBinding = Number(gpu.device.limits.maxStorageBufferBindingSize);
    const chunkImages = opts.chunkImages ?? defaultChunkImages(gpu);
    if (!Number.isInteger(chunkImages) || chunkImages < 1) throw new Error(`GpuDataset: chunkImages must be a positive integer, got ${chunkImages}`);
    if (chunkImages * IMAGE_BYTES > maxBinding) throw new Error(`GpuDataset: ${chunkImages} images per chunk exceed the ${maxBinding}-byte storage binding limit`);
    if (split.images.length !== split.n * IMAGE_BYTES || split.labels.length !== split.n) throw new Error(`GpuDataset: split '${split.name}' arrays do not match n=${split.n}`);
    if (split.n === 0) throw new Error(`GpuDataset: split '${split.name}' is empty`);
    const ds = new GpuDataset(gpu, split.name, split.n, split.labels.slice(), chunkImages);
    for (let start = 0; start < split.n; start += chunkImages) {
      const count = Math.min(chunkImages, split.n - start);
      const buf = gpu.createBuffer(count * IMAGE_BYTES, `data:${split.name}[${start}..${start + count})`);
      gpu.write({ buf, offset: 0, bytes: count * IMAGE_BYTES }, split.images.subarray(start * IMAGE_BYTES, (start + count) * IMAGE_BYTES));
      ds.chunks.push({ buf, start, count });
    }
    return ds;
  }

  get bytes(): number {
    return this.n * IMAGE_BYTES;
  }

  /**
   * The batch positions 0..n-1 grouped by the chunk holding their image (ascending chunks, positions
   * ascending within one), and each chunk's run of that list: what gather() dispatches over. Throws on
   * an index outside the split.
   */
  gatherPlan(indices: ArrayLike<number>): GatherPlan {
    const n = indices.length;
    const counts = new Uint32Array(this.chunks.length);
    for (let k = 0; k < n; k++) {
      const i = indices[k];
      if (!(Number.isInteger(i) && i >= 0 && i < this.n)) throw new Error(`batch index ${i} outside '${this.name}' (${this.n} images)`);
      counts[Math.floor(i / this.chunkImages)]++;
    }
    const runs: GatherPlan['runs'] = [];
    const next = new Uint32Array(this.chunks.length);
    let first = 0;
    counts.forEach((count, chunk) => {
      next[chunk] = first;
      if (count > 0) runs.push({ chunk, first, count });
      first += count;
    });
    const firsts = next.slice();
    const order = new Uint32Array(n);
    for (let k = 0; k < n; k++) order[next[Math.floor(indices[k] / this.chunkImages)]++] = k;
    return { order, runs, firsts };
  }

  /**
   * Record the gather of the batch's images into consecutive 3,072-byte slots of `dst`: one
   * `gather_images` dispatch per chunk in `plan`. `idx` holds each sample's dataset index at word
   * k*stride + at, plan.order from word `list` on and plan.firsts from word `firsts` on (the caller
   * wrote them; Augmenter.batch does).
   */
  gather(plan: GatherPlan, idx: Tensor, layout: { stride: number; at: number; list: number; firsts: number }, dst: Tensor): void {
    if (this.destroyed) throw new Error(`GpuDataset '${this.name}' used after destroy()`);
    const n = plan.order.length;
    if (dst.bytes < n * IMAGE_BYTES) throw new Error(`gather: ${n} images into ${dst.bytes} bytes`);
    if (idx.dtype !== 'u32' || idx.size < Math.max(n * layout.stride, layout.list + n, layout.firsts + this.chunks.length) || layout.at >= layout.stride) {
      throw new Error(`gather: idx ${idx} does not hold ${n} samples of ${layout.stride} words, the list at word ${layout.list} and the chunk starts at word ${layout.firsts}`);
    }
    for (const r of plan.runs) {
      const chunk = this.chunks[r.chunk];
      this.gpu.dispatch('gather_images', {
        bindings: { src: { buf: chunk.buf, offset: 0, bytes: chunk.count * IMAGE_BYTES }, idx, out: dst },
        uniforms: { chunk: r.chunk, firsts: layout.firsts, start: chunk.start, list: layout.list, stride: layout.stride, at: layout.at },
        workgroups: r.count,
      });
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const c of this.chunks) c.buf.buffer.destroy();
    this.chunks.length = 0;
  }
}

/** What to do to a batch. */
export interface AugmentSpec {
  /** 'train': random crop (4-pixel zero padding) + horizontal flip from trainDraw(seed, epoch, index); 'eval': none. */
  kind: 'train' | 'eval';
  seed?: number;
  epoch?: number;
  /** Per-sample exact rotations k (k*90° counterclockwise), applied after crop/flip (rotation pre-training). */
  rotations?: ArrayLike<number>;
  /** Per-sample transforms replacing all of the above (N mat2d, output -> source pixel coordinates). */
  transforms?: readonly Affine[];
  /** Blur factor f (1 = none, 4 = the paper's 4x blur): area-downsample to 32/f, bilinear back up. */
  blur?: number;
  /** Sampling filter (default nearest; exact for crops, flips and 90° rotations). */
  filter?: 'nearest' | 'bilinear';
  /** Per-sample labels for this batch (e.g. the rotation classes), overriding every other label source. */
  labels?: ArrayLike<number>;
}

export interface AugmenterOptions {
  /** Dataset-wide label override indexed by dataset index (e.g. randomLabels(n, seed)). */
  labels?: ArrayLike<number>;
  mean?: readonly number[];
  std?: readonly number[];
  /** Random-crop padding (default 4). */
  pad?: number;
  /**
   * Invocations a plane on the kernel's general path (any affine map, blur): a power of two, 8 to
   * 256; the same values at any size. Default by adapter: 8 on a CPU adapter (one lavapipe subgroup:
   * a workgroup pays per subgroup at each barrier; rotations 2.1x, 4x blur 1.7x faster than at 256,
   * 2026-12-07), 256 on a GPU.
   */
  workgroup?: number;
}

export interface Batch {
  /** [N, 3, 32, 32] f32, normalised. */
  images: Tensor;
  /** [N] u32. */
  labels: Tensor;
}

const BLUR_FACTORS = [1, 2, 4, 8, 16, 32];

/** Turns index lists into augmented batches on the GPU. */
export class Augmenter {
  private readonly labelOverride: ArrayLike<number> | null;
  private readonly mean: number[];
  private readonly std: number[];
  private readonly pad: number;
  private readonly workgroup: number;
  private readonly draw = new Uint32Array(4);

  constructor(
    readonly data: GpuDataset,
    opts: AugmenterOptions = {},
  ) {
    if (opts.labels && opts.labels.length !== data.n) throw new Error(`Augmenter: label override has ${opts.labels.length} entries for ${data.n} images`);
    this.labelOverride = opts.labels ?? null;
    this.mean = [...(opts.mean ?? CIFAR_MEAN), 0];
    this.std = [...(opts.std ?? CIFAR_STD), 1];
    if (this.mean.length !== 4 || this.std.length !== 4) throw new Error('Augmenter: mean and std need 3 values');
    this.pad = opts.pad ?? 4;
    const wg = opts.workgroup ?? (isCpuAdapter(data.gpu.dev.description) ? 8 : 256);
    if (!isPowerOfTwoIn(wg, 8, 256)) throw new Error(`Augmenter: workgroup must be a power of two in [8, 256], got ${wg}`);
    this.workgroup = wg;
  }

  /** The transform matrix of sample k of a batch (what the kernel receives). */
  transformOf(aug: AugmentSpec, indices: ArrayLike<number>, k: number): Affine {
    if (aug.transforms) return aug.transforms[k];
    let m: Affine;
    if (aug.kind === 'train') {
      const d = trainDraw(aug.seed!, aug.epoch!, indices[k], this.pad, this.draw);
      m = cropFlip(d.dx, d.dy, d.flip);
    } else {
      m = identity();
    }
    if (aug.rotations && aug.rotations[k] % 4 !== 0) m = compose(m, rot90(aug.rotations[k]));
    return m;
  }

  /**
   * Record the batch `indices` (dataset indices) into the current command stream and return its images
   * and labels (pooled tensors owned by the current Scope). Writes its per-batch data with ONE gpu.write
   * first (which submits earlier recorded work), so call it at the start of a step, before encoding.
   */
  batch(indices: ArrayLike<number>, aug: AugmentSpec = { kind: 'eval' }): Batch {
    const gpu = this.data.gpu;
    const n = indices.length;
    if (n === 0) throw new Error('Augmenter.batch: empty batch');
    if (aug.kind === 'train' && !aug.transforms && (aug.seed === undefined || aug.epoch === undefined)) throw new Error("Augmenter.batch: kind 'train' needs seed and epoch");
    for (const [what, arr] of [
      ['transforms', aug.transforms],
      ['rotations', aug.rotations],
      ['labels', aug.labels],
    ] as const) {
      if (arr && arr.length !== n) throw new Error(`Augmenter.batch: ${what} has ${arr.length} entries for a batch of ${n}`);
    }
    const blur = aug.blur ?? 1;
    if (!BLUR_FACTORS.includes(blur)) throw new Error(`Augmenter.batch: blur factor ${blur} not one of ${BLUR_FACTORS.join(', ')}`);

    // Per sample: transform, label, dataset index (PARAM_WORDS); then the gather's list of positions
    // and where each chunk's stretch of it begins.
    const plan = this.data.gatherPlan(indices);
    const words = new Uint32Array(n * PARAM_WORDS + n + plan.firsts.length);
    words.set(plan.order, n * PARAM_WORDS);
    words.set(plan.firsts, n * PARAM_WORDS + n);
    const floats = new Float32Array(words.buffer, 0, n * PARAM_WORDS);
    let cropFlipOnly = blur === 1;
    for (let k = 0; k < n; k++) {
      const i = indices[k];
      const m = this.transformOf(aug, indices, k);
      for (let j = 0; j < 6; j++) floats[k * PARAM_WORDS + j] = m[j];
      cropFlipOnly &&= isCropFlip(floats.subarray(k * PARAM_WORDS, k * PARAM_WORDS + 6));
      const label = aug.labels ? aug.labels[k] : this.labelOverride ? this.labelOverride[i] : this.data.labels[i];
      if (!(Number.isInteger(label) && label >= 0)) throw new Error(`Augmenter.batch: bad label ${label} for sample ${k}`);
      words[k * PARAM_WORDS + 6] = label;
      words[k * PARAM_WORDS + INDEX_WORD] = i;
    }

    const prm = Tensor.empty(gpu, [words.length], 'u32', 'augment.params');
    gpu.write(prm, words);
    const images = Tensor.empty(gpu, [n, 3, IMAGE_SIZE, IMAGE_SIZE], 'f32', 'images');
    const labels = Tensor.empty(gpu, [n], 'u32', 'labels');
    const uniforms = { n, blur, bilinear: aug.filter === 'bilinear' ? 1 : 0, chunk_images: this.data.chunkImages, mean: this.mean, stdev: this.std };
    // crop_flip: one invocation per 4 output rows, 64 per workgroup; otherwise one workgroup per plane
    const workgroups = cropFlipOnly ? grid1d((n * 3 * IMAGE_SIZE) / 4, 64) : grid1d(n * 3, 1);
    const chunks = this.data.chunks.map((c) => ({ buf: c.buf, offset: 0, bytes: c.count * IMAGE_BYTES }));
    if (cropFlipOnly && chunks.length <= 2) {
      // the training augmentation reads the batch's images straight from the dataset's chunks (DIRECT):
      // no gather, no staging buffer
      gpu.dispatch('augment_sample', {
        bindings: { src: chunks[0], src1: chunks[chunks.length - 1], prm, out: images, labels },
        uniforms,
        workgroups,
        variant: 'crop_flip',
        overrides: { DIRECT: 1 },
      });
      return { images, labels };
    }
    const raw = Tensor.empty(gpu, [n * WORDS_PER_IMAGE], 'u32', 'augment.raw');
    this.data.gather(plan, prm, { stride: PARAM_WORDS, at: INDEX_WORD, list: n * PARAM_WORDS, firsts: n * PARAM_WORDS + n }, raw);
    gpu.dispatch('augment_sample', {
      // crop_flip reads src1 only where DIRECT: the staging buffer fills both
      bindings: cropFlipOnly ? { src: raw, src1: raw, prm, out: images, labels } : { src: raw, prm, out: images, labels },
      uniforms,
      workgroups,
      ...(cropFlipOnly ? { variant: 'crop_flip' } : { overrides: { WG: this.workgroup } }),
    });
    return { images, labels };
  }
}
