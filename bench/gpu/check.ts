// A correctness check to run on a new adapter before trusting its timings (bench/gpu/run.sh runs it
// first on a GPU machine, where the test suite and its node_modules do not travel): every conv shape
// of ResNet-20, forward and both gradients through autograd, against the float64 references of
// test/reference/conv2d.ts on fresh random inputs, under the conv configuration training would use;
// both downsampling blocks' stride-2 conv and 1x1 shortcut in one launch (conv2dWithShortcut, fused
// whatever the configuration says); each BatchNorm shape of ResNet-20 with its fused ReLU, and with the residual add of a block's end
// too, forward and every gradient against test/reference/batchnorm.ts (the ReLU's mask taken from the
// GPU's own output, which the backward kernels recompute from x), the block end's stride-2 copy, and
// the head's BatchNorm with the average pool in its launches (batchNorm2dAvgPool); then five training steps of ResNet-20 twice from the same seed (replayed, src/train/train_step.ts),
// which must give the same loss bits, and the same five steps recorded afresh, which must match them.
//   node dist/gpu-check.js [--batch N] [--seed S] [--json FILE] [--no-autotune]
// Exit status 1 when anything is out of tolerance, NaN, or not reproducible.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { backward } from '../../src/autograd/backward.js';
import { Gpu } from '../../src/gpu/runtime.js';
import { autotuneConv } from '../../src/ops/conv2d_autotune.js';
import { batchNorm2d, batchNorm2dAvgPool } from '../../src/ops/batchnorm.js';
import { stride2CopyOf } from '../../src/ops/stride2_copy.js';
import { conv2d, conv2dWithShortcut, getConvConfig, setConvConfig, shortcutInputGradOutcome, shortcutWeightGradOutcome } from '../../src/ops/conv2d.js';
import { add } from '../../src/ops/elementwise.js';
import { leaf } from '../../src/tensor/param_store.js';
import { Scope } from '../../src/tensor/scope.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { describeEnvironment } from '../../src/train/environment.js';
import { f32, Rng } from '../../test/helpers/random.js';
import { closeness, type Closeness } from '../../test/reference/closeness.js';
import { batchNormBackwardRef, batchNormTrainRef, batchStatsRef } from '../../test/reference/batchnorm.js';
import { evenPixelsRef, globalAvgPoolRef } from '../../test/reference/pooling.js';
import { conv2dForwardRef, conv2dInputGradRef, conv2dWeightGradRef, convOutSize, type ConvShape } from '../../test/reference/conv2d.js';
import { trainSetup, recordTrainStep } from '../end_to_end.js';
import { intFlag } from '../cli_args.js';

/** ResNet-20's conv shapes at batch N (the stem, each stage's 3x3, the stride-2 3x3 and 1x1 shortcuts). */
export function resnet20ConvShapes(N: number): (ConvShape & { name: string })[] {
  const c3 = (C: number, O: number, H: number, stride: number) => ({ name: `${C}->${O} 3x3 s${stride} ${H}x${H}`, N, C, H, W: H, O, KH: 3, KW: 3, stride, pad: 1 });
  const c1 = (C: number, O: number, H: number) => ({ name: `${C}->${O} 1x1 s2 ${H}x${H}`, N, C, H, W: H, O, KH: 1, KW: 1, stride: 2, pad: 0 });
  return [c3(3, 16, 32, 1), c3(16, 16, 32, 1), c3(16, 32, 32, 2), c1(16, 32, 32), c3(32, 32, 16, 1), c3(32, 64, 16, 2), c1(32, 64, 16), c3(64, 64, 8, 1)];
}

export interface ConvCheck {
  shape: string;
  forward: Closeness;
  input_grad: Closeness;
  weight_grad: Closeness;
  ok: boolean;
}

