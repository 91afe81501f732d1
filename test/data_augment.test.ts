// @kernels augment_sample gather_images
// The GPU side of the data pipeline: the chunked upload, the gather of a batch across chunks, and the
// augmentation kernel against float64 references for every crop offset and flip, exact rotations,
// blur, bilinear resampling, and label overrides.
import { describe, expect, it } from 'vitest';
import { Augmenter, cropFlip, defaultChunkImages, GpuDataset, rot90, rotateDegrees, trainDraw, type Affine, type CifarSplit } from '../src/data/index.js';
import { Scope } from '../src/tensor/scope.js';
import { mat2d } from 'gl-matrix';
import { expectClose } from './helpers/compare.js';
import { recordDispatches, useGpu } from './helpers/gpu.js';
import { Rng } from './helpers/random.js';
import { affineRef, augmentRef, type AugRef } from './reference/augment.js';
import { syntheticCifar } from '../src/data/synthetic.js';
import { CifarTrainData } from '../src/train/cifar_train_data.js';
import { defaultHparams, validateHparams, type Hparams } from '../src/train/hparams.js';

const gpu = useGpu();
const IMG = 3072;

function fakeSplit(rng: Rng, n: number): CifarSplit {
  const images = new Uint8Array(n * IMG);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256);
  const labels = Uint8Array.from({ length: n }, () => rng.int(10));
  return { name: 'fake', n, images, labels };
}

const imageOf = (s: CifarSplit, i: number) => s.images.subarray(i * IMG, (i + 1) * IMG);

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Run an async test body inside a Scope (Scope.run is synchronous: it would release at the first await). */
async function inScope(fn: () => Promise<void>): Promise<void> {
  const scope = Scope.open();
  try {
    await fn();
  } finally {
    scope.close();
  }
}

const exact = { atol: 2e-6, rtol: 1e-6 };

/** Run fn and list the variant of every augment_sample dispatch it records (undefined: the general kernel). */
function augmentVariants<T>(fn: () => T): { result: T; variants: (string | undefined)[] } {
  const { result, dispatches } = recordDispatches(gpu(), fn);
  return { result, variants: dispatches.filter((d) => d.kernel === 'augment_sample').map((d) => d.variant) };
}

