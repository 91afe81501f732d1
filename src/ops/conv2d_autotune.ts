// Conv kernel autotuner: a short measured search for the ConvConfig (workgroup sizes, register
// tiles, split-K chunk) that trains ResNet-20's convolutions fastest on this adapter, cached on disk
// by adapter, Dawn version and the conv kernels' source. Coordinate descent from the defaults: each field in turn tries its
// candidate values and keeps the fastest. What it times depends on the adapter: on a CPU adapter
// (lavapipe) forward + input gradient + weight gradient of ResNet-20's conv shapes (batch 64), by GPU
// timestamps around the whole pass (by wall clock around submit + onSubmittedWorkDone where the
// adapter has no timestamp queries); where that pass takes under 50 ms (a GPU) five whole ResNet-20
// training steps at batch 128, because on an H100 the conv pass ranked candidates against what the
// training epoch showed (see timeSteps). A candidate
// that wins once is kept only if it wins again, timed alternately with the incumbent.
// Bounded (about a minute on lavapipe); never run by the tests. `--no-autotune` keeps the defaults;
// EARLY_PHASE_CONV_CONFIG='{"field":value,...}' pins a configuration (over the defaults) instead of searching.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { isCpuAdapter } from '../gpu/cpu_adapter.js';
import type { Gpu } from '../gpu/runtime.js';
import { GpuTimer } from '../gpu/timer.js';
import { describeCpu } from '../train/environment.js';
import { recordTrainStep, trainSetup, type TrainSetup } from '../train/train_setup.js';
import { listShaders, shaderSource } from '../gpu/shader_source.js';
import { writeFileAtomic } from '../io/files.js';
import { leaf } from '../tensor/param_store.js';
import { Scope } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { cpuUniform } from './rng.js';
import { conv2d, conv2dWithShortcut, defaultConvConfig, getConvConfig, parseConvConfig, setConvConfig, type ConvConfig } from './conv2d.js';

// 4: re-measured once the idle wait (src/gpu/idle_wait.ts) gave lavapipe both cores
// 5: timed by GPU timestamps, with smaller weight-gradient chunks and reduceLanes among the candidates
// 6: rowCols (8-column tiles for the stride-1 row convs) among the fields
// 7: rowChannels 4 (half weight blocks: twice the invocations; 5.08 against 4.74 ms a step on an
//    H100, 2026-11-26, so only the field search tries it), rowScatter and pointwiseChannels 32 among the fields
// 9: the conv pass times each layer as a step runs it (RESNET20_CONVS), and the choice is checked
//    against the defaults' results before it is cached
// 10: pointwiseTile (conv2d_pointwise_tile for the 1x1 convs) among the fields
// 11: fuseShortcutGrad among the fields
// 12: stemTile (conv2d_forward_stem for the first conv), rowRows8 and classRows8 (2-row 8-column tiles) among the fields
// 13: fuseShortcutWeightGrad (the shortcut pairs' weight gradients in one pass) among the fields
// 14: weightGradTextures and rowTextures (conv inputs through texture mirrors) among the fields
// 15: rowWeightTextures (the row kernel's packed weights through a texture mirror) among the fields
// 16: weightGradPointwise (conv2d_weight_grad_pointwise for the 1x1 weight gradients) among the fields
const CACHE_VERSION = 'conv-config-16';

/**
 * Candidate settings, searched in this order: each step tries its settings (one field, or several
 * fields together) on the incumbent. Steps that only change the 1x1 convs are timed on those shapes
 * alone: they are ~1% of the total, below the 2% a change must win by.
 */
