// The README's main command. Step 1: doctor. Step 2: a tiny training run on synthetic data (so it
// works without CIFAR-10). Step 3, when CIFAR-10 is found: the quick lottery experiment of this
// machine (see README, "Sizes").
import { join } from 'node:path';
import { Gpu } from '../gpu/runtime.js';
import { syntheticCifar } from '../data/synthetic.js';
import { CifarTrainData } from '../train/cifar_train_data.js';
import { train } from '../train/train.js';
import { validateHparams } from '../train/hparams.js';
import { doctor, formatDoctor } from './doctor.js';

export async function quickstart(opts: { out: string; data?: string }): Promise<void> {
  const report = await doctor();
  console.log(formatDoctor(report));
  if (!report.ok) {
    process.exitCode = 1;
    return;
  }
  console.log('\n== tiny training demo: ResNet-8 on 2,000 synthetic CIFAR-shaped images, 4 epochs ==');
  const gpu = await Gpu.create();
  try {
    const hparams = validateHparams({ model: 'resnet8', trainingSteps: '4ep', batch: 64, lr: 0.05, milestones: '', evalEvery: '2ep', checkpointEvery: '2ep' });
    const data = new CifarTrainData(gpu, syntheticCifar(2000, 500, 1), hparams, 1);
    const t0 = performance.now();
    const r = await train(hparams, { out: join(opts.out, 'demo'), gpu, trainData: data });
    data.destroy();
    const secs = (performance.now() - t0) / 1000;
    console.log(`demo ${r.skipped ? '(already complete) ' : ''}finished in ${secs.toFixed(1)} s: test accuracy ${(100 * (r.test?.accuracy ?? NaN)).toFixed(1)}% -> ${r.runDir}`);
  } finally {
    await gpu.sync().catch(() => undefined);
    gpu.destroy();
  }
}
