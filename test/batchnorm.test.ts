import { describe, expect, it } from 'vitest';
// @kernels batchnorm_stats batchnorm_forward_train batchnorm_forward_eval batchnorm_backward_reduce batchnorm_backward
// @gradcheck batchnorm_backward_reduce batchnorm_backward
import { backward } from '../src/autograd/backward.js';
import { noGrad } from '../src/autograd/node.js';
import { streamLayout } from '../src/gpu/lanes.js';
import { batchNorm2d, batchNormChunks, batchNormConfigFor, cpuBatchNormConfig, defaultBatchNormConfig, getBatchNormConfig, setBatchNormConfig, setBatchNormOnePass } from '../src/ops/batchnorm.js';
import { leaf, ParamStore } from '../src/tensor/param_store.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { expectClose } from './helpers/compare.js';
import { expectGradClose } from './helpers/gradcheck.js';
import { recordDispatches, useGpu } from './helpers/gpu.js';
import { f32, Rng } from './helpers/random.js';
import { batchNormApplyRef, batchNormBackwardRef, batchNormTrainRef, batchStatsRef, runningUpdateRef, type Shape4 } from './reference/batchnorm.js';

const gpu = useGpu();

const sz = (s: Shape4) => s.n * s.c * s.h * s.w;
const str = (s: Shape4) => `[${s.n},${s.c},${s.h},${s.w}]`;

interface Inputs {
  x: Float64Array;
  gamma: Float64Array;
  beta: Float64Array;
  rm: Float64Array;
  rv: Float64Array;
}

function inputs(rng: Rng, s: Shape4, offset = 0, scale = 1): Inputs {
  return {
    x: f32(rng.normals(sz(s), scale).map((v, i) => v + offset + 0.3 * (Math.floor(i / (s.h * s.w)) % s.c))),
    gamma: f32(rng.array(s.c, 0.5, 1.5)),
    beta: f32(rng.array(s.c, -0.5, 0.5)),
    rm: f32(rng.array(s.c, -0.2, 0.2)),
    rv: f32(rng.array(s.c, 0.5, 2)),
  };
}

