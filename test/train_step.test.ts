// End-to-end checks of a training step on a small CIFAR ResNet (depth 8, width 4, 8x8 inputs):
// the GPU's first SGD steps against a float64 CPU implementation of the same steps, a
// finite-difference check of the whole net's gradient (residual connections + BN), driving the
// loss near zero, and flat GPU memory over 200 steps.
import { describe, expect, it } from 'vitest';
import { backward } from '../src/autograd/backward.js';
import { createModel } from '../src/models/registry.js';
import { Network } from '../src/nn/network.js';
import { crossEntropy } from '../src/ops/cross_entropy.js';
import { SgdMasked } from '../src/optim/sgd.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { expectClose } from './helpers/compare.js';
import { useGpu } from './helpers/gpu.js';
import { Rng } from './helpers/random.js';
import { resnetStepRef, sgdRef, type Params } from './reference/cifar_resnet.js';

const gpu = useGpu();
const N = 4;
const HW = 8;
const DEPTH = 8;
const WIDTH = 4;

function makeNet(seed: number): Network {
  const net = new Network(gpu(), createModel(`resnet${DEPTH}_${WIDTH}`));
  net.init(seed);
  return net;
}

async function paramsOf(net: Network): Promise<Params> {
  const flat = await net.readFlat('values');
  return new Map([...net.unflatten(flat)].map(([k, v]) => [k, Float64Array.from(v)]));
}

async function buffersOf(net: Network): Promise<Params> {
  const out: Params = new Map();
  for (const [name, t] of net.buffers.tensors) out.set(name, Float64Array.from(await t.readF32()));
  return out;
}

function gpuStep(net: Network, images: Float64Array, labels: Uint32Array, sgd: SgdMasked | null): { loss: Tensor; scope: Scope } {
  const scope = Scope.open();
  const x = Tensor.fromArray(gpu(), images, [N, 3, HW, HW]);
  const y = Tensor.fromArray(gpu(), labels, [N], 'u32');
  const loss = crossEntropy(net.forward(x, true), y);
  backward(loss, undefined, net.params.entries.map((e) => e.value));
  sgd?.step();
  return { loss, scope };
}

