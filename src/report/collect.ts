// Reads run outputs from disk for the figures: lotteries (IMP levels and their branches) and
// telemetry runs. Nothing here computes a value that is not in a file: a run's final accuracy is its
// last test evaluation, and only when model_final.safetensors says the run finished; an unfinished
// run is kept as `incomplete` so that the figures can show it as missing, and a run that a condition
// expects but that has no directory yet is listed as `not started` (notStartedRuns).
//
//   <root>/lottery_<hash>/hparams.json
//   <root>/lottery_<hash>/replicate_<R>/rewind.safetensors           (metadata: iteration)
//   <root>/lottery_<hash>/replicate_<R>/level_<L>/main/              sparsity.json, metrics.jsonl, model_final.safetensors
//   <root>/lottery_<hash>/replicate_<R>/level_<L>/branch_<name>_<h>/ same + branch.json, perturbation.json
//   <root>/telemetry_<hash>/hparams.json, replicate_<R>/telemetry.jsonl (+ model_final.safetensors when finished)
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { MetricsLog } from '../train/metrics_log.js';
import { parseStep } from '../train/steps.js';

export type Hparams = Record<string, string | number | boolean | null>;

export interface FinalEval {
  iteration: number;
  accuracy: number;
  loss: number;
}

export interface PerturbationSummary {
  mean: number;
  std: number;
  mean_normalized: number;
  std_normalized: number;
  count: number;
}

export interface BranchInfo {
  /** The branch directory name (branch_<name>_<hash>): the same variant in every replicate. */
  id: string;
  name: string;
  args: Record<string, unknown>;
  label: string;
  /**
   * Training settings this branch was run with that differ from its lottery's (branch.json
   * `overrides`, e.g. {trainingSteps: '8ep', lr: 0.05}); empty when it trained with the lottery's own.
   */
  overrides: Hparams;
  perturbation: PerturbationSummary | null;
}

export interface LevelRun {
  /** Directory, relative to the runs root. */
  dir: string;
  /** Replicate id, unique across the seeds of a condition: "s<seed>r<R>". */
  replicate: string;
  level: number;
  fractionRemaining: number | null;
  final: FinalEval | null;
  /** `not started`: no directory yet, but its condition expects it (see notStartedRuns). */
  status: 'complete' | 'incomplete' | 'not started';
  /** Why a run is incomplete (for runs.csv). */
  note: string;
  branch: BranchInfo | null;
}

export interface Lottery {
  dir: string;
  hash: string;
  hparams: Hparams;
  /** Rewinding iteration k (rewind.safetensors metadata, else parsed from hparams.rewind). */
  k: number;
  runs: LevelRun[];
  /** Every replicate_<R> folder of the lottery (id as in LevelRun.replicate; dir relative to the root). */
  replicates: { id: string; dir: string }[];
}

export interface TelemetrySample {
  iteration: number;
  [key: string]: number | number[] | undefined;
}

export interface TelemetryRun {
  dir: string;
  hash: string;
  hparams: Hparams;
  /**
   * Every replicate_<R> folder, with or without samples yet. `complete`: the run finished
   * (model_final.safetensors, or its last sample is at the end of training); samples of an
   * unfinished replicate stop at the iteration it has reached.
   */
  replicates: { replicate: string; samples: TelemetrySample[]; complete: boolean }[];
}

export interface Collection {
  root: string;
  lotteries: Lottery[];
  telemetry: TelemetryRun[];
  warnings: string[];
}

