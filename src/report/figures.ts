// `early-phase figures`: the paper's figures regenerated from run outputs on disk, as Vega-Lite specs
// rendered to SVG and PNG, plus figures.csv (every plotted point, with the per-replicate values it
// was computed from) and runs.csv (every run found, finished or not).
//
// Runs are grouped into conditions: the hyperparameters other than the seed, the rewinding step and
// the where/how-often settings. One file per figure and condition (fig1_resnet20.svg, fig1_vgg13.svg:
// the appendix variants are the same figures for the other models). A point is the mean over the
// replicates whose run finished, with a min-max band; replicates whose run has not finished, or has
// not started (every replicate_<R> folder of a condition's lotteries is expected at every level up to
// the highest one found for the condition; collect.ts notStartedRuns), are listed as missing in
// figures.csv and counted in the subtitle, never plotted with a partial value.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/files.js';
import { stableHash, TRAIN_HPARAMS } from '../train/hparams.js';
import { parseStep } from '../train/steps.js';
import { collectRuns, iterationsPerEpoch, notStartedRuns, telemetryLength, type BranchInfo, type Collection, type Hparams, type LevelRun, type Lottery, type TelemetryRun } from './collect.js';
import { renderSvg, svgToPng, FONT_FAMILY } from './render.js';
import { aggregate, csvLine, pointsCsv, pointStatus, type Observation, type PlotPoint } from './stats.js';

export interface FiguresOptions {
  runs: string;
  out: string;
  /** Write PNGs too (default true). */
  png?: boolean;
}

export interface FiguresResult {
  /** Every file written. */
  written: string[];
  /** Figures not produced, with the reason. */
  skipped: string[];
  /** Problems met while reading the runs. */
  warnings: string[];
}

export interface Figure {
  name: string;
  spec: Record<string, unknown>;
  points: PlotPoint[];
}

type Spec = Record<string, unknown>;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const ACC = 'Test Accuracy';
const REMAINING = 'Percent of Weights Remaining';
/** Legend symbols drawn solid (the first layer is the translucent band). */
const LEGEND = { labelLimit: 320, symbolOpacity: 1, symbolType: 'circle' };
const SPREAD = 'line: mean over replicates; band: min–max over replicates';
/** Settings that never distinguish conditions (they do not change what is trained). */
const UNHASHED = new Set(TRAIN_HPARAMS.filter((d) => !d.hashed).map((d) => d.key));
const PRETRAIN_KEYS = ['pretrainTask', 'pretrainEpochs'];

// ---------------------------------------------------------------- conditions and labels

function conditionKey(h: Hparams, drop: string[]): string {
  const keep = Object.keys(h)
    .filter((k) => !drop.includes(k) && !UNHASHED.has(k) && k !== 'seed')
    .sort();
  return JSON.stringify(keep.map((k) => [k, h[k]]));
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const t of items) {
    const k = key(t);
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(t);
  }
  return m;
}

function isPretrain(h: Hparams): boolean {
  const t = h.pretrainTask;
  return typeof t === 'string' && t !== '' && t !== 'none';
}

const MODEL_NAMES: [RegExp, (m: RegExpMatchArray) => string][] = [
  [/^resnet(\d+)$/, (m) => `ResNet-${m[1]}`],
  [/^resnet(\d+)_(\d+)$/, (m) => `ResNet-${m[1]} (width ${m[2]})`],
  [/^resnet18_imagenet_stem$/, () => 'ResNet-18 (ImageNet stem)'],
  [/^wrn(\d+)_(\d+)$/, (m) => `WRN-${m[1]}-${m[2]}`],
  [/^vgg(\d+)$/, (m) => `VGG-${m[1]}`],
];

export function modelName(model: unknown): string {
  const s = String(model ?? 'model');
  for (const [re, f] of MODEL_NAMES) {
    const m = re.exec(s);
    if (m) return f(m);
  }
  return s;
}

const fmtInt = (n: number) => n.toLocaleString('en-US');

/** The length of training in the paper's protocol for an experiment (paper.md). */
export interface Protocol {
  /** Iterations on all 50,000 training images at batch 128. */
  iterations: number;
  /** hparams.trainingSteps when a run's hparams leave it out. */
  defaultSteps: string;
}

/** IMP, branches, pre-training: 160 epochs. */
export const TRAINING_PROTOCOL: Protocol = { iterations: 160 * Math.ceil(50_000 / 128), defaultSteps: '160ep' };
/** Fig. 3 telemetry: the first 4000 iterations of dense training. */
export const TELEMETRY_PROTOCOL: Protocol = { iterations: 4000, defaultSteps: '4000it' };

/**
 * The data size and training length of a condition, for every title: a run reduced from its
 * experiment's protocol (smaller data, or another length than `protocol`'s) must say so.
 */
export function dataDescription(h: Hparams, protocol: Protocol = TRAINING_PROTOCOL): string {
  const ipe = iterationsPerEpoch(h);
  const steps = String(h.trainingSteps ?? protocol.defaultSteps);
  let iters = NaN;
  try {
    iters = parseStep(steps, ipe);
  } catch {
    // Shown as written.
  }
  const train = Number(h.trainSubset) > 0 ? `${fmtInt(Number(h.trainSubset))} of 50,000 training images` : '50,000 training images';
  const test = Number(h.testSubset) > 0 ? `${fmtInt(Number(h.testSubset))} of 10,000 test images` : '10,000 test images';
  const reduced = Number(h.trainSubset) > 0 || Number(h.testSubset) > 0 || iters !== protocol.iterations;
  const extra: string[] = [];
  for (const d of TRAIN_HPARAMS) {
    if (!d.hashed || ['model', 'trainingSteps', 'trainSubset', 'testSubset', 'seed'].includes(d.key)) continue;
    if (h[d.key] !== undefined && d.default !== null && h[d.key] !== d.default) extra.push(`${d.key}=${h[d.key]}`);
  }
  if (h.pruningFraction !== undefined && Number(h.pruningFraction) !== 0.2) extra.push(`pruningFraction=${h.pruningFraction}`);
  const length = Number.isFinite(iters) ? `${steps} = ${fmtInt(iters)} iterations` : steps;
  return `${reduced ? 'REDUCED PROTOCOL: ' : ''}CIFAR-10, ${train}, ${length}, ${test}${extra.length ? `; ${extra.join(', ')}` : ''}`;
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9.+-]+/g, '-').replace(/^-+|-+$/g, '');
}