type Step = { settings: Partial<ConvConfig>[]; shapes?: 'all' | '1x1'; stepsOnly?: boolean };
const field = <K extends keyof ConvConfig>(k: K, values: ConvConfig[K][], shapes?: 'all' | '1x1'): Step => ({ settings: values.map((v) => ({ [k]: v }) as Partial<ConvConfig>), shapes });
const CANDIDATES: Step[] = [
  field('rowChannels', [4, 8, 16]),
  field('rowCols', [4, 8]),
  field('rowRows', [1, 2]),
  field('rowWorkgroup', [32, 64, 128]),
  field('rowDirectWeights', [false, true]),
  field('rowScatter', [true, false]),
  field('weightGradChannels', [8, 16]),
  field('weightGradChannels1x1', [16, 32], '1x1'),
  field('weightGradPointwise', [true, false], '1x1'),
  field('weightGradRows', [1, 2]),
  field('weightGradDirectDy', [false, true]),
  // Together: many small split-K chunks (a GPU's parallelism) only pay with several invocations
  // summing each element's chunks in the reduce, and a lone search of either field misses that.
  { settings: [128, 256, 512, 1024, 2048, 4096].flatMap((weightGradChunk) => [1, 8, 32].map((reduceLanes) => ({ weightGradChunk, reduceLanes }))) },
  field('inputGradWorkgroup', [32, 64, 128]),
  field('forwardWorkgroup', [32, 64, 128]),
  field('pointwise', [false, true], '1x1'),
  field('pointwiseChannels', [8, 16, 32], '1x1'),
  field('pointwiseTile', [true, false], '1x1'),
  // small effects (about 1 ms of a 660 ms lavapipe step each): last, where a one-minute search on a
  // CPU adapter (about five compiled configurations) seldom gets to them
  field('stemTile', [true, false]),
  field('rowRows8', [1, 2]),
  field('classRows8', [2, 1]),
  // a block's two convs in one launch: invisible to the conv pass (it times conv2d alone), so only
  // whole steps can tell (on lavapipe the fused launch took 0-8% longer than the two apart, 2026-12-06)
  { ...field('fuseShortcut', [false, true]), stepsOnly: true },
  // and their input gradients in one pass: invisible to the conv pass too (it times the pair's layers apart)
  { ...field('fuseShortcutGrad', [true, false]), stepsOnly: true },
  // and their weight gradients in one pass (on lavapipe 1.1-1.4x as long as apart, 2026-12-07)
  { ...field('fuseShortcutWeightGrad', [false, true]), stepsOnly: true },
  // the weight gradients' x and dy through texture mirrors: the copies are separate commands the
  // conv pass does not time, so only whole steps can tell (on lavapipe 7-37% faster where x is read
  // twice or more, 2026-12-07; a GPU's texture path is another matter)
  { ...field('weightGradTextures', [true, false]), stepsOnly: true },
  { ...field('rowTextures', [true, false]), stepsOnly: true },
  { ...field('rowWeightTextures', [true, false]), stepsOnly: true },
];

/**
 * Whole configurations tried first under the 'steps' objective (then the field-by-field search goes
 * on from the winner): the H100's best by hand-run sweeps (2026-11-26: a 2.42 s epoch against 4.4 s
 * with what the conv-pass search chose there), and that with direct loads. On the H100 the search
 * kept the first (4.85 ms a step against 9.07 with the defaults; a 1.92 s epoch at c481145).
 * rowScatter: false joined it later (the strided input gradients in one launch: 4.61 against 4.77 ms
 * a step, epochs 1.87-1.90 against 1.93-1.98 s, alternating on one H100, 2026-11-26).
 * stemTile: false keeps the first conv on the row kernel it was measured with there (conv2d_forward_stem
 * came later and has not run on a GPU; the field search after these starts tries it), and
 * weightGradTextures, rowTextures and rowWeightTextures: false the storage-buffer loads it was measured
 * with (the same).
 */
const H100_BEST: Partial<ConvConfig> = { weightGradChunk: 128, reduceLanes: 32, rowCols: 4, rowRows: 1, rowChannels: 8, pointwise: true, pointwiseChannels: 8, pointwiseTile: false, weightGradPointwise: false, rowScatter: false, weightGradChannels1x1: 16, stemTile: false, weightGradTextures: false, rowTextures: false, rowWeightTextures: false };
const GPU_STARTS: Step = {
  // and the same with every lane loading weights and dy itself (no subgroup broadcasts): slower on the
  // H100 (16.9 ms a step in the search; 2.15 against 1.97 s an epoch), kept for other GPUs
  settings: [H100_BEST, { ...H100_BEST, rowDirectWeights: true, weightGradDirectDy: true }],
};

