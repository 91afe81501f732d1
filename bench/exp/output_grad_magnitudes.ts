// Experiment on record (2026-12-08): how large are a ResNet-20 step's conv output gradients, against
// half precision's range? (Would the packed-f16 weight gradient of bench/exp/shortcut16_f16.ts keep dy?)
//   npx vite-node bench/exp/output_grad_magnitudes.ts [--data DIR] [--state model.safetensors]
//
// One forward and backward on the first 128 training images (no augmentation), at initialisation
// (seed 1) and, with --state, at a trained state (e.g. the quickstart's
// runs/quickstart/lottery_*/replicate_1/level_0/main/model_final.safetensors). The step is captured
// (bench/capture.ts), and after it ran each weight-gradient launch's dy binding is read back: per
// launch, |dy|'s median, 90th percentile and maximum, and the shares f16 would keep with fewer bits
// (nonzero, under its smallest normal 6.1e-5) or flush to zero (under 6e-8, half its smallest
// subnormal).
import { parseArgs } from 'node:util';
import { backward } from '../../src/autograd/backward.js';
import { loadCifar10, resolveDataDir } from '../../src/data/cifar10.js';
import { CIFAR_MEAN, CIFAR_STD } from '../../src/data/gpu_dataset.js';
import { Gpu } from '../../src/gpu/runtime.js';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { createModel } from '../../src/models/registry.js';
import { Network } from '../../src/nn/network.js';
import { crossEntropy } from '../../src/ops/cross_entropy.js';
import { Scope } from '../../src/tensor/scope.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { capture } from '../capture.js';

const { values } = parseArgs({ options: { data: { type: 'string' }, state: { type: 'string' } } });
const N = 128;
const F16_MIN_NORMAL = 6.1e-5;
const F16_ZERO = 6e-8;

const train = loadCifar10(resolveDataDir(values.data), { splits: 'train' }).train;
const images = new Float32Array(N * 3 * 1024);
for (let n = 0; n < N; n++) {
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < 1024; i++) images[(n * 3 + c) * 1024 + i] = (train.images[n * 3072 + c * 1024 + i] / 255 - CIFAR_MEAN[c]) / CIFAR_STD[c];
  }
}
const labels = Uint32Array.from(train.labels.subarray(0, N));

const gpu = await Gpu.create();
const net = new Network(gpu, createModel('resnet20'));
const states: [string, () => void][] = [['initialisation (seed 1)', () => net.init(1)]];
if (values.state) states.push([values.state, () => net.loadStateDict(loadSafetensors(values.state!).tensors, values.state)]);
try {
  for (const [label, load] of states) {
    load();
    const scope = Scope.open();
    try {
      const x = Tensor.fromArray(gpu, images, [N, 3, 32, 32]);
      const y = Tensor.fromArray(gpu, labels, [N], 'u32');
      const { work } = capture(gpu, () => backward(crossEntropy(net.forward(x, true), y), undefined, net.params.entries.map((e) => e.value)));
      gpu.submit();
      await gpu.sync();
      console.log(`${label}: each conv's output gradient dy, as its weight gradient reads it`);
      for (const w of work) {
        if (w.kind !== 'dispatch' || !/^conv2d_weight_grad_(row4|pointwise)$/.test(w.name)) continue;
        const dy = w.args.bindings?.dy ?? w.args.textures?.dyt;
        const u = w.args.uniforms ?? {};
        if (!(dy instanceof Tensor)) throw new Error(`${w.name}: no dy tensor among its bindings`);
        const n = N * Number(u.O) * Number(u.OH) * Number(u.OW);
        const a = Array.from(new Float32Array(await dy.read()).subarray(0, n), Math.abs).sort((p, q) => p - q);
        const share = (f: (v: number) => boolean) => `${((100 * a.filter(f).length) / n).toFixed(1)}%`;
        console.log(
          `  ${`${u.C}->${u.O} at ${u.OH}x${u.OW}${w.name === 'conv2d_weight_grad_pointwise' || u.KH === 1 ? ' (1x1)' : ''}`.padEnd(22)} median ${a[n >> 1].toExponential(1)}  p90 ${a[Math.floor(0.9 * n)].toExponential(1)}  max ${a[n - 1].toExponential(1)}` +
            `  under f16's normal range ${share((v) => v > 0 && v < F16_MIN_NORMAL)}, to zero ${share((v) => v > 0 && v < F16_ZERO)}`,
        );
      }
    } finally {
      scope.close();
    }
  }
} finally {
  gpu.destroy();
}
process.exit(0);