/** One conv shape through autograd (y, dx, dw) against the float64 references. */
export async function checkConv(gpu: Gpu, s: ConvShape & { name: string }, seed: number): Promise<ConvCheck> {
  const { OH, OW } = convOutSize(s);
  // drawn as the tests draw them: uniform in [-1, 1), rounded to f32 before the references see them
  const rng = new Rng(seed);
  const x = f32(rng.array(s.N * s.C * s.H * s.W));
  const w = f32(rng.array(s.O * s.C * s.KH * s.KW));
  const r = f32(rng.array(s.N * s.O * OH * OW));
  const scope = Scope.open();
  try {
    const tx = leaf(gpu, x, [s.N, s.C, s.H, s.W], 'x');
    const tw = leaf(gpu, w, [s.O, s.C, s.KH, s.KW], 'w');
    const y = conv2d(tx, tw, null, { stride: s.stride, padding: s.pad });
    backward(y, Tensor.fromArray(gpu, r, y.shape));
    // tolerances of test/conv2d.test.ts: a float32 sum of `len` O(1) products
    const tol = (len: number) => [2e-6 * len, 1e-4] as const;
    const forward = closeness(await y.readF32(), conv2dForwardRef(x, w, null, s), ...tol(s.C * s.KH * s.KW));
    const inputGrad = closeness(await tx.grad!.readF32(), conv2dInputGradRef(r, w, s), ...tol(s.O * s.KH * s.KW));
    const weightGrad = closeness(await tw.grad!.readF32(), conv2dWeightGradRef(r, x, s), ...tol(s.N * OH * OW));
    const ok = [forward, inputGrad, weightGrad].every((c) => c.bad === 0 && c.nan === 0);
    return { shape: s.name, forward, input_grad: inputGrad, weight_grad: weightGrad, ok };
  } finally {
    scope.close();
  }
}

export interface ShortcutPairCheck {
  shape: string;
  forward: Closeness;
  shortcut_forward: Closeness;
  input_grad: Closeness;
  /** x's gradient again with the stride-2 input gradient on the scatter variant and fuseShortcutGrad on (one pass). */
  input_grad_one_pass: Closeness;
  weight_grad: Closeness;
  shortcut_weight_grad: Closeness;
  /** Both weight gradients again with fuseShortcutWeightGrad on (one split-K pass). */
  weight_grad_one_pass: Closeness;
  shortcut_weight_grad_one_pass: Closeness;
  ok: boolean;
}

/**
 * A downsampling block's 3x3 stride-2 conv and its 1x1 stride-2 shortcut through conv2dWithShortcut
 * with fuseShortcut on (one launch, whether or not the configuration in use fuses them: the
 * autotuner may turn it on for this adapter), out = y + ysc, against the float64 references; and
 * x's gradient once more in one pass (rowScatter and fuseShortcutGrad on, as the autotuner may choose),
 * and both weight gradients in one pass (fuseShortcutWeightGrad on, which the autotuner may choose too).
 */