/**
 * ResNet-20's conv layers by shape, as a training step runs them: `count` layers, of which
 * `inputGrads` compute an input gradient (all but the stem, whose input is the images) and
 * `accumulating` of those add it into the gradient another consumer of x already wrote (the first
 * conv of a block whose x also feeds the identity or the projection shortcut). test/conv2d_autotune
 * checks this list against the shapes a traced ResNet-20 step runs with fuseShortcutGrad off (on, the
 * downsampling pairs compute their input gradient in one pass, which the conv pass does not time).
 */
export const RESNET20_CONVS: readonly { C: number; O: number; H: number; k: number; stride: number; pad: number; count: number; inputGrads: number; accumulating: number }[] = [
  { C: 3, O: 16, H: 32, k: 3, stride: 1, pad: 1, count: 1, inputGrads: 0, accumulating: 0 },
  { C: 16, O: 16, H: 32, k: 3, stride: 1, pad: 1, count: 6, inputGrads: 6, accumulating: 3 },
  { C: 16, O: 32, H: 32, k: 3, stride: 2, pad: 1, count: 1, inputGrads: 1, accumulating: 0 },
  { C: 16, O: 32, H: 32, k: 1, stride: 2, pad: 0, count: 1, inputGrads: 1, accumulating: 1 },
  { C: 32, O: 32, H: 16, k: 3, stride: 1, pad: 1, count: 5, inputGrads: 5, accumulating: 2 },
  { C: 32, O: 64, H: 16, k: 3, stride: 2, pad: 1, count: 1, inputGrads: 1, accumulating: 0 },
  { C: 32, O: 64, H: 16, k: 1, stride: 2, pad: 0, count: 1, inputGrads: 1, accumulating: 1 },
  { C: 64, O: 64, H: 8, k: 3, stride: 1, pad: 1, count: 5, inputGrads: 5, accumulating: 2 },
];

export function autotuneCachePath(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'early-phase', 'autotune.json');
}

/**
 * The adapter (vendor, architecture, device and driver: one NVIDIA driver string serves an H100 and an
 * H200 alike), for a CPU adapter the host CPU (lavapipe compiles the kernels for it), the Dawn version,
 * and a hash of the conv kernels' source and the default configuration: a change to any of them
 * invalidates the search.
 */
export function autotuneCacheKey(gpu: Gpu): string {
  const d = gpu.dev.description;
  const source = createHash('sha256');
  for (const name of listShaders().filter((n) => n.startsWith('conv2d_'))) source.update(shaderSource(name)); // includes expanded: they are the kernels' code too
  // the defaults too, values included: a search starts from them and keeps what no candidate beat
  source.update(JSON.stringify(defaultConvConfig));
  const adapter = [d.vendor, d.architecture, d.device, d.description].filter(Boolean).join(' / ');
  const host = isCpuAdapter(d) ? `|cpu ${describeCpu()}` : '';
  return `${adapter}${host}|webgpu ${d.webgpuPackageVersion}|${CACHE_VERSION}|kernels ${source.digest('hex').slice(0, 12)}`;
}

function readCache(): Record<string, ConvConfig> {
  const p = autotuneCachePath();
  if (!existsSync(p)) return {};
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Record<string, ConvConfig>;
  } catch {
    return {};
  }
}

/**
 * The fastest of `reps` timings of what `record` records: GPU time between timestamps, one rep per
 * read so each begin timestamp comes after the previous rep has drained (wall clock around submit +
 * wait where the adapter has no timestamp queries, timer null).
 */
async function fastest(gpu: Gpu, timer: GpuTimer | null, record: () => void, reps: number, what: string): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    if (timer) {
      timer.span(record);
      times.push(...(await timer.read()));
      continue;
    }
    const t0 = performance.now();
    record();
    await gpu.sync();
    times.push(performance.now() - t0);
  }
  if (times.some((t) => !Number.isFinite(t))) throw new Error(`autotune: ${what} timed as ${times.join(', ')} ms`);
  return Math.min(...times);
}

