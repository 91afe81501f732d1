// Training hyperparameters, defined once. Each definition drives its CLI flag and --help text,
// validation, the run's hparams.json, and the run hash: only hashed fields that differ from their
// default enter the hash (open_lth's rule), so adding a field with a no-op default never orphans
// old runs. The defaults are the paper's recipe (../shared/paper.md).
import { createHash } from 'node:crypto';
import { isValidStep } from './steps.js';
import { createModel } from '../models/registry.js';

export type HparamType = 'string' | 'int' | 'float' | 'step' | 'steps' | 'bool';

export interface HparamDef {
  key: string;
  flag: string;
  type: HparamType;
  default: string | number | boolean | null;
  help: string;
  /** Enters the run hash when it differs from the default (false for where/how-often settings). */
  hashed: boolean;
  choices?: readonly string[];
  /** Required: no default; always enters the hash. */
  required?: boolean;
  /** A step (type 'step') that must be at least one iteration: a length or a cadence, where 0 means nothing sensible. */
  nonzero?: boolean;
  /**
   * The values a number (type 'float') may take: [min, max], or [min, max) where maxExclusive; either
   * bound may be absent. Checked before any work, so that a bad value never costs a trained level.
   */
  range?: { min?: number; max?: number; maxExclusive?: boolean };
}

/** A float's range as the error message says it: "at least 0", "in [0, 1]", "in [0, 1)". */
export function describeRange(r: NonNullable<HparamDef['range']>): string {
  if (r.max === undefined) return `at least ${r.min}`;
  if (r.min === undefined) return `${r.maxExclusive ? 'below' : 'at most'} ${r.max}`;
  return `in [${r.min}, ${r.max}${r.maxExclusive ? ')' : ']'}`;
}

function inRange(v: number, r: NonNullable<HparamDef['range']>): boolean {
  if (r.min !== undefined && v < r.min) return false;
  if (r.max !== undefined && (r.maxExclusive ? v >= r.max : v > r.max)) return false;
  return true;
}

export const TASKS = ['classify', 'random-labels', 'rotation', 'blur', 'blur+rotation'] as const;

export const TRAIN_HPARAMS: HparamDef[] = [
  { key: 'model', flag: '--model', type: 'string', default: null, required: true, hashed: true, help: 'network: resnet20, resnet56, resnet<6N+2>[_<width>], wrn16_8, vgg11/13/16/19, resnet18, resnet18_imagenet_stem' },
  { key: 'trainingSteps', flag: '--training-steps', type: 'step', default: '160ep', hashed: true, nonzero: true, help: 'training length in open_lth notation (set by --epochs N or --iterations N)' },
  { key: 'batch', flag: '--batch', type: 'int', default: 128, hashed: true, help: 'minibatch size' },
  { key: 'lr', flag: '--lr', type: 'float', default: 0.1, hashed: true, range: { min: 0 }, help: 'learning rate' },
  { key: 'milestones', flag: '--milestones', type: 'steps', default: '80ep,120ep', hashed: true, help: 'steps at which the learning rate is multiplied by --gamma (comma-separated, "" for none)' },
  { key: 'gamma', flag: '--gamma', type: 'float', default: 0.1, hashed: true, range: { min: 0 }, help: 'learning-rate decay factor at each milestone' },
  { key: 'momentum', flag: '--momentum', type: 'float', default: 0.9, hashed: true, range: { min: 0, max: 1, maxExclusive: true }, help: 'SGD momentum (PyTorch form: v = mu*v + g; w -= lr*v)' },
  { key: 'weightDecay', flag: '--weight-decay', type: 'float', default: 1e-4, hashed: true, range: { min: 0 }, help: 'L2 weight decay added to the gradient of every parameter' },
  { key: 'seed', flag: '--seed', type: 'int', default: 0, hashed: true, help: 'base seed; every random stream derives from (seed, replicate)' },
  { key: 'trainSubset', flag: '--train-subset', type: 'int', default: 0, hashed: true, help: 'train on a fixed class-balanced subset of N images (0 = all 50,000)' },
  { key: 'testSubset', flag: '--test-subset', type: 'int', default: 0, hashed: true, help: 'evaluate on a fixed class-balanced subset of N test images (0 = all 10,000)' },
  { key: 'augment', flag: '--augment', type: 'bool', default: true, hashed: true, help: 'random crop (4-pixel zero padding) and horizontal flip; --no-augment to disable' },
  { key: 'task', flag: '--task', type: 'string', default: 'classify', choices: TASKS, hashed: true, help: 'what the labels are: classify (CIFAR-10), random-labels, rotation (4-way), blur, blur+rotation' },
  { key: 'blurFactor', flag: '--blur-factor', type: 'int', default: 4, hashed: true, help: 'blur tasks: average f x f blocks (32 -> 32/f), then bilinear back up to 32' },
  { key: 'evalEvery', flag: '--eval-every', type: 'step', default: '1ep', hashed: false, nonzero: true, help: 'evaluate on the test set every this many steps (and at the end)' },
  { key: 'checkpointEvery', flag: '--checkpoint-every', type: 'step', default: '1ep', hashed: false, nonzero: true, help: 'write a resumable checkpoint every this many steps' },
];

