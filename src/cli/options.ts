// Turns the hyperparameter definitions (src/train/hparams.ts) into commander options and back.
import { Command, Option } from 'commander';
import { describeRange, TRAIN_HPARAMS, validateHparams, type HparamDef, type Hparams } from '../train/hparams.js';
export { parseReplicates } from '../train/hparams.js';

function camel(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function parseNumber(def: HparamDef) {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`${def.flag} expects a number, got '${v}'`);
    if (def.type === 'int' && !Number.isInteger(n)) throw new Error(`${def.flag} expects an integer, got '${v}'`);
    return n;
  };
}

/** A commander parser for a whole-number flag (--levels, --log-every): at least `min`, else a clear error. */
export function parseCount(flag: string, min = 0) {
  return (v: string) => {
    const n = parseNumber({ flag, type: 'int' } as HparamDef)(v);
    if (n < min) throw new Error(`${flag} must be at least ${min}, got '${v}'`);
    return n;
  };
}

export function addHparamOptions(cmd: Command, defs: HparamDef[] = TRAIN_HPARAMS, skip: string[] = []): Command {
  for (const d of defs) {
    if (skip.includes(d.key)) continue;
    const def = d.default === null ? 'required' : JSON.stringify(d.default);
    if (d.type === 'bool') {
      cmd.addOption(new Option(d.flag, `${d.help} (default: ${def})`));
      cmd.addOption(new Option(d.flag.replace(/^--/, '--no-')).hideHelp());
      continue;
    }
    const o = new Option(`${d.flag} <value>`, `${d.help}${d.range ? `, ${describeRange(d.range)}` : ''} (default: ${def})`);
    if (d.choices) o.choices(d.choices as string[]);
    if (d.type === 'int' || d.type === 'float') o.argParser(parseNumber(d));
    cmd.addOption(o);
  }
  return cmd;
}

/** Collect hyperparameters from parsed options; unspecified ones take their defaults. */
export function hparamsFromOptions(opts: Record<string, unknown>, defs: HparamDef[] = TRAIN_HPARAMS, base: Hparams = {}): Hparams {
  const h: Hparams = { ...base };
  for (const d of defs) {
    const v = opts[camel(d.flag)];
    if (v !== undefined) h[d.key] = v as string | number | boolean;
  }
  if (opts.epochs !== undefined && opts.iterations !== undefined) throw new Error('give --epochs or --iterations, not both');
  if (opts.epochs !== undefined) h.trainingSteps = `${opts.epochs}ep`;
  if (opts.iterations !== undefined) h.trainingSteps = `${opts.iterations}it`;
  return validateHparams(h, defs);
}

export function addTrainingLengthOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--epochs <n>', 'train for N epochs (default: 160)').argParser(parseCount('--epochs', 1)))
    .addOption(new Option('--iterations <n>', 'train for N iterations instead of epochs').argParser(parseCount('--iterations', 1)));
}


/** Only the values given on the command line for `defs` (no defaults), keyed by hyperparameter. */
export function argsFromOptions(opts: Record<string, unknown>, defs: HparamDef[]): Hparams {
  const h: Hparams = {};
  for (const d of defs) {
    const v = opts[camel(d.flag)];
    if (v !== undefined) h[d.key] = v as string | number | boolean;
  }
  return h;
}

/** Training flags given on the command line (for branches and sweeps: the rest comes from the lottery). */
export function trainOverridesFromOptions(opts: Record<string, unknown>): Hparams {
  const h = argsFromOptions(opts, TRAIN_HPARAMS);
  if (opts.epochs !== undefined) h.trainingSteps = `${opts.epochs}ep`;
  if (opts.iterations !== undefined) h.trainingSteps = `${opts.iterations}it`;
  return h;
}
