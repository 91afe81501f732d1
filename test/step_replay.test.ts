// The replayed training step (src/train/train_step.ts) against the plain one: the same losses,
// weights, momenta and BN statistics, bit for bit, through partial batches, LR changes, periodic
// re-checks and a conv configuration change; replay turning itself off when consecutive steps
// record different commands, and failing loudly when a checked step changes later.
import { describe, expect, it } from 'vitest';
import { GpuBuffer } from '../src/gpu/buffer_pool.js';
import type { BufferRange, CapturedCommand } from '../src/gpu/runtime.js';
import { syntheticCifar } from '../src/data/synthetic.js';
import type { Model } from '../src/models/model.js';
import { createModel } from '../src/models/registry.js';
import { Network } from '../src/nn/network.js';
import { getConvConfig, setConvConfig } from '../src/ops/conv2d.js';
import { relu } from '../src/ops/elementwise.js';
import { SgdMasked } from '../src/optim/sgd.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { CifarTrainData } from '../src/train/cifar_train_data.js';
import { defaultHparams, validateHparams } from '../src/train/hparams.js';
import { evaluate } from '../src/train/training_loop.js';
import { compareCaptures, TrainStep, type TrainStepOptions, type TrainStepStats } from '../src/train/train_step.js';
import { useGpu } from './helpers/gpu.js';
import { bitsOf } from './helpers/compare.js';

const gpu = useGpu();

interface Outcome {
  losses: number[];
  /** With `evals`: each evaluation's loss, and the bytes the pool grew by during it. */
  evalLosses: number[];
  evalCreated: number[];
  values: Float32Array;
  momenta: Float32Array;
  bn: Float32Array[];
  batchesTracked: number;
  stats: TrainStepStats;
  offReason: string | null;
  notes: string[];
  poolCreatedLate: number;
}

/**
 * Train resnet8_4 (or size.model) for `steps` steps on synthetic images (by default 80 at batch 32:
 * two full batches and a partial one per epoch), the LR dropping at step 5. `wrap` may change the model; `before(t)`
 * runs before step t is recorded.
 */
async function run(
  options: TrainStepOptions,
  steps: number,
  wrap?: (m: Model) => Model,
  before?: (t: number) => void,
  size: { images: number; batch: number; model?: string } = { images: 80, batch: 32 },
  evals?: { after: number[]; lend: boolean; keep?: boolean },
): Promise<Outcome> {
  const model = size.model ?? 'resnet8_4';
  const h = validateHparams({ ...defaultHparams(), model, batch: size.batch });
  const data = new CifarTrainData(gpu(), syntheticCifar(size.images, 40, 5), h, 7);
  const base = createModel(model, 10);
  const net = new Network(gpu(), wrap ? wrap(base) : base);
  net.init(11);
  const sgd = new SgdMasked(net.params, { momentum: 0.9, weightDecay: 5e-4 });
  const notes: string[] = [];
  const step = new TrainStep(net, data, sgd, { ...options, warn: (m) => notes.push(m) });
  const inUse = gpu().pool.stats().inUseBuffers;
  const losses: number[] = [];
  const evalLosses: number[] = [];
  const evalCreated: number[] = [];
  const kept: Tensor[] = [];
  let createdAt = 0;
  try {
    for (let t = 0; t < steps; t++) {
      if (t === steps - 6) createdAt = gpu().pool.stats().created;
      sgd.setLearningRate(t < 5 ? 0.1 : 0.02);
      before?.(t);
      const scope = Scope.open();
      try {
        const { loss } = step.record(t);
        losses.push((await loss.readF32())[0]);
      } finally {
        scope.close();
      }
      if (evals?.after.includes(t)) {
        const created = gpu().pool.stats().liveBytes;
        const evaluation = async () => {
          // (keep: a tensor made during the evaluation outlives it; made first, of the size of the
          // step's input images, it gets the buffer a held capture lent last: the pool hands out the
          // most recently freed)
          if (evals.keep) kept.push(Tensor.empty(gpu(), [size.batch, 3, 32, 32], 'f32', 'kept'));
          return evaluate(gpu(), net, data, size.batch);
        };
        const r = evals.lend ? await step.lendBuffers(evaluation) : await evaluation();
        evalLosses.push(r.loss);
        evalCreated.push(gpu().pool.stats().liveBytes - created);
      }
    }
    for (const k of kept) k.release();
    const out: Outcome = {
      losses,
      evalLosses,
      evalCreated,
      values: await net.readFlat('values'),
      momenta: await net.readFlat('momenta'),
      bn: await Promise.all([...net.buffers.tensors.values()].map((t) => t.readF32())),
      batchesTracked: net.buffers.numBatchesTracked,
      stats: { ...step.stats },
      offReason: step.offReason,
      notes,
      poolCreatedLate: gpu().pool.stats().created - createdAt,
    };
    step.destroy();
    expect(gpu().pool.stats().inUseBuffers, 'every buffer the captures held went back to the pool').toBe(inUse);
    return out;
  } finally {
    step.destroy();
    sgd.destroy();
    data.destroy();
    net.destroy();
  }
}