/**
 * Time one pass over ResNet-20's convolutions with the current config: each layer's forward, its
 * input gradient written fresh, added into one already there, or not computed (the stem), and its
 * weight gradient, as RESNET20_CONVS says a step runs them. Each conv's backward is called
 * directly with its gradient buffers (made once), as the bench times a kernel.
 */
async function timeConvs(gpu: Gpu, batch: number, reps: number, which: 'all' | '1x1' = 'all'): Promise<number> {
  const scope = Scope.open();
  const timer = GpuTimer.supported(gpu) ? new GpuTimer(gpu, 1) : null;
  try {
    const layers = RESNET20_CONVS.filter((l) => which === 'all' || l.k === 1).map((l) => {
      const xData = new Float32Array(batch * l.C * l.H * l.H).fill(0.5);
      // the images need no gradient: no input gradient, and no packs for one (as in a step)
      const x = l.inputGrads === 0 ? Tensor.fromArray(gpu, xData, [batch, l.C, l.H, l.H]) : leaf(gpu, xData, [batch, l.C, l.H, l.H], 'x');
      x.grad?.fillBits(0); // the accumulating input gradients add into it
      return { ...l, x, w: leaf(gpu, new Float32Array(l.O * l.C * l.k * l.k).fill(0.01), [l.O, l.C, l.k, l.k], 'w') };
    });
    const once = () => {
      for (const l of layers) {
        for (let r = 0; r < l.count; r++) {
          const inner = Scope.open();
          const y = conv2d(l.x, l.w, null, { stride: l.stride, padding: l.pad });
          const dy = Tensor.empty(gpu, y.shape, 'f32', 'dy');
          dy.fill(1);
          const accumulate = r < l.accumulating;
          y.node!.backward(dy, {
            needsGrad: (i) => i === 1 || (i === 0 && r < l.inputGrads),
            gradOutput: (i) => (i === 0 ? l.x.grad! : l.w.grad!),
            accumulator: (i) => (i === 0 && accumulate ? l.x.grad! : null),
          });
          inner.close();
        }
      }
    };
    once(); // compile pipelines, warm caches
    await gpu.sync();
    return await fastest(gpu, timer, once, reps, 'a conv pass');
  } finally {
    timer?.destroy();
    scope.close();
  }
}

/**
 * Time ResNet-20 training steps at batch 128 (the training loop's own step: data, forward, backward,
 * SGD), `steps` per rep between GPU timestamps; the step set-up is made once per search and shared.
 * The objective on a fast adapter: there the conv-pass objective misranked the split-K candidates
 * (on an H100 it timed 128-pixel chunks slower, the training epoch ran 1.8x faster with them).
 */
async function timeSteps(gpu: Gpu, setup: TrainSetup, reps: number, steps = 5): Promise<number> {
  const timer = new GpuTimer(gpu, 1);
  let iteration = 0;
  const run = () => {
    for (let i = 0; i < steps; i++) recordTrainStep(gpu, setup, iteration++).scope.close();
  };
  try {
    run(); // compile pipelines, fill the pool
    await gpu.sync();
    return (await fastest(gpu, timer, run, reps, `${steps} training steps`)) / steps;
  } finally {
    timer.destroy();
  }
}

/** What the search minimises: a pass over ResNet-20's convs (batch 64), or whole training steps (batch 128). */
type Objective = 'convs' | 'steps';

/**
 * 'steps' where a conv pass takes under 50 ms (a GPU: a step costs milliseconds), 'convs' on a CPU
 * adapter (a step takes most of a second there, and the conv pass ranks its candidates as the step
 * does). EARLY_PHASE_AUTOTUNE_OBJECTIVE=convs|steps overrides.
 */
