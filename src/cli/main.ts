// early-phase: the command line. Each command is a thin layer over a library call.
import { Command, Option } from 'commander';
import { doctor, formatDoctor } from './doctor.js';
import { addHparamOptions, addTrainingLengthOptions, hparamsFromOptions, parseCount, parseReplicates } from './options.js';
import { train } from '../train/train.js';
import { quickstart } from './quickstart.js';
import { lottery, LOTTERY_HPARAMS } from '../lottery/lottery.js';
import { formatLevels } from './format.js';
import { BRANCHES, branchDef } from '../lottery/branches.js';
import { runBranch } from '../lottery/branch_run.js';
import { TRAIN_HPARAMS } from '../train/hparams.js';
import { expandSweep, FIGURES, runSweep, workerCommand, type FigureName, type SweepSize } from '../experiments/sweep.js';
import { figures, rerenderFigures } from '../report/figures.js';
import { withGpu } from '../train/session.js';
import { telemetry, TELEMETRY_HPARAMS } from '../experiments/telemetry.js';
import { argsFromOptions, trainOverridesFromOptions } from './options.js';

const program = new Command();
program
  .name('early-phase')
  .description('GPU deep learning in TypeScript + WGSL on Dawn: reproduces "The Early Phase of Neural Network Training" (Frankle, Schwab, Morcos, ICLR 2020)')
  .showHelpAfterError();

program
  .command('doctor')
  .description('show the WebGPU adapter, driver, Dawn version, limits and features; fail with install hints if there is none')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    const r = await doctor();
    console.log(opts.json ? JSON.stringify(r, null, 2) : formatDoctor(r));
    process.exitCode = r.ok ? 0 : 1;
  });

const trainCmd = program
  .command('train')
  .description("train a network on CIFAR-10 (defaults: the paper's recipe); resumes from its last checkpoint when re-run")
  .option('--replicate <R>', 'replicate number or range (1-5); random streams derive from (seed, replicate)', '1')
  .option('--data <dir>', 'CIFAR-10 folder (data_batch_1..5.bin, test_batch.bin) or cifar-10-binary.tar.gz (default: $EARLY_PHASE_DATA, else ../shared/data/cifar-10-batches-bin)')
  .option('--out <dir>', 'output directory', 'runs')
  .addOption(new Option('--log-every <n>', 'write a training log line every N iterations').default(10).argParser(parseCount('--log-every', 1)))
  .option('--quiet', 'no progress output')
  .option('--no-autotune', 'use the default conv kernel configuration instead of the measured one');
addTrainingLengthOptions(trainCmd);
addHparamOptions(trainCmd);
trainCmd.action(async (opts: Record<string, unknown>) => {
  const hparams = hparamsFromOptions(opts);
  for (const replicate of parseReplicates(String(opts.replicate))) {
    const r = await train(hparams, { out: String(opts.out), replicate, data: opts.data as string | undefined, quiet: Boolean(opts.quiet), logEvery: Number(opts.logEvery), autotune: Boolean(opts.autotune) });
    const acc = r.test ? `test accuracy ${(100 * r.test.accuracy).toFixed(2)}%, loss ${r.test.loss.toFixed(4)}` : 'no evaluation';
    console.log(`${r.skipped ? 'already complete' : 'done'}: ${r.runDir} (${acc})`);
  }
});

const lotteryCmd = program
  .command('lottery')
  .description('iterative magnitude pruning with rewinding to iteration k (levels 0..N); resumes and skips finished levels when re-run')
  .addOption(new Option('--levels <n>', 'run levels 0..N (level L keeps 0.8^L of the prunable weights)').default(20).argParser(parseCount('--levels')))
  .option('--replicate <R>', 'replicate number or range (1-5), run in sequence', '1')
  .option('--data <dir>', 'CIFAR-10 location (see train --help)')
  .option('--out <dir>', 'output directory', 'runs')
  .addOption(new Option('--log-every <n>', 'write a training log line every N iterations').default(10).argParser(parseCount('--log-every', 1)))
  .option('--quiet', 'no progress output')
  .option('--no-autotune', 'use the default conv kernel configuration instead of the measured one');