/** File names per condition: <fig>_<model>, with the differing hyperparameters when a model has several. */
function conditionNames(prefix: string, conds: Hparams[]): string[] {
  const names = conds.map((h) => `${prefix}_${slug(String(h.model ?? 'model'))}`);
  return names.map((n, i) => {
    const same = conds.filter((_, j) => names[j] === n);
    if (same.length === 1) return n;
    const keys = [...new Set(same.flatMap((h) => Object.keys(h)))].filter((k) => !UNHASHED.has(k) && new Set(same.map((h) => JSON.stringify(h[k]))).size > 1).sort();
    const diff = keys.map((k) => `${k}-${conds[i][k]}`).join('_');
    return `${n}_${slug(diff).slice(0, 60) || stableHash(conds[i], 6)}`;
  });
}

function kLabel(k: number): string {
  return `k = ${k}`;
}

const pct = (fraction: number) => 100 * fraction;
const fmtPct = (p: number) => (p >= 10 ? p.toFixed(1) : p.toPrecision(2));

// ---------------------------------------------------------------- points

/** Replicates of `runs` without a final accuracy, and of those the ones not started. */
function missingOf(runs: LevelRun[]): Pick<PlotPoint, 'missing' | 'notStarted'> {
  return { missing: runs.filter((r) => !r.final).map((r) => r.replicate), notStarted: runs.filter((r) => r.status === 'not started').map((r) => r.replicate) };
}

/**
 * Points of one curve over levels: x = percent of weights remaining, y = final test accuracy. `runs`
 * holds the condition's expected runs, not-started ones included (buildFigures), so a point's
 * missing replicates are every expected one without a finished run.
 */
function levelCurve(figure: string, panel: string, series: string, runs: LevelRun[]): PlotPoint[] {
  const out: PlotPoint[] = [];
  const byLevel = groupBy(runs, (r) => String(r.level));
  for (const level of [...byLevel.keys()].map(Number).sort((a, b) => a - b)) {
    const rs = byLevel.get(String(level))!;
    const fr = rs.find((r) => r.fractionRemaining !== null)?.fractionRemaining;
    if (fr === undefined || fr === null) continue;
    out.push({
      figure,
      panel,
      series,
      xLabel: REMAINING,
      x: pct(fr),
      yLabel: ACC,
      y: aggregate(rs.filter((r) => r.final).map((r) => ({ replicate: r.replicate, value: r.final!.accuracy }))),
      ...missingOf(rs),
    });
  }
  return out;
}

function rowsOf(points: PlotPoint[]): Spec[] {
  return points
    .filter((p) => p.y && Number.isFinite(p.x))
    .map((p) => ({ panel: p.panel, series: p.series, x: p.x, mean: p.y!.mean, min: p.y!.min, max: p.y!.max, n: p.y!.n }));
}

function replicateRange(points: PlotPoint[]): string {
  const ns = points.filter((p) => p.y).map((p) => p.y!.n);
  if (!ns.length) return 'no finished runs';
  const lo = Math.min(...ns);
  const hi = Math.max(...ns);
  return lo === hi ? `n = ${lo} replicate${lo === 1 ? '' : 's'} per point` : `n = ${lo}–${hi} replicates per point`;
}

/**
 * How many runs the points expect that have not started: distinct (panel, series, x, replicate), one
 * run per point; for telemetry (Fig. 3) distinct replicates, one run for all its points.
 */
function notStartedCount(points: PlotPoint[]): number {
  return new Set(points.flatMap((p) => (p.notStarted ?? []).map((r) => (p.xLabel === 'Training Iteration' ? r : `${p.panel}|${p.series}|${p.x}|${r}`)))).size;
}

function missingNote(points: PlotPoint[]): string[] {
  const missing = new Set(points.flatMap((p) => p.missing.map((r) => `${p.panel}|${p.series}|${p.x}|${r}`)));
  const empty = points.filter((p) => !p.y).length;
  if (!missing.size) return [];
  const notStarted = notStartedCount(points);
  const parts = [notStarted ? `${notStarted} not started` : '', empty ? `${empty} point${empty === 1 ? '' : 's'} with no finished replicate left out` : ''].filter(Boolean);
  return [`${missing.size} unfinished run${missing.size === 1 ? '' : 's'} not plotted${parts.length ? ` (${parts.join('; ')})` : ''}; see figures.csv`];
}

// ---------------------------------------------------------------- spec pieces

/**
 * Colours for more than 10 series: tableau10's eight strongest, ten more of similar strength, then its
 * pink and grey. (Vega's category20 pairs each colour with a pale one, hard to see on white.)
 */
const MANY_COLORS = [
  ...['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#9d755d'],
  ...['#1b3a6b', '#a0522d', '#2e7d32', '#7b1fa2', '#b8860b', '#222222', '#0097a7', '#c2185b', '#556b2f', '#5c6bc0'],
  ...['#ff9da6', '#bab0ac'],
];

function seriesScale(domain: string[]): Spec {
  return domain.length > 10 ? { domain, range: MANY_COLORS } : { domain, scheme: 'tableau10' };
}

function title(text: string, subtitle: string[]): Spec {
  return { text, subtitle, anchor: 'start', fontSize: 14, subtitleFontSize: 11, subtitleColor: '#333' };
}

function remainingAxis(xs: number[]): Spec {
  const distinct = [...new Set(xs.map((x) => Number(x.toPrecision(4))))].sort((a, b) => b - a);
  const step = Math.max(1, Math.ceil(distinct.length / 9));
  return {
    field: 'x',
    type: 'quantitative',
    title: REMAINING,
    // Reversed, as in the paper: dense on the left, sparser to the right.
    scale: { type: 'log', reverse: true, nice: false, domain: distinct.length ? [distinct[distinct.length - 1], distinct[0]] : undefined },
    axis: { values: distinct.filter((_, i) => i % step === 0), format: '.3~r', grid: true },
  };
}

function colorEnc(domain: string[], title: string): Spec {
  return { field: 'series', type: 'nominal', title, scale: seriesScale(domain), legend: LEGEND };
}

