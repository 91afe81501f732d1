import { describe, expect, it } from 'vitest';
// @kernels batchnorm_forward_train conv2d_pointwise_tile conv2d_weight_grad_pointwise
// Stride-2 copies (src/ops/stride2_copy.ts): batchnorm_forward_train's STRIDE2_COPY writes
// y[:, :, ::2, ::2] beside y (checked against y's own even elements, bit for bit, and the float64
// reference); a 1x1 stride-2 conv whose x has a current copy reads it as a stride-1 conv and gives the
// same bits as from x (forward and weight gradient, several kernel configurations); a stale copy is
// never read; and a ResNet-20 training step with copies gives the bits of the step without them.
import { backward } from '../src/autograd/backward.js';
import { batchNorm2d, type BatchNormConfig } from '../src/ops/batchnorm.js';
import { conv2d, defaultConvConfig, setConvConfig, type ConvConfig } from '../src/ops/conv2d.js';
import { noteStride2Copy, stride2CopyOf } from '../src/ops/stride2_copy.js';
import { leaf } from '../src/tensor/param_store.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { withBatchNormConfig } from './helpers/batchnorm_config.js';
import { bitsOf, expectClose } from './helpers/compare.js';
import { dispatchName, recordDispatches, useGpu } from './helpers/gpu.js';
import { resnet20Step, resnet20StepData } from './helpers/resnet_step.js';
import { f32, Rng } from './helpers/random.js';
import { batchNormTrainRef } from './reference/batchnorm.js';
import { conv2dForwardRef } from './reference/conv2d.js';
import { evenPixelsRef } from './reference/pooling.js';

const gpu = useGpu();

describe('batchNorm2d stride2Copy: y[:, :, ::2, ::2] written beside y', () => {
  const shapes = [
    { s: [3, 5, 32, 32], relu: true, residual: true }, // ResNet-20's first stage: two 16-float elements a row
    { s: [2, 4, 16, 16], relu: true, residual: false }, // one element a row
    { s: [2, 3, 8, 48], relu: false, residual: true }, // three
  ];
  const bnConfigs: BatchNormConfig[] = [
    { chunk: 131072, workgroup: 8 }, // a CPU adapter's: one chunk per channel, one pass
    { chunk: 256, workgroup: 64 }, // several chunks: statistics in their own pass
  ];
  for (const { s, relu, residual } of shapes) {
    for (const cfg of bnConfigs) {
      it(`[${s}] relu=${relu} residual=${residual}, chunk ${cfg.chunk} x ${cfg.workgroup}: the copy is y's even rows and columns`, async () => {
        const rng = new Rng();
        const [n, c, h, w] = s;
        const x = f32(rng.normals(n * c * h * w));
        const gamma = f32(rng.array(c, 0.5, 1.5));
        const beta = f32(rng.array(c, -0.5, 0.5));
        const skip = f32(rng.normals(n * c * h * w));
        await withBatchNormConfig(cfg, async () => {
          const scope = Scope.open();
          try {
            const g = gpu();
            const opts = { training: true, relu, residual: residual ? Tensor.fromArray(g, skip, s) : undefined, stride2Copy: true };
            const { result: y, dispatches } = recordDispatches(g, () =>
              batchNorm2d(Tensor.fromArray(g, x, s), Tensor.fromArray(g, gamma, [c]), Tensor.fromArray(g, beta, [c]), Tensor.zeros(g, [c]), Tensor.fromArray(g, new Float32Array(c).fill(1), [c]), opts),
            );
            expect(dispatches.filter((d) => d.kernel === 'batchnorm_forward_train' && d.overrides?.STRIDE2_COPY === 1)).toHaveLength(1);
            const copy = stride2CopyOf(y);
            expect(copy?.shape).toEqual([n, c, h / 2, w / 2]);
            const yv = await y.readF32();
            const cv = await copy!.readF32();
            expect(bitsOf(cv), `seed=${rng.seed}`).toEqual(bitsOf(Float32Array.from(evenPixelsRef(yv, n, c, h, w))));
            let ref = batchNormTrainRef(x, gamma, beta, { n, c, h, w }, 1e-5);
            if (residual) ref = ref.map((v, i) => v + skip[i]);
            if (relu) ref = ref.map((v) => Math.max(v, 0));
            expectClose(cv, evenPixelsRef(ref, n, c, h, w), { atol: 1e-5, rtol: 1e-4 }, `seed=${rng.seed}`);
          } finally {
            scope.close();
          }
        });
      });
    }
  }

  it('no copy where the layout does not allow one (W % 16 != 0, odd H, H*W % 16 != 0), without the option, or in eval mode', () => {
    const g = gpu();
    const scope = Scope.open();
    try {
      const bn = (s: number[], training: boolean, stride2Copy: boolean) => {
        const c = s[1];
        const y = batchNorm2d(Tensor.zeros(g, s), Tensor.zeros(g, [c]), Tensor.zeros(g, [c]), Tensor.zeros(g, [c]), Tensor.fromArray(g, new Float32Array(c).fill(1), [c]), { training, stride2Copy });
        return stride2CopyOf(y);
      };
      expect(bn([2, 3, 6, 8], true, true)).toBeNull(); // 48 floats a plane: 64-byte elements, but rows of 8
      expect(bn([2, 3, 5, 16], true, true)).toBeNull();
      expect(bn([2, 3, 6, 6], true, true)).toBeNull();
      expect(bn([2, 3, 8, 16], true, false)).toBeNull();
      expect(bn([2, 3, 8, 16], false, true)).toBeNull();
      expect(bn([2, 3, 8, 16], true, true)).not.toBeNull();
    } finally {
      scope.close();
    }
  });

  it('a copy is forgotten once x or the copy is written again, or released', async () => {
    const g = gpu();
    const scope = Scope.open();
    try {
      const make = () => {
        const x = Tensor.zeros(g, [1, 2, 4, 4]);
        const copy = Tensor.zeros(g, [1, 2, 2, 2]);
        noteStride2Copy(x, copy);
        return { x, copy };
      };
      const a = make();
      expect(stride2CopyOf(a.x)).toBe(a.copy);
      a.x.fill(1);
      expect(stride2CopyOf(a.x)).toBeNull();
      const b = make();
      b.copy.fill(1);
      expect(stride2CopyOf(b.x)).toBeNull();
      const c = make();
      c.copy.release();
      expect(stride2CopyOf(c.x)).toBeNull();
      expect(() => noteStride2Copy(Tensor.zeros(g, [1, 2, 4, 4]), Tensor.zeros(g, [1, 2, 2, 4]))).toThrow(/does not match/);
    } finally {
      scope.close();
    }
  });
});