addTrainingLengthOptions(lotteryCmd);
addHparamOptions(lotteryCmd, LOTTERY_HPARAMS);
lotteryCmd.action(async (opts: Record<string, unknown>) => {
  const hparams = hparamsFromOptions(opts, LOTTERY_HPARAMS);
  const results = await lottery(hparams, {
    out: String(opts.out),
    replicates: parseReplicates(String(opts.replicate)),
    levels: Number(opts.levels),
    data: opts.data as string | undefined,
    quiet: Boolean(opts.quiet),
    logEvery: Number(opts.logEvery),
    autotune: Boolean(opts.autotune),
  });
  console.log(formatLevels(results));
});

const branchCmd = program
  .command('branch <name>')
  .description(`an intervention at the rewinding point of finished IMP levels, trained from k to the end: ${Object.keys(BRANCHES).join(', ')}`)
  .requiredOption('--lottery <dir>', "the lottery's lottery_<hash> directory")
  .requiredOption('--levels <range>', 'levels to branch from: 3, 0-6 or 2,4,6')
  .option('--replicate <R>', 'replicate number or range (1-5)', '1')
  .option('--data <dir>', 'CIFAR-10 location (see train --help)')
  .addOption(new Option('--log-every <n>', 'write a training log line every N iterations').default(10).argParser(parseCount('--log-every', 1)))
  .option('--quiet', 'no progress output')
  .option('--no-autotune', 'use the default conv kernel configuration instead of the measured one');