describe('augment_sample', () => {
  const rng = new Rng();
  const split = fakeSplit(rng, 37);
  let ds: GpuDataset | null = null;
  const data = () => (ds ??= GpuDataset.upload(gpu(), split));

  it(`every crop offset in -4..4 x -4..4 and both flips match the float64 reference (seed=${rng.seed})`, async () => {
    const aug = new Augmenter(data());
    const idx: number[] = [];
    const transforms: Affine[] = [];
    const refs: AugRef[] = [];
    for (let dy = -4; dy <= 4; dy++)
      for (let dx = -4; dx <= 4; dx++)
        for (const flip of [false, true]) {
          idx.push(rng.int(split.n));
          transforms.push(cropFlip(dx, dy, flip));
          refs.push({ dx, dy, flip });
        }
    await inScope(async () => {
      const { result: b, variants } = augmentVariants(() => {
        const first = aug.batch(Uint32Array.from(idx), { kind: 'eval', transforms });
        aug.batch(Uint32Array.from(idx.slice(0, 2)), { kind: 'eval', transforms: [cropFlip(1, 0, false), rot90(1)] });
        return first;
      });
      // integer crops and flips only: the crop_flip fast path; anything else in the batch: the general kernel
      expect(variants).toEqual(['crop_flip', undefined]);
      expect(b.images.shape).toEqual([162, 3, 32, 32]);
      const got = await b.images.read();
      expectClose(got, concat(idx.map((i, k) => augmentRef(imageOf(split, i), refs[k]))), exact, `crop/flip seed=${rng.seed}`);
      expect(Array.from(await b.labels.read())).toEqual(idx.map((i) => split.labels[i]));
    });
  });

  it(`crop offsets beyond the padding (up to the whole image and past it) on the crop_flip path match the float64 reference (seed=${rng.seed})`, async () => {
    const aug = new Augmenter(data());
    const offsets = [-64, -40, -33, -32, -31, -17, -9, -5, 5, 7, 13, 31, 32, 33, 47, 64];
    const idx: number[] = [];
    const transforms: Affine[] = [];
    for (let k = 0; k < 40; k++) {
      idx.push(rng.int(split.n));
      const dx = offsets[rng.int(offsets.length)];
      const dy = k % 3 === 0 ? rng.int(9) - 4 : offsets[rng.int(offsets.length)];
      transforms.push(cropFlip(dx, dy, k % 2 === 1));
    }
    await inScope(async () => {
      const { result: b, variants } = augmentVariants(() => aug.batch(Uint32Array.from(idx), { kind: 'eval', transforms }));
      expect(variants).toEqual(['crop_flip']);
      const ref = concat(idx.map((i, k) => affineRef(imageOf(split, i), transforms[k], 'nearest')));
      expectClose(await b.images.read(), ref, exact, `large crops seed=${rng.seed}`);
    });
  });

  it("kind 'train' draws crop+flip per (seed, epoch, index); 'eval' is the identity", async () => {
    const aug = new Augmenter(data());
    const idx = Uint32Array.from({ length: 37 }, (_, i) => (i * 11) % 37);
    await inScope(async () => {
      const b = aug.batch(idx, { kind: 'train', seed: 123, epoch: 4 });
      const ref = concat(Array.from(idx, (i) => augmentRef(imageOf(split, i), trainDraw(123, 4, i))));
      expectClose(await b.images.read(), ref, exact, 'train');
      const e = aug.batch(idx, { kind: 'eval' });
      expectClose(await e.images.read(), concat(Array.from(idx, (i) => augmentRef(imageOf(split, i), {}))), exact, 'eval');
    });
  });

  it('exact 90/180/270 rotations, alone and after crop+flip (numpy.rot90 semantics)', async () => {
    const aug = new Augmenter(data());
    const n = 24;
    const idx = Uint32Array.from({ length: n }, () => rng.int(split.n));
    const rotations = Uint8Array.from({ length: n }, (_, k) => k % 4);
    await inScope(async () => {
      const plain = aug.batch(idx, { kind: 'eval', rotations });
      expectClose(await plain.images.read(), concat(Array.from(idx, (i, k) => augmentRef(imageOf(split, i), { rot: rotations[k] }))), exact, 'rot');
      const tr = aug.batch(idx, { kind: 'train', seed: 9, epoch: 1, rotations, labels: rotations });
      const ref = concat(Array.from(idx, (i, k) => augmentRef(imageOf(split, i), { ...trainDraw(9, 1, i), rot: rotations[k] })));
      expectClose(await tr.images.read(), ref, exact, `crop+flip+rot seed=${rng.seed}`);
      expect(Array.from(await tr.labels.read())).toEqual(Array.from(rotations));
    });
    // The matrices themselves are exact integers.
    for (const k of [1, 2, 3]) expect(Array.from(rot90(k)).every((v) => Number.isInteger(v))).toBe(true);
  });

  // the general path at the adapter's workgroup size (8 invocations a plane on lavapipe), a GPU's (256)
  // and one between: every size computes the same values
  for (const workgroup of [undefined, 256, 32]) {
    it(`blur (area downsample to 32/f, bilinear align_corners=False back up), with and without crop/flip/rotation (workgroup ${workgroup ?? 'by adapter'})`, async () => {
      const aug = new Augmenter(data(), { workgroup });
      const n = 12;
      const idx = Uint32Array.from({ length: n }, () => rng.int(split.n));
      const rotations = Uint8Array.from({ length: n }, (_, k) => (k * 3) % 4);
      await inScope(async () => {
        for (const blur of [4, 2, 8]) {
          const b = aug.batch(idx, { kind: 'eval', blur });
          expectClose(await b.images.read(), concat(Array.from(idx, (i) => augmentRef(imageOf(split, i), { blur }))), { atol: 2e-5, rtol: 1e-5 }, `blur ${blur}`);
        }
        const b = aug.batch(idx, { kind: 'train', seed: 5, epoch: 0, rotations, blur: 4 });
        const ref = concat(Array.from(idx, (i, k) => augmentRef(imageOf(split, i), { ...trainDraw(5, 0, i), rot: rotations[k], blur: 4 })));
        expectClose(await b.images.read(), ref, { atol: 2e-5, rtol: 1e-5 }, `blur+crop+flip+rot seed=${rng.seed}`);
      });
    });
  }

  for (const workgroup of [undefined, 256]) {
    it(`general affine maps: nearest and bilinear match the reference (zeros outside) (workgroup ${workgroup ?? 'by adapter'})`, async () => {
      const aug = new Augmenter(data(), { workgroup });
      const scale = mat2d.fromScaling(mat2d.create(), [0.7, 1.3]);
      mat2d.translate(scale, scale, [2.25, -3.5]);
      const ts: Affine[] = [rotateDegrees(30), rotateDegrees(-13), scale, cropFlip(1, -2, true), mat2d.fromValues(1, 0, 0, 1, 0.3, -0.6)];
      const idx = Uint32Array.from(ts, () => rng.int(split.n));
      await inScope(async () => {
        const bl = aug.batch(idx, { kind: 'eval', transforms: ts, filter: 'bilinear' });
        const m = (t: Affine) => Array.from(Float32Array.from(t)); // the kernel sees f32 matrices
        expectClose(await bl.images.read(), concat(Array.from(idx, (i, k) => affineRef(imageOf(split, i), m(ts[k]), 'bilinear'))), { atol: 1e-4, rtol: 1e-4 }, 'bilinear');
        const nn = aug.batch(idx.subarray(3), { kind: 'eval', transforms: ts.slice(3), filter: 'nearest', blur: 4 });
        expectClose(await nn.images.read(), concat(Array.from(idx.subarray(3), (i, k) => affineRef(imageOf(split, i), m(ts[3 + k]), 'nearest', 4))), { atol: 2e-5, rtol: 1e-5 }, 'nearest+blur');
      });
    });
  }

  it('a workgroup size that is not a power of two in [8, 256] is refused', () => {
    for (const workgroup of [0, 4, 12, 512, 2.5]) expect(() => new Augmenter(data(), { workgroup }), `workgroup ${workgroup}`).toThrow(/workgroup must be a power of two/);
  });

  it('chunked upload: a batch gathered across chunk boundaries (runs and scattered indices) is exact', async () => {
    const chunked = GpuDataset.upload(gpu(), split, { chunkImages: 7 });
    try {
      expect(chunked.chunks.map((c) => c.count)).toEqual([7, 7, 7, 7, 7, 2]);
      const aug = new Augmenter(chunked);
      const idx = Uint32Array.from([5, 6, 7, 8, 36, 35, 13, 14, 0, 20, 21, 22, 23, 29, 28, 35, 36, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
      await inScope(async () => {
        const b = aug.batch(idx, { kind: 'eval' });
        expectClose(await b.images.read(), concat(Array.from(idx, (i) => augmentRef(imageOf(split, i), {}))), exact, 'gather');
        expect(Array.from(await b.labels.read())).toEqual(Array.from(idx, (i) => split.labels[i]));
        const all = Uint32Array.from({ length: split.n }, (_, i) => i);
        const c = aug.batch(all, { kind: 'train', seed: 1, epoch: 2 });
        const d = new Augmenter(data()).batch(all, { kind: 'train', seed: 1, epoch: 2 });
        expectClose(await c.images.read(), await d.images.read(), { atol: 0, rtol: 0 }, 'chunked == unchunked');
      });
    } finally {
      chunked.destroy();
    }
  });

  it('two chunks: the crop/flip augmentation reads them directly (one dispatch, no gather) and is exact', async () => {
    const two = GpuDataset.upload(gpu(), split, { chunkImages: 19 });
    try {
      expect(two.chunks.map((c) => c.count)).toEqual([19, 18]);
      const aug = new Augmenter(two);
      const idx = Uint32Array.from([18, 19, 0, 36, 5, 20, 19, 18, 1, 35, 2, 21]);
      await inScope(async () => {
        const { result: b, dispatches } = recordDispatches(gpu(), () => aug.batch(idx, { kind: 'eval' }));
        // (new tensors are poisoned here by fill dispatches)
        expect(dispatches.filter((d) => d.kernel !== 'fill').map((d) => [d.kernel, d.variant, d.overrides?.DIRECT])).toEqual([['augment_sample', 'crop_flip', 1]]);
        expectClose(await b.images.read(), concat(Array.from(idx, (i) => augmentRef(imageOf(split, i), {}))), exact, 'direct, two chunks');
        expect(Array.from(await b.labels.read())).toEqual(Array.from(idx, (i) => split.labels[i]));
        // the training augmentation over every image: the same bits as one chunk, and as the gather path (4 chunks)
        const all = Uint32Array.from({ length: split.n }, (_, i) => i);
        const c = aug.batch(all, { kind: 'train', seed: 3, epoch: 1 });
        const one = new Augmenter(data()).batch(all, { kind: 'train', seed: 3, epoch: 1 });
        const four = GpuDataset.upload(gpu(), split, { chunkImages: 10 });
        try {
          const { result: g, dispatches: gd } = recordDispatches(gpu(), () => new Augmenter(four).batch(all, { kind: 'train', seed: 3, epoch: 1 }));
          expect(gd.filter((d) => d.kernel === 'gather_images').length).toBe(4);
          const want = await one.images.read();
          expectClose(await c.images.read(), want, { atol: 0, rtol: 0 }, 'two chunks == one');
          expectClose(await g.images.read(), want, { atol: 0, rtol: 0 }, 'gathered == one');
        } finally {
          four.destroy();
        }
      });
    } finally {
      two.destroy();
    }
  });

  it('the default chunk is as many images as one storage binding holds: CIFAR-10\'s training set in 2 chunks under a 128 MiB limit', () => {
    const limits = gpu().device.limits;
    const per = defaultChunkImages(gpu());
    const max = Math.min(Number(limits.maxStorageBufferBindingSize), Number(limits.maxBufferSize));
    expect(per * 3072).toBeLessThanOrEqual(max);
    expect((per + 1) * 3072).toBeGreaterThan(max);
    if (max === 128 * 1024 * 1024) expect([per, Math.ceil(50_000 / per)]).toEqual([43_690, 2]);
    // and the upload uses it
    const small = GpuDataset.upload(gpu(), fakeSplit(rng, 9), {});
    try {
      expect(small.chunkImages).toBe(per);
      expect(small.chunks.map((c) => c.count)).toEqual([9]);
    } finally {
      small.destroy();
    }
  });

  it('label overrides: dataset-wide array, per-batch array; out-of-range indices are errors', async () => {
    const override = Uint8Array.from({ length: split.n }, (_, i) => (i * 7) % 10);
    const aug = new Augmenter(data(), { labels: override });
    const idx = Uint32Array.from([3, 1, 4, 1, 5, 9, 2, 6]);
    await inScope(async () => {
      expect(Array.from(await aug.batch(idx).labels.read())).toEqual(Array.from(idx, (i) => override[i]));
      expect(Array.from(await aug.batch(idx, { kind: 'eval', labels: [0, 1, 2, 3, 0, 1, 2, 3] }).labels.read())).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
      expect(() => aug.batch([0, 37])).toThrow(/batch index 37 outside 'fake' \(37 images\)/);
      expect(() => aug.batch([0], { kind: 'train' })).toThrow(/needs seed and epoch/);
      expect(() => aug.batch([0], { kind: 'eval', blur: 3 })).toThrow(/blur factor 3/);
    });
  });

  it('one write, a gather per chunk touched and one augment dispatch per batch; no GPU objects created in steady state', async () => {
    const g = gpu();
    const big = GpuDataset.upload(g, fakeSplit(rng, 1000), { chunkImages: 300 });
    const aug = new Augmenter(big);
    const prev = g.poisonNewTensors;
    g.poisonNewTensors = false;
    try {
      const idx = Uint32Array.from({ length: 128 }, () => rng.int(1000));
      const d0 = g.stats().dispatches;
      Scope.run(() => aug.batch(idx, { kind: 'train', seed: 1, epoch: 0 }));
      // one gather_images per chunk the batch touches, one augment_sample
      const chunks = new Set(Array.from(idx, (i) => Math.floor(i / 300))).size;
      expect(g.stats().dispatches - d0).toBe(chunks + 1);
      const d1 = g.stats().dispatches;
      Scope.run(() => aug.batch(Uint32Array.from([310, 599, 450]), { kind: 'eval' }));
      expect(g.stats().dispatches - d1, 'a batch within one chunk').toBe(2);
      await g.sync();
      const { created, uniformBuffers, bindGroups } = g.stats();
      const t0 = performance.now();
      const reps = 20;
      // a new batch each time, so the images fall into the chunks differently (a uniform that changed
      // with that made a new uniform buffer and bind group per batch, and the caches grew all run)
      const batches = Array.from({ length: reps }, () => Uint32Array.from({ length: 128 }, () => rng.int(1000)));
      for (let r = 0; r < reps; r++) {
        Scope.run(() => aug.batch(batches[r], { kind: 'train', seed: 1, epoch: r }));
        g.submit();
      }
      await g.sync();
      const ms = (performance.now() - t0) / reps;
      console.log(`augment: 128-image train batch ${ms.toFixed(2)} ms (gather + augment_sample, incl. CPU matrix build)`);
      // steady state allocates nothing: no pooled buffer, uniform buffer or bind group (its speed is bench's business)
      expect({ created: g.stats().created, uniformBuffers: g.stats().uniformBuffers, bindGroups: g.stats().bindGroups }).toEqual({ created, uniformBuffers, bindGroups });
    } finally {
      g.poisonNewTensors = prev;
      big.destroy();
    }
  });
});

describe('CifarTrainData subsets', () => {
  it('--train-subset / --test-subset larger than the split are errors, not the whole split under another name', () => {
    const cifar = syntheticCifar(40, 20, 3);
    const h = (o: Partial<Hparams>) => validateHparams({ ...defaultHparams(), model: 'resnet8_4', ...o });
    expect(() => new CifarTrainData(gpu(), cifar, h({ trainSubset: 41 }), 1)).toThrow(/--train-subset 41: the train split has only 40 images/);
    expect(() => new CifarTrainData(gpu(), cifar, h({ testSubset: 21 }), 1)).toThrow(/--test-subset 21: the test split has only 20 images/);
    const d = new CifarTrainData(gpu(), cifar, h({ trainSubset: 40, testSubset: 10 }), 1);
    expect([d.trainSize, d.testSize]).toEqual([40, 10]);
    d.destroy();
  });
});
