// TF.js (tfjs-core + tfjs-backend-webgpu) training open_lth's cifar_resnet_20 on the same Dawn device
// stack as ours (the `webgpu` npm package over whatever Vulkan driver is installed, lavapipe here), so
// `npm run bench` can report our training throughput next to TF.js-webgpu's measured in the same run.
//
// The training step is what open_lth runs for ResNet-20, written the way a TF.js user would write it:
// - model: stem conv3x3(3->16) + BN + ReLU; 3 stages x 3 basic blocks (16/32/64 wide, stride 2 in the
//   first block of stages 2 and 3; conv3x3 -> BN -> ReLU -> conv3x3 -> BN, + shortcut, ReLU; the
//   shortcut is 1x1 stride-2 conv + BN where the shape changes, identity otherwise); global average
//   pool; linear 64->10 with bias. Convs have no bias. 272,474 parameters (asserted).
// - NHWC (TF.js's native layout; its conv kernels and their gradients are written for it). Convs pad
//   explicitly by 1 (3x3) or 0 (1x1), like PyTorch's padding=1/0, not TF's asymmetric 'same'.
// - BatchNorm in training mode: tf.moments over N,H,W (biased variance), tf.batchNorm with eps 1e-5,
//   and the running mean / unbiased variance updated with momentum 0.1 as PyTorch does.
// - loss: tf.losses.softmaxCrossEntropy (mean over the batch) of one-hot labels.
// - update: tf.variableGrads, weight decay 1e-4 added to every gradient (torch.optim.SGD's
//   weight_decay, applied to all parameters as open_lth does), then tf.train.momentum(0.1, 0.9), which
//   is PyTorch's SGD momentum (v = 0.9 v + g; w -= lr v).
// - data: random CIFAR-shaped images and labels generated once and kept on the GPU; no augmentation.
//
// Timing: wall clock per step, each step ending with `await loss.data()` so the queue is drained.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients (the @tensorflow/tfjs union package imports this).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { create, globals } from 'webgpu';
import { idleWaitInstalled, useIdleWaitFor } from '../../src/gpu/idle_wait.js';

export interface TfjsOptions {
  batch: number;
  steps: number;
  warmup: number;
  seed?: number;
  log?: (s: string) => void;
}

export interface TfjsResult {
  backend: 'webgpu';
  tfjs_version: string;
  batch: number;
  steps: number;
  warmup: number;
  train_images_per_s: number;
  step_ms: number[];
  params: number;
  /** Whether Dawn's waits slept between polls (src/gpu/idle_wait.ts), as in our own runs. */
  idle_wait: boolean;
  note: string;
}

export const RESNET20_PARAMS = 272_474;
const NUM_CLASSES = 10;
const LR = 0.1;
const MOMENTUM = 0.9;
const WEIGHT_DECAY = 1e-4;
const BN_EPS = 1e-5;
const BN_MOMENTUM = 0.1;

let runCounter = 0;

/** tfjs-core and tfjs-backend-webgpu versions, e.g. 'tfjs-core 4.22.0, tfjs-backend-webgpu 4.22.0'. */
export function tfjsVersions(): { core: string; webgpu: string } {
  const require = createRequire(import.meta.url);
  let webgpu = 'unknown';
  try {
    webgpu = (require('@tensorflow/tfjs-backend-webgpu/package.json') as { version: string }).version;
  } catch {
    // bundled without its package.json next to it
  }
  return { core: tf.version_core, webgpu };
}

interface Conv {
  w: tf.Variable; // [k, k, cin, cout]
  stride: number;
  pad: number;
}
interface Bn {
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
}
interface Block {
  conv1: Conv;
  bn1: Bn;
  conv2: Conv;
  bn2: Bn;
  shortcut: [Conv, Bn] | null;
}
interface Resnet20 {
  conv: Conv;
  bn: Bn;
  blocks: Block[];
  fcW: tf.Variable; // [64, 10]
  fcB: tf.Variable; // [10]
  trainable: tf.Variable[];
  all: tf.Variable[];
}

