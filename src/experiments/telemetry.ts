// Early-phase telemetry (paper.md, Fig. 3): during the first iterations of dense training, sample at
// every iteration at the start and log-spaced later:
//   test_accuracy, test_loss        on a fixed test subset (full test set at coarser points)
//   mean_abs_w                      mean |w| over the concatenated prunable weights
//   sign_changed_fraction           fraction of prunable weights whose sign differs from iteration 0
//   tracked_weights                 ten fixed, randomly chosen prunable weights
//   grad_norm                       ||g|| of the step's minibatch gradient (prunable weights, before decay)
//   dist_to_init, cos_to_init       ||w_t - w_0||, cos(w_t, w_0)
//   dist_to_final, cos_to_final     the same against w_T from a finished run (--final), else omitted
// All reductions run on the GPU into one small tensor; one readback per sample.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Gpu } from '../gpu/runtime.js';
import { withGpu, withReplicate } from '../train/session.js';
import { loadSafetensors } from '../io/safetensors.js';
import { writeFileAtomic } from '../io/files.js';
import { gather } from '../ops/permute.js';
import { countSignChanges, dot, squaredDistance, sumAbs, sumSquares } from '../ops/reduce.js';
import { Scope } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { philox4x32, seedKey } from '../random/philox.js';
import { describeEnvironment } from '../train/environment.js';
import { hparamsHash, TRAIN_HPARAMS, validateHparams, type HparamDef, type Hparams } from '../train/hparams.js';
import { MetricsLog, type MetricRecord } from '../train/metrics_log.js';
import { prepareRunDir, replicateSeed } from '../train/train.js';
import type { TrainData } from '../train/train_data.js';
import { evaluate, runTrainingLoop } from '../train/training_loop.js';
import { parseStep } from '../train/steps.js';

export const TELEMETRY_HPARAMS: HparamDef[] = [
  ...TRAIN_HPARAMS.map((d) => (d.key === 'trainingSteps' ? { ...d, default: '4000it' } : d)),
  { key: 'denseUntil', flag: '--dense-until', type: 'int', default: 100, hashed: false, help: 'sample at every iteration up to this one' },
  { key: 'samplesPerDecade', flag: '--samples-per-decade', type: 'int', default: 40, hashed: false, help: 'log-spaced samples per factor of 10 after --dense-until' },
  { key: 'sampleTestSubset', flag: '--sample-test-subset', type: 'int', default: 500, hashed: false, help: 'test images evaluated at every sample (the first N of the test split)' },
  { key: 'fullEvalPerDecade', flag: '--full-eval-per-decade', type: 'int', default: 4, hashed: false, help: 'full-test-set evaluations per factor of 10 of iterations' },
];

/** Sample iterations: every one up to denseUntil, then `perDecade` log-spaced per factor of 10. */
export function sampleIterations(end: number, denseUntil: number, perDecade: number): number[] {
  const out = new Set<number>();
  for (let t = 0; t <= Math.min(end, denseUntil); t++) out.add(t);
  if (perDecade > 0 && end > denseUntil) {
    const start = Math.max(1, denseUntil);
    const steps = Math.ceil(Math.log10(end / start) * perDecade);
    for (let i = 0; i <= steps; i++) out.add(Math.min(end, Math.round(start * 10 ** (i / perDecade))));
  }
  out.add(end);
  return [...out].sort((a, b) => a - b);
}

export interface TelemetryOptions {
  out: string;
  replicate?: number;
  /** The finished train run whose model_final.safetensors gives w_T: see finalWeightsPath. */
  final?: string;
  data?: string;
  quiet?: boolean;
  gpu?: Gpu;
  trainData?: (seed: number) => TrainData;
  /** Pick the conv kernel configuration by a short measured search (cached per adapter). */
  autotune?: boolean;
}

/** Indices (into the concatenated prunable weights) of the ten tracked weights, fixed by the seed. */
export function trackedIndices(total: number, seed: number, count = 10): number[] {
  const [k0, k1] = seedKey(seed);
  const out: number[] = [];
  for (let i = 0; out.length < Math.min(count, total); i++) {
    const r = philox4x32(i, 0, 0, 0x5452_0013, k0, k1);
    const idx = r[0] % total;
    if (!out.includes(idx)) out.push(idx);
  }
  return out;
}