for (const def of Object.values(BRANCHES)) addHparamOptions(branchCmd, def.args.map((d) => ({ ...d, help: `[${def.name}] ${d.help}` })));
addTrainingLengthOptions(branchCmd);
addHparamOptions(branchCmd, TRAIN_HPARAMS.filter((d) => d.key !== 'model').map((d) => ({ ...d, help: `${d.help}; default: the lottery's` })));
branchCmd.action(async (name: string, opts: Record<string, unknown>, cmd: Command) => {
  const def = branchDef(name);
  const given = (key: string) => cmd.getOptionValueSource(key) === 'cli';
  for (const other of Object.values(BRANCHES)) {
    if (other === def) continue;
    for (const d of other.args) {
      const key = d.flag.replace(/^--/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
      if (given(key) && !def.args.some((x) => x.flag === d.flag)) throw new Error(`${d.flag} belongs to branch '${other.name}', not '${name}'`);
    }
  }
  const trainOverrides = trainOverridesFromOptions(opts);
  const results = await runBranch(name, {
    lottery: String(opts.lottery),
    levels: parseReplicates(String(opts.levels), '--levels'),
    replicates: parseReplicates(String(opts.replicate)),
    args: argsFromOptions(opts, def.args),
    trainOverrides,
    data: opts.data as string | undefined,
    quiet: Boolean(opts.quiet),
    logEvery: Number(opts.logEvery),
    autotune: Boolean(opts.autotune),
  });
  console.log(formatLevels(results));
});

const telemetryCmd = program
  .command('telemetry')
  .description('dense training with early-phase telemetry (Fig. 3): accuracy, |w|, sign changes, gradient norm, distances and cosines to init and final')
  .option('--final <run>', 'the finished train run of the same model and seed, for dist_to_final / cos_to_final: its train_<hash> folder (each replicate takes its own replicate_<R>), or one replicate\'s folder or model_final.safetensors')
  .option('--replicate <R>', 'replicate number or range (1-5)', '1')
  .option('--data <dir>', 'CIFAR-10 location (see train --help)')
  .option('--out <dir>', 'output directory', 'runs')
  .option('--quiet', 'no progress output')
  .option('--no-autotune', 'use the default conv kernel configuration instead of the measured one');
addTrainingLengthOptions(telemetryCmd);
addHparamOptions(telemetryCmd, TELEMETRY_HPARAMS);
telemetryCmd.action(async (opts: Record<string, unknown>) => {
  const hparams = hparamsFromOptions(opts, TELEMETRY_HPARAMS);
  for (const replicate of parseReplicates(String(opts.replicate))) {
    const r = await telemetry(hparams, { out: String(opts.out), replicate, final: opts.final as string | undefined, data: opts.data as string | undefined, quiet: Boolean(opts.quiet), autotune: Boolean(opts.autotune) });
    console.log(`telemetry: ${r.dir}/telemetry.jsonl (${r.samples} samples; reductions took ${((100 * r.reductionMs) / Math.max(1, r.stepMs)).toFixed(1)}% of the wall time)`);
  }
});

program
  .command('sweep <figure>')
  .description(`expand a figure (${FIGURES.join(', ')}) into its runs, skip complete ones and run the rest (or --list them for a scheduler)`)
  .requiredOption('--model <name>', 'network (resnet20, vgg13, ...)')
  .addOption(new Option('--size <size>', 'quick (this machine, ~1 h a figure; see README) or paper (the full protocol)').choices(['quick', 'paper']).default('quick'))
  .option('--k <list>', 'rewinding iterations, comma-separated (default: the size\'s)')
  .option('--replicate <R>', 'replicates (default: the size\'s: 1 quick, 1-5 paper)')
  .addOption(new Option('--levels <n>', 'IMP levels 0..N (default: the size\'s)').argParser(parseCount('--levels')))
  .option('--list', 'print one self-contained command per pending run whose inputs exist, and exit')
  .option('--data <dir>', 'CIFAR-10 location (see train --help)')
  .option('--out <dir>', 'output directory', 'runs')
  .option('--quiet', 'no progress output')
  .option('--no-autotune', 'use the default conv kernel configuration instead of the measured one')
  .action(async (figure: string, opts: Record<string, unknown>) => {
    if (figure === 'fig2' || figure === 'fig3') throw new Error(`${figure} is drawn from telemetry runs: run \`early-phase telemetry --model ${opts.model ?? 'resnet20'} [--replicate 1-5] [--final RUN]\` (see telemetry --help), then \`early-phase figures\``);
    if (!FIGURES.includes(figure as FigureName)) throw new Error(`unknown figure '${figure}'; choose one of ${FIGURES.join(', ')}`);
    const runs = expandSweep({
      figure: figure as FigureName,
      model: String(opts.model),
      size: opts.size as SweepSize,
      out: String(opts.out),
      ks: opts.k ? String(opts.k).split(',').map((v) => parseCount('--k')(v)) : undefined,
      replicates: opts.replicate ? parseReplicates(String(opts.replicate)) : undefined,
      levels: opts.levels as number | undefined,
    });
    if (opts.list) {
      const self = process.argv[1];
      const machine = { node: process.execPath, cli: self, data: opts.data as string | undefined, autotune: Boolean(opts.autotune) };
      for (const r of runs) if (!r.done() && r.ready()) console.log(workerCommand(r, machine));
      return;
    }
    const s = await withGpu({ autotune: Boolean(opts.autotune) }, (gpu) => runSweep(runs, { gpu, data: opts.data as string | undefined, quiet: Boolean(opts.quiet) }));
    console.log(`sweep ${figure}: ${s.ran} run, ${s.skipped} already complete, ${s.busy} held by other workers or waiting`);
  });

program
  .command('figures')
  .description("regenerate the paper's figures from run outputs (SVG, PNG, figures.csv of every plotted point, runs.csv); no GPU")
  .option('--runs <dir>', 'directory holding lottery_* / telemetry_* runs', 'runs')
  .option('--out <dir>', 'output directory', 'figures')
  .option('--no-png', 'write SVG only')
  .option('--rerender <dir>', 'instead: render the figure specs (*.vl.json) a figures folder already holds to SVG and PNG again, with this version (no runs needed)')
  .action(async (opts: { runs: string; out: string; png: boolean; rerender?: string }) => {
    if (opts.rerender !== undefined) {
      const files = await rerenderFigures(opts.rerender, { png: opts.png });
      console.log(`rendered ${files.length} files in ${opts.rerender}`);
      return;
    }
    const r = await figures({ runs: opts.runs, out: opts.out, png: opts.png });
    for (const w of r.warnings) console.warn(`warning: ${w}`);
    for (const s of r.skipped) console.log(`skipped ${s}`);
    console.log(`wrote ${r.written.length} files to ${opts.out} (see ${opts.out}/index.md)`);
  });

program
  .command('quickstart')
  .description('the main job: doctor, then the quick experiment of this machine (see README)')
  .option('--out <dir>', 'output directory', 'runs/quickstart')
  .option('--data <dir>', 'CIFAR-10 location (see train --help)')
  .option('--no-autotune', 'use the default conv kernel configuration instead of the measured one')
  .action(async (opts: { out: string; data?: string; autotune: boolean }) => {
    await quickstart(opts);
  });

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    const err = e as Error;
    console.error(`early-phase: ${err.message}`);
    if (process.env.EARLY_PHASE_DEBUG) console.error(err.stack);
    process.exitCode = process.exitCode || 1;
  }
  // Dawn keeps the event loop alive; every command has destroyed its device by now.
  process.exit(process.exitCode ?? 0);
}

void main();