function expectSameTraining(replayed: Outcome, plain: Outcome): void {
  expect(replayed.losses.every(Number.isFinite)).toBe(true);
  expect(bitsOf(Float32Array.from(replayed.losses))).toEqual(bitsOf(Float32Array.from(plain.losses)));
  expect(bitsOf(replayed.values)).toEqual(bitsOf(plain.values));
  expect(bitsOf(replayed.momenta)).toEqual(bitsOf(plain.momenta));
  expect(replayed.bn.length).toBe(plain.bn.length);
  replayed.bn.forEach((b, i) => expect(bitsOf(b)).toEqual(bitsOf(plain.bn[i])));
  expect(replayed.batchesTracked).toBe(plain.batchesTracked);
}

/** The model with one extra ReLU on the logits whenever extra() says so (a step whose recording depends on host state). */
function withExtraRelu(extra: () => boolean): (m: Model) => Model {
  return (m) => {
    const wrapped = Object.create(m) as Model;
    wrapped.forward = (ctx, images) => {
      const logits = m.forward(ctx, images);
      return extra() ? relu(logits) : logits;
    };
    return wrapped;
  };
}

describe('replayed training step', () => {
  it('trains bit for bit as the plain step, through partial batches, LR changes and re-checks', async () => {
    // 88 images at batch 16: five full batches and one of 8 per epoch
    const size = { images: 88, batch: 16 };
    const plain = await run({ replay: false }, 15, undefined, undefined, size);
    const replayed = await run({ replay: true, verifyEvery: 3 }, 15, undefined, undefined, size);
    expectSameTraining(replayed, plain);
    expect(plain.stats).toEqual({ plain: 15, captured: 0, replayed: 0 });
    // 0 captured, 1 captured and checked, 2-4 replayed; 5 (the partial batch) captured, both held;
    // 6 re-checked after 3 replays, 7-9 replayed; 10 re-checked; 11 (partial) checked; 12-14 replayed.
    expect(replayed.stats).toEqual({ plain: 0, captured: 6, replayed: 9 });
    expect(replayed.offReason).toBeNull();
    expect(replayed.poolCreatedLate, 'no buffer created in the last steps').toBe(0);
  });

  it("re-encodes the texture mirrors' copies (a model whose weight gradients read x and dy through them)", async () => {
    // widths 16, 32, 64: the 32- and 64-channel convs' weight gradients mirror x, the 64->64 ones dy too
    const size = { images: 24, batch: 8, model: 'resnet8_16' };
    const before = gpu().stats().textureMirrors;
    const plain = await run({ replay: false }, 5, undefined, undefined, size);
    expect(gpu().stats().textureMirrors, 'the step made texture mirrors').toBeGreaterThan(before);
    const replayed = await run({ replay: true, verifyEvery: 100 }, 5, undefined, undefined, size);
    expectSameTraining(replayed, plain);
    expect(replayed.stats.replayed).toBeGreaterThan(0);
  });

  it('holds two batch shapes at once by default, so an epoch boundary replays both', async () => {
    // 80 images at batch 32: 32, 32, 16 per epoch, no periodic re-check
    const plain = await run({ replay: false }, 12);
    const two = await run({ replay: true, verifyEvery: 100 }, 12);
    const one = await run({ replay: true, verifyEvery: 100, holdShapes: 1 }, 12);
    expectSameTraining(two, plain);
    expectSameTraining(one, plain);
    // two held: 0 captured, 1 checked, 2 (partial) captured, 5 (partial) checked; the other 8 replayed
    expect(two.stats).toEqual({ plain: 0, captured: 4, replayed: 8 });
    // one held: besides 0-2, every shape change (3, 5, 6, 8, 9, 11) captures again, the first steps of
    // epochs 2-4 and their partial batches; 4, 7 and 10 replayed
    expect(one.stats).toEqual({ plain: 0, captured: 9, replayed: 3 });
    expect(two.poolCreatedLate, 'no buffer created in the last steps').toBe(0);
    expect(() => new TrainStep({} as never, {} as never, {} as never, { holdShapes: 0 })).toThrow(/holdShapes must be a whole number >= 1/);
    process.env.EARLY_PHASE_REPLAY_HOLD = '1';
    try {
      expect(new TrainStep({} as never, {} as never, {} as never).holdShapes).toBe(1);
      process.env.EARLY_PHASE_REPLAY_HOLD = 'two';
      expect(() => new TrainStep({} as never, {} as never, {} as never)).toThrow(/EARLY_PHASE_REPLAY_HOLD=two: expected a whole number of captures, at least 1/);
    } finally {
      delete process.env.EARLY_PHASE_REPLAY_HOLD;
    }
  });

  it("evaluates on the held step's buffers (lendBuffers): no second set in the pool, the same bits", async () => {
    // 80 images at batch 32 (32, 32, 16); evaluations of the 40 test images (32, 8) after steps 1, 4 and 7
    const after = [1, 4, 7];
    const plain = await run({ replay: false }, 9, undefined, undefined, undefined, { after, lend: false });
    const apart = await run({ replay: true, verifyEvery: 100 }, 9, undefined, undefined, undefined, { after, lend: false });
    const lent = await run({ replay: true, verifyEvery: 100 }, 9, undefined, undefined, undefined, { after, lend: true });
    for (const o of [apart, lent]) {
      expectSameTraining(o, plain);
      expect(bitsOf(Float32Array.from(o.evalLosses)), 'evaluation losses').toEqual(bitsOf(Float32Array.from(plain.evalLosses)));
    }
    // the captures got their buffers back after every evaluation: the same captures and replays
    expect(lent.stats).toEqual(apart.stats);
    // beside the held step the first evaluations made the pool grow (by 4.99 and 2.77 MB when written);
    // on its buffers, not at all
    expect(apart.evalCreated[0], 'the pool grew beside the held step').toBeGreaterThan(1e6);
    expect(lent.evalCreated).toEqual([0, 0, 0]);
  });

  it('a lent capture that cannot take its buffers back is captured afresh (an evaluation kept one), the same bits', async () => {
    const after = [4];
    const plain = await run({ replay: false }, 9);
    const kept = await run({ replay: true, verifyEvery: 100 }, 9, undefined, undefined, undefined, { after, lend: true, keep: true });
    expectSameTraining(kept, plain);
    // as 'holds two batch shapes' (4 captures, the rest replayed), plus the shape whose capture lent the
    // kept buffer, captured again at its next step (the same commands as its checked capture: replayed after)
    expect(kept.stats).toEqual({ plain: 0, captured: 5, replayed: 4 });
  });

  it('captures afresh after a conv configuration change (the old commands use other pipelines)', async () => {
    const saved = getConvConfig();
    const other = { weightGradChunk: saved.weightGradChunk === 128 ? 256 : 128, reduceLanes: saved.reduceLanes === 8 ? 1 : 8 };
    const change = (t: number) => {
      if (t === 0) setConvConfig(saved);
      if (t === 7) setConvConfig(other);
    };
    try {
      const plain = await run({ replay: false }, 12, undefined, change);
      const replayed = await run({ replay: true, verifyEvery: 100 }, 12, undefined, change);
      expectSameTraining(replayed, plain);
      // Batches of 32, 32, 16 per epoch, both shapes held: 0, 1 (check), 2 and 5 (partial, check)
      // captured, 3, 4 and 6 replayed; after the change 7, 8, 9 (check) and 11 (check) captured, 10 replayed.
      expect(replayed.stats).toEqual({ plain: 0, captured: 8, replayed: 4 });
    } finally {
      setConvConfig(saved);
    }
  });

  it('turns itself off when consecutive steps record different commands, and still trains as the plain step', async () => {
    let calls = 0;
    const wrap = withExtraRelu(() => calls++ % 2 === 1);
    const plain = await run({ replay: false }, 5, wrap);
    calls = 0;
    const replayed = await run({ replay: true }, 5, wrap);
    expectSameTraining(replayed, plain);
    expect(replayed.offReason).toMatch(/different commands/);
    expect(replayed.notes.join('\n')).toMatch(/step replay off/);
    expect(replayed.stats.replayed).toBe(0);
  });

  it('falls back to the plain step, with nothing run twice, when the step writes from the host', async () => {
    // a model that uploads a constant every forward (Gpu.write): capturing it is refused half-way
    const wrap = (m: Model): Model => {
      const wrapped = Object.create(m) as Model;
      wrapped.forward = (ctx, images) => {
        const logits = m.forward(ctx, images);
        const scale = Tensor.fromArray(images.gpu, [1], [1]);
        scale.assertAlive();
        return logits;
      };
      return wrapped;
    };
    const plain = await run({ replay: false }, 4, wrap);
    const replayed = await run({ replay: true }, 4, wrap);
    // BN running statistics and momenta would differ if the dropped half-step had run
    expectSameTraining(replayed, plain);
    expect(replayed.offReason).toMatch(/cannot be captured.*Gpu.write/);
    expect(replayed.stats).toEqual({ plain: 4, captured: 0, replayed: 0 });
  });

  it('turns itself off when the step reads a pooled tensor made before it (a replay could not keep it)', async () => {
    const outer = Scope.open();
    try {
      const made = Tensor.zeros(gpu(), [64]);
      const wrap = (m: Model): Model => {
        const wrapped = Object.create(m) as Model;
        wrapped.forward = (ctx, images) => {
          relu(made); // a dispatch reading `made`, which the pool could hand to anyone after the step
          return m.forward(ctx, images);
        };
        return wrapped;
      };
      const plain = await run({ replay: false }, 3, wrap);
      const replayed = await run({ replay: true }, 3, wrap);
      expectSameTraining(replayed, plain);
      expect(replayed.offReason).toMatch(/cannot be replayed.*pooled tensors made before it, in relu/);
      expect(replayed.stats).toEqual({ plain: 2, captured: 1, replayed: 0 });
    } finally {
      outer.close();
    }
  });

  it('fails loudly when a checked step later records something else', async () => {
    let extra = false;
    const wrap = withExtraRelu(() => extra);
    // 0 captured and 1 checked (32); 2 captured (16); 3 and 4 replayed (32); 5 checked (16); 6 (32)
    // re-checked after two replays, and now different.
    await expect(run({ replay: true, verifyEvery: 2 }, 8, wrap, (t) => (extra = t >= 6))).rejects.toThrow(/step replay: iteration 6 recorded other commands/);
  });
});