describe('batchnorm forward', () => {
  const shapes: Shape4[] = [
    { n: 2, c: 3, h: 5, w: 7 },
    { n: 1, c: 3, h: 4, w: 4 }, // batch 1 with H, W > 1
    { n: 7, c: 1, h: 1, w: 1 }, // H = W = 1 (the per-channel values come from the batch only)
    { n: 3, c: 5, h: 17, w: 13 },
    { n: 9, c: 3, h: 41, w: 43 }, // several chunks, chunk not a multiple of 256
    { n: 128, c: 16, h: 32, w: 32 }, // ResNet-20 first stage at batch 128: M = 131072, 16 chunks
    { n: 37, c: 3, h: 20, w: 12 }, // vec4 loads, several chunks, chunk not a multiple of the workgroup
    { n: 5, c: 2, h: 1, w: 4 }, // vec4 loads, one vector per image
  ];
  for (const s of shapes) {
    it(`training: output and running stats match float64 ${str(s)} (${(s.h * s.w) % 16 === 0 ? 'wide' : (s.h * s.w) % 4 ? 'scalar' : 'vec4'}, chunks ${batchNormChunks(s.n * s.h * s.w).parts})`, async () => {
      const rng = new Rng();
      const inp = inputs(rng, s, 0.5, 2);
      const g = gpu();
      const momentum = 0.1;
      const tx = Tensor.fromArray(g, inp.x, [s.n, s.c, s.h, s.w]);
      const rm = Tensor.fromArray(g, inp.rm, [s.c]);
      const rv = Tensor.fromArray(g, inp.rv, [s.c]);
      const y = batchNorm2d(tx, Tensor.fromArray(g, inp.gamma, [s.c]), Tensor.fromArray(g, inp.beta, [s.c]), rm, rv, { training: true });
      const label = `${str(s)} seed=${rng.seed}`;
      expectClose(await y.read(), batchNormTrainRef(inp.x, inp.gamma, inp.beta, s), { atol: 2e-5, rtol: 1e-4 }, `bn train y ${label}`);
      const upd = runningUpdateRef(inp.rm, inp.rv, batchStatsRef(inp.x, s), momentum);
      expectClose(await rm.read(), upd.mean, { atol: 1e-6, rtol: 1e-5 }, `running_mean ${label}`);
      expectClose(await rv.read(), upd.var, { atol: 1e-6, rtol: 1e-5 }, `running_var ${label}`);
    });
  }

  // A channel in one chunk runs each direction as one pass (batchnorm_forward_train with FUSED_STATS,
  // batchnorm_backward with FUSED_REDUCE). It must give the bits of the two passes, forward and
  // backward, plain, with the fused ReLU, and at a residual block's end. ResNet-20's 8x8 stage at
  // batch 128 is such a shape.
  for (const s of [
    { n: 128, c: 4, h: 8, w: 8 }, // wide
    { n: 3, c: 5, h: 17, w: 13 }, // scalar
  ]) {
    for (const mode of ['plain', 'relu', 'residual'] as const) {
      it(`one chunk per channel: one pass gives the two passes' bits ${str(s)} (${streamLayout(s.h * s.w).variant ?? 'vec4'}, ${mode})`, async () => {
        expect(batchNormChunks(s.n * s.h * s.w).parts).toBe(1);
        const rng = new Rng();
        const inp = inputs(rng, s, 0.5, 2);
        const skip = f32(rng.normals(sz(s)));
        const gy = f32(rng.normals(sz(s)));
        const g = gpu();
        const shape = [s.n, s.c, s.h, s.w];
        const bits = async (t: Tensor) => Array.from(new Uint32Array((await t.read()).buffer));
        const run = async (onePass: boolean) => {
          setBatchNormOnePass(onePass);
          const scope = Scope.open();
          try {
            const x = leaf(g, inp.x, shape);
            const gamma = leaf(g, inp.gamma, [s.c]);
            const beta = leaf(g, inp.beta, [s.c]);
            const residual = mode === 'residual' ? leaf(g, skip, shape) : undefined;
            const rm = Tensor.fromArray(g, inp.rm, [s.c]);
            const rv = Tensor.fromArray(g, inp.rv, [s.c]);
            const { result, dispatches } = recordDispatches(g, () => {
              const y = batchNorm2d(x, gamma, beta, rm, rv, { training: true, relu: mode !== 'plain', residual });
              backward(y, Tensor.fromArray(g, gy, shape));
              return y;
            });
            const first = dispatches.filter((d) => d.kernel === 'batchnorm_stats' || d.kernel === 'batchnorm_backward_reduce');
            expect(first.length, `first passes dispatched (one pass: ${onePass})`).toBe(onePass ? 0 : 2);
            const out = [result, rm, rv, x.grad!, gamma.grad!, beta.grad!, ...(residual ? [residual.grad!] : [])];
            return await Promise.all(out.map(bits));
          } finally {
            setBatchNormOnePass(true);
            scope.close();
          }
        };
        const one = await run(true);
        const two = await run(false);
        const names = ['y', 'running_mean', 'running_var', 'dx', 'dgamma', 'dbeta', 'dskip'];
        for (let k = 0; k < one.length; k++) expect(one[k], `${names[k]} ${str(s)} ${mode} seed=${rng.seed}`).toEqual(two[k]);
        const dx = new Float32Array(new Uint32Array(one[3]).buffer);
        expect(dx.some(Number.isNaN), 'NaN in dx').toBe(false);
        expect(dx.some((v) => v !== 0), 'dx all zero').toBe(true);
      });
    }
  }

  it('training statistics stay accurate with a large mean offset (Welford, not E[x^2] - E[x]^2)', async () => {
    const rng = new Rng();
    const s = { n: 16, c: 4, h: 16, w: 16 };
    const inp = inputs(rng, s, 300, 0.05);
    const g = gpu();
    const rm = Tensor.fromArray(g, inp.rm, [s.c]);
    const rv = Tensor.fromArray(g, inp.rv, [s.c]);
    const y = batchNorm2d(Tensor.fromArray(g, inp.x, [s.n, s.c, s.h, s.w]), Tensor.fromArray(g, inp.gamma, [s.c]), Tensor.fromArray(g, inp.beta, [s.c]), rm, rv, { training: true, momentum: 1 });
    const label = `seed=${rng.seed}`;
    // With momentum 1 the running variance is exactly the unbiased batch variance (~0.0025 here).
    expectClose(await rv.read(), batchStatsRef(inp.x, s).varUnbiased, { atol: 0, rtol: 2e-3 }, `variance ${label}`);
    expectClose(await y.read(), batchNormTrainRef(inp.x, inp.gamma, inp.beta, s), { atol: 5e-3, rtol: 0 }, `y ${label}`);
  });

  it('running stats accumulate over steps with a non-default momentum', async () => {
    const rng = new Rng();
    const s = { n: 4, c: 3, h: 6, w: 5 };
    const g = gpu();
    const first = inputs(rng, s);
    const second = inputs(rng, s, -0.7, 3);
    const rm = Tensor.fromArray(g, first.rm, [s.c]);
    const rv = Tensor.fromArray(g, first.rv, [s.c]);
    const gamma = Tensor.fromArray(g, first.gamma, [s.c]);
    const beta = Tensor.fromArray(g, first.beta, [s.c]);
    for (const inp of [first, second]) batchNorm2d(Tensor.fromArray(g, inp.x, [s.n, s.c, s.h, s.w]), gamma, beta, rm, rv, { training: true, momentum: 0.3 });
    const one = runningUpdateRef(first.rm, first.rv, batchStatsRef(first.x, s), 0.3);
    const two = runningUpdateRef(one.mean, one.var, batchStatsRef(second.x, s), 0.3);
    expectClose(await rm.read(), two.mean, { atol: 1e-6, rtol: 1e-5 }, `running_mean seed=${rng.seed}`);
    expectClose(await rv.read(), two.var, { atol: 1e-6, rtol: 1e-5 }, `running_var seed=${rng.seed}`);
  });

  it('a constant channel (zero variance) gives y = beta and finite gradients', async () => {
    const rng = new Rng();
    const s = { n: 3, c: 3, h: 4, w: 4 };
    const inp = inputs(rng, s);
    const hw = s.h * s.w;
    for (let b = 0; b < s.n; b++) inp.x.fill(2.5, (b * s.c + 1) * hw, (b * s.c + 2) * hw); // channel 1 constant
    const dy = f32(rng.normals(sz(s)));
    const g = gpu();
    const scope = Scope.open();
    const x = leaf(g, inp.x, [s.n, s.c, s.h, s.w]);
    const gamma = leaf(g, inp.gamma, [s.c]);
    const y = batchNorm2d(x, gamma, leaf(g, inp.beta, [s.c]), Tensor.fromArray(g, inp.rm, [s.c]), Tensor.fromArray(g, inp.rv, [s.c]), { training: true });
    const label = `seed=${rng.seed}`;
    expectClose(await y.read(), batchNormTrainRef(inp.x, inp.gamma, inp.beta, s), { atol: 2e-5, rtol: 1e-4 }, `y ${label}`);
    backward(y, Tensor.fromArray(g, dy, [s.n, s.c, s.h, s.w]));
    const st = batchStatsRef(inp.x, s);
    const ref = batchNormBackwardRef(inp.x, inp.gamma, dy, s, 1e-5, { mean: st.mean, variance: st.varBiased, training: true });
    // invstd = 1/sqrt(eps) ~ 316 on the constant channel: allow for that gain on dx.
    expectClose(await x.grad!.read(), ref.dx, { atol: 2e-3, rtol: 1e-3 }, `dx ${label}`);
    expectClose(await gamma.grad!.read(), ref.dgamma, { atol: 1e-4, rtol: 1e-4 }, `dgamma ${label}`);
    scope.close();
  });

  for (const s of [
    { n: 1, c: 3, h: 5, w: 5 },
    { n: 4, c: 7, h: 9, w: 11 },
    { n: 6, c: 5, h: 8, w: 4 }, // vec4
  ]) {
    it(`eval: uses running stats, leaves them alone ${str(s)}`, async () => {
      const rng = new Rng();
      const inp = inputs(rng, s);
      const g = gpu();
      const rm = Tensor.fromArray(g, inp.rm, [s.c]);
      const rv = Tensor.fromArray(g, inp.rv, [s.c]);
      const y = batchNorm2d(Tensor.fromArray(g, inp.x, [s.n, s.c, s.h, s.w]), Tensor.fromArray(g, inp.gamma, [s.c]), Tensor.fromArray(g, inp.beta, [s.c]), rm, rv, { training: false, eps: 1e-3 });
      const label = `${str(s)} seed=${rng.seed}`;
      expectClose(await y.read(), batchNormApplyRef(inp.x, inp.gamma, inp.beta, inp.rm, inp.rv, s, 1e-3), { atol: 1e-5, rtol: 1e-5 }, `bn eval ${label}`);
      expectClose(await rm.read(), inp.rm, { atol: 0, rtol: 0 }, `running_mean untouched ${label}`);
      expectClose(await rv.read(), inp.rv, { atol: 0, rtol: 0 }, `running_var untouched ${label}`);
    });
  }

  it('is deterministic: same inputs, same bits (forward and backward)', async () => {
    const rng = new Rng();
    const s = { n: 32, c: 2, h: 16, w: 16 };
    const inp = inputs(rng, s);
    const dy = f32(rng.normals(sz(s)));
    const g = gpu();
    const run = async () => {
      const scope = Scope.open();
      const x = leaf(g, inp.x, [s.n, s.c, s.h, s.w]);
      const y = batchNorm2d(x, leaf(g, inp.gamma, [s.c]), leaf(g, inp.beta, [s.c]), Tensor.fromArray(g, inp.rm, [s.c]), Tensor.fromArray(g, inp.rv, [s.c]), { training: true });
      backward(y, Tensor.fromArray(g, dy, [s.n, s.c, s.h, s.w]));
      const out = [...(await y.read()), ...(await x.grad!.read())];
      scope.close();
      return out;
    };
    const a = await run();
    const b = await run();
    expect(a.every((v, i) => Object.is(v, b[i])), `seed=${rng.seed}`).toBe(true);
  });

  it('rejects bad shapes and degenerate batches with the op and shapes in the message', () => {
    const g = gpu();
    const x = Tensor.zeros(g, [2, 3, 4, 4]);
    const c3 = () => Tensor.zeros(g, [3]);
    expect(() => batchNorm2d(x, Tensor.zeros(g, [4]), c3(), c3(), c3(), { training: true })).toThrow(/batchNorm2d: weight must have shape \[3\] for x \[2, 3, 4, 4\], got \[4\]/);
    expect(() => batchNorm2d(Tensor.zeros(g, [2, 3, 4]), c3(), c3(), c3(), c3(), { training: true })).toThrow(/batchNorm2d: x must have rank 4/);
    expect(() => batchNorm2d(Tensor.zeros(g, [1, 3, 1, 1]), c3(), c3(), c3(), c3(), { training: true })).toThrow(/batchNorm2d: expected more than 1 value per channel/);
    expect(() => batchNorm2d(x, c3(), c3(), Tensor.zeros(g, [3], 'u32'), c3(), { training: true })).toThrow(/batchNorm2d: runningMean must be f32/);
    // 2^24 + 2^13 values in one channel (odd plane: one float per element): past the kernels' index arithmetic
    const c1 = () => Tensor.zeros(g, [1]);
    expect(() => batchNorm2d(Tensor.empty(g, [1, 1, 4097, 4097]), c1(), c1(), c1(), c1(), { training: true })).toThrow(/batchNorm2d: x \[1, 1, 4097, 4097\] has too many values per channel/);
  });
});