/**
 * w_T's file for `replicate`: --final is a train_<hash> folder (its replicate_<R>/ is taken), a
 * replicate's run folder or a model_final.safetensors. Where the run's hparams.json is at hand, its
 * model, seed and replicate must be this telemetry run's: w_T is the end of the same trajectory.
 */
export function finalWeightsPath(p: string, replicate: number, hparams: Hparams): string {
  const isFile = p.endsWith('.safetensors');
  let dir = isFile ? dirname(p) : p;
  if (!isFile && !existsSync(join(dir, 'model_final.safetensors')) && existsSync(join(dir, `replicate_${replicate}`))) dir = join(dir, `replicate_${replicate}`);
  const file = isFile ? p : join(dir, 'model_final.safetensors');
  if (!existsSync(file)) throw new Error(`--final ${p}: no ${isFile ? 'such file' : 'model_final.safetensors there'} (is the run finished?)`);
  const metaPath = join(dir, 'hparams.json');
  if (existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { hparams?: Hparams; replicate?: number };
    const theirs = { model: meta.hparams?.model, seed: meta.hparams?.seed ?? 0, replicate: meta.replicate };
    const ours = { model: hparams.model, seed: hparams.seed, replicate };
    const differ = (Object.keys(ours) as (keyof typeof ours)[]).filter((k) => theirs[k] !== undefined && theirs[k] !== ours[k]);
    if (differ.length) throw new Error(`--final ${p}: that run has ${differ.map((k) => `${k} ${theirs[k]}`).join(', ')}, this one ${differ.map((k) => `${k} ${ours[k]}`).join(', ')}; w_T must end the same trajectory (pass the train_<hash> folder to pick each replicate's)`);
  }
  return file;
}

