// `early-phase figures` on synthetic run directories: the CSV must equal what the metrics files say
// (means and spreads recomputed here, independently), unfinished runs must be shown as missing, and
// SVG and PNG files must be written. No GPU.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSafetensors } from '../src/io/safetensors.js';
import { figures, rerenderFigures, settleIteration, type FiguresResult } from '../src/report/figures.js';
import { parseCsv } from '../src/report/stats.js';

const REPLICATES = [1, 2, 3];
const LEVELS = [0, 1, 2, 3];
let root: string;
let runs: string;
let out: string;
let result: FiguresResult;

/** Deterministic pseudo-random accuracy in [0.6, 0.9). */
function fakeAcc(...key: number[]): number {
  let h = 2166136261;
  for (const k of key) h = Math.imul(h ^ (k + 0x9e37), 16777619) >>> 0;
  return 0.6 + (h % 30000) / 100000;
}

function writeJson(path: string, obj: unknown): void {
  writeFileSync(path, JSON.stringify(obj, null, 2) + '\n');
}

/** One run directory; the final test record is deliberately not the last line. */
function writeRun(dir: string, level: number, acc: number, finished: boolean): void {
  mkdirSync(dir, { recursive: true });
  writeJson(join(dir, 'sparsity.json'), { total: 1000, remaining: Math.round(1000 * 0.8 ** level), fraction_remaining: 0.8 ** level });
  const lines = [
    { split: 'train', iteration: 10, loss: 2.0, accuracy: 0.2 },
    { split: 'test', iteration: 100, epoch: 1, loss: 1.5, accuracy: acc - 0.2 },
    { event: 'resumed', iteration: 100 },
    { split: 'test', iteration: 400, epoch: 4, loss: 0.5, accuracy: acc },
    { split: 'test', iteration: 200, epoch: 2, loss: 1.0, accuracy: acc - 0.1 },
    { split: 'train', iteration: 390, loss: 0.4, accuracy: 0.9 },
  ];
  if (!finished) lines.splice(3, 1); // an unfinished run stopped before its last evaluation
  writeFileSync(join(dir, 'metrics.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  if (finished) writeFileSync(join(dir, 'model_final.safetensors'), encodeSafetensors(new Map()));
}

function lotteryHparams(model: string, rewind: string) {
  return { model, rewind, trainingSteps: '4ep', trainSubset: 12_800, batch: 128, pruningFraction: 0.2, seed: 0, evalEvery: '1ep' };
}

const BRANCHES = [
  { dir: 'branch_noise_aaaa', json: { name: 'noise', args: { n: 0.5 }, label: 'noise 0.5σ' }, std: 0.05 },
  { dir: 'branch_shuffle_bbbb', json: { name: 'shuffle', args: { within: 'layer', sameSign: false }, label: 'shuffle within layer' }, std: 0.12 },
];

/** Which runs are unfinished: k=500 replicate 3 level 3 (partial point), k=2000 level 3 (missing point). */
function finished(k: number, rep: number, level: number): boolean {
  if (k === 500 && rep === 3 && level === 3) return false;
  if (k === 2000 && level === 3) return false;
  return true;
}

function buildRuns(): void {
  const ks = [0, 500, 2000];
  for (const k of ks) {
    const dir = join(runs, `lottery_r20k${k}`);
    mkdirSync(dir, { recursive: true });
    writeJson(join(dir, 'hparams.json'), { hparams: lotteryHparams('resnet20', `${k}it`), hash: `r20k${k}` });
    for (const rep of REPLICATES) {
      const repDir = join(dir, `replicate_${rep}`);
      mkdirSync(repDir, { recursive: true });
      if (k === 500) writeFileSync(join(repDir, 'rewind.safetensors'), encodeSafetensors(new Map(), { iteration: '500' }));
      for (const level of LEVELS) {
        writeRun(join(repDir, `level_${level}`, 'main'), level, fakeAcc(k, rep, level), finished(k, rep, level));
        if (k !== 0) {
          // Fig. 4 at both k: one panel per k.
          const sm = join(repDir, `level_${level}`, 'branch_signs-magnitudes_cccc');
          writeRun(sm, level, fakeAcc(k, rep, level, 5), true);
          writeJson(join(sm, 'branch.json'), { name: 'signs-magnitudes', args: { signs: 'k', magnitudes: '0' }, label: 'signs @k, magnitudes @0' });
        }
        if (k !== 500) continue;
        BRANCHES.forEach((b, bi) => {
          const bdir = join(repDir, `level_${level}`, b.dir);
          writeRun(bdir, level, fakeAcc(k, rep, level, bi + 7), true);
          writeJson(join(bdir, 'branch.json'), b.json);
          const std = b.std * (1 + rep / 10);
          writeJson(join(bdir, 'perturbation.json'), { mean: 0.001, std, mean_normalized: 0.01, std_normalized: std * 10, count: 800, layers: {} });
        });
      }
    }
  }
  // A second model with one k.
  const vgg = join(runs, 'nested', 'lottery_vgg0');
  mkdirSync(vgg, { recursive: true });
  writeJson(join(vgg, 'hparams.json'), { hparams: lotteryHparams('vgg13', '0it'), hash: 'vgg0' });
  for (const level of LEVELS) writeRun(join(vgg, 'replicate_1', `level_${level}`, 'main'), level, fakeAcc(13, level), true);
  // Pre-training lotteries (Fig. 9): rotation pre-training as the rewinding state.
  const pre = join(runs, 'lottery_pre');
  mkdirSync(pre, { recursive: true });
  writeJson(join(pre, 'hparams.json'), {
    hparams: { ...lotteryHparams('resnet20', '0it'), pretrainTask: 'rotation', pretrainEpochs: 40 },
    hash: 'pre',
  });
  for (const rep of [1, 2]) for (const level of LEVELS) writeRun(join(pre, `replicate_${rep}`, `level_${level}`, 'main'), level, fakeAcc(40, rep, level), true);
  // Telemetry: two replicates, log-spaced samples.
  const tel = join(runs, 'telemetry_t1');
  mkdirSync(tel, { recursive: true });
  writeJson(join(tel, 'hparams.json'), { hparams: { model: 'resnet20', trainingSteps: '4ep', trainSubset: 12_800 }, hash: 't1' });
  for (const rep of [1, 2]) {
    mkdirSync(join(tel, `replicate_${rep}`), { recursive: true });
    const samples = [0, 1, 2, 4, 8, 16, 32].map((it) => ({
      iteration: it,
      test_accuracy: fakeAcc(99, rep, it),
      test_loss: 2 - it / 32,
      mean_abs_w: 0.05 + it / 1000,
      sign_changed_fraction: it / 100,
      grad_norm: 1 + rep,
      dist_to_init: it / 10,
      cos_to_init: 1 - it / 100,
      tracked_weights: Array.from({ length: 10 }, (_, i) => i / 10 + it / 100),
      dist_to_final: 5 - it / 10,
      cos_to_final: 0.5 + it / 100,
    }));
    writeFileSync(join(tel, `replicate_${rep}`, 'telemetry.jsonl'), samples.map((s) => JSON.stringify(s)).join('\n') + '\n');
  }
}

/** The final accuracy of a run directory, read here independently of src/report. */
function finalAccuracy(dir: string): number | null {
  if (!existsSync(join(dir, 'model_final.safetensors'))) return null;
  const tests = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((r) => r.split === 'test');
  tests.sort((a, b) => a.iteration - b.iteration);
  return tests[tests.length - 1].accuracy;
}

function stats(xs: number[]) {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std, min: Math.min(...xs), max: Math.max(...xs) };
}

let csv: Record<string, string>[];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ep-figures-'));
  runs = join(root, 'runs');
  out = join(root, 'figures');
  buildRuns();
  result = await figures({ runs, out });
  csv = parseCsv(readFileSync(join(out, 'figures.csv'), 'utf8'));
}, 60_000);

