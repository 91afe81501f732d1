// early-phase: the command line. Each command is a thin layer over a library call.
import { Command, Option } from 'commander';
import { doctor, formatDoctor } from './doctor.js';
import { addHparamOptions, addTrainingLengthOptions, hparamsFromOptions, parseReplicates } from './options.js';
import { train } from '../train/train.js';
import { quickstart } from './quickstart.js';
import { lottery, LOTTERY_HPARAMS } from '../lottery/lottery.js';
import { formatLevels } from './format.js';

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
  .addOption(new Option('--log-every <n>', 'write a training log line every N iterations').default(10).argParser(Number))
  .option('--quiet', 'no progress output');
addTrainingLengthOptions(trainCmd);
addHparamOptions(trainCmd, undefined, ['trainingSteps']);
trainCmd.action(async (opts: Record<string, unknown>) => {
  const hparams = hparamsFromOptions(opts);
  for (const replicate of parseReplicates(String(opts.replicate))) {
    const r = await train(hparams, { out: String(opts.out), replicate, data: opts.data as string | undefined, quiet: Boolean(opts.quiet), logEvery: Number(opts.logEvery) });
    const acc = r.test ? `test accuracy ${(100 * r.test.accuracy).toFixed(2)}%, loss ${r.test.loss.toFixed(4)}` : 'no evaluation';
    console.log(`${r.skipped ? 'already complete' : 'done'}: ${r.runDir} (${acc})`);
  }
});

const lotteryCmd = program
  .command('lottery')
  .description('iterative magnitude pruning with rewinding to iteration k (levels 0..N); resumes and skips finished levels when re-run')
  .addOption(new Option('--levels <n>', 'run levels 0..N (level L keeps 0.8^L of the prunable weights)').default(20).argParser(Number))
  .option('--replicate <R>', 'replicate number or range (1-5), run in sequence', '1')
  .option('--data <dir>', 'CIFAR-10 location (see train --help)')
  .option('--out <dir>', 'output directory', 'runs')
  .addOption(new Option('--log-every <n>', 'write a training log line every N iterations').default(10).argParser(Number))
  .option('--quiet', 'no progress output');
addTrainingLengthOptions(lotteryCmd);
addHparamOptions(lotteryCmd, LOTTERY_HPARAMS, ['trainingSteps']);
lotteryCmd.action(async (opts: Record<string, unknown>) => {
  const hparams = hparamsFromOptions(opts, LOTTERY_HPARAMS);
  const results = await lottery(hparams, {
    out: String(opts.out),
    replicates: parseReplicates(String(opts.replicate)),
    levels: Number(opts.levels),
    data: opts.data as string | undefined,
    quiet: Boolean(opts.quiet),
    logEvery: Number(opts.logEvery),
  });
  console.log(formatLevels(results));
});

program
  .command('quickstart')
  .description('the main job: doctor, then the quick experiment of this machine (see README)')
  .option('--out <dir>', 'output directory', 'runs/quickstart')
  .option('--data <dir>', 'CIFAR-10 location (see train --help)')
  .action(async (opts: { out: string; data?: string }) => {
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