describe('a 1x1 stride-2 conv reading its input through the stride-2 copy', () => {
  const cases = [
    { name: "ResNet-20's 16->32 shortcut", N: 2, C: 16, H: 32, W: 32, O: 32 },
    { name: "ResNet-20's 32->64 shortcut", N: 2, C: 32, H: 16, W: 16, O: 64 },
    { name: '8->12 on 8x48 (a partial channel block)', N: 1, C: 8, H: 8, W: 48, O: 12 },
  ];
  const configs: Partial<ConvConfig>[] = [
    {},
    { pointwise: false },
    { pointwiseTile: false },
    { weightGradPointwise: false, weightGradTextures: false },
    { rowKernel: false },
    { rowRows: 1, rowChannels: 8, rowCols: 4, rowScatter: false }, // the tiles of the H100 configuration
  ];
  for (const k of cases) {
    it(`${k.name}: forward and weight gradient from the copy, the bits from x, under ${configs.length} configurations`, async () => {
      const g = gpu();
      const rng = new Rng();
      const s = [k.N, k.C, k.H, k.W];
      const x = f32(rng.normals(k.N * k.C * k.H * k.W));
      const w = f32(rng.array(k.O * k.C));
      const r = f32(rng.normals(k.N * k.O * (k.H / 2) * (k.W / 2)));
      for (const cfg of configs) {
        setConvConfig({ ...defaultConvConfig, ...cfg });
        const run = async (withCopy: boolean) => {
          const scope = Scope.open();
          try {
            const tx = Tensor.fromArray(g, x, s);
            if (withCopy) noteStride2Copy(tx, Tensor.fromArray(g, evenPixelsRef(x, k.N, k.C, k.H, k.W), [k.N, k.C, k.H / 2, k.W / 2]));
            const tw = leaf(g, w, [k.O, k.C, 1, 1], 'w');
            const { result: y, dispatches } = recordDispatches(g, () => {
              const out = conv2d(tx, tw, null, { stride: 2 });
              backward(out, Tensor.fromArray(g, r, out.shape));
              return out;
            });
            return { y: await y.readF32(), dw: await tw.grad!.readF32(), names: dispatches.map(dispatchName) };
          } finally {
            scope.close();
          }
        };
        const from = await run(true);
        const plain = await run(false);
        const what = `${JSON.stringify(cfg)} seed=${rng.seed}`;
        expect(bitsOf(from.y), `forward ${what}`).toEqual(bitsOf(plain.y));
        expect(bitsOf(from.dw), `weight gradient ${what}`).toEqual(bitsOf(plain.dw));
        expectClose(from.y, conv2dForwardRef(x, w, null, { N: k.N, C: k.C, H: k.H, W: k.W, O: k.O, KH: 1, KW: 1, stride: 2, pad: 0 }), { atol: 1e-4, rtol: 1e-4 }, what);
        // from the copy the pointwise kernels run their stride-1 form (no `down` variant reading x at stride 2)
        if (cfg.pointwise !== false && cfg.rowKernel !== false) {
          expect(from.names.some((n) => n.endsWith(':down')), what).toBe(false);
          expect(plain.names.some((n) => n.endsWith(':down')), what).toBe(true);
        }
      }
      setConvConfig(defaultConvConfig);
    });
  }
});

describe('ResNet-20: a training step with stride-2 copies', () => {
  it('writes both copies, reads them in both projection shortcuts, and gives the bits of the step without them', async () => {
    const rng = new Rng();
    const data = resnet20StepData(rng);
    const step = async (stride2Copies: boolean) => {
      setConvConfig({ ...defaultConvConfig, stride2Copies });
      try {
        const { dispatches, loss, grads } = await resnet20Step(gpu(), data);
        const copies = dispatches.filter((d) => d.kernel === 'batchnorm_forward_train' && d.overrides?.STRIDE2_COPY === 1).length;
        const strided = dispatches.filter((d) => dispatchName(d) === 'conv2d_pointwise_tile:down').length;
        return { copies, strided, loss, grads };
      } finally {
        setConvConfig(defaultConvConfig);
      }
    };
    const on = await step(true);
    const off = await step(false);
    expect([on.copies, off.copies]).toEqual([2, 0]);
    expect([on.strided, off.strided]).toEqual([0, 2]);
    expect(bitsOf(on.loss), `loss seed=${rng.seed}`).toEqual(bitsOf(off.loss));
    expect(bitsOf(on.grads), `gradients seed=${rng.seed}`).toEqual(bitsOf(off.grads));
  });
});