describe('compareCaptures', () => {
  const pipe = {} as GPUComputePipeline;
  const group = {} as GPUBindGroup;
  const buf = (pooled: boolean, size = 1024) => new GpuBuffer({} as GPUBuffer, size, pooled);
  const r = (b: GpuBuffer, offset = 0, bytes = 256): BufferRange => ({ buf: b, offset, bytes });
  const d = (ranges: BufferRange[], grid: [number, number, number] = [4, 1, 1], name = 'k'): CapturedCommand => ({ kind: 'dispatch', name, pipeline: pipe, group, grid, ranges });
  const params = buf(false);
  const [a1, a2, b1, b2] = [buf(true), buf(true), buf(true), buf(true)];

  it('matches pooled buffers up to a one-to-one renaming', () => {
    expect(compareCaptures([d([r(params), r(a1)]), d([r(a1), r(a2)])], [d([r(params), r(b1)]), d([r(b1), r(b2)])])).toBeNull();
  });

  it('finds what differs', () => {
    expect(compareCaptures([d([r(a1)])], [d([r(a1)]), d([r(a1)])])).toMatch(/1 commands, then 2/);
    expect(compareCaptures([d([r(params)])], [d([r(buf(false))])])).toMatch(/command 0.*other buffers/);
    // a1 -> b1 in the first command, then a1 -> b2: not a renaming
    expect(compareCaptures([d([r(a1)]), d([r(a1)])], [d([r(b1)]), d([r(b2)])])).toMatch(/command 1/);
    // two buffers onto one
    expect(compareCaptures([d([r(a1), r(a2)])], [d([r(b1), r(b1)])])).toMatch(/command 0/);
    expect(compareCaptures([d([r(a1, 0)])], [d([r(b1, 256)])])).toMatch(/command 0/);
    expect(compareCaptures([d([r(a1)], [4, 1, 1])], [d([r(b1)], [4, 2, 1])])).toMatch(/grid 4x1x1, then 4x2x1/);
    expect(compareCaptures([d([r(a1)], [4, 1, 1], 'k')], [d([r(b1)], [4, 1, 1], 'j')])).toMatch(/then j/);
    expect(compareCaptures([{ kind: 'copy', src: r(a1), dst: r(a2), bytes: 8 }], [d([r(b1)])])).toMatch(/a copy, then a dispatch/);
    expect(compareCaptures([{ kind: 'copy', src: r(a1), dst: r(a2), bytes: 8 }], [{ kind: 'copy', src: r(b1), dst: r(b2), bytes: 4 }])).toMatch(/other buffers/);
    // the same buffers copied into another texture mirror
    const [t1, t2] = [{} as GPUTexture, {} as GPUTexture];
    const withMirror = (t: GPUTexture, b: GpuBuffer): CapturedCommand => ({ ...d([r(b)]), textureCopies: [{ src: r(b), texture: t }] }) as CapturedCommand;
    expect(compareCaptures([withMirror(t1, a1)], [withMirror(t1, b1)])).toBeNull();
    expect(compareCaptures([withMirror(t1, a1)], [withMirror(t2, b1)])).toMatch(/other texture mirrors/);
    expect(compareCaptures([withMirror(t1, a1)], [d([r(b1)])])).toMatch(/other texture mirrors/);
  });
});