describe('training step of a small ResNet', () => {
  it('first 3 masked SGD steps on the GPU match a float64 CPU implementation', async () => {
    const rng = new Rng();
    const net = makeNet(rng.seed);
    // Prune a random 30% of the prunable weights to exercise the masks.
    const maskFlat = new Float32Array(net.params.flatSize);
    const masks: Params = new Map();
    for (const e of net.params.entries) {
      const m = new Float64Array(e.size).fill(1);
      if (e.prunable) for (let i = 0; i < e.size; i++) m[i] = rng.next() < 0.3 ? 0 : 1;
      masks.set(e.name, m);
      maskFlat.set(m, e.offset);
    }
    net.writeFlat('masks', maskFlat);
    const values = await net.readFlat('values');
    for (let i = 0; i < values.length; i++) values[i] *= maskFlat[i];
    net.writeFlat('values', values);

    const p = await paramsOf(net);
    let buffers = await buffersOf(net);
    const momenta: Params = new Map([...p].map(([k, v]) => [k, new Float64Array(v.length)]));
    const sgd = new SgdMasked(net.params, { momentum: 0.9, weightDecay: 1e-4 });
    sgd.setLearningRate(0.1);
    for (let step = 0; step < 3; step++) {
      const images = Float64Array.from(Float32Array.from(rng.normals(N * 3 * HW * HW)));
      const labels = Uint32Array.from({ length: N }, () => rng.int(10));
      const { loss, scope } = gpuStep(net, images, labels, sgd);
      const gpuLoss = (await loss.readF32())[0];
      scope.close();
      const ref = resnetStepRef(p, buffers, images, labels, N, HW, DEPTH, WIDTH);
      sgdRef(p, ref.grads, momenta, masks, 0.1, 0.9, 1e-4);
      buffers = new Map([...buffers].map(([k, v]) => [k, ref.running.get(k) ?? v]));
      expect(Math.abs(gpuLoss - ref.loss), `loss at step ${step} (seed ${rng.seed})`).toBeLessThan(1e-4 * Math.max(1, ref.loss));
      const got = await paramsOf(net);
      for (const [name, w] of p) expectClose(got.get(name)!, w, { atol: 2e-4, rtol: 2e-3 }, `${name} after step ${step + 1} (seed ${rng.seed})`);
      const gotBuffers = await buffersOf(net);
      for (const [name, b] of buffers) expectClose(gotBuffers.get(name)!, b, { atol: 1e-4, rtol: 1e-3 }, `${name} after step ${step + 1}`);
      for (const e of net.params.entries) {
        const w = got.get(e.name)!;
        const m = masks.get(e.name)!;
        for (let i = 0; i < w.length; i++) if (m[i] === 0 && w[i] !== 0) expect.fail(`pruned ${e.name}[${i}] = ${w[i]}`);
      }
    }
    sgd.destroy();
    net.destroy();
  });

  it('gradient of the whole net (residuals + BN) passes a finite-difference check', async () => {
    const rng = new Rng();
    const net = makeNet(rng.seed);
    const p = await paramsOf(net);
    const buffers = await buffersOf(net);
    const images = Float64Array.from(Float32Array.from(rng.normals(N * 3 * HW * HW)));
    const labels = Uint32Array.from({ length: N }, () => rng.int(10));
    const { scope } = gpuStep(net, images, labels, null);
    const grads = net.unflatten(await net.readFlat('grads'));
    scope.close();
    // Check 40 random coordinates against central differences of the float64 loss. A coordinate
    // whose step crosses a ReLU kink gives different differences at two step sizes; those are
    // skipped (at most a few), the rest must agree with the GPU gradient. The steps are small (1e-6,
    // 2.5e-7; float64 rounding stays near 1e-10): through BatchNorm one weight moves every
    // pre-activation of its channel, and with steps of 1e-5 one seed (331100783) crossed kinks at 24
    // of 40 coordinates.
    const names = [...p.keys()];
    const fdAt = (w: Float64Array, i: number, eps: number) => {
      const keep = w[i];
      w[i] = keep + eps;
      const lp = resnetStepRef(p, buffers, images, labels, N, HW, DEPTH, WIDTH).loss;
      w[i] = keep - eps;
      const lm = resnetStepRef(p, buffers, images, labels, N, HW, DEPTH, WIDTH).loss;
      w[i] = keep;
      return (lp - lm) / (2 * eps);
    };
    let checked = 0;
    for (let t = 0; t < 40; t++) {
      const name = names[rng.int(names.length)];
      const w = p.get(name)!;
      const i = rng.int(w.length);
      const fd = fdAt(w, i, 1e-6);
      if (Math.abs(fd - fdAt(w, i, 2.5e-7)) > 1e-4 * (1 + Math.abs(fd))) continue; // a kink inside the step
      checked++;
      const got = grads.get(name)![i];
      expect(Math.abs(got - fd), `d loss / d ${name}[${i}]: gpu ${got}, finite difference ${fd} (seed ${rng.seed})`).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
    }
    expect(checked, `coordinates checked (seed ${rng.seed})`).toBeGreaterThanOrEqual(30);
    net.destroy();
  });

  it('drives the loss near zero on a small fixed batch, with flat GPU memory over 200 steps', async () => {
    const rng = new Rng();
    const net = makeNet(rng.seed);
    const sgd = new SgdMasked(net.params, { momentum: 0.9, weightDecay: 0 });
    sgd.setLearningRate(0.05);
    const g = gpu();
    g.poisonNewTensors = false;
    const images = Float64Array.from(rng.normals(N * 3 * HW * HW));
    const labels = Uint32Array.from({ length: N }, (_, i) => i % 10);
    let first = NaN;
    let last = NaN;
    let statsAfterFirst = g.stats();
    for (let step = 0; step < 200; step++) {
      const { loss, scope } = gpuStep(net, images, labels, sgd);
      if (step === 0 || step === 199 || step % 50 === 0) {
        const l = (await loss.readF32())[0];
        if (step === 0) first = l;
        last = l;
      }
      scope.close();
      if (step === 1) statsAfterFirst = g.stats();
    }
    const statsEnd = g.stats();
    g.poisonNewTensors = true;
    expect(first).toBeGreaterThan(1);
    expect(last, `loss after 200 steps (seed ${rng.seed})`).toBeLessThan(0.05);
    expect(statsEnd.liveBuffers).toBe(statsAfterFirst.liveBuffers);
    expect(statsEnd.liveBytes).toBe(statsAfterFirst.liveBytes);
    expect(statsEnd.created).toBe(statsAfterFirst.created);
    expect(statsEnd.bindGroups).toBe(statsAfterFirst.bindGroups);
    expect(statsEnd.uniformBuffers).toBe(statsAfterFirst.uniformBuffers);
    expect(statsEnd.stagingBuffers).toBe(statsAfterFirst.stagingBuffers);
    sgd.destroy();
    net.destroy();
  });
});
