// Reads run outputs from disk for the figures: lotteries (IMP levels and their branches) and
// telemetry runs. Nothing here computes a value that is not in a file: a run's final accuracy is its
// last test evaluation, and only when model_final.safetensors says the run finished; an unfinished
// run is kept as `incomplete` so that the figures can show it as missing.
//
//   <root>/lottery_<hash>/hparams.json
//   <root>/lottery_<hash>/replicate_<R>/rewind.safetensors           (metadata: iteration)
//   <root>/lottery_<hash>/replicate_<R>/level_<L>/main/              sparsity.json, metrics.jsonl, model_final.safetensors
//   <root>/lottery_<hash>/replicate_<R>/level_<L>/branch_<name>_<h>/ same + branch.json, perturbation.json
//   <root>/telemetry_<hash>/hparams.json, replicate_<R>/telemetry.jsonl
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
  status: 'complete' | 'incomplete';
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
}

export interface TelemetrySample {
  iteration: number;
  [key: string]: number | number[] | undefined;
}

export interface TelemetryRun {
  dir: string;
  hash: string;
  hparams: Hparams;
  replicates: { replicate: string; samples: TelemetrySample[] }[];
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

function readBranch(dir: string, id: string, warnings: string[]): BranchInfo | null {
  const path = join(dir, 'branch.json');
  if (!existsSync(path)) {
    warnings.push(`${dir}: no branch.json, skipped`);
    return null;
  }
  try {
    const j = readJson(path) as { name?: string; args?: Record<string, unknown>; label?: string };
    let perturbation: PerturbationSummary | null = null;
    const pPath = join(dir, 'perturbation.json');
    if (existsSync(pPath)) {
      const p = readJson(pPath) as Record<string, unknown>;
      if (typeof p.std === 'number' && typeof p.std_normalized === 'number') {
        perturbation = { mean: Number(p.mean), std: p.std, mean_normalized: Number(p.mean_normalized), std_normalized: p.std_normalized, count: Number(p.count) };
      }
    }
    const name = String(j.name ?? id.replace(/^branch_/, '').replace(/_[^_]+$/, ''));
    return { id, name, args: j.args ?? {}, label: String(j.label ?? name), perturbation };
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
  let k: number | null = null;
  for (const rep of subdirs(dir, /^replicate_\d+$/)) {
    const repDir = join(dir, rep);
    const replicate = replicateId(hparams, rep);
    k ??= safetensorsIteration(join(repDir, 'rewind.safetensors'));
    for (const lv of subdirs(repDir, /^level_\d+$/)) {
      const level = Number(lv.slice('level_'.length));
      const levelDir = join(repDir, lv);
      if (isDir(join(levelDir, 'main'))) runs.push(readRun(root, join(levelDir, 'main'), replicate, level, null));
      for (const b of subdirs(levelDir, /^branch_/)) {
        const info = readBranch(join(levelDir, b), b, warnings);
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
  return { dir: relative(root, dir), hash, hparams, k, runs };
}

function readTelemetry(root: string, dir: string, warnings: string[]): TelemetryRun | null {
  const hp = readHparams(dir, warnings);
  if (!hp) return null;
  const replicates: TelemetryRun['replicates'] = [];
  for (const rep of subdirs(dir, /^replicate_\d+$/)) {
    const path = join(dir, rep, 'telemetry.jsonl');
    if (!existsSync(path)) continue;
    const samples = new MetricsLog(path)
      .read()
      .filter((r) => typeof r.iteration === 'number' && r.event === undefined) as unknown as TelemetrySample[];
    samples.sort((a, b) => a.iteration - b.iteration);
    if (samples.length) replicates.push({ replicate: replicateId(hp.hparams, rep), samples });
  }
  return { dir: relative(root, dir), hash: hp.hash, hparams: hp.hparams, replicates };
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