/** open_lth's cifar_resnet_20 with its initialization (kaiming_normal_ convs and fc weight, BN weight ~ U(0,1)). */
function buildResnet20(seed: number, prefix: string): Resnet20 {
  const trainable: tf.Variable[] = [];
  const all: tf.Variable[] = [];
  let seedCounter = seed * 1000;
  const variable = (name: string, init: tf.Tensor, train: boolean): tf.Variable => {
    const v = tf.variable(init, train, `${prefix}/${name}`);
    init.dispose();
    all.push(v);
    if (train) trainable.push(v);
    return v;
  };
  const conv = (name: string, cin: number, cout: number, k: number, stride: number): Conv => {
    // kaiming_normal_(fan_in, gain sqrt(2)): std = sqrt(2 / (k*k*cin)).
    const std = Math.sqrt(2 / (k * k * cin));
    return { w: variable(`${name}.weight`, tf.randomNormal([k, k, cin, cout], 0, std, 'float32', seedCounter++), true), stride, pad: (k - 1) / 2 };
  };
  const bn = (name: string, c: number): Bn => ({
    gamma: variable(`${name}.weight`, tf.randomUniform([c], 0, 1, 'float32', seedCounter++), true),
    beta: variable(`${name}.bias`, tf.zeros([c]), true),
    runningMean: variable(`${name}.running_mean`, tf.zeros([c]), false),
    runningVar: variable(`${name}.running_var`, tf.ones([c]), false),
  });
  const net: Omit<Resnet20, 'fcW' | 'fcB' | 'trainable' | 'all'> = { conv: conv('conv', 3, 16, 3, 1), bn: bn('bn', 16), blocks: [] };
  let fIn = 16;
  let index = 0;
  for (const [stage, width] of [16, 32, 64].entries()) {
    for (let b = 0; b < 3; b++) {
      const downsample = stage > 0 && b === 0;
      const p = `blocks.${index++}`;
      net.blocks.push({
        conv1: conv(`${p}.conv1`, fIn, width, 3, downsample ? 2 : 1),
        bn1: bn(`${p}.bn1`, width),
        conv2: conv(`${p}.conv2`, width, width, 3, 1),
        bn2: bn(`${p}.bn2`, width),
        shortcut: downsample || fIn !== width ? [conv(`${p}.shortcut.0`, fIn, width, 1, 2), bn(`${p}.shortcut.1`, width)] : null,
      });
      fIn = width;
    }
  }
  const fcW = variable('fc.weight', tf.randomNormal([64, NUM_CLASSES], 0, Math.sqrt(2 / 64), 'float32', seedCounter++), true);
  // torch.nn.Linear's default bias init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  const fcB = variable('fc.bias', tf.randomUniform([NUM_CLASSES], -1 / 8, 1 / 8, 'float32', seedCounter++), true);
  return { ...net, fcW, fcB, trainable, all };
}

function conv2d(x: tf.Tensor4D, c: Conv): tf.Tensor4D {
  return tf.conv2d(x, c.w as tf.Tensor4D, c.stride, c.pad);
}

/** Training-mode BatchNorm: normalize with the batch statistics, update the running ones. */
function batchNormTrain(x: tf.Tensor4D, bn: Bn): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const n = x.shape[0] * x.shape[1] * x.shape[2];
  // Not on the gradient path (the tape prunes it): PyTorch's running-stat update.
  bn.runningMean.assign(tf.add(tf.mul(bn.runningMean, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM)));
  bn.runningVar.assign(tf.add(tf.mul(bn.runningVar, 1 - BN_MOMENTUM), tf.mul(variance, (BN_MOMENTUM * n) / (n - 1))));
  return tf.batchNorm(x, mean as tf.Tensor1D, variance as tf.Tensor1D, bn.beta as tf.Tensor1D, bn.gamma as tf.Tensor1D, BN_EPS);
}

