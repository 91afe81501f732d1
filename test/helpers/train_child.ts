// A training run in its own process, for the kill -9 test: trains a tiny ResNet on synthetic data
// and, once it is past iteration `--hold-at`, writes `<out>/HOLDING` and waits to be killed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gpu } from '../../src/gpu/runtime.js';
import { syntheticCifar } from '../../src/data/synthetic.js';
import { CifarTrainData } from '../../src/train/cifar_train_data.js';
import { validateHparams } from '../../src/train/hparams.js';
import { train } from '../../src/train/train.js';
import { TINY_RUN } from './tiny_run.js';

const [out, holdAt] = process.argv.slice(2);
const gpu = await Gpu.create();
const hparams = validateHparams(TINY_RUN.hparams);
const data = new CifarTrainData(gpu, syntheticCifar(TINY_RUN.trainImages, TINY_RUN.testImages, 3), hparams, 1);
await train(hparams, {
  out,
  gpu,
  trainData: data,
  quiet: true,
  onStepHook: async (iteration: number) => {
    if (holdAt && iteration >= Number(holdAt)) {
      writeFileSync(join(out, 'HOLDING'), String(iteration));
      // until killed: a pending promise alone would let Node exit as soon as the GPU work drains, and
      // the test must kill a live process; the interval keeps the event loop alive
      await new Promise(() => setInterval(() => undefined, 60_000));
    }
  },
});
gpu.destroy();
process.exit(0);