export type Hparams = Record<string, string | number | boolean>;

export function defaultHparams(defs = TRAIN_HPARAMS): Hparams {
  const h: Hparams = {};
  for (const d of defs) if (d.default !== null) h[d.key] = d.default;
  return h;
}

/** Validate and normalise a set of hyperparameters (defaults filled in). Throws a clear error. */
export function validateHparams(input: Hparams, defs = TRAIN_HPARAMS): Hparams {
  const h: Hparams = { ...defaultHparams(defs), ...input };
  for (const d of defs) {
    const v = h[d.key];
    if (v === undefined) {
      if (d.required) throw new Error(`${d.flag} is required (${d.help})`);
      continue;
    }
    const bad = (why: string) => new Error(`${d.flag} ${JSON.stringify(v)}: ${why}`);
    switch (d.type) {
      case 'int':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw bad('must be a non-negative integer');
        break;
      case 'float':
        if (typeof v !== 'number' || !Number.isFinite(v)) throw bad('must be a finite number');
        if (d.range && !inRange(v, d.range)) throw bad(`must be ${describeRange(d.range)}`);
        break;
      case 'bool':
        if (typeof v !== 'boolean') throw bad('must be true or false');
        break;
      case 'step':
        if (typeof v !== 'string' || !isValidStep(v)) throw bad('must be a step like 500it, 2ep or 1ep10it');
        if (d.nonzero && !/[1-9]/.test(v)) throw bad('must be at least one iteration');
        break;
      case 'steps':
        if (typeof v !== 'string' || (v !== '' && !v.split(',').every(isValidStep))) throw bad('must be comma-separated steps like 80ep,120ep');
        break;
      case 'string':
        if (typeof v !== 'string' || !v) throw bad('must be a non-empty string');
        if (d.choices && !d.choices.includes(v)) throw bad(`must be one of ${d.choices.join(', ')}`);
        break;
    }
  }
  if (h.batch === 0) throw new Error('--batch must be at least 1');
  if (typeof h.model === 'string') createModel(h.model); // an unknown name fails here, before any work
  const unknown = Object.keys(h).filter((k) => !defs.some((d) => d.key === k));
  if (unknown.length) throw new Error(`unknown hyperparameters: ${unknown.join(', ')}`);
  return h;
}

/** The hashed hyperparameters that differ from their defaults (required ones always). */
export function nonDefaultHparams(h: Hparams, defs = TRAIN_HPARAMS): Hparams {
  const out: Hparams = {};
  for (const d of defs) {
    if (!d.hashed) continue;
    const v = h[d.key];
    if (v === undefined) continue;
    if (d.required || v !== d.default) out[d.key] = v;
  }
  return out;
}

/** Stable short hash of a JSON-able object (keys sorted at every level). */
export function stableHash(obj: unknown, length = 10): string {
  const canon = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(canon);
    if (x && typeof x === 'object') {
      return Object.fromEntries(
        Object.keys(x as object)
          .sort()
          .map((k) => [k, canon((x as Record<string, unknown>)[k])]),
      );
    }
    return x;
  };
  return createHash('sha256').update(JSON.stringify(canon(obj))).digest('hex').slice(0, length);
}

export function hparamsHash(h: Hparams, defs = TRAIN_HPARAMS): string {
  return stableHash(nonDefaultHparams(h, defs));
}

export function describeHparams(defs = TRAIN_HPARAMS): string {
  return defs.map((d) => `  ${d.flag.padEnd(20)} ${d.help} (default: ${d.default === null ? 'required' : JSON.stringify(d.default)})`).join('\n');
}

/** "3" -> [3]; "1-5" -> [1,2,3,4,5]; "1,3" -> [1,3]. `flag` names the option in errors (also --levels). */
export function parseReplicates(text: string, flag = '--replicate'): number[] {
  const out: number[] = [];
  for (const part of String(text).split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new Error(`${flag} '${text}': use a number (3), a range (1-5) or a list (1,3)`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new Error(`${flag} '${text}': empty range`);
    for (let r = a; r <= b; r++) out.push(r);
  }
  return out;
}