const RUN_DIR = /^(lottery|telemetry)_[0-9a-zA-Z]+$/;

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function subdirs(path: string, re: RegExp): string[] {
  if (!isDir(path)) return [];
  return readdirSync(path)
    .filter((n) => re.test(n) && isDir(join(path, n)))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** Iterations per epoch of a run: ceil(train size / batch), as the training loop computes it. */
export function iterationsPerEpoch(h: Hparams): number {
  const size = Number(h.trainSubset) > 0 ? Number(h.trainSubset) : 50_000;
  return Math.ceil(size / (Number(h.batch) > 0 ? Number(h.batch) : 128));
}

/** The iteration stored in a safetensors file's metadata (`iteration`), read from its header only. */
export function safetensorsIteration(path: string): number | null {
  if (!existsSync(path)) return null;
  const fd = openSync(path, 'r');
  try {
    const len = Buffer.alloc(8);
    if (readSync(fd, len, 0, 8, 0) !== 8) return null;
    const n = Number(len.readBigUInt64LE(0));
    if (n <= 0 || n > 100_000_000) return null;
    const header = Buffer.alloc(n);
    readSync(fd, header, 0, n, 8);
    const meta = (JSON.parse(header.toString('utf8')) as { __metadata__?: Record<string, string> }).__metadata__;
    const it = meta?.iteration !== undefined ? Number(meta.iteration) : NaN;
    return Number.isInteger(it) ? it : null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** The final evaluation of a run directory, or why there is none. */
export function finalEval(dir: string): { final: FinalEval | null; note: string } {
  if (!existsSync(join(dir, 'model_final.safetensors'))) return { final: null, note: 'no model_final.safetensors (unfinished)' };
  const tests = new MetricsLog(join(dir, 'metrics.jsonl'))
    .read()
    .filter((r) => r.split === 'test' && typeof r.iteration === 'number' && typeof r.accuracy === 'number');
  if (!tests.length) return { final: null, note: 'finished but metrics.jsonl has no test evaluation' };
  let last = tests[0];
  for (const r of tests) if (Number(r.iteration) >= Number(last.iteration)) last = r;
  return { final: { iteration: Number(last.iteration), accuracy: Number(last.accuracy), loss: Number(last.loss) }, note: '' };
}

function readHparams(dir: string, warnings: string[]): { hparams: Hparams; hash: string } | null {
  const path = join(dir, 'hparams.json');
  if (!existsSync(path)) {
    warnings.push(`${dir}: no hparams.json, skipped`);
    return null;
  }
  try {
    const j = readJson(path) as { hparams?: Hparams; hash?: string };
    if (!j.hparams || typeof j.hparams !== 'object') throw new Error('no "hparams" object');
    return { hparams: j.hparams, hash: String(j.hash ?? dir.split('_').pop()) };
  } catch (e) {
    warnings.push(`${path}: ${(e as Error).message}, skipped`);
    return null;
  }
}

function replicateId(h: Hparams, dirName: string): string {
  return `s${h.seed ?? 0}r${dirName.replace(/^replicate_/, '')}`;
}

/** branch.json's `overrides`, less any setting equal to the lottery's own (which changes nothing). */
function branchOverrides(raw: unknown, lottery: Hparams): Hparams {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return {};
  const out: Hparams = {};
  for (const [key, v] of Object.entries(raw as Record<string, unknown>)) {
    if (v === undefined || lottery[key] === v) continue;
    out[key] = v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v);
  }
  return out;
}

function readBranch(dir: string, id: string, lottery: Hparams, warnings: string[]): BranchInfo | null {
  const path = join(dir, 'branch.json');
  if (!existsSync(path)) {
    warnings.push(`${dir}: no branch.json, skipped`);
    return null;
  }
  try {
    const j = readJson(path) as { name?: string; args?: Record<string, unknown>; label?: string; overrides?: unknown };
    let perturbation: PerturbationSummary | null = null;
    const pPath = join(dir, 'perturbation.json');
    if (existsSync(pPath)) {
      const p = readJson(pPath) as Record<string, unknown>;
      if (typeof p.std === 'number' && typeof p.std_normalized === 'number') {
        perturbation = { mean: Number(p.mean), std: p.std, mean_normalized: Number(p.mean_normalized), std_normalized: p.std_normalized, count: Number(p.count) };
      }
    }
    const name = String(j.name ?? id.replace(/^branch_/, '').replace(/_[^_]+$/, ''));
    return { id, name, args: j.args ?? {}, label: String(j.label ?? name), overrides: branchOverrides(j.overrides, lottery), perturbation };
  } catch (e) {
    warnings.push(`${path}: ${(e as Error).message}, skipped`);
    return null;
  }
}

function readRun(root: string, dir: string, replicate: string, level: number, branch: BranchInfo | null): LevelRun {
  let fractionRemaining: number | null = null;
  const sPath = join(dir, 'sparsity.json');
  if (existsSync(sPath)) {
    try {
      const s = readJson(sPath) as { fraction_remaining?: number };
      if (typeof s.fraction_remaining === 'number') fractionRemaining = s.fraction_remaining;
    } catch {
      // An unreadable sparsity.json leaves the run without an x position.
    }
  }
  const { final, note } = finalEval(dir);
  return {
    dir: relative(root, dir),
    replicate,
    level,
    fractionRemaining,
    final,
    status: final ? 'complete' : 'incomplete',
    note: fractionRemaining === null ? [note, 'no sparsity.json'].filter(Boolean).join('; ') : note,
    branch,
  };
}

function readLottery(root: string, dir: string, warnings: string[]): Lottery | null {
  const hp = readHparams(dir, warnings);
  if (!hp) return null;
  const { hparams, hash } = hp;
  const runs: LevelRun[] = [];
  const replicates: Lottery['replicates'] = [];
  let k: number | null = null;
  for (const rep of subdirs(dir, /^replicate_\d+$/)) {
    const repDir = join(dir, rep);
    const replicate = replicateId(hparams, rep);
    replicates.push({ id: replicate, dir: relative(root, repDir) });
    k ??= safetensorsIteration(join(repDir, 'rewind.safetensors'));
    for (const lv of subdirs(repDir, /^level_\d+$/)) {
      const level = Number(lv.slice('level_'.length));
      const levelDir = join(repDir, lv);
      if (isDir(join(levelDir, 'main'))) runs.push(readRun(root, join(levelDir, 'main'), replicate, level, null));
      for (const b of subdirs(levelDir, /^branch_/)) {
        const info = readBranch(join(levelDir, b), b, hparams, warnings);
        if (info) runs.push(readRun(root, join(levelDir, b), replicate, level, info));
      }
    }
  }
  if (k === null) {
    try {
      k = parseStep(String(hparams.rewind ?? '0it'), iterationsPerEpoch(hparams));
    } catch {
      warnings.push(`${dir}: cannot read the rewinding step '${hparams.rewind}', skipped`);
      return null;
    }
  }
  return { dir: relative(root, dir), hash, hparams, k, runs, replicates };
}

/** Iterations a telemetry run trains for (its hparams.trainingSteps; the telemetry default is 4000it). */
export function telemetryLength(h: Hparams): number | null {
  try {
    return parseStep(String(h.trainingSteps ?? '4000it'), iterationsPerEpoch(h));
  } catch {
    return null;
  }
}

function readTelemetry(root: string, dir: string, warnings: string[]): TelemetryRun | null {
  const hp = readHparams(dir, warnings);
  if (!hp) return null;
  const end = telemetryLength(hp.hparams);
  const replicates: TelemetryRun['replicates'] = [];
  for (const rep of subdirs(dir, /^replicate_\d+$/)) {
    const path = join(dir, rep, 'telemetry.jsonl');
    // A replicate folder without samples yet is kept: its condition expects it (shown as missing).
    const samples = existsSync(path)
      ? (new MetricsLog(path).read().filter((r) => typeof r.iteration === 'number' && r.event === undefined) as unknown as TelemetrySample[])
      : [];
    samples.sort((a, b) => a.iteration - b.iteration);
    // Finished: the training loop wrote model_final.safetensors after the last step, or the log
    // already holds the sample at the last iteration (telemetry.ts always samples there).
    const last = samples.length ? samples[samples.length - 1].iteration : null;
    const complete = existsSync(join(dir, rep, 'model_final.safetensors')) || (end !== null && last !== null && last >= end);
    replicates.push({ replicate: replicateId(hp.hparams, rep), samples, complete });
  }
  return { dir: relative(root, dir), hash: hp.hash, hparams: hp.hparams, replicates };
}

/**
 * The runs a condition (lotteries that differ only in k, seed or where/how-often settings) expects
 * but that have no directory yet, per lottery, as `not started` LevelRuns. Expected: in every
 * replicate_<R> folder of a lottery, the main run of every level from 0 to the highest level found
 * for the condition, and each branch variant (branch directory) at every level where it exists for
 * the same k in any replicate. Their x position (fraction remaining) is the one found at that level in
 * the condition; `(1 - pruningFraction)^level` only when no run at that level has a sparsity.json.
 */
export function notStartedRuns(lotteries: Lottery[]): Map<Lottery, LevelRun[]> {
  const out = new Map<Lottery, LevelRun[]>();
  const mainLevels = lotteries.flatMap((l) => l.runs.filter((r) => !r.branch).map((r) => r.level));
  const maxLevel = mainLevels.length ? Math.max(...mainLevels) : -1;
  const fraction = new Map<number, number>();
  for (const l of lotteries) for (const r of l.runs) if (r.fractionRemaining !== null && !fraction.has(r.level)) fraction.set(r.level, r.fractionRemaining);
  const variants = new Map<string, { k: number; info: BranchInfo; levels: Set<number> }>();
  for (const l of lotteries) {
    for (const r of l.runs) {
      if (!r.branch) continue;
      const key = JSON.stringify([l.k, r.branch.id]);
      if (!variants.has(key)) variants.set(key, { k: l.k, info: { ...r.branch, perturbation: null }, levels: new Set() });
      variants.get(key)!.levels.add(r.level);
    }
  }
  for (const l of lotteries) {
    const have = new Set(l.runs.map((r) => JSON.stringify([r.replicate, r.level, r.branch?.id ?? 'main'])));
    const pruned = 1 - (Number(l.hparams.pruningFraction) > 0 ? Number(l.hparams.pruningFraction) : 0.2);
    const extra: LevelRun[] = [];
    const expect = (rep: { id: string; dir: string }, level: number, branch: BranchInfo | null) => {
      if (have.has(JSON.stringify([rep.id, level, branch?.id ?? 'main']))) return;
      extra.push({
        dir: join(rep.dir, `level_${level}`, branch?.id ?? 'main'),
        replicate: rep.id,
        level,
        fractionRemaining: fraction.get(level) ?? pruned ** level,
        final: null,
        status: 'not started',
        note: 'not started (no run directory yet)',
        branch,
      });
    };
    for (const rep of l.replicates) {
      for (let level = 0; level <= maxLevel; level++) expect(rep, level, null);
      for (const v of variants.values()) {
        if (v.k !== l.k) continue;
        for (const level of [...v.levels].sort((x, y) => x - y)) expect(rep, level, v.info);
      }
    }
    out.set(l, extra);
  }
  return out;
}

/** Find lottery_* and telemetry_* directories under `root` (up to three levels deep) and read them. */
export function collectRuns(root: string): Collection {
  if (!isDir(root)) throw new Error(`runs directory ${root} does not exist`);
  const warnings: string[] = [];
  const lotteries: Lottery[] = [];
  const telemetry: TelemetryRun[] = [];
  const walk = (dir: string, depth: number): void => {
    for (const name of subdirs(dir, /./)) {
      const path = join(dir, name);
      if (RUN_DIR.test(name) && existsSync(join(path, 'hparams.json'))) {
        if (name.startsWith('lottery_')) {
          const l = readLottery(root, path, warnings);
          if (l) lotteries.push(l);
        } else {
          const t = readTelemetry(root, path, warnings);
          if (t) telemetry.push(t);
        }
      } else if (depth < 3 && !/^(replicate|level|branch)_/.test(name) && name !== 'node_modules') walk(path, depth + 1);
    }
  };
  walk(root, 0);
  return { root, lotteries, telemetry, warnings };
}