/** Mean line with points and a min-max band, colored by series. */
function bandLayers(x: Spec, yTitle: string, color: Spec, yScale: Spec = { zero: false }): Spec[] {
  return [
    { mark: { type: 'area', opacity: 0.15 }, encoding: { x, y: { field: 'min', type: 'quantitative', scale: yScale }, y2: { field: 'max' }, color } },
    { mark: { type: 'line', point: { size: 28 }, strokeWidth: 1.6 }, encoding: { x, y: { field: 'mean', type: 'quantitative', title: yTitle, scale: yScale }, color } },
  ];
}

function config(): Spec {
  return {
    font: FONT_FAMILY,
    view: { stroke: '#888' },
    axis: { labelFontSize: 10, titleFontSize: 11 },
    legend: { labelFontSize: 10, titleFontSize: 11 },
  };
}

// ---------------------------------------------------------------- Fig. 1 and A2

function imp(lotteries: Lottery[]): { k: number; runs: LevelRun[] }[] {
  const byK = groupBy(lotteries, (l) => String(l.k));
  return [...byK.keys()]
    .map(Number)
    .sort((a, b) => a - b)
    .map((k) => ({ k, runs: byK.get(String(k))!.flatMap((l) => l.runs.filter((r) => !r.branch)) }));
}

function fig1(name: string, h: Hparams, lotteries: Lottery[]): Figure | string {
  const curves = imp(lotteries).filter((c) => c.runs.length);
  const points = curves.flatMap((c) => levelCurve('fig1', '', kLabel(c.k), c.runs));
  if (!points.some((p) => p.y)) return `${name}: no finished IMP level`;
  // The dense baseline: level 0 of the smallest k (level 0 is the unpruned network).
  const base = curves.find((c) => c.runs.some((r) => r.level === 0 && r.final));
  const densePoints = base ? levelCurve('fig1', '', `dense baseline (level 0, ${kLabel(base.k)})`, base.runs.filter((r) => r.level === 0)) : [];
  const dense = densePoints[0]?.y;
  const domain = curves.map((c) => kLabel(c.k));
  const x = remainingAxis(points.map((p) => p.x));
  const layers = bandLayers(x, ACC, colorEnc(domain, 'Rewinding iteration'));
  if (dense) {
    layers.unshift(
      { data: { values: [{ min: dense.min, max: dense.max }] }, mark: { type: 'rect', color: '#999', opacity: 0.15 }, encoding: { y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } },
      { data: { values: [{ mean: dense.mean }] }, mark: { type: 'rule', color: '#222', strokeDash: [6, 4] }, encoding: { y: { field: 'mean', type: 'quantitative' } } },
    );
  }
  const all = [...points, ...densePoints];
  return {
    name,
    points: all,
    spec: {
      $schema: SCHEMA,
      title: title(`Figure 1: IMP rewound to iteration k, ${modelName(h.model)}`, [
        dataDescription(h),
        `${SPREAD}; ${replicateRange(points)}`,
        ...(dense ? [`dashed: dense network (level 0, ${kLabel(base!.k)}), mean ${dense.mean.toFixed(4)}, grey band min–max`] : []),
        ...missingNote(all),
      ]),
      width: 460,
      height: 300,
      data: { values: rowsOf(points) },
      layer: layers,
      config: config(),
    },
  };
}

function figA2(name: string, h: Hparams, lotteries: Lottery[]): Figure | string {
  const curves = imp(lotteries);
  if (curves.length < 2) return `${name}: needs lotteries with at least two rewinding iterations (found ${curves.map((c) => kLabel(c.k)).join(', ') || 'none'})`;
  const all = curves.flatMap((c) => c.runs);
  const byLevel = groupBy(all, (r) => String(r.level));
  const points: PlotPoint[] = [];
  const domain: string[] = [];
  for (const level of [...byLevel.keys()].map(Number).sort((a, b) => a - b)) {
    const fr = byLevel.get(String(level))!.find((r) => r.fractionRemaining !== null)?.fractionRemaining;
    if (fr === undefined || fr === null) continue;
    const series = `${fmtPct(pct(fr))}% (level ${level})`;
    domain.push(series);
    for (const c of curves) {
      const rs = c.runs.filter((r) => r.level === level);
      if (!rs.length) continue;
      points.push({
        figure: 'figA2',
        panel: '',
        series,
        xLabel: 'Rewinding Iteration k',
        x: c.k,
        yLabel: ACC,
        y: aggregate(rs.filter((r) => r.final).map((r) => ({ replicate: r.replicate, value: r.final!.accuracy }))),
        ...missingOf(rs),
      });
    }
  }
  if (!points.some((p) => p.y)) return `${name}: no finished IMP level`;
  const x = { field: 'x', type: 'quantitative', title: 'Rewinding Iteration k', scale: { type: 'symlog', constant: 10 }, axis: { values: curves.map((c) => c.k), grid: true } };
  const color = { field: 'series', type: 'ordinal', title: 'Weights remaining', scale: { domain, scheme: 'viridis' }, legend: LEGEND };
  return {
    name,
    points,
    spec: {
      $schema: SCHEMA,
      title: title(`Figure A2: accuracy vs. rewinding iteration, one curve per sparsity level, ${modelName(h.model)}`, [
        dataDescription(h),
        `${SPREAD}; ${replicateRange(points)}`,
        ...missingNote(points),
      ]),
      width: 460,
      height: 300,
      data: { values: rowsOf(points) },
      layer: bandLayers(x, ACC, color),
      config: config(),
    },
  };
}

// ---------------------------------------------------------------- Figs. 4-7, 10: branches per k

interface BranchFigure {
  id: string;
  title: string;
  accepts: (r: LevelRun) => boolean;
}

const truthy = (v: unknown) => v === true || v === 'true';

