// `node dist/bench-tfjs.js`: TF.js-webgpu training throughput of ResNet-20 on this machine's Dawn
// adapter (bench/tfjs/resnet20_tfjs.ts), as one line, optionally as JSON (--json FILE).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { tfjsTrainThroughput } from './resnet20_tfjs.js';
import { intFlag } from '../cli_args.js';

const USAGE = `usage: node dist/bench-tfjs.js [options]
  --batch N      training batch (default 128)
  --steps N      timed training steps (default 3)
  --warmup N     warm-up steps before them, shader compilation included (default 1)
  --seed N       seed of the synthetic data and the initialization (default 1)
  --json FILE    also write the result as JSON
  --quiet        no per-step lines
  -h, --help`;


async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      batch: { type: 'string' },
      steps: { type: 'string' },
      warmup: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const r = await tfjsTrainThroughput({
    batch: intFlag('batch', values.batch, 128, 1),
    steps: intFlag('steps', values.steps, 3, 1),
    warmup: intFlag('warmup', values.warmup, 1, 0),
    seed: intFlag('seed', values.seed, 1, 0),
    log: values.quiet ? undefined : (s) => console.error(s),
  });
  const ms = r.step_ms.map((t) => t.toFixed(0)).join(', ');
  console.log(`tfjs ${r.backend} (${r.tfjs_version}): ResNet-20 batch ${r.batch}, ${r.steps} steps after ${r.warmup} warm-up: ${r.train_images_per_s.toFixed(2)} img/s (step ms: ${ms})`);
  if (values.json) {
    mkdirSync(dirname(values.json), { recursive: true });
    writeFileSync(values.json, JSON.stringify(r, null, 2) + '\n');
    console.log(`wrote ${values.json}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