function forward(net: Resnet20, images: tf.Tensor4D): tf.Tensor2D {
  let x = tf.relu(batchNormTrain(conv2d(images, net.conv), net.bn));
  for (const b of net.blocks) {
    const h = tf.relu(batchNormTrain(conv2d(x, b.conv1), b.bn1));
    const out = batchNormTrain(conv2d(h, b.conv2), b.bn2);
    const skip = b.shortcut ? batchNormTrain(conv2d(x, b.shortcut[0]), b.shortcut[1]) : x;
    x = tf.relu(tf.add(out, skip) as tf.Tensor4D);
  }
  const pooled = tf.mean(x, [1, 2]) as tf.Tensor2D;
  return tf.add(tf.matMul(pooled, net.fcW as tf.Tensor2D), net.fcB);
}

/** Install Dawn as `navigator.gpu` (what tfjs-backend-webgpu looks for); returns an undo. */
function installNavigatorGpu(gpu: GPU): () => void {
  const g = globalThis as unknown as Record<string, unknown>;
  const previous = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  const nav = Object.create((previous?.value ?? previous?.get?.call(globalThis) ?? null) as object | null) as Record<string, unknown>;
  Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, enumerable: true });
  Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
  return () => {
    if (previous) Object.defineProperty(globalThis, 'navigator', previous);
    else delete g.navigator;
  };
}

/**
 * TF.js-webgpu training throughput of ResNet-20 (open_lth's cifar_resnet_20, the paper's SGD recipe)
 * on Dawn. Creates its own Dawn instance and device, registers a WebGPUBackend on it as 'webgpu',
 * trains `warmup` + `steps` steps on synthetic data, then disposes everything and destroys the device.
 */