describe('batchnorm backward', () => {
  async function runBackward(s: Shape4, inp: Inputs, dy: Float64Array, training: boolean, eps = 1e-5) {
    const g = gpu();
    const scope = Scope.open();
    const x = leaf(g, inp.x, [s.n, s.c, s.h, s.w]);
    const gamma = leaf(g, inp.gamma, [s.c]);
    const beta = leaf(g, inp.beta, [s.c]);
    const y = batchNorm2d(x, gamma, beta, Tensor.fromArray(g, inp.rm, [s.c]), Tensor.fromArray(g, inp.rv, [s.c]), { training, eps });
    backward(y, Tensor.fromArray(g, dy, [s.n, s.c, s.h, s.w]));
    const out = { dx: await x.grad!.read(), dgamma: await gamma.grad!.read(), dbeta: await beta.grad!.read() };
    scope.close();
    return out;
  }

  for (const s of [
    { n: 1, c: 3, h: 6, w: 5 },
    { n: 9, c: 3, h: 41, w: 43 },
    { n: 64, c: 16, h: 16, w: 16 },
    { n: 37, c: 3, h: 20, w: 12 }, // vec4, several chunks
  ]) {
    it(`training: dx, dgamma, dbeta match the float64 analytic backward ${str(s)}`, async () => {
      const rng = new Rng();
      const inp = inputs(rng, s, 0.2, 1.5);
      const dy = f32(rng.normals(sz(s)));
      const got = await runBackward(s, inp, dy, true);
      const st = batchStatsRef(inp.x, s);
      const ref = batchNormBackwardRef(inp.x, inp.gamma, dy, s, 1e-5, { mean: st.mean, variance: st.varBiased, training: true });
      const label = `${str(s)} seed=${rng.seed}`;
      const m = s.n * s.h * s.w;
      expectClose(got.dx, ref.dx, { atol: 2e-5, rtol: 1e-3 }, `dx ${label}`);
      expectClose(got.dgamma, ref.dgamma, { atol: 1e-6 * m, rtol: 1e-4 }, `dgamma ${label}`);
      expectClose(got.dbeta, ref.dbeta, { atol: 1e-6 * m, rtol: 1e-4 }, `dbeta ${label}`);
    });
  }

  it('gamma and beta as views of one flat parameter buffer (grads land in the flat grad buffer)', async () => {
    const rng = new Rng();
    const s = { n: 4, c: 5, h: 3, w: 7 };
    const inp = inputs(rng, s);
    const dy = f32(rng.normals(sz(s)));
    const g = gpu();
    const store = new ParamStore(g, [
      { name: 'bn.weight', shape: [s.c], prunable: false },
      { name: 'bn.bias', shape: [s.c], prunable: false },
    ]);
    const gamma = store.get('bn.weight').value;
    const beta = store.get('bn.bias').value;
    gamma.write(inp.gamma);
    beta.write(inp.beta);
    const scope = Scope.open();
    const x = Tensor.fromArray(g, inp.x, [s.n, s.c, s.h, s.w]); // no gradient needed for x
    const y = batchNorm2d(x, gamma, beta, Tensor.fromArray(g, inp.rm, [s.c]), Tensor.fromArray(g, inp.rv, [s.c]), { training: true });
    backward(y, Tensor.fromArray(g, dy, [s.n, s.c, s.h, s.w]), [gamma, beta]);
    const st = batchStatsRef(inp.x, s);
    const ref = batchNormBackwardRef(inp.x, inp.gamma, dy, s, 1e-5, { mean: st.mean, variance: st.varBiased, training: true });
    const label = `seed=${rng.seed}`;
    expectClose(await store.get('bn.weight').grad.read(), ref.dgamma, { atol: 1e-5, rtol: 1e-4 }, `dgamma ${label}`);
    expectClose(await store.get('bn.bias').grad.read(), ref.dbeta, { atol: 1e-5, rtol: 1e-4 }, `dbeta ${label}`);
    scope.close();
    store.destroy();
  });

  it('training: finite-difference check of dx, dgamma, dbeta', async () => {
    const rng = new Rng();
    const s = { n: 2, c: 3, h: 3, w: 5 };
    const inp = inputs(rng, s);
    const r = f32(rng.normals(sz(s)));
    const got = await runBackward(s, inp, r, true);
    const fwd = ([x, gm, bt]: Float64Array[]) => batchNormTrainRef(x, gm, bt, s);
    const args = [inp.x, inp.gamma, inp.beta];
    const tol = { atol: 1e-4, rtol: 1e-3 };
    expectGradClose(got.dx, fwd, args, r, 0, tol, `bn train dx seed=${rng.seed}`);
    expectGradClose(got.dgamma, fwd, args, r, 1, tol, `bn train dgamma seed=${rng.seed}`);
    expectGradClose(got.dbeta, fwd, args, r, 2, tol, `bn train dbeta seed=${rng.seed}`);
  });

  it('training with batch 1: finite-difference check of dx', async () => {
    const rng = new Rng();
    const s = { n: 1, c: 3, h: 4, w: 3 };
    const inp = inputs(rng, s);
    const r = f32(rng.normals(sz(s)));
    const got = await runBackward(s, inp, r, true);
    const fwd = ([x, gm, bt]: Float64Array[]) => batchNormTrainRef(x, gm, bt, s);
    expectGradClose(got.dx, fwd, [inp.x, inp.gamma, inp.beta], r, 0, { atol: 1e-4, rtol: 1e-3 }, `bn n=1 dx seed=${rng.seed}`);
  });

  it('eval: finite-difference check of dx, dgamma, dbeta (running stats constant)', async () => {
    const rng = new Rng();
    const s = { n: 3, c: 3, h: 2, w: 3 };
    const inp = inputs(rng, s);
    const r = f32(rng.normals(sz(s)));
    const got = await runBackward(s, inp, r, false, 1e-3);
    const fwd = ([x, gm, bt]: Float64Array[]) => batchNormApplyRef(x, gm, bt, inp.rm, inp.rv, s, 1e-3);
    const args = [inp.x, inp.gamma, inp.beta];
    const tol = { atol: 1e-5, rtol: 1e-4 };
    expectGradClose(got.dx, fwd, args, r, 0, tol, `bn eval dx seed=${rng.seed}`);
    expectGradClose(got.dgamma, fwd, args, r, 1, tol, `bn eval dgamma seed=${rng.seed}`);
    expectGradClose(got.dbeta, fwd, args, r, 2, tol, `bn eval dbeta seed=${rng.seed}`);
  });

  it('no graph under noGrad', () => {
    const g = gpu();
    const x = leaf(g, new Float32Array(2 * 3 * 2 * 2), [2, 3, 2, 2]);
    const c3 = () => Tensor.zeros(g, [3]);
    const y = noGrad(() => batchNorm2d(x, c3(), c3(), c3(), Tensor.zeros(g, [3]), { training: false }));
    expect(y.node).toBeNull();
  });
});