afterAll(() => (process.env.KEEP_FIGURES ? console.log('figures kept in', out) : rmSync(root, { recursive: true, force: true })));

function row(figure: string, series: string, x: number, panel = ''): Record<string, string> {
  const rs = csv.filter((r) => r.figure === figure && r.series === series && r.panel === panel && Math.abs(Number(r.x) - x) < 1e-9);
  expect(rs, `${figure} / ${panel} / ${series} @ ${x}`).toHaveLength(1);
  return rs[0];
}

function expectMatches(r: Record<string, string>, accs: { rep: number; acc: number | null }[]): void {
  const done = accs.filter((a) => a.acc !== null) as { rep: number; acc: number }[];
  const s = stats(done.map((a) => a.acc));
  expect(Number(r.y_mean)).toBeCloseTo(s.mean, 12);
  expect(Number(r.y_std)).toBeCloseTo(s.std, 12);
  expect(Number(r.y_min)).toBe(s.min);
  expect(Number(r.y_max)).toBe(s.max);
  expect(Number(r.n)).toBe(done.length);
  expect(r.values.split(';').sort()).toEqual(done.map((a) => `s0r${a.rep}=${a.acc}`).sort());
}

describe('early-phase figures', () => {
  it('writes the figures for which runs exist and says which were skipped', () => {
    const names = result.written.map((p) => p.slice(out.length + 1));
    for (const f of ['fig1_resnet20', 'fig1_vgg13', 'figA2_resnet20', 'fig4_resnet20', 'fig5_resnet20', 'fig9_resnet20', 'fig7_resnet20', 'fig8_resnet20', 'fig3_resnet20']) {
      expect(names).toContain(`${f}.svg`);
      expect(names).toContain(`${f}.png`);
    }
    expect(names).toEqual(expect.arrayContaining(['figures.csv', 'runs.csv', 'index.md']));
    expect(names).not.toContain('fig6_resnet20.svg');
    expect(result.skipped.join('\n')).toMatch(/fig10_resnet20/);
    expect(result.skipped.join('\n')).toMatch(/figA2_vgg13/);
  });

  it('Fig. 1: every point equals the mean/spread of the final test accuracies in metrics.jsonl', () => {
    for (const k of [0, 500, 2000]) {
      for (const level of LEVELS) {
        const accs = REPLICATES.map((rep) => ({ rep, acc: finalAccuracy(join(runs, `lottery_r20k${k}`, `replicate_${rep}`, `level_${level}`, 'main')) }));
        if (accs.every((a) => a.acc === null)) continue;
        expectMatches(row('fig1_resnet20', `k = ${k}`, 100 * 0.8 ** level), accs);
      }
    }
    // Figure A2 holds the same numbers, indexed by k.
    const a2 = row('figA2_resnet20', '64.0% (level 2)', 500);
    expect(a2.y_mean).toBe(row('fig1_resnet20', 'k = 500', 64).y_mean);
  });

  it('shows unfinished runs as missing, never with their partial accuracy', () => {
    const partial = row('fig1_resnet20', 'k = 500', 100 * 0.8 ** 3);
    expect(partial.status).toBe('partial');
    expect(partial.n_missing).toBe('1');
    expect(partial.missing_replicates).toBe('s0r3');
    expect(partial.values).not.toMatch(/s0r3/);
    const missing = row('fig1_resnet20', 'k = 2000', 100 * 0.8 ** 3);
    expect(missing.status).toBe('missing');
    expect(missing.y_mean).toBe('');
    expect(missing.n).toBe('0');
    expect(missing.missing_replicates.split(';').sort()).toEqual(['s0r1', 's0r2', 's0r3']);
    expect(row('fig1_resnet20', 'k = 0', 100).status).toBe('ok');
    // runs.csv lists the unfinished runs as incomplete, without an accuracy.
    const runsCsv = parseCsv(readFileSync(join(out, 'runs.csv'), 'utf8'));
    const inc = runsCsv.filter((r) => r.status === 'incomplete');
    expect(inc).toHaveLength(4);
    for (const r of inc) expect(r.final_accuracy).toBe('');
  });

  it('Figs. 5 and 7: branch curves per k against weights remaining, with the unmodified IMP curve', () => {
    for (const level of LEVELS) {
      const x = 100 * 0.8 ** level;
      const [noise, shuffle] = BRANCHES;
      const accs = (dir: string) => REPLICATES.map((rep) => ({ rep, acc: finalAccuracy(join(runs, 'lottery_r20k500', `replicate_${rep}`, `level_${level}`, dir)) }));
      expectMatches(row('fig7_resnet20', noise.json.label, x, 'k = 500'), accs(noise.dir));
      expectMatches(row('fig5_resnet20', shuffle.json.label, x, 'k = 500'), accs(shuffle.dir));
      expect(row('fig7_resnet20', 'IMP (unmodified, rewound to k)', x, 'k = 500').y_mean).toBe(row('fig1_resnet20', 'k = 500', x).y_mean);
    }
  });

  it('Fig. 4: one panel per k; Fig. 9: pre-trained states beside every k without pre-training', () => {
    for (const k of [500, 2000]) {
      const accs = REPLICATES.map((rep) => ({ rep, acc: finalAccuracy(join(runs, `lottery_r20k${k}`, `replicate_${rep}`, 'level_1', 'branch_signs-magnitudes_cccc')) }));
      expectMatches(row('fig4_resnet20', 'signs @k, magnitudes @0', 80, `k = ${k}`), accs);
    }
    const pre = [1, 2].map((rep) => ({ rep, acc: finalAccuracy(join(runs, 'lottery_pre', `replicate_${rep}`, 'level_2', 'main')) }));
    expectMatches(row('fig9_resnet20', 'pre-trained: rotation, 40 ep', 64), pre);
    expect(row('fig9_resnet20', 'no pre-training, k = 500', 64).y_mean).toBe(row('fig1_resnet20', 'k = 500', 64).y_mean);
    expect(row('fig9_resnet20', 'no pre-training, k = 0', 64).y_mean).toBe(row('fig1_resnet20', 'k = 0', 64).y_mean);
    // Every k without pre-training found for the condition is a comparison curve, not only 0 and 500.
    expect(row('fig9_resnet20', 'no pre-training, k = 2000', 64).y_mean).toBe(row('fig1_resnet20', 'k = 2000', 64).y_mean);
    // Pre-training lotteries stay out of Fig. 1.
    expect([...new Set(csv.filter((r) => r.figure === 'fig1_resnet20').map((r) => r.series))].sort()).toEqual(['dense baseline (level 0, k = 0)', 'k = 0', 'k = 2000', 'k = 500']);
  });

  it('Fig. 8: effective std (raw and normalised) vs mean accuracy at the level closest to 26.2%', () => {
    // 0.8^3 = 51.2%, 0.8^... : of levels 0-3 the closest to 26.2% is level 3 (51.2%).
    for (const b of BRANCHES) {
      const stds = REPLICATES.map((rep) => b.std * (1 + rep / 10));
      const accs = REPLICATES.map((rep) => ({ rep, acc: finalAccuracy(join(runs, 'lottery_r20k500', `replicate_${rep}`, 'level_3', b.dir)) }));
      const raw = csv.find((r) => r.figure === 'fig8_resnet20' && r.panel === 'raw' && r.series === `${b.json.label}, k = 500`)!;
      expect(Number(raw.x)).toBeCloseTo(stats(stds).mean, 12);
      expectMatches(raw, accs);
      const norm = csv.find((r) => r.figure === 'fig8_resnet20' && r.panel === 'normalized' && r.series === `${b.json.label}, k = 500`)!;
      expect(Number(norm.x)).toBeCloseTo(stats(stds).mean * 10, 10);
    }
  });

  it('Fig. 3: telemetry means over replicates per iteration', () => {
    const read = (rep: number) =>
      readFileSync(join(runs, 'telemetry_t1', `replicate_${rep}`, 'telemetry.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    const [a, b] = [read(1), read(2)];
    for (let i = 0; i < a.length; i++) {
      const r = row('fig3_resnet20', 'test accuracy', a[i].iteration, 'accuracy');
      expect(Number(r.y_mean)).toBeCloseTo((a[i].test_accuracy + b[i].test_accuracy) / 2, 12);
      expect(Number(r.y_min)).toBe(Math.min(a[i].test_accuracy, b[i].test_accuracy));
    }
    expect(csv.filter((r) => r.figure === 'fig3_resnet20' && r.panel === 'tracked weights')).toHaveLength(70);
  });

  it('titles state the data size; SVG and PNG files are real', () => {
    const svg = readFileSync(join(out, 'fig1_resnet20.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('REDUCED PROTOCOL');
    expect(svg).toContain('12,800 of 50,000 training images');
    expect(svg).toContain('Percent of Weights Remaining');
    expect(svg).toContain('Test Accuracy');
    for (const p of result.written.filter((f) => f.endsWith('.png'))) {
      const buf = readFileSync(p);
      expect(buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
      expect(statSync(p).size).toBeGreaterThan(5000);
    }
    for (const p of result.written.filter((f) => f.endsWith('.svg'))) expect(statSync(p).size).toBeGreaterThan(1000);
  });

  it('--rerender: a folder holding only the specs gets the same SVGs again, and PNGs; no specs is an error', async () => {
    const dir = join(root, 'rerender');
    mkdirSync(dir, { recursive: true });
    for (const name of ['fig1_resnet20', 'fig3_resnet20']) writeFileSync(join(dir, `${name}.vl.json`), readFileSync(join(out, `${name}.vl.json`)));
    const files = await rerenderFigures(dir);
    expect(files.map((f) => f.slice(dir.length + 1)).sort()).toEqual(['fig1_resnet20.png', 'fig1_resnet20.svg', 'fig3_resnet20.png', 'fig3_resnet20.svg']);
    for (const name of ['fig1_resnet20', 'fig3_resnet20']) expect(readFileSync(join(dir, `${name}.svg`), 'utf8')).toBe(readFileSync(join(out, `${name}.svg`), 'utf8'));
    const empty = join(root, 'rerender-empty');
    mkdirSync(empty, { recursive: true });
    await expect(rerenderFigures(empty)).rejects.toThrow(/no \*\.vl\.json figure specs/);
  });
});

// ---------------------------------------------------------------- the audit's cases, each in its own runs folder

/** A lottery folder: `levels[rep]` lists the levels of replicate rep that have a main run (finished unless in `unfinished`). */
function writeLottery(dir: string, hparams: Record<string, unknown>, levels: Record<number, number[]>, key: number, unfinished: [number, number][] = []): void {
  mkdirSync(dir, { recursive: true });
  writeJson(join(dir, 'hparams.json'), { hparams, hash: dir.split('_').pop() });
  for (const [rep, ls] of Object.entries(levels)) {
    mkdirSync(join(dir, `replicate_${rep}`), { recursive: true });
    for (const level of ls) writeRun(join(dir, `replicate_${rep}`, `level_${level}`, 'main'), level, fakeAcc(key, Number(rep), level), !unfinished.some(([r, l]) => r === Number(rep) && l === level));
  }
}

function writeBranch(dir: string, json: Record<string, unknown>, level: number, acc: number, finished: boolean, std: number | null): void {
  writeRun(dir, level, acc, finished);
  writeJson(join(dir, 'branch.json'), json);
  if (std !== null) writeJson(join(dir, 'perturbation.json'), { mean: 0, std, mean_normalized: 0, std_normalized: std * 10, count: 800, layers: {} });
}

/** A telemetry replicate sampled at `iterations`; `finished` writes model_final.safetensors as the training loop does. */
function writeTelemetry(dir: string, rep: number, iterations: number[], finished: boolean): void {
  mkdirSync(join(dir, `replicate_${rep}`), { recursive: true });
  const samples = iterations.map((it) => ({ iteration: it, test_accuracy: fakeAcc(77, rep, it), test_loss: 2 - it / 1000, mean_abs_w: 0.05, tracked_weights: Array.from({ length: 10 }, (_, i) => i / 10) }));
  writeFileSync(join(dir, `replicate_${rep}`, 'telemetry.jsonl'), samples.map((x) => JSON.stringify(x)).join('\n') + '\n');
  if (finished) writeFileSync(join(dir, `replicate_${rep}`, 'model_final.safetensors'), encodeSafetensors(new Map()));
}

async function figuresOf(name: string, build: (runs: string) => void): Promise<{ runs: string; out: string; csv: Record<string, string>[]; runsCsv: Record<string, string>[]; index: string; result: FiguresResult }> {
  const r = join(root, name, 'runs');
  const o = join(root, name, 'figures');
  mkdirSync(r, { recursive: true });
  build(r);
  const result = await figures({ runs: r, out: o, png: false });
  return {
    runs: r,
    out: o,
    csv: parseCsv(readFileSync(join(o, 'figures.csv'), 'utf8')),
    runsCsv: parseCsv(readFileSync(join(o, 'runs.csv'), 'utf8')),
    index: readFileSync(join(o, 'index.md'), 'utf8'),
    result,
  };
}

function rowIn(csvRows: Record<string, string>[], figure: string, series: string, x: number, panel = ''): Record<string, string> {
  const rs = csvRows.filter((r) => r.figure === figure && r.series === series && r.panel === panel && Math.abs(Number(r.x) - x) < 1e-9);
  expect(rs, `${figure} / ${panel} / ${series} @ ${x}`).toHaveLength(1);
  return rs[0];
}

const NOISE = { name: 'noise', args: { n: 0.5 }, label: 'noise 0.5σ' };
const SHUFFLE = { name: 'shuffle', args: { within: 'layer', sameSign: false }, label: 'shuffle within layer' };
const OVERRIDES = { trainingSteps: '8ep', lr: 0.05 };

describe('figures: the audit of missing runs, branch overrides, Fig. 3 and Fig. 9', () => {
  /**
   * A quick-size sweep caught midway: k = 0 with replicate 1 at levels 0-3 and replicate 2 at levels
   * 0-1 only; k = 16 with both replicates at levels 0-3, its branches at level 3 (noise finished in
   * replicate 1, still running in replicate 2; shuffle only started in replicate 1; noise trained with
   * other epochs and learning rate, replicate 1 only); k = 48 with both replicates at levels 0-1 only;
   * a pre-training lottery beside them.
   */
  let q: Awaited<ReturnType<typeof figuresOf>>;
  const x = (level: number) => 100 * 0.8 ** level;
  beforeAll(async () => {
    q = await figuresOf('audit', (r) => {
      writeLottery(join(r, 'lottery_q0'), lotteryHparams('resnet20', '0it'), { 1: LEVELS, 2: [0, 1] }, 0);
      writeLottery(join(r, 'lottery_q16'), lotteryHparams('resnet20', '16it'), { 1: LEVELS, 2: LEVELS }, 16);
      writeLottery(join(r, 'lottery_q48'), lotteryHparams('resnet20', '48it'), { 1: [0, 1], 2: [0, 1] }, 48);
      writeLottery(join(r, 'lottery_qpre'), { ...lotteryHparams('resnet20', '0it'), pretrainTask: 'rotation', pretrainEpochs: 2 }, { 1: LEVELS }, 2);
      const level3 = (rep: number) => join(r, 'lottery_q16', `replicate_${rep}`, 'level_3');
      writeBranch(join(level3(1), 'branch_noise_aaaa'), NOISE, 3, fakeAcc(16, 1, 3, 1), true, 0.05);
      writeBranch(join(level3(2), 'branch_noise_aaaa'), NOISE, 3, fakeAcc(16, 2, 3, 1), false, 0.5);
      writeBranch(join(level3(1), 'branch_shuffle_bbbb'), SHUFFLE, 3, fakeAcc(16, 1, 3, 2), true, 0.2);
      writeBranch(join(level3(1), 'branch_noise_dddd'), { ...NOISE, overrides: OVERRIDES }, 3, fakeAcc(16, 1, 3, 3), true, 0.06);
    });
  }, 60_000);

  const acc = (k: number, rep: number, level: number, dir = 'main') => finalAccuracy(join(q.runs, `lottery_q${k}`, `replicate_${rep}`, `level_${level}`, dir));

  it('a replicate whose run has not started is missing (not started), not dropped: Figs. 1 and A2, runs.csv, index.md', () => {
    for (const level of [2, 3]) {
      // k = 0: replicate 2 stopped after level 1.
      const p = rowIn(q.csv, 'fig1_resnet20', 'k = 0', x(level));
      expect(p.status).toBe('partial');
      expect(p.n).toBe('1');
      expect(p.n_missing).toBe('1');
      expect(p.missing_replicates).toBe('s0r2');
      expectMatches(p, [{ rep: 1, acc: acc(0, 1, level) }]);
      // k = 48: neither replicate reached the condition's highest level (3).
      const m = rowIn(q.csv, 'fig1_resnet20', 'k = 48', x(level));
      expect(m.status).toBe('missing');
      expect(m.missing_replicates.split(';').sort()).toEqual(['s0r1', 's0r2']);
      // Fig. A2, the same runs indexed by k.
      const a2 = rowIn(q.csv, 'figA2_resnet20', `${(100 * 0.8 ** level).toFixed(1)}% (level ${level})`, 0);
      expect(a2.status).toBe('partial');
      expect(a2.missing_replicates).toBe('s0r2');
      expect(rowIn(q.csv, 'figA2_resnet20', `${(100 * 0.8 ** level).toFixed(1)}% (level ${level})`, 48).status).toBe('missing');
    }
    expect(rowIn(q.csv, 'fig1_resnet20', 'k = 0', x(1)).status).toBe('ok');
    expect(rowIn(q.csv, 'fig1_resnet20', 'k = 16', x(3)).status).toBe('ok');
    // runs.csv lists each expected run that has no directory, without values.
    const ns = q.runsCsv.filter((r) => r.status === 'not started');
    expect(ns.map((r) => r.dir).sort()).toEqual(
      [
        'lottery_q0/replicate_2/level_2/main',
        'lottery_q0/replicate_2/level_3/main',
        'lottery_q16/replicate_2/level_3/branch_noise_dddd',
        'lottery_q16/replicate_2/level_3/branch_shuffle_bbbb',
        ...[1, 2].flatMap((rep) => [2, 3].map((l) => `lottery_q48/replicate_${rep}/level_${l}/main`)),
      ].sort(),
    );
    for (const r of ns) expect([r.final_accuracy, r.percent_remaining, r.note]).toEqual(['', '', 'not started (no run directory yet)']);
    // index.md counts them: Fig. 1 has k = 0 at levels 2-3 partial, k = 48 at levels 2-3 missing (9 ok: 8 + dense).
    const line = q.index.split('\n').find((l) => l.startsWith('- **fig1_resnet20**'))!;
    expect(line).toMatch(/Points: 9 complete, 2 with unfinished replicates, 2 missing\. 6 replicate runs not started/);
    const spec = JSON.parse(readFileSync(join(q.out, 'fig1_resnet20.vl.json'), 'utf8')) as { title: { subtitle: string[] } };
    expect(spec.title.subtitle.join('\n')).toMatch(/6 unfinished runs not plotted \(6 not started; 2 points with no finished replicate left out\)/);
  });

  it('a branch run not started in a replicate is missing there (Fig. 5)', () => {
    const p = rowIn(q.csv, 'fig5_resnet20', SHUFFLE.label, x(3), 'k = 16');
    expect(p.status).toBe('partial');
    expect(p.missing_replicates).toBe('s0r2');
    expectMatches(p, [{ rep: 1, acc: acc(16, 1, 3, 'branch_shuffle_bbbb') }]);
  });

  it('Fig. 9 compares with every k without pre-training found (quick size: 0, 16, 48)', () => {
    for (const k of [0, 16, 48]) expect(rowIn(q.csv, 'fig9_resnet20', `no pre-training, k = ${k}`, x(1)).y_mean).toBe(rowIn(q.csv, 'fig1_resnet20', `k = ${k}`, x(1)).y_mean);
    expect(rowIn(q.csv, 'fig9_resnet20', 'no pre-training, k = 16', x(3)).status).toBe('ok');
  });

  it('a branch trained with overridden settings is its own series, labelled with them (Figs. 7 and 8, runs.csv)', () => {
    const plain = rowIn(q.csv, 'fig7_resnet20', 'noise 0.5σ', x(3), 'k = 16');
    expectMatches(plain, [{ rep: 1, acc: acc(16, 1, 3, 'branch_noise_aaaa') }]);
    const label = 'noise 0.5σ (lr=0.05, trainingSteps=8ep)';
    const over = rowIn(q.csv, 'fig7_resnet20', label, x(3), 'k = 16');
    expectMatches(over, [{ rep: 1, acc: acc(16, 1, 3, 'branch_noise_dddd') }]);
    expect(over.missing_replicates).toBe('s0r2');
    const f8 = q.csv.filter((r) => r.figure === 'fig8_resnet20' && r.panel === 'raw');
    expect(f8.map((r) => r.series).sort()).toEqual([`${label}, k = 16`, 'noise 0.5σ, k = 16', 'shuffle within layer, k = 16']);
    expect(Number(f8.find((r) => r.series === `${label}, k = 16`)!.x)).toBeCloseTo(0.06, 12);
    const runsRow = q.runsCsv.find((r) => r.dir === 'lottery_q16/replicate_1/level_3/branch_noise_dddd')!;
    expect(runsRow.variant).toBe(label);
  });

  it('Fig. 8: the std and the accuracy are means over the same finished replicates', () => {
    for (const [panel, scale] of [['raw', 1], ['normalized', 10]] as const) {
      // The plain noise variant (found without relying on its label, which the override test checks).
      const p = q.csv.find((r) => r.figure === 'fig8_resnet20' && r.panel === panel && r.series.startsWith('noise 0.5σ') && !/lr=|dddd/.test(r.series))!;
      // Replicate 2 is still running (its perturbation is 0.5): neither its std nor its accuracy counts.
      expect(Number(p.x)).toBeCloseTo(0.05 * scale, 12);
      expectMatches(p, [{ rep: 1, acc: acc(16, 1, 3, 'branch_noise_aaaa') }]);
      expect(p.missing_replicates).toBe('s0r2');
      expect(p.status).toBe('partial');
      // The shuffle has not started in replicate 2: missing there too, not a complete point of one.
      const sh = rowIn(q.csv, 'fig8_resnet20', 'shuffle within layer, k = 16', 0.2 * scale, panel);
      expect([sh.status, sh.missing_replicates, sh.n]).toEqual(['partial', 's0r2', '1']);
    }
  });

  it('Fig. 3: a replicate still running counts as missing past its last sample, one not started everywhere', async () => {
    const its = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 400];
    const t = await figuresOf('telemetry-running', (r) => {
      const dir = join(r, 'telemetry_run');
      mkdirSync(dir, { recursive: true });
      writeJson(join(dir, 'hparams.json'), { hparams: { model: 'resnet20', trainingSteps: '4ep', trainSubset: 12_800, batch: 128 }, hash: 'run' });
      writeTelemetry(dir, 1, its, true); // finished
      writeTelemetry(dir, 2, its.filter((i) => i <= 16), false); // still running, at iteration 16
      mkdirSync(join(dir, 'replicate_3'), { recursive: true }); // not started
    });
    const read = (rep: number) => readFileSync(join(t.runs, 'telemetry_run', `replicate_${rep}`, 'telemetry.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const [a, b] = [read(1), read(2)];
    for (const it of its) {
      const p = rowIn(t.csv, 'fig3_resnet20', 'test accuracy', it, 'accuracy');
      const va = a.find((s) => s.iteration === it).test_accuracy;
      const vb = b.find((s) => s.iteration === it)?.test_accuracy;
      expectMatches(p, [{ rep: 1, acc: va }, ...(vb === undefined ? [] : [{ rep: 2, acc: vb }])]);
      expect(p.status).toBe('partial');
      expect(p.missing_replicates.split(';').sort()).toEqual(it <= 16 ? ['s0r3'] : ['s0r2', 's0r3']);
    }
    // 3 panels x 11 iterations, each missing s0r3; the 110 points of the tracked weights are one replicate's.
    expect(t.index).toMatch(/Points: 110 complete, 33 with unfinished replicates, 0 missing\. 1 replicate run not started\./);
    // Fig. 2's 6 settling points (3 quantities), from the one finished replicate, each missing s0r2 and s0r3
    expect(t.index).toMatch(/fig2_resnet20\*\*: .*Points: 0 complete, 6 with unfinished replicates, 0 missing\./);
    const spec = JSON.parse(readFileSync(join(t.out, 'fig3_resnet20.vl.json'), 'utf8')) as { title: { subtitle: string[] } };
    expect(spec.title.subtitle.join('\n')).toMatch(/not finished, shown as missing past their last sample: s0r2 \(at iteration 16 of 400\), s0r3 \(not started\)/);
    // A replicate whose last sample is at the end of training is finished without model_final.safetensors.
    const u = await figuresOf('telemetry-ended', (r) => {
      const dir = join(r, 'telemetry_end');
      mkdirSync(dir, { recursive: true });
      writeJson(join(dir, 'hparams.json'), { hparams: { model: 'resnet20', trainingSteps: '4ep', trainSubset: 12_800, batch: 128 }, hash: 'end' });
      writeTelemetry(dir, 1, its, false);
      writeTelemetry(dir, 2, its, true);
    });
    expect(u.csv.filter((r) => r.figure === 'fig3_resnet20' && r.panel === 'accuracy').every((r) => r.status === 'ok' && r.n === '2')).toBe(true);
  });

  it('settleIteration: the first sample from which a curve stays within a fraction of its range of its last value', () => {
    const c = (ys: number[]) => ys.map((value, i) => ({ iteration: 10 * i, value }));
    expect(settleIteration([], 0.1)).toBeNull();
    expect(settleIteration(c([3]), 0.1)).toBe(0);
    expect(settleIteration(c([1, 1, 1]), 0.1)).toBe(0); // constant: settled from the start
    expect(settleIteration(c([0, 4, 2, 1.5, 1]), 0.5)).toBe(20); // range 4: within 2 of 1 from the third sample
    expect(settleIteration(c([0, 4, 2, 1.5, 1]), 0.1)).toBe(40); // within 0.4: only the last
    expect(settleIteration(c([0, 1, 0, 1]), 0.5)).toBe(30); // a curve that keeps moving settles at its end
  });

  it('Fig. 2 (generated timeline): when each quantity settles, per finished replicate, then over replicates', async () => {
    const its = [0, 1, 2, 4, 8, 16, 32, 64];
    const loss = { 1: [2, 1.5, 1.25, 1.125, 1.0625, 1, 1, 1], 2: [2, 1.75, 1.5, 1.25, 1.125, 1.0625, 1, 1] } as Record<number, number[]>;
    const grad = [1, 3, 2, 1.25, 1.125, 1, 1, 1]; // rises, then falls back
    const t = await figuresOf('timeline', (r) => {
      const dir = join(r, 'telemetry_tl');
      mkdirSync(dir, { recursive: true });
      writeJson(join(dir, 'hparams.json'), { hparams: { model: 'resnet20', trainingSteps: '64it', trainSubset: 12_800, batch: 128 }, hash: 'tl' });
      for (const rep of [1, 2, 3]) {
        mkdirSync(join(dir, `replicate_${rep}`), { recursive: true });
        const n = rep === 3 ? 4 : its.length; // replicate 3 still running
        const samples = its.slice(0, n).map((it, i) => ({ iteration: it, test_loss: loss[rep === 3 ? 1 : rep][i], grad_norm: i === 0 ? null : grad[i], tracked_weights: [] }));
        writeFileSync(join(dir, `replicate_${rep}`, 'telemetry.jsonl'), samples.map((x) => JSON.stringify(x)).join('\n') + '\n');
      }
    });
    const at = (series: string, f: number) => t.csv.find((r) => r.figure === 'fig2_resnet20' && r.series === series && Number(r.x) === f)!;
    // test loss: replicate 1 within 0.5 of 1 from iteration 1, within 0.1 from 8; replicate 2 from 2 and 16
    expect([at('test loss', 0.5).values, at('test loss', 0.1).values]).toEqual(['s0r1=1;s0r2=2', 's0r1=8;s0r2=16']);
    expect([Number(at('test loss', 0.5).y_mean), Number(at('test loss', 0.1).y_mean), at('test loss', 0.1).y_min, at('test loss', 0.1).y_max]).toEqual([1.5, 12, '8', '16']);
    // the gradient norm (no value at iteration 0): range 2 over iterations 1..64, within 1 of 1 from iteration 2
    expect(at('gradient norm', 0.5).values).toBe('s0r1=2;s0r2=2');
    expect(at('gradient norm', 0.1).values).toBe('s0r1=8;s0r2=8'); // within 0.2 of 1 from iteration 8
    for (const r of t.csv.filter((q) => q.figure === 'fig2_resnet20')) expect([r.status, r.missing_replicates]).toEqual(['partial', 's0r3']);
    // quantities the runs did not record have no row; the figure is written
    expect(t.csv.some((r) => r.figure === 'fig2_resnet20' && r.series === 'test accuracy')).toBe(false);
    expect(t.result.written.map((p) => p.slice(t.out.length + 1))).toEqual(expect.arrayContaining(['fig2_resnet20.svg', 'fig2_resnet20.vl.json'])); // (figuresOf writes no PNGs)
    const spec = JSON.parse(readFileSync(join(t.out, 'fig2_resnet20.vl.json'), 'utf8')) as { title: { text: string; subtitle: string[] } };
    expect(spec.title.subtitle.join('\n')).toMatch(/value at iteration 64 \(the end of the run\)[\s\S]*Mean over 2 finished replicates[\s\S]*not finished, left out: s0r3/);
    // no finished replicate: skipped, with the reason
    expect(result.skipped.join('\n')).toMatch(/fig2_resnet20: no finished telemetry run/);
  });

  it("Fig. 3's title compares telemetry with the telemetry protocol: 4000 iterations on all the data is not reduced", async () => {
    const t = await figuresOf('telemetry-paper', (r) => {
      const dir = join(r, 'telemetry_paper');
      mkdirSync(dir, { recursive: true });
      writeJson(join(dir, 'hparams.json'), { hparams: { model: 'resnet20', trainingSteps: '4000it', batch: 128, seed: 0 }, hash: 'paper' });
      writeTelemetry(dir, 1, [0, 1, 10, 100, 1000, 4000], true);
    });
    const spec = JSON.parse(readFileSync(join(t.out, 'fig3_resnet20.vl.json'), 'utf8')) as { title: { subtitle: string[] } };
    expect(spec.title.subtitle[0]).toBe('CIFAR-10, 50,000 training images, 4000it = 4,000 iterations, 10,000 test images');
    // The reduced telemetry of the first fixture still says so.
    const reduced = JSON.parse(readFileSync(join(out, 'fig3_resnet20.vl.json'), 'utf8')) as { title: { subtitle: string[] } };
    expect(reduced.title.subtitle[0]).toMatch(/^REDUCED PROTOCOL: /);
  });
});