export async function tfjsTrainThroughput(opts: TfjsOptions): Promise<TfjsResult> {
  const log = opts.log ?? (() => {});
  const { batch, steps, warmup } = opts;
  const seed = opts.seed ?? 1;
  for (const [k, v, min] of [['batch', batch, 1], ['steps', steps, 1], ['warmup', warmup, 0]] as const) {
    if (!Number.isInteger(v) || v < min) throw new Error(`tfjsTrainThroughput: ${k} must be an integer >= ${min}, got ${v}`);
  }
  const versions = tfjsVersions();

  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  // GPUBufferUsage, GPUMapMode, GPUShaderStage, ... which the backend uses as globals.
  for (const [k, v] of Object.entries(globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  // Same flags as src/gpu/device.ts. `gpu` must stay referenced until the end: Dawn crashes if the
  // GPU object is garbage-collected while the device lives.
  const gpu = create(['disable-dawn-features=timestamp_quantization']);
  const uninstall = installNavigatorGpu(gpu);
  let device: GPUDevice | null = null;
  let backend: WebGPUBackend | null = null;
  let net: Resnet20 | null = null;
  const kept: tf.Tensor[] = [];
  let optimizer: tf.MomentumOptimizer | null = null;
  let gpuError: string | null = null;
  const backendName = `webgpu`;
  try {
    // The device as tfjs-backend-webgpu's own registration requests it (base.ts), from our Dawn.
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error('tfjs: no WebGPU adapter (see `early-phase doctor`)');
    const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
    const l = adapter.limits;
    device = await adapter.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      },
    });
    device.addEventListener('uncapturederror', (ev: Event) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      gpuError ??= `${e.constructor.name}: ${e.message}`;
    });
    const dev = device;
    const info = adapter.info;
    // the same wait as our runs: on a CPU adapter a busy-polling main thread would take a core from TF.js too
    useIdleWaitFor(info);
    if (tf.findBackendFactory(backendName)) tf.removeBackend(backendName);
    tf.registerBackend(backendName, () => new WebGPUBackend(dev, info), 3);
    if (!(await tf.setBackend(backendName)) || tf.getBackend() !== backendName) {
      throw new Error(`tfjs: could not initialize the '${backendName}' backend (tf.getBackend() = ${tf.getBackend()})`);
    }
    backend = tf.backend() as WebGPUBackend;
    log(`tfjs ${versions.core} / tfjs-backend-webgpu ${versions.webgpu} on ${info.vendor} ${info.architecture} ${info.description}`.trim());

    const prefix = `tfjs_resnet20_${++runCounter}`;
    net = buildResnet20(seed, prefix);
    const params = net.trainable.reduce((s, v) => s + v.size, 0);
    if (params !== RESNET20_PARAMS) throw new Error(`tfjs ResNet-20 has ${params} parameters, expected ${RESNET20_PARAMS}`);

    // Synthetic CIFAR-shaped batch, made once and left on the GPU (the elementwise op writes a GPU buffer).
    const images = tf.tidy(() => tf.mul(tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', seed), 1)) as tf.Tensor4D;
    const labels = tf.tidy(() => tf.cast(tf.oneHot(tf.randomUniform([batch], 0, NUM_CLASSES, 'int32', seed + 1) as tf.Tensor1D, NUM_CLASSES), 'float32')) as tf.Tensor2D;
    kept.push(images, labels);
    const wd = tf.scalar(WEIGHT_DECAY);
    kept.push(wd);
    await tf.sum(images).data().then(() => undefined);
    optimizer = tf.train.momentum(LR, MOMENTUM);
    const opt = optimizer;
    const model = net;
    const trainVars = model.trainable;

    const step = async (): Promise<number> => {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, forward(model, images)) as tf.Scalar, trainVars);
        opt.applyGradients(trainVars.map((v) => ({ name: v.name, tensor: tf.add(grads[v.name], tf.mul(v, wd)) })));
        return value;
      });
      const [lossValue] = await loss.data();
      loss.dispose();
      if (gpuError) throw new Error(`tfjs: GPU error: ${gpuError}`);
      if (tf.getBackend() !== backendName) throw new Error(`tfjs: backend changed to ${tf.getBackend()}`);
      return lossValue;
    };

    const tWarm = performance.now();
    for (let i = 0; i < warmup; i++) {
      const t0 = performance.now();
      const lossValue = await step();
      log(`tfjs warm-up step ${i + 1}/${warmup}: ${((performance.now() - t0) / 1000).toFixed(1)} s, loss ${lossValue.toFixed(4)}, ${tf.memory().numTensors} tensors`);
    }
    const warmupS = (performance.now() - tWarm) / 1000;
    const stepMs: number[] = [];
    const tStart = performance.now();
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      const lossValue = await step();
      stepMs.push(performance.now() - t0);
      log(`tfjs step ${i + 1}/${steps}: ${(stepMs[i] / 1000).toFixed(2)} s, loss ${lossValue.toFixed(4)}, ${tf.memory().numTensors} tensors`);
    }
    const totalS = (performance.now() - tStart) / 1000;
    const ran = tf.getBackend();
    if (ran !== backendName) throw new Error(`tfjs: ran on '${ran}', not '${backendName}'`);
    return {
      backend: 'webgpu',
      tfjs_version: `tfjs-core ${versions.core}, tfjs-backend-webgpu ${versions.webgpu}`,
      batch,
      steps,
      warmup,
      train_images_per_s: (batch * steps) / totalS,
      step_ms: stepMs,
      params,
      idle_wait: idleWaitInstalled(),
      note:
        `tf.getBackend()='${ran}' on Dawn (webgpu npm) device ${info.vendor} ${info.architecture}; ` +
        `open_lth cifar_resnet_20 in NHWC (TF.js's layout), PyTorch-style symmetric padding; ` +
        `training-mode BN (tf.moments + tf.batchNorm, running stats updated); softmax cross-entropy; ` +
        `SGD momentum 0.9 (tf.train.momentum) lr 0.1, weight decay 1e-4 added to every gradient; ` +
        `synthetic random data resident on the GPU, no augmentation; each step ends with await loss.data(); ` +
        `TF.js defaults otherwise (WEBGPU_CPU_FORWARD on: ops whose inputs are all small CPU-resident tensors run on CPU); ` +
        `warm-up (${warmup} step${warmup === 1 ? '' : 's'}, shader compilation included) took ${warmupS.toFixed(1)} s`,
    };
  } finally {
    try {
      optimizer?.dispose();
      for (const t of kept) t.dispose();
      for (const v of net?.all ?? []) v.dispose();
      if (tf.findBackend(backendName)) tf.removeBackend(backendName); // disposes the backend's buffers
      else backend?.dispose();
    } finally {
      device?.destroy();
      uninstall();
      // Keep the Dawn instance alive until the device is gone.
      void gpu;
    }
  }
}