describe('batchnorm chunk size (BatchNormConfig)', () => {
  it('a CPU adapter gets one chunk per channel up to 131072 values, a GPU the default 8192; bad sizes are refused', () => {
    expect(batchNormConfigFor({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toEqual(cpuBatchNormConfig);
    expect(batchNormConfigFor({ description: 'NVIDIA H100 80GB HBM3', architecture: 'hopper' })).toEqual(defaultBatchNormConfig);
    expect(batchNormChunks(128 * 32 * 32, 1, cpuBatchNormConfig.chunk).parts).toBe(1);
    expect(batchNormChunks(128 * 32 * 32, 1, defaultBatchNormConfig.chunk).parts).toBe(16);
    const before = getBatchNormConfig();
    try {
      for (const chunk of [0, 63, 1.5, 2 ** 24 + 1, Number.NaN]) expect(() => setBatchNormConfig({ chunk, workgroup: 64 }), `chunk ${chunk}`).toThrow(/chunk must be an integer/);
      for (const workgroup of [0, 4, 48, 512, 1.5, Number.NaN]) expect(() => setBatchNormConfig({ chunk: 8192, workgroup }), `workgroup ${workgroup}`).toThrow(/workgroup must be a power of two/);
      expect(getBatchNormConfig()).toEqual(before);
    } finally {
      setBatchNormConfig(before);
    }
  });

  // ResNet-20's first two stages at batch 128 under a CPU adapter's configuration: a whole channel of
  // 131072 / 32768 values per workgroup of 8 invocations, one pass each way (no batchnorm_stats, no
  // batchnorm_backward_reduce), against the float64 forward and backward; then channels split into
  // chunks (both passes each way) at other workgroup sizes, each summing in its own order
  const onePassKernels = ['batchnorm_forward_train', 'batchnorm_backward'];
  const twoPassKernels = ['batchnorm_stats', 'batchnorm_forward_train', 'batchnorm_backward_reduce', 'batchnorm_backward'];
  for (const { s, cfg, kernels } of [
    { s: { n: 128, c: 2, h: 32, w: 32 }, cfg: cpuBatchNormConfig, kernels: onePassKernels },
    { s: { n: 128, c: 3, h: 16, w: 16 }, cfg: cpuBatchNormConfig, kernels: onePassKernels },
    { s: { n: 64, c: 3, h: 16, w: 16 }, cfg: { chunk: 4096, workgroup: 16 }, kernels: twoPassKernels },
    { s: { n: 32, c: 2, h: 8, w: 8 }, cfg: { chunk: 512, workgroup: 256 }, kernels: twoPassKernels },
    { s: { n: 16, c: 3, h: 5, w: 5 }, cfg: { chunk: 64, workgroup: 8 }, kernels: twoPassKernels },
  ]) {
    it(`chunks of ${cfg.chunk} values, ${cfg.workgroup} invocations a workgroup: forward and backward match float64 ${str(s)}`, async () => {
      const before = getBatchNormConfig();
      setBatchNormConfig(cfg);
      const scope = Scope.open();
      try {
        const rng = new Rng();
        const inp = inputs(rng, s, 0.3, 1.7);
        const dy = f32(rng.normals(sz(s)));
        const g = gpu();
        const shape = [s.n, s.c, s.h, s.w];
        const x = leaf(g, inp.x, shape);
        const gamma = leaf(g, inp.gamma, [s.c]);
        const beta = leaf(g, inp.beta, [s.c]);
        const rm = Tensor.fromArray(g, inp.rm, [s.c]);
        const rv = Tensor.fromArray(g, inp.rv, [s.c]);
        const { result: y, dispatches } = recordDispatches(g, () => {
          const out = batchNorm2d(x, gamma, beta, rm, rv, { training: true });
          backward(out, Tensor.fromArray(g, dy, shape));
          return out;
        });
        expect(dispatches.map((d) => d.kernel).filter((k) => k.startsWith('batchnorm'))).toEqual(kernels);
        const label = `${str(s)} seed=${rng.seed}`;
        expectClose(await y.read(), batchNormTrainRef(inp.x, inp.gamma, inp.beta, s), { atol: 2e-5, rtol: 1e-4 }, `y ${label}`);
        const st = batchStatsRef(inp.x, s);
        const upd = runningUpdateRef(inp.rm, inp.rv, st, 0.1);
        expectClose(await rm.read(), upd.mean, { atol: 1e-6, rtol: 1e-5 }, `running_mean ${label}`);
        expectClose(await rv.read(), upd.var, { atol: 1e-6, rtol: 1e-5 }, `running_var ${label}`);
        const ref = batchNormBackwardRef(inp.x, inp.gamma, dy, s, 1e-5, { mean: st.mean, variance: st.varBiased, training: true });
        const m = s.n * s.h * s.w;
        expectClose(await x.grad!.read(), ref.dx, { atol: 2e-5, rtol: 1e-3 }, `dx ${label}`);
        expectClose(await gamma.grad!.read(), ref.dgamma, { atol: 1e-6 * m, rtol: 1e-4 }, `dgamma ${label}`);
        expectClose(await beta.grad!.read(), ref.dbeta, { atol: 1e-6 * m, rtol: 1e-4 }, `dbeta ${label}`);
      } finally {
        scope.close();
        setBatchNormConfig(before);
      }
    });
  }
});