export async function telemetry(input: Hparams, options: TelemetryOptions): Promise<{ dir: string; samples: number; reductionMs: number; stepMs: number }> {
  const hparams = validateHparams(input, TELEMETRY_HPARAMS);
  const replicate = options.replicate ?? 1;
  // OUT/telemetry_<hash>/hparams.json (as for lotteries), OUT/telemetry_<hash>/replicate_<R>/telemetry.jsonl.
  const root = join(options.out, `telemetry_${hparamsHash(hparams, TELEMETRY_HPARAMS)}`);
  const dir = join(root, `replicate_${replicate}`);
  mkdirSync(dir, { recursive: true });
  const seed = replicateSeed(Number(hparams.seed), replicate);
  const log = new MetricsLog(join(dir, 'telemetry.jsonl'));
  const replicateOptions = { data: options.data, trainData: options.trainData ? (s: number) => options.trainData!(s) : undefined };
  return withGpu(options, (gpu) =>
    withReplicate(gpu, hparams, seed, replicateOptions, async (network, data) => {
      prepareRunDir(root, { hparams, hash: hparamsHash(hparams, TELEMETRY_HPARAMS), replicate: -1, environment: describeEnvironment(gpu) }, undefined, TELEMETRY_HPARAMS);
      const store = network.params;
      const batch = Number(hparams.batch);
      const end = parseStep(String(hparams.trainingSteps), Math.ceil(data.trainSize / batch));
      const samples = new Set(sampleIterations(end, Number(hparams.denseUntil), Number(hparams.samplesPerDecade)));
      const fullEvals = new Set(sampleIterations(end, 0, Number(hparams.fullEvalPerDecade)));

      // Persistent telemetry state: selector of prunable positions, w_0, w_T, tracked indices.
      const flatSize = store.flatSize;
      const selector = new Float32Array(flatSize);
      // the weights IMP prunes (paper.md Fig. 3: "over the concatenated prunable weights"; VGG's fc is not)
      const prunable = network.prunableNames(network.model.defaultPruneIgnore());
      for (const n of prunable) {
        const e = store.get(n);
        selector.fill(1, e.offset, e.offset + e.size);
      }
      const count = prunable.reduce((s, n) => s + store.get(n).size, 0);
      const flatIndex: number[] = [];
      for (const i of trackedIndices(count, seed)) {
        let rest = i;
        for (const n of prunable) {
          const e = store.get(n);
          if (rest < e.size) {
            flatIndex.push(e.offset + rest);
            break;
          }
          rest -= e.size;
        }
      }
      const persistent = Scope.open();
      const sel = Tensor.fromArray(gpu, selector, [flatSize], 'f32', 'telemetry.selector');
      const tracked = Tensor.fromArray(gpu, flatIndex, [flatIndex.length], 'u32', 'telemetry.tracked');
      // w_0 is recomputed from the seed (initialisation is a pure function of it), so a resumed run has it too.
      const w0 = Tensor.fromArray(gpu, network.initialFlat(seed), [flatSize], 'f32', 'telemetry.w0');
      let wT: Tensor | null = null;
      if (options.final) {
        const state = loadSafetensors(finalWeightsPath(options.final, replicate, hparams)).tensors;
        const flat = new Float32Array(flatSize);
        for (const n of prunable) flat.set(state.get(n)!.data as Float32Array, store.get(n).offset);
        wT = Tensor.fromArray(gpu, flat, [flatSize], 'f32', 'telemetry.wT');
      }
      let reductionMs = 0;
      let sampled = 0;
      const t0 = performance.now();

      const sample = async (iteration: number, withGrad: boolean) => {
        // Let the step finish first, so the time below is the telemetry's own cost.
        await gpu.sync();
        const start = performance.now();
        const scope = Scope.open();
        const w = store.flat('values');
        const g = store.flat('grads');
        const s = Tensor.empty(gpu, [10], 'f32', 'telemetry.scalars');
        const c = Tensor.empty(gpu, [1], 'u32', 'telemetry.signs');
        sumAbs(w, { mask: sel, into: s, at: 0 });
        sumSquares(w, { mask: sel, into: s, at: 1 });
        squaredDistance(w, w0, { mask: sel, into: s, at: 2 });
        dot(w, w0, { mask: sel, into: s, at: 3 });
        sumSquares(w0, { mask: sel, into: s, at: 4 });
        if (withGrad) sumSquares(g, { mask: sel, into: s, at: 5 });
        if (wT) {
          squaredDistance(w, wT, { mask: sel, into: s, at: 6 });
          dot(w, wT, { mask: sel, into: s, at: 7 });
          sumSquares(wT, { mask: sel, into: s, at: 8 });
        }
        countSignChanges(w, w0, { mask: sel, into: c, at: 0 });
        const tw = gather(w, tracked);
        const [v, signs, weights] = [await s.readF32(), (await c.read())[0], await tw.readF32()];
        scope.close();
        reductionMs += performance.now() - start;
        const small = await evaluate(gpu, network, data, 500, Number(hparams.sampleTestSubset));
        const record: MetricRecord = {
          iteration,
          test_accuracy: small.accuracy,
          test_loss: small.loss,
          test_count: small.count,
          mean_abs_w: v[0] / count,
          sign_changed_fraction: signs / count,
          grad_norm: withGrad ? Math.sqrt(v[5]) : null,
          dist_to_init: Math.sqrt(v[2]),
          cos_to_init: v[3] / Math.sqrt(v[1] * v[4]),
        };
        if (wT) {
          record.dist_to_final = Math.sqrt(v[6]);
          record.cos_to_final = v[7] / Math.sqrt(v[1] * v[8]);
        }
        if (fullEvals.has(iteration) && small.count < data.testSize) {
          const full = await evaluate(gpu, network, data);
          record.full_test_accuracy = full.accuracy;
          record.full_test_loss = full.loss;
        }
        (record as Record<string, unknown>).tracked_weights = Array.from(weights);
        log.append(record);
        sampled++;
      };

      let r;
      try {
        r = await runTrainingLoop({
          gpu,
          network,
          data,
          hparams,
          dir,
          start: 0,
          label: `telemetry ${hparams.model}`,
          quiet: options.quiet,
          initialize: async () => {
            network.init(seed);
            await sample(0, false);
          },
          onResume: (iteration) => log.truncateAfter(iteration),
          onStep: async (iteration) => {
            if (samples.has(iteration)) await sample(iteration, true);
          },
        });
      } finally {
        persistent.close();
      }
      const totalMs = performance.now() - t0;
      // reduction_ms: the GPU reductions, the gather of the tracked weights and their one readback,
      // timed after the step has finished; test-set evaluations are separate and not included.
      const summary = { samples: sampled, reduction_ms_total: reductionMs, reduction_ms_per_sample: sampled ? reductionMs / sampled : 0, wall_ms_total: totalMs, reduction_fraction: totalMs ? reductionMs / totalMs : 0 };
      if (!r.skipped) writeFileAtomic(join(dir, 'telemetry_cost.json'), JSON.stringify(summary, null, 2) + '\n');
      return { dir, samples: sampled, reductionMs, stepMs: totalMs };
    }),
  );
}