function chooseObjective(convPassMs: number): Objective {
  const forced = process.env.EARLY_PHASE_AUTOTUNE_OBJECTIVE;
  if (forced === 'convs' || forced === 'steps') return forced;
  if (forced) throw new Error(`EARLY_PHASE_AUTOTUNE_OBJECTIVE=${forced}: expected convs or steps`);
  return convPassMs < 50 ? 'steps' : 'convs';
}

/** A configuration beats another by taking at least 2% less time (the margin every comparison here needs). */
const beats = (ms: number, otherMs: number) => ms < otherMs * 0.98;

/**
 * A candidate that timed faster once must win again: incumbent and candidate timed alternately
 * three times each, the candidate's fastest at least 2% below the incumbent's. On a shared CPU
 * machine one timing can be 20% off, and a false win would stick in the cache.
 */
async function confirm(time: (reps: number) => Promise<number>, incumbent: ConvConfig, candidate: ConvConfig): Promise<boolean> {
  const [a, b] = await alternate(time, incumbent, candidate);
  return beats(b, a);
}

/**
 * The fastest of `rounds` timings of each of two configurations, timed alternately (the second one
 * is left set). The fastest, not the median: interference on a shared machine only ever adds time,
 * and it comes in episodes of seconds. A median of three let one episode decide: on lavapipe
 * (2026-12-06) a search kept weightGradChunk 256 with rowWorkgroup 32 by whole steps timed at 772
 * against 933 ms, and that configuration then trained at 122-125 img/s against 143-179 with the
 * defaults, alternating.
 */
async function alternate(time: (reps: number) => Promise<number>, first: ConvConfig, second: ConvConfig, rounds = 3): Promise<[number, number]> {
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    setConvConfig(first);
    a.push(await time(1));
    setConvConfig(second);
    b.push(await time(1));
  }
  return [Math.min(...a), Math.min(...b)];
}

/** Does `cfg` already have every field of `fields`? */
const has = (cfg: ConvConfig, fields: Partial<ConvConfig>) => Object.entries(fields).every(([k, v]) => cfg[k as keyof ConvConfig] === v);

/**
 * The conv pass is a proxy for the step: a configuration that won it must not train slower. Whole
 * ResNet-20 steps at batch 128 with the defaults and with `best`, alternately; the defaults stay
 * unless `best` is at least 2% faster. (On lavapipe rowWorkgroup 128 won the conv pass by 2% and trained 2-5%
 * slower in three alternating pairs of end-to-end runs, 2026-11-26.)
 */
async function guardBySteps(gpu: Gpu, best: ConvConfig, log: (s: string) => void): Promise<ConvConfig> {
  const setup = trainSetup(gpu, 'resnet20', 128, { nTrain: 256, nTest: 10 });
  try {
    const defaults = { ...defaultConvConfig };
    // the last word on the cached configuration, hence on the bits of every later run: five rounds
    const [d, b] = await alternate((reps) => timeSteps(gpu, setup, reps, 2), defaults, best, 5);
    const wins = beats(b, d);
    log(`autotune: whole training steps (the fastest of 5 each): ${b.toFixed(1)} ms with the conv-pass winner, ${d.toFixed(1)} ms with the defaults: ${wins ? 'keeping it' : 'keeping the defaults'}`);
    const chosen = wins ? best : defaults;
    setConvConfig(chosen);
    return chosen;
  } finally {
    setup.destroy();
  }
}

/** Random values in [-1, 1) for one check tensor (its own Philox stream). */
const checkData = (n: number, stream: number) => cpuUniform(n, 20261206, stream, -1, 1);

/**
 * Largest difference between `got` and `want` relative to want's largest magnitude; Infinity where
 * got has a NaN or infinity (an element a kernel left unwritten reads as NaN: outputs are poisoned).
 */
export function relativeDifference(got: Float32Array, want: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    if (!Number.isFinite(got[i])) return Infinity;
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / Math.max(scale, 1e-30);
}

/** How far another summation order may move a result (f32, sums of up to a few thousand terms); a wrong element moves it by about 1. */
const CHECK_TOLERANCE = 1e-4;