export async function checkShortcutPair(gpu: Gpu, N: number, C: number, O: number, H: number, seed: number): Promise<ShortcutPairCheck> {
  const s3: ConvShape = { N, C, H, W: H, O, KH: 3, KW: 3, stride: 2, pad: 1 };
  const s1: ConvShape = { N, C, H, W: H, O, KH: 1, KW: 1, stride: 2, pad: 0 };
  const { OH, OW } = convOutSize(s3);
  const rng = new Rng(seed);
  const x = f32(rng.array(N * C * H * H));
  const w = f32(rng.array(O * C * 9));
  const wsc = f32(rng.array(O * C));
  const r = f32(rng.array(N * O * OH * OW));
  const before = getConvConfig();
  const scope = Scope.open();
  try {
    setConvConfig({ fuseShortcut: true });
    const tx = leaf(gpu, x, [N, C, H, H], 'x');
    const tw = leaf(gpu, w, [O, C, 3, 3], 'w');
    const tsc = leaf(gpu, wsc, [O, C, 1, 1], 'wsc');
    const [y, ysc] = conv2dWithShortcut(tx, tw, null, { stride: 2, padding: 1 }, tsc);
    const out = add(y, ysc);
    backward(out, Tensor.fromArray(gpu, r, out.shape));
    const tol = (len: number) => [2e-6 * len, 1e-4] as const;
    const dxSc = conv2dInputGradRef(r, wsc, s1);
    const forward = closeness(await y.readF32(), conv2dForwardRef(x, w, null, s3), ...tol(9 * C));
    const shortcutForward = closeness(await ysc.readF32(), conv2dForwardRef(x, wsc, null, s1), ...tol(C));
    const inputGrad = closeness(await tx.grad!.readF32(), conv2dInputGradRef(r, w, s3).map((d, i) => d + dxSc[i]), ...tol(10 * O));
    const weightGrad = closeness(await tw.grad!.readF32(), conv2dWeightGradRef(r, x, s3), ...tol(N * OH * OW));
    const shortcutWeightGrad = closeness(await tsc.grad!.readF32(), conv2dWeightGradRef(r, x, s1), ...tol(N * OH * OW));
    // (weightGradDirectDy off: with it on the weight gradients never fuse, and the first run covered that)
    setConvConfig({ rowScatter: true, fuseShortcutGrad: true, fuseShortcutWeightGrad: true, weightGradDirectDy: false });
    const tw2 = leaf(gpu, w, [O, C, 3, 3], 'w');
    const tsc2 = leaf(gpu, wsc, [O, C, 1, 1], 'wsc');
    const tx2 = leaf(gpu, x, [N, C, H, H], 'x');
    const [y2, ysc2] = conv2dWithShortcut(tx2, tw2, null, { stride: 2, padding: 1 }, tsc2);
    const out2 = add(y2, ysc2);
    backward(out2, Tensor.fromArray(gpu, r, out2.shape));
    const inputGradOnePass = closeness(await tx2.grad!.readF32(), conv2dInputGradRef(r, w, s3).map((d, i) => d + dxSc[i]), ...tol(10 * O));
    if (shortcutInputGradOutcome(y2) !== 'fused') inputGradOnePass.bad = Math.max(1, inputGradOnePass.bad); // the one pass did not run
    const weightGradOnePass = closeness(await tw2.grad!.readF32(), conv2dWeightGradRef(r, x, s3), ...tol(N * OH * OW));
    const shortcutWeightGradOnePass = closeness(await tsc2.grad!.readF32(), conv2dWeightGradRef(r, x, s1), ...tol(N * OH * OW));
    if (shortcutWeightGradOutcome(y2) !== 'fused') weightGradOnePass.bad = Math.max(1, weightGradOnePass.bad);
    const all = [forward, shortcutForward, inputGrad, inputGradOnePass, weightGrad, shortcutWeightGrad, weightGradOnePass, shortcutWeightGradOnePass];
    const ok = all.every((c) => c.bad === 0 && c.nan === 0);
    return { shape: `${C}->${O} 3x3 s2 + 1x1 s2 ${H}x${H}`, forward, shortcut_forward: shortcutForward, input_grad: inputGrad, input_grad_one_pass: inputGradOnePass, weight_grad: weightGrad, shortcut_weight_grad: shortcutWeightGrad, weight_grad_one_pass: weightGradOnePass, shortcut_weight_grad_one_pass: shortcutWeightGradOnePass, ok };
  } finally {
    scope.close();
    setConvConfig(before);
  }
}

export interface BatchNormCheck {
  shape: string;
  forward: Closeness;
  input_grad: Closeness;
  weight_grad: Closeness;
  bias_grad: Closeness;
  /** The residual's gradient (the masked output gradient), with `residual`. */
  residual_grad?: Closeness;
  /** With `residual`, where the layout allows: the stride-2 copy written beside y, against y's even rows and columns (exact). */
  stride2_copy?: Closeness;
  ok: boolean;
}

/** A BatchNorm's operands on the GPU: x, gamma, beta, skip as autograd leaves, and fresh running statistics. */
function bnOperands(gpu: Gpu, s: { n: number; c: number; h: number; w: number }, v: { x: Float64Array; gamma: Float64Array; beta: Float64Array; skip: Float64Array }) {
  const shape = [s.n, s.c, s.h, s.w];
  return {
    tx: leaf(gpu, v.x, shape, 'x'),
    tg: leaf(gpu, v.gamma, [s.c], 'gamma'),
    tb: leaf(gpu, v.beta, [s.c], 'beta'),
    ts: leaf(gpu, v.skip, shape, 'skip'),
    rm: Tensor.zeros(gpu, [s.c]),
    rv: Tensor.fromArray(gpu, new Float32Array(s.c).fill(1), [s.c]),
  };
}