const BRANCH_FIGURES: BranchFigure[] = [
  { id: 'fig4', title: 'Figure 4: signs and magnitudes at iteration 0 or k', accepts: (r) => r.branch!.name === 'signs-magnitudes' || r.branch!.name === 'reinit' },
  { id: 'fig5', title: 'Figure 5: weights at iteration k shuffled within structural elements', accepts: (r) => r.branch!.name === 'shuffle' && !truthy(r.branch!.args.sameSign) },
  { id: 'fig6', title: 'Figure 6: weights at iteration k shuffled, keeping signs', accepts: (r) => r.branch!.name === 'shuffle' && truthy(r.branch!.args.sameSign) },
  { id: 'fig7', title: 'Figure 7: Gaussian noise of nσ added to the weights at iteration k', accepts: (r) => r.branch!.name === 'noise' },
  { id: 'fig10', title: 'Figure 10: sparse sub-networks pre-trained before training', accepts: (r) => r.branch!.name === 'sparse-pretrain' },
];

/**
 * A branch variant's label: branch.json's, plus the training settings it overrode (a run trained for
 * other epochs or with another learning rate is another experiment, never the plain variant).
 */
export function branchLabel(b: BranchInfo): string {
  const o = Object.keys(b.overrides ?? {}).sort();
  return o.length ? `${b.label} (${o.map((k) => `${k}=${b.overrides[k]}`).join(', ')})` : b.label;
}

/** Series label per branch variant (branchLabel; with the directory name when labels collide). */
function variantLabels(runs: LevelRun[]): Map<string, string> {
  const byId = new Map<string, string>();
  for (const r of runs) if (r.branch && !byId.has(r.branch.id)) byId.set(r.branch.id, branchLabel(r.branch));
  const counts = groupBy([...byId.values()], (l) => l);
  for (const [id, label] of byId) if (counts.get(label)!.length > 1) byId.set(id, `${label} [${id}]`);
  return byId;
}

const IMP_SERIES = 'IMP (unmodified, rewound to k)';

function branchFigure(fig: BranchFigure, name: string, h: Hparams, lotteries: Lottery[]): Figure | string {
  const panels: { k: number; points: PlotPoint[] }[] = [];
  const domain = [IMP_SERIES];
  for (const c of imp(lotteries)) {
    const branchRuns = lotteries.filter((l) => l.k === c.k).flatMap((l) => l.runs.filter((r) => r.branch && fig.accepts(r)));
    if (!branchRuns.length) continue;
    const panel = kLabel(c.k);
    const labels = variantLabels(branchRuns);
    const points = levelCurve(fig.id, panel, IMP_SERIES, c.runs);
    for (const [id, label] of [...labels].sort((a, b) => a[1].localeCompare(b[1], 'en', { numeric: true }))) {
      if (!domain.includes(label)) domain.push(label);
      points.push(...levelCurve(fig.id, panel, label, branchRuns.filter((r) => r.branch!.id === id)));
    }
    panels.push({ k: c.k, points });
  }
  if (!panels.length) return `${name}: no ${fig.id === 'fig10' ? 'sparse-pretrain' : 'matching'} branch runs`;
  const all = panels.flatMap((p) => p.points);
  if (!all.some((p) => p.y && p.series !== IMP_SERIES)) return `${name}: no finished branch run`;
  const color = colorEnc(domain, 'Variant');
  const x = remainingAxis(all.map((p) => p.x));
  return {
    name,
    points: all,
    spec: {
      $schema: SCHEMA,
      title: title(`${fig.title}, ${modelName(h.model)}`, [dataDescription(h), `${SPREAD}; ${replicateRange(all)}`, ...missingNote(all)]),
      hconcat: panels.map((p) => ({
        title: kLabel(p.k),
        width: 380,
        height: 280,
        data: { values: rowsOf(p.points) },
        layer: bandLayers(x, ACC, color),
      })),
      resolve: { scale: { color: 'shared', y: 'shared' } },
      config: config(),
    },
  };
}

// ---------------------------------------------------------------- Fig. 8: effective std

const TARGET_REMAINING = 0.262;

