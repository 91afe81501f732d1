// Telemetry: every quantity recomputed in float64 on the CPU from the weights at each sampled
// iteration (training is deterministic, so a run stopped at iteration t has exactly the weights the
// telemetry run had at t).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syntheticCifar } from '../src/data/synthetic.js';
import { finalWeightsPath, sampleIterations, telemetry, trackedIndices } from '../src/experiments/telemetry.js';
import { loadSafetensors } from '../src/io/safetensors.js';
import { createModel } from '../src/models/registry.js';
import { Network } from '../src/nn/network.js';
import { SgdMasked } from '../src/optim/sgd.js';
import { Scope } from '../src/tensor/scope.js';
import { CifarTrainData } from '../src/train/cifar_train_data.js';
import { validateHparams, type Hparams } from '../src/train/hparams.js';
import { replicateSeed, train } from '../src/train/train.js';
import { recordTrainStep } from '../src/train/train_step.js';
import { tempDir } from './helpers/cifar_fixture.js';
import { useGpu } from './helpers/gpu.js';

const gpu = useGpu({ poison: false });
const BASE: Hparams = { model: 'resnet8_4', batch: 32, lr: 0.05, milestones: '', evalEvery: '100ep', checkpointEvery: '100ep' };
const dataFor = (seed: number, h: Hparams) => new CifarTrainData(gpu(), syntheticCifar(256, 64, 3), h, seed);