/**
 * relu(BN(x)) (a block's first BN), or with `residual` relu(skip + BN(x)) (its last), in training
 * mode through autograd, against the float64 references. The ReLU's mask is the GPU's own y > 0 (a
 * pre-activation within rounding of 0 may fall either way); the backward kernels recompute it from x,
 * so a disagreement shows as wrong gradients.
 */
export async function checkBatchNorm(gpu: Gpu, s: { n: number; c: number; h: number; w: number }, residual: boolean, seed: number): Promise<BatchNormCheck> {
  const rng = new Rng(seed);
  const size = s.n * s.c * s.h * s.w;
  const x = f32(rng.normals(size));
  const gamma = f32(rng.array(s.c, 0.5, 1.5));
  const beta = f32(rng.array(s.c, -0.5, 0.5));
  const skip = f32(rng.normals(size));
  const r = f32(rng.normals(size));
  const scope = Scope.open();
  try {
    const { tx, tg, tb, ts, rm, rv } = bnOperands(gpu, s, { x, gamma, beta, skip });
    // a block's end writes the stride-2 copy a projection shortcut reads next (stride2CopyFits)
    const y = batchNorm2d(tx, tg, tb, rm, rv, { training: true, relu: true, residual: residual ? ts : undefined, stride2Copy: residual });
    const copy = stride2CopyOf(y);
    backward(y, Tensor.fromArray(gpu, r, y.shape));
    const got = await y.readF32();
    const stride2Copy = copy ? closeness(await copy.readF32(), evenPixelsRef(got, s.n, s.c, s.h, s.w), 0, 0) : undefined;
    const pre = batchNormTrainRef(x, gamma, beta, s, 1e-5).map((v, i) => v + (residual ? skip[i] : 0));
    const dy = Float64Array.from(r, (v, i) => (got[i] > 0 ? v : 0));
    const st = batchStatsRef(x, s);
    const ref = batchNormBackwardRef(x, gamma, dy, s, 1e-5, { mean: st.mean, variance: st.varBiased, training: true });
    const m = s.n * s.h * s.w;
    // tolerances of test/batchnorm.test.ts
    const forward = closeness(got, pre.map((v) => Math.max(v, 0)), 1e-5, 1e-4);
    const inputGrad = closeness(await tx.grad!.readF32(), ref.dx, 2e-5, 1e-3);
    const weightGrad = closeness(await tg.grad!.readF32(), ref.dgamma, 1e-6 * m, 1e-4);
    const biasGrad = closeness(await tb.grad!.readF32(), ref.dbeta, 1e-6 * m, 1e-4);
    const residualGrad = residual ? closeness(await ts.grad!.readF32(), dy, 0, 0) : undefined;
    const all = [forward, inputGrad, weightGrad, biasGrad, ...(residualGrad ? [residualGrad] : []), ...(stride2Copy ? [stride2Copy] : [])];
    const name = `${residual ? 'relu(skip + BN(x))' : 'relu(BN(x))'} ${s.n}x${s.c}x${s.h}x${s.w}`;
    return { shape: name, forward, input_grad: inputGrad, weight_grad: weightGrad, bias_grad: biasGrad, residual_grad: residualGrad, stride2_copy: stride2Copy, ok: all.every((c) => c.bad === 0 && c.nan === 0) };
  } finally {
    scope.close();
  }
}

/**
 * A network's head: relu(skip + BN(x)) and its global average pool in one launch each way where the
 * configuration fuses them (batchNorm2dAvgPool), in training mode, against the float64 references.
 * Inputs are redrawn until every pre-activation is 1e-4 from the ReLU's kink, since the reference's
 * mask stands in for the GPU's (the pooled op keeps y to itself).
 */