/** Every output of ResNet-20's conv layers (batch `batch`, as RESNET20_CONVS runs them) under `cfg`; with fuseShortcut, the downsampling pairs as one launch. */
async function convOutputs(gpu: Gpu, cfg: ConvConfig, batch: number): Promise<Map<string, Float32Array>> {
  setConvConfig(cfg);
  const out = new Map<string, Float32Array>();
  const scope = Scope.open();
  try {
    for (const [i, l] of RESNET20_CONVS.entries()) {
      const name = `${l.C}->${l.O} k${l.k} s${l.stride} ${l.H}x${l.H}`;
      const x = leaf(gpu, checkData(batch * l.C * l.H * l.H, 10 * i), [batch, l.C, l.H, l.H], 'x');
      const w = leaf(gpu, checkData(l.O * l.C * l.k * l.k, 10 * i + 1), [l.O, l.C, l.k, l.k], 'w');
      const y = conv2d(x, w, null, { stride: l.stride, padding: l.pad });
      const dy = Tensor.fromArray(gpu, checkData(y.size, 10 * i + 2), y.shape);
      // both gradients into the leaves' grad buffers, poisoned (NaN) first; then, where a step adds
      // (the 1x1 shortcuts, and the 3x3 first convs), the input gradient again, added into a prior
      const [dx, dw] = [x.grad!, w.grad!];
      dx.fillBits(0x7fc00000);
      dw.fillBits(0x7fc00000);
      y.node!.backward(dy, { needsGrad: () => true, gradOutput: (j) => (j === 0 ? dx : dw) });
      out.set(`${name} input gradient`, await dx.readF32());
      out.set(`${name} weight gradient`, await dw.readF32());
      if (l.accumulating > 0) {
        dx.write(checkData(x.size, 10 * i + 3));
        y.node!.backward(dy, { needsGrad: (j) => j === 0, gradOutput: () => dx, accumulator: (j) => (j === 0 ? dx : null) });
        out.set(`${name} input gradient added`, await dx.readF32());
      }
      out.set(`${name} forward`, await y.readF32());
      // the stride-2 3x3 with the 1x1 shortcut after it: the pair as a block runs it
      const sc = RESNET20_CONVS[i + 1];
      if (l.k === 3 && l.stride === 2 && sc?.k === 1 && sc.C === l.C && sc.O === l.O) {
        const wsc = leaf(gpu, checkData(l.O * l.C, 10 * i + 4), [l.O, l.C, 1, 1], 'wsc');
        const [yp, ysc] = conv2dWithShortcut(x, w, null, { stride: 2, padding: l.pad }, wsc);
        out.set(`${name} forward beside its shortcut`, await yp.readF32());
        out.set(`${name} shortcut forward`, await ysc.readF32());
        // and x's gradient of the pair as the step's backward computes it (one pass with fuseShortcutGrad)
        const dys = Tensor.fromArray(gpu, checkData(ysc.size, 10 * i + 5), ysc.shape);
        dx.fillBits(0x7fc00000);
        const [first] = yp.node!.backward(dy, { needsGrad: (j) => j === 0, gradOutput: () => dx, deferTo: () => true });
        ysc.node!.backward(dys, { needsGrad: (j) => j === 0, gradOutput: () => dx, accumulator: (j) => (j === 0 && first ? dx : null) });
        out.set(`${name} input gradient beside its shortcut`, await dx.readF32());
      }
    }
    return out;
  } finally {
    scope.close();
  }
}

/**
 * Does `cfg` give the defaults' results (within another summation order's rounding) on every
 * ResNet-20 conv, forward and both gradients? The defaults are what the test suite checks against
 * float64 references; a searched configuration runs other tile shapes, workgroup sizes and split-K
 * chunks, which no test saw on this adapter. Null when it agrees, else what differs. Leaves the
 * configuration set to `cfg`.
 */
