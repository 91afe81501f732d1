// Optional parity tier (EARLY_PHASE_SLOW=1 EARLY_PHASE_PARITY=1, needs Debian's python3-torch and the
// real CIFAR-10): a ResNet-20 trained here is loaded into an open_lth-equivalent PyTorch model with
// load_state_dict(strict=True), and its logits on real test images are compared with ours.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChild } from '../helpers/child_process.js';
import { noGrad } from '../../src/autograd/node.js';
import { resolveDataDir } from '../../src/data/cifar10.js';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { createModel } from '../../src/models/registry.js';
import { Network } from '../../src/nn/network.js';
import { Scope } from '../../src/tensor/scope.js';
import { openTrainData } from '../../src/train/cifar_train_data.js';
import { validateHparams } from '../../src/train/hparams.js';
import { train } from '../../src/train/train.js';
import { tempDir } from '../helpers/cifar_fixture.js';
import { useGpu } from '../helpers/gpu.js';
import { RESNET20_PARAMS } from '../../bench/tfjs/resnet20_tfjs.js';
import type { PytorchResult } from '../../bench/pytorch.js';

const enabled = process.env.EARLY_PHASE_PARITY === '1';
// Debian's python3-torch lives under /usr/bin/python3 (a pyenv python3 earlier on PATH lacks it).
const python = process.env.EARLY_PHASE_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const gpu = useGpu({ poison: false });

describe.runIf(enabled)('parity with PyTorch (open_lth ResNet-20)', () => {
  it('logits on 500 real test images agree', async () => {
    try {
      await runChild(python, ['-c', 'import torch, numpy']);
    } catch {
      throw new Error('the parity tier needs PyTorch: apt-get install python3-torch');
    }
    const dataDir = resolveDataDir();
    const out = tempDir('ep-parity-');
    const h = validateHparams({ model: 'resnet20', trainSubset: 2000, testSubset: 500, trainingSteps: '40it', milestones: '' });
    const run = await train(h, { out, gpu: gpu(), quiet: true, data: dataDir });
    const modelPath = join(run.runDir, 'model_final.safetensors');
    // Ours: the first 500 test images in file order, inference mode.
    const net = new Network(gpu(), createModel('resnet20'));
    net.loadStateDict(loadSafetensors(modelPath).tensors);
    const data = openTrainData(gpu(), validateHparams({ model: 'resnet20' }), 0, dataDir);
    const scope = Scope.open();
    const { images } = data.testBatch(0, 500);
    const ours = await noGrad(() => net.forward(images, false)).readF32();
    scope.close();
    data.destroy();
    net.destroy();
    const theirsPath = join(out, 'torch_logits.f32');
    await runChild(python, [join(__dirname, '..', 'parity', 'open_lth_resnet.py'), modelPath, join(dataDir, 'test_batch.bin'), '500', theirsPath]);
    const theirs = new Float32Array(readFileSync(theirsPath).buffer.slice(0));
    expect(theirs.length).toBe(ours.length);
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]) / (1 + Math.abs(theirs[i])));
    expect(worst, 'largest relative logit difference').toBeLessThan(1e-3);
    let agree = 0;
    for (let n = 0; n < 500; n++) {
      const arg = (a: Float32Array) => a.subarray(n * 10, n * 10 + 10).reduce((b, v, i, arr) => (v > arr[b] ? i : b), 0);
      if (arg(ours) === arg(theirs)) agree++;
    }
    expect(agree).toBeGreaterThanOrEqual(499);
    // (a 40-iteration training run with its first pipeline compiles, 500 evaluations, a Python child;
    // beside the 16-wide rerun on 2 cores it once took more than the default 120 s)
  }, 600_000);

  it('the PyTorch training reference of `npm run bench` trains the same ResNet-20', async () => {
    const dir = tempDir('ep-torch-bench-');
    const out = join(dir, 'pytorch.json');
    await runChild(python, [join(__dirname, '..', '..', 'bench', 'pytorch_resnet20.py'), '--device', 'cpu', '--batch', '8', '--steps', '2', '--warmup', '1', '--images', '64', '--json', out]);
    const r = JSON.parse(readFileSync(out, 'utf8')) as PytorchResult;
    expect(r.params).toBe(RESNET20_PARAMS);
    expect(r.tf32).toBe(false);
    expect(r.steps).toBe(2);
    expect(Number.isFinite(r.last_loss)).toBe(true);
    expect(r.train_images_per_s).toBeGreaterThan(0);
  }, 120_000);
});