export async function checkBatchNormHead(gpu: Gpu, s: { n: number; c: number; h: number; w: number }, seed: number): Promise<BatchNormCheck> {
  const rng = new Rng(seed);
  const size = s.n * s.c * s.h * s.w;
  const hw = s.h * s.w;
  const drawOnce = () => ({ x: f32(rng.normals(size)), gamma: f32(rng.array(s.c, 0.5, 1.5)), beta: f32(rng.array(s.c, -0.5, 0.5)), skip: f32(rng.normals(size)) });
  const preOf = (d: ReturnType<typeof drawOnce>) => batchNormTrainRef(d.x, d.gamma, d.beta, s, 1e-5).map((v, i) => v + d.skip[i]);
  let draw = drawOnce();
  for (let t = 0; t < 100 && preOf(draw).some((v) => Math.abs(v) < 1e-4); t++) draw = drawOnce();
  const { x, gamma } = draw;
  const r = f32(rng.normals(s.n * s.c));
  const scope = Scope.open();
  try {
    const { tx, tg, tb, ts, rm, rv } = bnOperands(gpu, s, draw);
    const y = batchNorm2dAvgPool(tx, tg, tb, rm, rv, { training: true, relu: true, residual: ts });
    backward(y, Tensor.fromArray(gpu, r, y.shape));
    const pre = preOf(draw);
    const pooled = globalAvgPoolRef(pre.map((v) => Math.max(v, 0)), s.n, s.c, s.h, s.w);
    // the pool's gradient shared out over each row, masked by the ReLU
    const dy = Float64Array.from(pre, (v, i) => (v > 0 ? r[Math.floor(i / hw)] / hw : 0));
    const st = batchStatsRef(x, s);
    const ref = batchNormBackwardRef(x, gamma, dy, s, 1e-5, { mean: st.mean, variance: st.varBiased, training: true });
    const m = s.n * hw;
    const forward = closeness(await y.readF32(), pooled, 1e-5, 1e-4);
    const inputGrad = closeness(await tx.grad!.readF32(), ref.dx, 2e-5, 1e-3);
    const weightGrad = closeness(await tg.grad!.readF32(), ref.dgamma, 1e-6 * m, 1e-4);
    const biasGrad = closeness(await tb.grad!.readF32(), ref.dbeta, 1e-6 * m, 1e-4);
    const residualGrad = closeness(await ts.grad!.readF32(), dy, 1e-7, 1e-6);
    const all = [forward, inputGrad, weightGrad, biasGrad, residualGrad];
    return { shape: `avgpool(relu(skip + BN(x))) ${s.n}x${s.c}x${s.h}x${s.w}`, forward, input_grad: inputGrad, weight_grad: weightGrad, bias_grad: biasGrad, residual_grad: residualGrad, ok: all.every((c) => c.bad === 0 && c.nan === 0) };
  } finally {
    scope.close();
  }
}

/** ResNet-20's BatchNorm shapes at batch N (one per stage). */
export function resnet20BatchNormShapes(N: number): { n: number; c: number; h: number; w: number }[] {
  return [16, 32, 64].map((c, i) => ({ n: N, c, h: 32 >> i, w: 32 >> i }));
}

/**
 * Five training steps of a fresh ResNet-20 from `seed` (with replay: two captures, then three
 * replays; src/train/train_step.ts); returns the losses' float32 bits.
 */
export async function trainingLossBits(gpu: Gpu, batch: number, seed: number, replay = true): Promise<number[]> {
  const s = trainSetup(gpu, 'resnet20', batch, { seed, nTrain: 4 * batch, nTest: batch, replay });
  try {
    const bits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const step = recordTrainStep(gpu, s, i);
      const [loss] = await step.loss.readF32();
      step.scope.close();
      bits.push(new Uint32Array(new Float32Array([loss]).buffer)[0]);
    }
    return bits;
  } finally {
    await gpu.sync();
    s.destroy();
  }
}

/** A check's verdict on the terminal: ok, or how many of its values were out of tolerance and the worst. */
function worst(k: Closeness): string {
  return k.bad ? `${k.bad}/${k.n} bad (worst got ${k.worst_got}, expected ${k.worst_expected})` : 'ok';
}