describe('telemetry', () => {
  it('samples densely then log-spaced', () => {
    expect(sampleIterations(6, 3, 2)).toEqual([0, 1, 2, 3, 6]);
    const s = sampleIterations(4000, 100, 10);
    expect(s.slice(0, 101)).toEqual(Array.from({ length: 101 }, (_, i) => i));
    expect(s[s.length - 1]).toBe(4000);
    expect(s.length).toBeLessThan(140);
  });

  it('--final: a train_<hash> folder gives each replicate its own w_T; a run of another model, seed or replicate is refused', () => {
    const root = join(tempDir('ep-final-'), 'train_abc');
    for (const r of [1, 2]) {
      mkdirSync(join(root, `replicate_${r}`), { recursive: true });
      writeFileSync(join(root, `replicate_${r}`, 'model_final.safetensors'), '');
      writeFileSync(join(root, `replicate_${r}`, 'hparams.json'), JSON.stringify({ hparams: { model: 'resnet20', seed: 3 }, replicate: r }));
    }
    const h = validateHparams({ model: 'resnet20', seed: 3 });
    expect(finalWeightsPath(root, 2, h)).toBe(join(root, 'replicate_2', 'model_final.safetensors'));
    expect(finalWeightsPath(join(root, 'replicate_1'), 1, h)).toBe(join(root, 'replicate_1', 'model_final.safetensors'));
    expect(() => finalWeightsPath(join(root, 'replicate_1'), 2, h)).toThrow(/that run has replicate 1, this one replicate 2/);
    expect(() => finalWeightsPath(join(root, 'replicate_1', 'model_final.safetensors'), 1, validateHparams({ model: 'resnet20', seed: 4 }))).toThrow(/that run has seed 3, this one seed 4/);
    expect(() => finalWeightsPath(root, 1, validateHparams({ model: 'resnet56', seed: 3 }))).toThrow(/model resnet20/);
    expect(() => finalWeightsPath(join(root, 'replicate_3'), 3, h)).toThrow(/no model_final.safetensors there/);
  });

  it('every quantity matches a float64 recomputation from the weights at that iteration', async () => {
    const out = tempDir('ep-telemetry-');
    // w_T: a finished run of the same seed.
    const finalRun = await train(validateHparams({ ...BASE, trainingSteps: '8it' }), { out, gpu: gpu(), trainData: dataFor(replicateSeed(0, 1), validateHparams({ ...BASE, trainingSteps: '8it' })), quiet: true });
    const r = await telemetry({ ...BASE, trainingSteps: '6it', denseUntil: 3, samplesPerDecade: 2, sampleTestSubset: 32, fullEvalPerDecade: 0 }, { out, gpu: gpu(), trainData: (seed) => dataFor(seed, validateHparams({ ...BASE })), final: finalRun.runDir, quiet: true });
    const records = readFileSync(join(r.dir, 'telemetry.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records.map((x) => x.iteration)).toEqual([0, 1, 2, 3, 6]);

    const model = createModel('resnet8_4');
    const net = new Network(gpu(), model);
    const prunable = net.prunableNames();
    const concat = (state: Map<string, { data: unknown }>) => Float64Array.from(prunable.flatMap((n) => Array.from(state.get(n)!.data as Float32Array)));
    net.init(replicateSeed(0, 1));
    const w0 = concat(await net.stateDict());
    const wT = concat(loadSafetensors(join(finalRun.runDir, 'model_final.safetensors')).tensors);
    const tracked = trackedIndices(w0.length, replicateSeed(0, 1));
    const norm = (a: Float64Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));
    const dotp = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
    const dist = (a: Float64Array, b: Float64Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));

    for (const rec of records) {
      const t = rec.iteration;
      let w: Float64Array;
      let gradNorm: number | null = null;
      if (t === 0) w = w0;
      else {
        const h = validateHparams({ ...BASE, trainingSteps: `${t}it` });
        const run = await train(h, { out: join(out, `upto${t}`), gpu: gpu(), trainData: dataFor(replicateSeed(0, 1), h), quiet: true });
        w = concat(loadSafetensors(join(run.runDir, 'model_final.safetensors')).tensors);
        // The minibatch gradient of step t: replay step t-1 -> t from the state at t-1.
        const prevState = t === 1 ? await (async () => (net.init(replicateSeed(0, 1)), net.stateDict()))() : loadSafetensors(join((await train(validateHparams({ ...BASE, trainingSteps: `${t - 1}it` }), { out: join(out, `upto${t - 1}`), gpu: gpu(), trainData: dataFor(replicateSeed(0, 1), h), quiet: true })).runDir, 'model_final.safetensors')).tensors;
        net.loadStateDict(prevState);
        const data = dataFor(replicateSeed(0, 1), h);
        const sgd = new SgdMasked(net.params, { momentum: 0.9, weightDecay: 1e-4 });
        sgd.setLearningRate(0.05);
        const scope = Scope.open();
        recordTrainStep(net, data, sgd, t - 1);
        const grads = net.unflatten(await net.readFlat('grads'));
        scope.close();
        sgd.destroy();
        data.destroy();
        gradNorm = norm(Float64Array.from(prunable.flatMap((n) => Array.from(grads.get(n)!))));
      }
      const label = `iteration ${t}`;
      const n = w.length;
      expect(rec.mean_abs_w, label).toBeCloseTo(w.reduce((s, v) => s + Math.abs(v), 0) / n, 6);
      expect(rec.sign_changed_fraction, label).toBeCloseTo(w.reduce((s, v, i) => s + (Math.sign(v) !== Math.sign(w0[i]) ? 1 : 0), 0) / n, 9);
      expect(rec.dist_to_init, label).toBeCloseTo(dist(w, w0), 4);
      expect(rec.cos_to_init, label).toBeCloseTo(dotp(w, w0) / (norm(w) * norm(w0)), 5);
      expect(rec.dist_to_final, label).toBeCloseTo(dist(w, wT), 4);
      expect(rec.cos_to_final, label).toBeCloseTo(dotp(w, wT) / (norm(w) * norm(wT)), 5);
      expect(rec.tracked_weights, label).toEqual(tracked.map((i) => Math.fround(w[i])));
      if (gradNorm === null) expect(rec.grad_norm).toBeNull();
      else expect(rec.grad_norm / gradNorm, label).toBeCloseTo(1, 4);
      expect(rec.test_count).toBe(32);
      expect(rec.test_accuracy).toBeGreaterThanOrEqual(0);
    }
    net.destroy();
  });
});