function fig8(name: string, h: Hparams, lotteries: Lottery[]): Figure | string {
  const runs = lotteries.flatMap((l) => l.runs.map((r) => ({ k: l.k, r })));
  // Variants that measure a perturbation (some run of theirs has perturbation.json), with all their
  // expected runs: unfinished and not-started ones count as missing.
  const measured = new Set(runs.filter(({ r }) => r.branch?.perturbation).map(({ r }) => r.branch!.id));
  const perturbed = runs.filter(({ r }) => r.branch && measured.has(r.branch.id) && r.fractionRemaining !== null);
  if (!perturbed.length) return `${name}: no branch run with perturbation.json`;
  const levels = groupBy(perturbed, ({ r }) => String(r.level));
  let level = -1;
  let best = Infinity;
  for (const [l, rs] of levels) {
    const d = Math.abs(Math.log(rs[0].r.fractionRemaining! / TARGET_REMAINING));
    if (d < best) [best, level] = [d, Number(l)];
  }
  const atLevel = perturbed.filter(({ r }) => r.level === level);
  const remaining = pct(atLevel[0].r.fractionRemaining!);
  const labels = variantLabels(atLevel.map(({ r }) => r));
  const points: PlotPoint[] = [];
  const xs: { panel: string; field: 'std' | 'std_normalized'; label: string }[] = [
    { panel: 'raw', field: 'std', label: 'Effective Standard Deviation of the Perturbation' },
    { panel: 'normalized', field: 'std_normalized', label: 'Effective Standard Deviation / σ of Initialization' },
  ];
  const rows: Spec[] = [];
  for (const { panel, field, label } of xs) {
    for (const [key, group] of groupBy(atLevel, ({ k, r }) => `${k}|${r.branch!.id}`)) {
      const k = Number(key.split('|')[0]);
      const series = `${labels.get(group[0].r.branch!.id)}, ${kLabel(k)}`;
      // x and y over the same replicates: those whose run finished (and measured its perturbation).
      const done = group.filter(({ r }) => r.final && r.branch!.perturbation);
      const xAgg = aggregate(done.map(({ r }) => ({ replicate: r.replicate, value: r.branch!.perturbation![field] })));
      const y = aggregate(done.map(({ r }): Observation => ({ replicate: r.replicate, value: r.final!.accuracy })));
      const rest = group.filter((g) => !done.includes(g)).map(({ r }) => r);
      const p: PlotPoint = { figure: 'fig8', panel, series, xLabel: `${label} (mean over replicates)`, x: xAgg ? xAgg.mean : NaN, yLabel: `Mean ${ACC}`, y, missing: rest.map((r) => r.replicate), notStarted: rest.filter((r) => r.status === 'not started').map((r) => r.replicate) };
      points.push(p);
      if (y && xAgg) rows.push({ panel, series, variant: labels.get(group[0].r.branch!.id), k: kLabel(k), x: xAgg.mean, xmin: xAgg.min, xmax: xAgg.max, mean: y.mean, min: y.min, max: y.max, n: y.n });
    }
  }
  if (!rows.length) return `${name}: no finished perturbed run at ${fmtPct(remaining)}% remaining`;
  const variants = [...new Set(rows.map((r) => String(r.variant)))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const ks = [...new Set(rows.map((r) => String(r.k)))];
  const panelSpec = (panel: string, label: string): Spec => {
    const x = { field: 'x', type: 'quantitative', title: label };
    const color = { field: 'variant', type: 'nominal', title: 'Perturbation', scale: seriesScale(variants), legend: { labelLimit: 320 } };
    const shape = { field: 'k', type: 'nominal', title: 'Rewinding iteration', scale: { domain: ks } };
    return {
      width: 360,
      height: 280,
      transform: [{ filter: { field: 'panel', equal: panel } }],
      layer: [
        { mark: { type: 'rule', opacity: 0.5 }, encoding: { x, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' }, color } },
        { mark: { type: 'rule', opacity: 0.5 }, encoding: { x: { field: 'xmin', type: 'quantitative' }, x2: { field: 'xmax' }, y: { field: 'mean', type: 'quantitative' }, color } },
        { mark: { type: 'point', filled: true, size: 60 }, encoding: { x, y: { field: 'mean', type: 'quantitative', title: `Mean ${ACC}`, scale: { zero: false } }, color, shape } },
      ],
    };
  };
  return {
    name,
    points,
    spec: {
      $schema: SCHEMA,
      title: title(`Figure 8: effective standard deviation of each perturbation vs. accuracy at ${fmtPct(remaining)}% weights remaining (level ${level}), ${modelName(h.model)}`, [
        dataDescription(h),
        `point: mean accuracy over replicates (${replicateRange(points)}); error bars: min–max over replicates of accuracy and of the std`,
        ...missingNote(points),
      ]),
      data: { values: rows },
      hconcat: xs.map(({ panel, label }) => panelSpec(panel, label)),
      resolve: { scale: { color: 'shared', shape: 'shared', y: 'shared' } },
      config: config(),
    },
  };
}

// ---------------------------------------------------------------- Fig. 9: pre-training

function fig9(name: string, h: Hparams, lotteries: Lottery[]): Figure | string {
  const pre = lotteries.filter((l) => isPretrain(l.hparams));
  if (!pre.length) return `${name}: no pre-training lottery (hparams.pretrainTask)`;
  const series: { label: string; runs: LevelRun[] }[] = [];
  for (const [, ls] of groupBy(pre, (l) => JSON.stringify([l.hparams.pretrainTask, l.hparams.pretrainEpochs, l.k]))) {
    const l0 = ls[0];
    const rewind = l0.k ? `, then ${kLabel(l0.k)}` : '';
    series.push({ label: `pre-trained: ${l0.hparams.pretrainTask}, ${l0.hparams.pretrainEpochs ?? '?'} ep${rewind}`, runs: ls.flatMap((l) => l.runs.filter((r) => !r.branch)) });
  }
  series.sort((a, b) => a.label.localeCompare(b.label, 'en', { numeric: true }));
  // Every rewinding step of the condition's lotteries without pre-training (the paper's 0 and 500;
  // the quick sweep's 0 and 16).
  for (const c of imp(lotteries.filter((l) => !isPretrain(l.hparams)))) series.push({ label: `no pre-training, ${kLabel(c.k)}`, runs: c.runs });
  const points = series.flatMap((s) => levelCurve('fig9', '', s.label, s.runs));
  if (!points.some((p) => p.y)) return `${name}: no finished level`;
  const x = remainingAxis(points.map((p) => p.x));
  return {
    name,
    points,
    spec: {
      $schema: SCHEMA,
      title: title(`Figure 9: IMP from pre-trained rewinding states, ${modelName(h.model)}`, [dataDescription(h), `${SPREAD}; ${replicateRange(points)}`, ...missingNote(points)]),
      width: 460,
      height: 300,
      data: { values: rowsOf(points) },
      layer: bandLayers(x, ACC, colorEnc(series.map((s) => s.label), 'Rewinding state')),
      config: config(),
    },
  };
}

// ---------------------------------------------------------------- Fig. 3: telemetry

interface TelemetryPanel {
  panel: string;
  yLabel: string;
  series: { label: string; key: string }[];
}

const TELEMETRY_PANELS: TelemetryPanel[][] = [
  [
    { panel: 'accuracy', yLabel: ACC, series: [{ label: 'test accuracy', key: 'test_accuracy' }] },
    { panel: 'loss', yLabel: 'Test Loss', series: [{ label: 'test loss', key: 'test_loss' }] },
    { panel: 'mean |w|', yLabel: 'Average |w|', series: [{ label: 'mean |w|', key: 'mean_abs_w' }] },
    { panel: 'signs differing from iteration 0', yLabel: 'Fraction Changed', series: [{ label: 'sign changed', key: 'sign_changed_fraction' }] },
  ],
  [
    { panel: 'tracked weights', yLabel: 'Weight Value', series: [] },
    { panel: 'gradient norm', yLabel: 'Gradient Magnitude', series: [{ label: 'gradient norm', key: 'grad_norm' }] },
    {
      panel: 'distance',
      yLabel: 'L2 Distance',
      series: [
        { label: '‖w_t − w_0‖ (to initialization)', key: 'dist_to_init' },
        { label: '‖w_t − w_T‖ (to final weights)', key: 'dist_to_final' },
      ],
    },
    {
      panel: 'cosine',
      yLabel: 'Cosine Similarity',
      series: [
        { label: 'cos(w_t, w_0) (to initialization)', key: 'cos_to_init' },
        { label: 'cos(w_t, w_T) (to final weights)', key: 'cos_to_final' },
      ],
    },
  ],
];

/**
 * Points of one telemetry panel. A point at iteration t is the mean over the replicates that have a
 * sample there; a replicate still running whose last sample is before t (or that has no sample yet)
 * counts as missing there, so the mean never silently switches to the other replicates.
 */
function telemetryPoints(run: TelemetryRun[], p: TelemetryPanel): PlotPoint[] {
  const reps = run.flatMap((t) => t.replicates);
  const points: PlotPoint[] = [];
  if (p.panel === 'tracked weights') {
    // Ten weights of one replicate, as in the paper (different replicates track different weights):
    // a finished one when there is one.
    const rep = reps.find((r) => r.complete && r.samples.length) ?? reps.find((r) => r.samples.length);
    if (!rep) return points;
    for (let i = 0; i < 10; i++) {
      for (const s of rep.samples) {
        const w = s.tracked_weights;
        if (!Array.isArray(w) || !Number.isFinite(w[i])) continue;
        points.push({ figure: 'fig3', panel: p.panel, series: `weight ${i + 1} (${rep.replicate})`, xLabel: 'Training Iteration', x: s.iteration, yLabel: p.yLabel, y: aggregate([{ replicate: rep.replicate, value: w[i] }]), missing: [] });
      }
    }
    return points;
  }
  const reached = new Map(reps.map((r) => [r, r.samples.length ? r.samples[r.samples.length - 1].iteration : -1]));
  for (const { label, key } of p.series) {
    const byIt = new Map<number, Observation[]>();
    for (const r of reps) {
      for (const s of r.samples) {
        const v = s[key];
        if (typeof v !== 'number' || !Number.isFinite(v)) continue;
        if (!byIt.has(s.iteration)) byIt.set(s.iteration, []);
        byIt.get(s.iteration)!.push({ replicate: r.replicate, value: v });
      }
    }
    for (const it of [...byIt.keys()].sort((a, b) => a - b)) {
      const running = reps.filter((r) => !r.complete && reached.get(r)! < it);
      points.push({
        figure: 'fig3',
        panel: p.panel,
        series: label,
        xLabel: 'Training Iteration',
        x: it,
        yLabel: p.yLabel,
        y: aggregate(byIt.get(it)!),
        missing: running.map((r) => r.replicate),
        notStarted: running.filter((r) => !r.samples.length).map((r) => r.replicate),
      });
    }
  }
  return points;
}

function fig3(name: string, h: Hparams, runs: TelemetryRun[]): Figure | string {
  if (!runs.some((t) => t.replicates.some((r) => r.samples.length))) return `${name}: telemetry runs have no samples yet`;
  const points: PlotPoint[] = [];
  const rowsSpec: Spec[] = [];
  const maxIt = Math.max(...runs.flatMap((t) => t.replicates.flatMap((r) => r.samples.map((x) => x.iteration))));
  for (const row of TELEMETRY_PANELS) {
    const cells: Spec[] = [];
    for (const p of row) {
      const pts = telemetryPoints(runs, p);
      points.push(...pts);
      if (!pts.length) continue;
      const domain = [...new Set(pts.map((q) => q.series))];
      const ticks = [0, 1, 10, 100, 1000, 10_000, 100_000].filter((t) => t <= maxIt * 1.01);
      const x = { field: 'x', type: 'quantitative', title: 'Training Iteration', scale: { type: 'symlog', constant: 1 }, axis: { values: ticks, format: '~s', grid: true } };
      const legend = domain.length > 1 && p.panel !== 'tracked weights' ? { ...LEGEND, orient: 'bottom', direction: 'vertical' } : null;
      const color = { field: 'series', type: 'nominal', title: null, scale: { domain, scheme: 'tableau10' }, legend };
      const [band, line] = bandLayers(x, p.yLabel, color);
      cells.push({
        title: { text: p.panel === 'tracked weights' ? 'ten randomly chosen weights' : p.panel, fontSize: 11 },
        width: 210,
        height: 160,
        data: { values: rowsOf(pts) },
        layer: [band, { ...line, mark: { type: 'line', strokeWidth: 1.6 } }],
      });
    }
    if (cells.length) rowsSpec.push({ hconcat: cells, resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } } });
  }
  const reps = runs.flatMap((t) => t.replicates);
  const nRep = reps.length;
  const end = telemetryLength(h);
  const running = reps.filter((r) => !r.complete);
  const runningNote = running.length
    ? [
        `not finished, shown as missing past their last sample: ${running
          .map((r) => `${r.replicate} (${r.samples.length ? `at iteration ${fmtInt(r.samples[r.samples.length - 1].iteration)}${end !== null ? ` of ${fmtInt(end)}` : ''}` : 'not started'})`)
          .join(', ')}; see figures.csv`,
      ]
    : [];
  return {
    name,
    points,
    spec: {
      $schema: SCHEMA,
      title: title(`Figure 3: telemetry of dense training over the first ${fmtInt(maxIt)} iterations, ${modelName(h.model)}`, [
        dataDescription(h, TELEMETRY_PROTOCOL),
        `${SPREAD} (${nRep} replicate${nRep === 1 ? '' : 's'}); the ten tracked weights are from one replicate; w_T = weights at the end of training`,
        ...runningNote,
      ]),
      vconcat: rowsSpec,
      resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
      config: config(),
    },
  };
}

// ---------------------------------------------------------------- Fig. 2: a timeline from the telemetry

/**
 * The paper's Fig. 2 is a hand-drawn timeline of the early phase; this one is generated from the
 * telemetry (paper.md: "a generated timeline from the telemetry is a bonus"). For each quantity, the
 * iteration from which its curve stays within half, and within a tenth, of its range of the value it
 * ends the telemetry run at: when it has mostly settled, and when it has settled.
 */
export const SETTLE_FRACTIONS = [0.5, 0.1] as const;

/**
 * The first sampled iteration from which `samples` (in iteration order) stay within `fraction` of
 * their range (max - min) of the last sample's value; a constant curve settles at its first sample.
 * Null without samples.
 */
export function settleIteration(samples: { iteration: number; value: number }[], fraction: number): number | null {
  if (!samples.length) return null;
  const ys = samples.map((q) => q.value);
  const range = Math.max(...ys) - Math.min(...ys);
  const last = ys[ys.length - 1];
  let settled = samples.length - 1;
  while (settled > 0 && Math.abs(ys[settled - 1] - last) <= fraction * range) settled--;
  return samples[settled].iteration;
}

const TIMELINE_QUANTITIES = TELEMETRY_PANELS.flat().flatMap((p) => p.series);

function fig2(name: string, h: Hparams, runs: TelemetryRun[]): Figure | string {
  const reps = runs.flatMap((t) => t.replicates);
  const done = reps.filter((r) => r.complete && r.samples.length);
  if (!done.length) return `${name}: no finished telemetry run (the timeline measures settling against a run's last sample)`;
  const waiting = reps.filter((r) => !done.includes(r)).map((r) => r.replicate);
  const end = Math.max(...done.map((r) => r.samples[r.samples.length - 1].iteration));
  const points: PlotPoint[] = [];
  const rows: Spec[] = [];
  for (const { label, key } of TIMELINE_QUANTITIES) {
    // each finished replicate's curve of this quantity (the samples that have a value)
    const curves = done.map((r) => ({
      replicate: r.replicate,
      curve: r.samples.flatMap((q) => (typeof q[key] === 'number' && Number.isFinite(q[key]) ? [{ iteration: q.iteration, value: q[key] as number }] : [])),
    }));
    const byFraction = SETTLE_FRACTIONS.map((f) =>
      aggregate(curves.flatMap(({ replicate, curve }) => {
        const t = settleIteration(curve, f);
        return t === null ? [] : [{ replicate, value: t }];
      })),
    );
    if (byFraction.some((a) => !a)) continue; // a quantity the runs did not record (w_T without --final)
    SETTLE_FRACTIONS.forEach((f, i) =>
      points.push({ figure: 'fig2', panel: 'settling', series: label, xLabel: 'Within this fraction of its range of its last value', x: f, yLabel: 'Training Iteration', y: byFraction[i], missing: waiting }),
    );
    const [half, tenth] = byFraction as NonNullable<(typeof byFraction)[number]>[];
    rows.push({ quantity: label, half: half.mean, tenth: tenth.mean, tenthMin: tenth.min, tenthMax: tenth.max, label: `${fmtInt(Math.round(tenth.mean))}` });
  }
  if (!rows.length) return `${name}: the telemetry runs record none of the timeline's quantities`;
  const order = [...rows].sort((a, b) => Number(a.tenth) - Number(b.tenth) || Number(a.half) - Number(b.half)).map((r) => String(r.quantity));
  const ticks = [0, 1, 10, 100, 1000, 10_000, 100_000].filter((t) => t <= end * 1.01);
  const x = { type: 'quantitative', title: 'Training Iteration', scale: { type: 'symlog', constant: 1, domain: [0, end] }, axis: { values: ticks, format: '~s', grid: true } };
  const y = { field: 'quantity', type: 'nominal', title: null, sort: order, axis: { labelLimit: 260 } };
  const nRep = done.length;
  return {
    name,
    points,
    spec: {
      $schema: SCHEMA,
      title: title(`Figure 2 (generated): when each telemetry quantity settles, ${modelName(h.model)}`, [
        dataDescription(h, TELEMETRY_PROTOCOL),
        `circle: from this iteration on, the quantity stays within half of its range of its value at iteration ${fmtInt(end)} (the end of the run);`,
        `diamond and label: within a tenth. Mean over ${nRep} finished replicate${nRep === 1 ? '' : 's'} (thin line: min–max of the diamond)${waiting.length ? `; not finished, left out: ${waiting.join(', ')}` : ''}. The paper's Fig. 2 is drawn by hand`,
      ]),
      width: 460,
      height: { step: 26 },
      data: { values: rows },
      layer: [
        { mark: { type: 'rule', color: '#bbb' }, encoding: { x: { ...x, field: 'tenthMin' }, x2: { field: 'tenthMax' }, y } },
        { mark: { type: 'rule', strokeWidth: 3, color: '#4c78a8' }, encoding: { x: { ...x, field: 'half' }, x2: { field: 'tenth' }, y } },
        { mark: { type: 'point', filled: true, size: 60, color: '#4c78a8' }, encoding: { x: { ...x, field: 'half' }, y } },
        { mark: { type: 'point', shape: 'diamond', filled: true, size: 90, color: '#e45756' }, encoding: { x: { ...x, field: 'tenth' }, y } },
        { mark: { type: 'text', align: 'left', dx: 8, fontSize: 10 }, encoding: { x: { ...x, field: 'tenth' }, y, text: { field: 'label' } } },
      ],
      config: config(),
    },
  };
}

// ---------------------------------------------------------------- all figures

/** A run a condition expects that has no directory yet, and its lottery (for runs.csv). */
export interface NotStartedRun {
  lottery: Lottery;
  run: LevelRun;
}

export function buildFigures(col: Collection): { figures: Figure[]; skipped: string[]; notStarted: NotStartedRun[] } {
  const figures: Figure[] = [];
  const skipped: string[] = [];
  const add = (r: Figure | string) => (typeof r === 'string' ? skipped.push(r) : figures.push(r));
  // The runs each condition expects but that have not started, added to its lotteries as missing runs.
  const notStarted = new Map<string, NotStartedRun>();
  const expected = (ls: Lottery[]): Lottery[] => {
    const extra = notStartedRuns(ls);
    return ls.map((l) => {
      const more = extra.get(l) ?? [];
      for (const run of more) if (!notStarted.has(run.dir)) notStarted.set(run.dir, { lottery: l, run });
      return more.length ? { ...l, runs: [...l.runs, ...more] } : l;
    });
  };

  const plain = col.lotteries.filter((l) => !isPretrain(l.hparams));
  const conds = [...groupBy(plain, (l) => conditionKey(l.hparams, ['rewind'])).values()].map(expected);
  if (!conds.length) skipped.push('fig1, figA2, fig4-8, fig10: no lottery runs found');
  const condHparams = conds.map((ls) => ls[0].hparams);
  for (const prefix of ['fig1', 'figA2', ...BRANCH_FIGURES.map((f) => f.id), 'fig8']) {
    const names = conditionNames(prefix, condHparams);
    conds.forEach((ls, i) => {
      const h = condHparams[i];
      if (prefix === 'fig1') add(fig1(names[i], h, ls));
      else if (prefix === 'figA2') add(figA2(names[i], h, ls));
      else if (prefix === 'fig8') add(fig8(names[i], h, ls));
      else add(branchFigure(BRANCH_FIGURES.find((f) => f.id === prefix)!, names[i], h, ls));
    });
  }

  const preConds = [...groupBy(col.lotteries, (l) => conditionKey(l.hparams, ['rewind', ...PRETRAIN_KEYS])).values()].filter((ls) => ls.some((l) => isPretrain(l.hparams))).map(expected);
  if (!preConds.length) skipped.push('fig9: no pre-training lottery (hparams.pretrainTask) found');
  const preHparams = preConds.map((ls) => ls.find((l) => isPretrain(l.hparams))!.hparams);
  const preNames = conditionNames('fig9', preHparams);
  preConds.forEach((ls, i) => add(fig9(preNames[i], preHparams[i], ls)));

  const tConds = [...groupBy(col.telemetry, (t) => conditionKey(t.hparams, [])).values()];
  if (!tConds.length) skipped.push('fig2, fig3: no telemetry runs found');
  const tHparams = tConds.map((ts) => ts[0].hparams);
  const tNames = conditionNames('fig3', tHparams);
  tConds.forEach((ts, i) => add(fig3(tNames[i], tHparams[i], ts)));
  const timelineNames = conditionNames('fig2', tHparams);
  tConds.forEach((ts, i) => add(fig2(timelineNames[i], tHparams[i], ts)));
  return { figures, skipped, notStarted: [...notStarted.values()] };
}

/** Every run found, then every run expected but not started (status `not started`). */
function runsCsv(col: Collection, notStarted: NotStartedRun[]): string {
  let out = csvLine(['lottery', 'model', 'k', 'replicate', 'level', 'branch', 'variant', 'percent_remaining', 'status', 'final_iteration', 'final_accuracy', 'final_loss', 'note', 'dir']);
  const rows = [...col.lotteries.flatMap((l) => l.runs.map((run) => ({ lottery: l, run }))), ...notStarted];
  for (const { lottery: l, run: r } of rows) {
    out += csvLine([
      l.dir,
      String(l.hparams.model),
      l.k,
      r.replicate,
      r.level,
      r.branch?.name ?? 'main',
      r.branch ? branchLabel(r.branch) : '',
      // A not-started run's x position in the figures is its level's elsewhere: none of its own here.
      r.status === 'not started' || r.fractionRemaining === null ? '' : pct(r.fractionRemaining),
      r.status,
      r.final?.iteration ?? '',
      r.final?.accuracy ?? '',
      r.final?.loss ?? '',
      r.note,
      r.dir,
    ]);
  }
  return out;
}

/** Render one figure's spec to `dir/name.svg` (and `.png`); returns the paths written. */
async function renderFigureFiles(spec: object, dir: string, name: string, png: boolean): Promise<string[]> {
  const svg = await renderSvg(spec);
  const paths = [join(dir, `${name}.svg`)];
  writeFileAtomic(paths[0], svg);
  if (png) {
    paths.push(join(dir, `${name}.png`));
    writeFileAtomic(paths[1], svgToPng(svg));
  }
  return paths;
}

/** Regenerate every figure for which runs exist under `runs` into `out`. */
export async function figures(opts: FiguresOptions): Promise<FiguresResult> {
  const col = collectRuns(opts.runs);
  const { figures: figs, skipped, notStarted } = buildFigures(col);
  mkdirSync(opts.out, { recursive: true });
  const written: string[] = [];
  const write = (file: string, data: string | Buffer) => {
    const path = join(opts.out, file);
    writeFileAtomic(path, data);
    written.push(path);
  };
  const index: string[] = ['# Figures', '', `Regenerated from ${opts.runs} by \`early-phase figures\`. Every plotted point is in figures.csv; every run found, and every run a condition expects that has not started, is in runs.csv.`, ''];
  for (const f of figs) {
    write(`${f.name}.vl.json`, JSON.stringify(f.spec, null, 1) + '\n');
    written.push(...(await renderFigureFiles(f.spec, opts.out, f.name, opts.png !== false)));
    const t = f.spec.title as { text: string; subtitle: string[] };
    const counts = { ok: 0, partial: 0, missing: 0 };
    for (const p of f.points) counts[pointStatus(p)]++;
    const nNotStarted = notStartedCount(f.points);
    index.push(
      `- **${f.name}**: ${t.text}. ${t.subtitle[0]}. Points: ${counts.ok} complete, ${counts.partial} with unfinished replicates, ${counts.missing} missing.` +
        (nNotStarted ? ` ${nNotStarted} replicate run${nNotStarted === 1 ? '' : 's'} not started${f.points.some((p) => p.xLabel === 'Training Iteration') ? '' : ' (runs.csv)'}.` : ''),
    );
  }
  if (skipped.length) index.push('', '## Not produced', '', ...skipped.map((s) => `- ${s}`));
  if (col.warnings.length) index.push('', '## Warnings', '', ...col.warnings.map((s) => `- ${s}`));
  write('figures.csv', pointsCsv(figs.flatMap((f) => f.points.map((p) => ({ ...p, figure: f.name })))));
  write('runs.csv', runsCsv(col, notStarted));
  write('index.md', index.join('\n') + '\n');
  return { written, skipped, warnings: col.warnings };
}

/**
 * Render again every figure spec (`*.vl.json`) a figures folder holds, to SVG and PNG beside it, with
 * this version's renderer: the stored specs carry their data, so no runs are needed (e.g. after a
 * change of layout). Returns the files written.
 */
export async function rerenderFigures(dir: string, opts: { png?: boolean } = {}): Promise<string[]> {
  const specs = readdirSync(dir).filter((f) => f.endsWith('.vl.json')).sort();
  if (specs.length === 0) throw new Error(`figures --rerender: no *.vl.json figure specs in ${dir}`);
  const written: string[] = [];
  for (const f of specs) {
    const name = f.slice(0, -'.vl.json'.length);
    let spec: object;
    try {
      spec = JSON.parse(readFileSync(join(dir, f), 'utf8')) as object;
    } catch (e) {
      throw new Error(`figures --rerender: ${join(dir, f)} is not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    written.push(...(await renderFigureFiles(spec, dir, name, opts.png !== false)));
  }
  return written;
}