export async function checkAgainstDefaults(gpu: Gpu, cfg: ConvConfig, batch = 4): Promise<string | null> {
  const want = await convOutputs(gpu, { ...defaultConvConfig }, batch);
  const got = await convOutputs(gpu, cfg, batch);
  const bad: string[] = [];
  for (const [name, w] of want) {
    const d = relativeDifference(got.get(name)!, w);
    if (!(d <= CHECK_TOLERANCE)) bad.push(`${name}: ${Number.isFinite(d) ? `off by ${d.toExponential(1)} of its largest value` : 'NaN or unwritten elements'}`);
  }
  return bad.length ? bad.join('; ') : null;
}

export interface AutotuneResult {
  config: ConvConfig;
  ms: number;
  defaultMs: number;
  fromCache: boolean;
  tried: number;
}

/**
 * How long the search may take from its start (the issue: "bounded (about a minute)"), the first
 * compile of the kernels and the warm-up included; the checks after it come on top. On lavapipe the
 * first compile takes about half of it and each new configuration's kernels several seconds more
 * (2026-12-06: 35 s, then 3-13 s each), so it tries a few configurations there; a GPU, dozens.
 */
const SEARCH_BUDGET_MS = 60_000;

/** Search (or load from the cache) the fastest ConvConfig for this adapter, and set it. */
export async function autotuneConv(gpu: Gpu, opts: { log?: (s: string) => void; batch?: number; force?: boolean; budgetMs?: number } = {}): Promise<AutotuneResult> {
  const log = opts.log ?? (() => undefined);
  const pinned = process.env.EARLY_PHASE_CONV_CONFIG;
  if (pinned) {
    // no search: the user's configuration over the defaults (recorded in hparams.json like any other)
    setConvConfig(parseConvConfig(pinned, 'EARLY_PHASE_CONV_CONFIG'));
    log(`autotune: skipped, conv configuration pinned by EARLY_PHASE_CONV_CONFIG: ${JSON.stringify(getConvConfig())}`);
    return { config: getConvConfig(), ms: NaN, defaultMs: NaN, fromCache: false, tried: 0 };
  }
  const key = autotuneCacheKey(gpu);
  const cache = readCache();
  const forced = process.env.EARLY_PHASE_AUTOTUNE_OBJECTIVE;
  const cached = forced === 'convs' ? cache[key] : forced === 'steps' ? cache[`${key}|steps`] : (cache[`${key}|steps`] ?? cache[key]);
  if (cached && !opts.force) {
    setConvConfig(cached);
    return { config: getConvConfig(), ms: NaN, defaultMs: NaN, fromCache: true, tried: 0 };
  }
  const batch = opts.batch ?? 64;
  const budgetMs = opts.budgetMs ?? SEARCH_BUDGET_MS;
  const deadline = performance.now() + budgetMs;
  log(`autotune: timing conv kernel configurations for ${gpu.dev.description.description || 'this adapter'} (about a minute, once; cached in ${autotuneCachePath()})`);
  setConvConfig({ ...defaultConvConfig });
  let best: ConvConfig = getConvConfig();
  // A GPU idles at a fraction of its clock and ramps up under load: keep it busy for a second first,
  // or the first candidates are timed at idle clocks (an H100 ran the same kernel 5x slower cold).
  let convPassMs = Infinity;
  for (const t0 = performance.now(); performance.now() - t0 < 1000; ) convPassMs = Math.min(convPassMs, await timeConvs(gpu, batch, 1));
  const objective = GpuTimer.supported(gpu) ? chooseObjective(convPassMs) : 'convs';
  const setup = objective === 'steps' ? trainSetup(gpu, 'resnet20', 128, { nTrain: 256, nTest: 10 }) : null;
  try {
    const time = (reps: number, which: 'all' | '1x1' = 'all') => (setup ? timeSteps(gpu, setup, reps) : timeConvs(gpu, batch, reps, which));
    const what = setup ? 'a ResNet-20 training step at batch 128' : `ResNet-20's convs at batch ${batch}`;
    const verbose = process.env.EARLY_PHASE_AUTOTUNE_VERBOSE === '1';
    // the first timings of a process can run slow (lavapipe: the defaults at 279 ms, then every
    // candidate at 216): each step re-times its incumbent, and the summary times both again
    if (verbose) log(`autotune:   timing ${what}; defaults ${(await time(2)).toFixed(2)} ms`);
    let tried = 1;
    // The field search stops when its time budget is spent (a busy machine stretches every timing),
    // keeping what it has found; the checks below still run.
    search: for (const { settings, shapes = 'all' } of setup ? [GPU_STARTS, ...CANDIDATES] : CANDIDATES.filter((c) => !c.stepsOnly)) {
      // the whole step is timed for every setting; the conv pass only over the shapes a setting changes
      const which = setup ? 'all' : shapes;
      // the 1x1 convs alone take a few ms on lavapipe, where one timing can be 20% off: 8x the reps
      const reps = which === '1x1' ? 8 : 1;
      const timeReps = (n: number) => time(n * reps, which);
      setConvConfig(best);
      let fieldBestMs = await timeReps(2);
      for (const setting of settings) {
        if (performance.now() > deadline) {
          log(`autotune: the search's ${(budgetMs / 1000).toFixed(0)} s are spent after ${tried} configurations; keeping the best so far`);
          setConvConfig(best);
          break search;
        }
        if (has(best, setting)) continue; // the incumbent
        const candidate: ConvConfig = { ...best, ...setting };
        try {
          setConvConfig(candidate);
        } catch {
          continue; // not a valid combination
        }
        const ms = await timeReps(2);
        tried++;
        if (verbose) log(`autotune:   ${JSON.stringify(setting)} ${ms.toFixed(2)} ms (incumbent ${fieldBestMs.toFixed(2)} ms${which === '1x1' ? ', 1x1 convs' : ''})`);
        // past the deadline a win is not confirmed (six more timings), so not kept
        if (beats(ms, fieldBestMs) && performance.now() < deadline && (await confirm(timeReps, best, candidate))) {
          best = candidate;
          fieldBestMs = ms;
        }
      }
      setConvConfig(best);
    }
    if (!setup && GpuTimer.supported(gpu) && !has(best, defaultConvConfig)) best = await guardBySteps(gpu, best, log);
    let [defaultMs, bestMs] = await alternate((reps) => time(reps), { ...defaultConvConfig }, best);
    if (setup && !has(best, defaultConvConfig) && !beats(bestMs, defaultMs)) {
      // the steps objective has no separate guard: the last alternation decides
      log(`autotune: ${JSON.stringify(best)} did not train faster than the defaults in the last check (${bestMs.toFixed(2)} against ${defaultMs.toFixed(2)} ms): keeping the defaults`);
      best = { ...defaultConvConfig };
      bestMs = defaultMs;
    }
    if (!has(best, defaultConvConfig)) {
      // nothing is cached (hence reused by every later run) that computes other results than the defaults
      const differs = await checkAgainstDefaults(gpu, best);
      if (differs) {
        log(`autotune: WARNING: ${JSON.stringify(best)} computes other results than the defaults on this adapter (${differs}): keeping the defaults`);
        best = { ...defaultConvConfig };
        bestMs = defaultMs;
      }
    }
    const fmt = (x: number) => x.toFixed(objective === 'steps' ? 2 : 0);
    log(
      has(best, defaultConvConfig)
        ? `autotune: ${tried} configurations; none beat the defaults, which stay (${what}: ${fmt(defaultMs)} ms)`
        : `autotune: ${tried} configurations; ${what}: ${fmt(defaultMs)} ms with the defaults, ${fmt(bestMs)} ms with ${JSON.stringify(best)}`,
    );
    const path = autotuneCachePath();
    mkdirSync(dirname(path), { recursive: true });
    writeFileAtomic(path, JSON.stringify({ ...readCache(), [objective === 'steps' ? `${key}|steps` : key]: best }, null, 2) + '\n');
    setConvConfig(best);
    return { config: best, ms: bestMs, defaultMs, fromCache: false, tried };
  } finally {
    setup?.destroy();
  }
}