/** A BatchNorm check's line (dskip where it has a residual, the stride-2 copy where it wrote one). */
function logBatchNormCheck(c: BatchNormCheck): void {
  const extra = `${c.residual_grad ? `, dskip ${worst(c.residual_grad)}` : ''}${c.stride2_copy ? `, stride-2 copy ${worst(c.stride2_copy)}` : ''}`;
  console.log(`  ${c.shape.padEnd(30)} forward ${worst(c.forward)}, dx ${worst(c.input_grad)}, dgamma ${worst(c.weight_grad)}, dbeta ${worst(c.bias_grad)}${extra}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { batch: { type: 'string' }, seed: { type: 'string' }, json: { type: 'string' }, 'no-autotune': { type: 'boolean' } } });
  const batch = intFlag('batch', values.batch, 2);
  const seed = intFlag('seed', values.seed, (Date.now() & 0x7fffffff) >>> 0, 0);
  const gpu = await Gpu.create();
  try {
    const env = describeEnvironment(gpu);
    if (!values['no-autotune']) await autotuneConv(gpu, { log: (l) => console.log(l) });
    console.log(`adapter: ${env.adapter}   commit: ${env.git_commit}   seed: ${seed}`);
    const convs: ConvCheck[] = [];
    for (const [i, s] of resnet20ConvShapes(batch).entries()) {
      const c = await checkConv(gpu, s, seed + 10 * i);
      convs.push(c);
      console.log(`  conv ${s.name.padEnd(22)} forward ${worst(c.forward)}, input grad ${worst(c.input_grad)}, weight grad ${worst(c.weight_grad)}`);
    }
    const pairs: ShortcutPairCheck[] = [];
    for (const [i, [C, O, H]] of [[16, 32, 32], [32, 64, 16]].entries()) {
      const c = await checkShortcutPair(gpu, batch, C, O, H, seed + 50 + 10 * i);
      pairs.push(c);
      console.log(`  fused ${c.shape.padEnd(26)} forward ${worst(c.forward)}, shortcut ${worst(c.shortcut_forward)}, input grad ${worst(c.input_grad)} (one pass ${worst(c.input_grad_one_pass)}), weight grads ${worst(c.weight_grad)} / ${worst(c.shortcut_weight_grad)} (one pass ${worst(c.weight_grad_one_pass)} / ${worst(c.shortcut_weight_grad_one_pass)})`);
    }
    const bns: BatchNormCheck[] = [];
    for (const [i, s] of resnet20BatchNormShapes(batch).entries()) {
      for (const residual of [false, true]) {
        const c = await checkBatchNorm(gpu, s, residual, seed + 100 + 10 * i + (residual ? 1 : 0));
        bns.push(c);
        logBatchNormCheck(c);
      }
    }
    {
      const [, , last] = resnet20BatchNormShapes(batch);
      const c = await checkBatchNormHead(gpu, last, seed + 150);
      bns.push(c);
      logBatchNormCheck(c);
    }
    const a = await trainingLossBits(gpu, 8, seed);
    const b = await trainingLossBits(gpu, 8, seed);
    const plain = await trainingLossBits(gpu, 8, seed, false);
    const lossFinite = a.every((u) => Number.isFinite(new Float32Array(new Uint32Array([u]).buffer)[0]));
    const reproducible = a.every((u, i) => u === b[i]);
    const replayMatches = a.every((u, i) => u === plain[i]);
    const hex = (x: number[]) => x.map((u) => u.toString(16)).join(', ');
    console.log(`  five ResNet-20 training steps, twice from seed ${seed}: loss bits ${hex(a)} / ${hex(b)}: ${reproducible && lossFinite ? 'same bits' : 'MISMATCH or non-finite'}`);
    console.log(`  the same five steps recorded afresh (no replay): ${hex(plain)}: ${replayMatches ? 'same bits as replayed' : 'MISMATCH with the replayed steps'}`);
    const ok = convs.every((c) => c.ok) && pairs.every((c) => c.ok) && bns.every((c) => c.ok) && reproducible && lossFinite && replayMatches;
    const report = {
      schema: 'early-phase-gpu-check-1',
      date: new Date().toISOString(),
      environment: env,
      kernel_config: getConvConfig(),
      batch,
      seed,
      convs,
      shortcut_pairs: pairs,
      batchnorms: bns,
      training: { loss_bits: [a, b], plain_loss_bits: plain, reproducible, replay_matches_plain: replayMatches, finite: lossFinite },
      ok,
    };
    if (values.json) {
      mkdirSync(dirname(values.json), { recursive: true });
      writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n');
    }
    console.log(ok ? 'device check passed' : 'DEVICE CHECK FAILED');
    return ok ? 0 : 1;
  } finally {
    await gpu.sync().catch(() => undefined);
    gpu.destroy();
  }
}

if (process.argv[1] && /gpu-check\.js$/.test(process.argv[1])) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : e);
      process.exit(1);
    },
  );
}
