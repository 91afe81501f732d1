// The README's main command (`npm start`):
//   1. doctor: the adapter, or a clear failure with install hints;
//   2. with CIFAR-10 available: a quick IMP run (ResNet-20, levels 0-3, rewinding to iteration 16, on a
//      2,000-image class-balanced subset for 4 epochs; about 15 minutes on a 2-core CPU) and the
//      accuracy-vs-weights-remaining figure;
//      without it: a tiny training demo on synthetic CIFAR-shaped data, and how to get the data.
// Re-running resumes and skips what is finished.
import { join } from 'node:path';
import { resolveDataDir } from '../data/cifar10.js';
import { syntheticCifar } from '../data/synthetic.js';
import { lottery } from '../lottery/lottery.js';
import { figures } from '../report/figures.js';
import { CifarTrainData } from '../train/cifar_train_data.js';
import { train } from '../train/train.js';
import { validateHparams, type Hparams } from '../train/hparams.js';
import { doctor, formatDoctor } from './doctor.js';
import { formatLevels } from './format.js';
import { withGpu } from '../train/session.js';

/** The quick lottery of this machine (README "Sizes"). */
export const QUICK_LOTTERY: Hparams = {
  model: 'resnet20',
  trainSubset: 2000,
  testSubset: 1000,
  trainingSteps: '4ep',
  milestones: '2ep,3ep',
  rewind: '16it',
  evalEvery: '4ep',
  checkpointEvery: '1ep',
};
export const QUICK_LEVELS = 3;

export async function quickstart(opts: { out: string; data?: string; autotune?: boolean }): Promise<void> {
  const report = await doctor();
  console.log(formatDoctor(report));
  if (!report.ok) {
    process.exitCode = 1;
    return;
  }
  let dataDir: string | null = null;
  try {
    dataDir = resolveDataDir(opts.data);
  } catch (e) {
    console.log(`\nCIFAR-10 not found (${(e as Error).message.split('\n')[0]})`);
  }
  await withGpu({ autotune: opts.autotune ?? true }, async (gpu) => {
    if (!dataDir) {
      console.log('\n== tiny training demo: ResNet-8 on 1,000 synthetic CIFAR-shaped images, 2 epochs ==');
      const hparams = validateHparams({ model: 'resnet8', trainingSteps: '2ep', batch: 64, lr: 0.05, milestones: '', evalEvery: '1ep', checkpointEvery: '1ep' });
      const data = new CifarTrainData(gpu, syntheticCifar(1000, 200, 1), hparams, 1);
      try {
        const r = await train(hparams, { out: join(opts.out, 'demo'), gpu, trainData: data });
        console.log(`demo: test accuracy ${(100 * (r.test?.accuracy ?? NaN)).toFixed(1)}% -> ${r.runDir}`);
      } finally {
        data.destroy();
      }
      return;
    }
    console.log(`\n== quick IMP run on CIFAR-10 (${dataDir}): ResNet-20, levels 0-${QUICK_LEVELS}, rewind to iteration 16, 2,000-image subset, 4 epochs ==`);
    const t0 = performance.now();
    const results = await lottery(QUICK_LOTTERY, { out: opts.out, levels: QUICK_LEVELS, data: dataDir, gpu });
    console.log(formatLevels(results));
    console.log(`lottery finished in ${((performance.now() - t0) / 60000).toFixed(1)} min`);
    const fig = await figures({ runs: opts.out, out: join(opts.out, 'figures') });
    console.log(`figures: ${fig.written.filter((f) => f.endsWith('.png')).join(', ') || '(none)'}`);
  });
}
