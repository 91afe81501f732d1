import { describe, expect, it } from 'vitest';
// @kernels conv2d_forward_row4 conv2d_weight_grad_row4 conv2d_weight_grad_pointwise
// A ResNet block's stride-2 conv and its 1x1 stride-2 projection shortcut in one launch
// (conv2dWithShortcut, conv2d_forward_row4 variant `shortcut`): both outputs and every gradient
// against the float64 reference, and the same bits as the two convs run apart. And x's gradient of
// the pair in one pass (fuseShortcutGrad, variant `scatter_shortcut`), and both weight gradients in
// one split-K pass (fuseShortcutWeightGrad, conv2d_weight_grad_row4 variant `shortcut`), against the
// reference and the bits of the two apart.
import { backward } from '../src/autograd/backward.js';
import { add, relu } from '../src/ops/elementwise.js';
import { conv2d, conv2dWithShortcut, defaultConvConfig, setConvConfig, shortcutInputGradOutcome, shortcutWeightGradOutcome, type ConvConfig } from '../src/ops/conv2d.js';
import { leaf } from '../src/tensor/param_store.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { bitsOf, expectClose } from './helpers/compare.js';
import { dispatchName, recordDispatches, useGpu } from './helpers/gpu.js';
import { resnet20Step, resnet20StepData } from './helpers/resnet_step.js';
import { f32, Rng } from './helpers/random.js';
import { conv2dForwardRef, conv2dInputGradRef, conv2dWeightGradRef, convOutSize, type ConvShape } from './reference/conv2d.js';

const gpu = useGpu();

interface Case {
  name: string;
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  bias: boolean;
}

const cases: Case[] = [
  { name: 'ResNet-20 16->32 on 32x32', N: 2, C: 16, H: 32, W: 32, O: 32, bias: false },
  { name: 'odd output rows (H = 14), O = 12 (a partial channel block), bias on the 3x3 conv', N: 3, C: 5, H: 14, W: 16, O: 12, bias: true },
  { name: '8 channels out, W = 48 (rows across subgroups)', N: 1, C: 3, H: 6, W: 48, O: 8, bias: false },
];

const configs: { cfg: Partial<ConvConfig>; fused: boolean }[] = [
  { cfg: { fuseShortcut: true }, fused: true },
  { cfg: { fuseShortcut: true, rowRows: 1 }, fused: true },
  { cfg: { fuseShortcut: true, rowChannels: 8 }, fused: true },
  { cfg: { fuseShortcut: true, rowRows: 1, rowChannels: 8, rowCols: 4 }, fused: true }, // the tiles of the H100 configuration
  { cfg: {}, fused: false }, // off by default
  { cfg: { fuseShortcut: true, rowDirectWeights: true }, fused: false }, // direct weight loads: no broadcast lanes to hand out the shortcut's weights
];

const shapes = (s: Case): [ConvShape, ConvShape] => [
  { N: s.N, C: s.C, H: s.H, W: s.W, O: s.O, KH: 3, KW: 3, stride: 2, pad: 1 },
  { N: s.N, C: s.C, H: s.H, W: s.W, O: s.O, KH: 1, KW: 1, stride: 2, pad: 0 },
];

/** Fresh random x, w (3x3), bias, wsc (1x1), w3 (a third 3x3 conv of x) and r (the output gradient). */
function operands(rng: Rng, s: Case) {
  const { OH, OW } = convOutSize(shapes(s)[0]);
  return {
    x: f32(rng.array(s.N * s.C * s.H * s.W)),
    w: f32(rng.array(s.O * s.C * 9)),
    b: s.bias ? f32(rng.array(s.O)) : null,
    wsc: f32(rng.array(s.O * s.C)),
    w3: f32(rng.array(s.O * s.C * 9)),
    r: f32(rng.array(s.N * s.O * OH * OW)),
  };
}

/** The operands as leaves (each gets a grad buffer). */
function leaves(s: Case, v: ReturnType<typeof operands>) {
  const g = gpu();
  return {
    x: leaf(g, v.x, [s.N, s.C, s.H, s.W], 'x'),
    w: leaf(g, v.w, [s.O, s.C, 3, 3], 'w'),
    b: v.b ? leaf(g, v.b, [s.O], 'b') : null,
    wsc: leaf(g, v.wsc, [s.O, s.C, 1, 1], 'wsc'),
  };
}

interface Out {
  y: Float32Array;
  ysc: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
  dwsc: Float32Array;
  names: string[];
}

/** out = y + ysc, backward from r: with the fused op, or with two conv2d calls. */
async function run(s: Case, fused: boolean, v: ReturnType<typeof operands>): Promise<Out> {
  const g = gpu();
  const scope = Scope.open();
  try {
    const { x, w, b, wsc } = leaves(s, v);
    const { result: outs, dispatches } = recordDispatches(g, () =>
      fused ? conv2dWithShortcut(x, w, b, { stride: 2, padding: 1 }, wsc) : [conv2d(x, w, b, { stride: 2, padding: 1 }), conv2d(x, wsc, null, { stride: 2 })],
    );
    const [y, ysc] = outs;
    const out = add(y, ysc);
    backward(out, Tensor.fromArray(g, v.r, out.shape));
    return { y: await y.readF32(), ysc: await ysc.readF32(), dx: await x.grad!.readF32(), dw: await w.grad!.readF32(), dwsc: await wsc.grad!.readF32(), names: dispatches.map(dispatchName) };
  } finally {
    scope.close();
  }
}


describe('conv2dWithShortcut: a stride-2 conv and its 1x1 stride-2 shortcut in one launch', () => {
  for (const s of cases) {
    for (const { cfg, fused } of configs) {
      it(`${s.name}, ${JSON.stringify(cfg)}: ${fused ? 'one launch' : 'two launches'}, the float64 reference, the bits of two conv2d calls`, async () => {
        setConvConfig(cfg);
        try {
          const rng = new Rng();
          const [s3, s1] = shapes(s);
          const { OH, OW } = convOutSize(s3);
          const v = operands(rng, s);
          const got = await run(s, true, v);
          const launches = got.names.filter((n) => n.startsWith('conv2d_forward_row4') || n.startsWith('conv2d_pointwise') || n === 'conv2d_forward');
          if (fused) expect(launches, got.names.join(' ')).toEqual(['conv2d_forward_row4:shortcut']);
          else expect(launches.length, got.names.join(' ')).toBe(2);
          const tag = `${s.name} ${JSON.stringify(cfg)} seed=${rng.seed}`;
          const tol = (len: number) => ({ atol: 2e-6 * len, rtol: 1e-4 });
          expectClose(got.y, conv2dForwardRef(v.x, v.w, v.b, s3), tol(9 * s.C), `y ${tag}`);
          expectClose(got.ysc, conv2dForwardRef(v.x, v.wsc, null, s1), tol(s.C), `ysc ${tag}`);
          const dxSc = conv2dInputGradRef(v.r, v.wsc, s1);
          const dxRef = conv2dInputGradRef(v.r, v.w, s3).map((d, i) => d + dxSc[i]);
          expectClose(got.dx, dxRef, tol(10 * s.O), `dx ${tag}`);
          expectClose(got.dw, conv2dWeightGradRef(v.r, v.x, s3), tol(s.N * OH * OW), `dw ${tag}`);
          expectClose(got.dwsc, conv2dWeightGradRef(v.r, v.x, s1), tol(s.N * OH * OW), `dwsc ${tag}`);
          const apart = await run(s, false, v);
          for (const k of ['y', 'ysc', 'dx', 'dw', 'dwsc'] as const) expect(bitsOf(got[k]), `${k} bits ${tag}`).toEqual(bitsOf(apart[k]));
        } finally {
          setConvConfig(defaultConvConfig);
        }
      });
    }
  }

  it('rejects a shortcut weight that does not fit x', () => {
    const g = gpu();
    const scope = Scope.open();
    try {
      const x = Tensor.zeros(g, [1, 4, 8, 8]);
      expect(() => conv2dWithShortcut(x, Tensor.zeros(g, [8, 4, 3, 3]), null, { stride: 2, padding: 1 }, Tensor.zeros(g, [8, 5, 1, 1]))).toThrow(/shortcut.*4 channels but w \[8, 5, 1, 1\]/);
    } finally {
      scope.close();
    }
  });

  it('ResNet-20: a training step fuses both downsampling blocks (forward, x gradient) and gives the bits of the unfused step (loss, every gradient)', async () => {
    const rng = new Rng();
    const data = resnet20StepData(rng);
    const step = async (cfg: Partial<ConvConfig>) => {
      setConvConfig(cfg);
      try {
        const { dispatches, loss, grads } = await resnet20Step(gpu(), data);
        const names = dispatches.map(dispatchName);
        const fused = names.filter((n) => n === 'conv2d_forward_row4:shortcut').length;
        const onePass = names.filter((n) => n === 'conv2d_forward_row4:scatter_shortcut').length;
        return { fused, onePass, loss, grads };
      } finally {
        setConvConfig(defaultConvConfig);
      }
    };
    const on = await step({ fuseShortcut: true });
    const byDefault = await step({});
    const off = await step({ fuseShortcut: false, fuseShortcutGrad: false });
    expect([on.fused, on.onePass]).toEqual([2, 2]);
    expect([byDefault.fused, byDefault.onePass]).toEqual([0, 2]);
    expect([off.fused, off.onePass]).toEqual([0, 0]);
    for (const other of [on, byDefault]) {
      expect(bitsOf(other.loss), `loss seed=${rng.seed}`).toEqual(bitsOf(off.loss));
      expect(bitsOf(other.grads), `gradients seed=${rng.seed}`).toEqual(bitsOf(off.grads));
    }
  });
});

describe("conv2dWithShortcut's backward: x's gradient in one pass (fuseShortcutGrad)", () => {
  // out = y + relu(ysc) (+ z = a third conv of x): the two output gradients differ (relu's mask)
  const gradCases: (Case & { third?: boolean })[] = [
    { name: 'ResNet-20 16->32 on 32x32', N: 2, C: 16, H: 32, W: 32, O: 32, bias: false },
    { name: 'ResNet-20 32->64 on 16x16 (two channel blocks of dx)', N: 2, C: 32, H: 16, W: 16, O: 64, bias: false },
    { name: 'odd class rows (H = 14), 5 channels (a partial block), bias on the 3x3 conv', N: 3, C: 5, H: 14, W: 16, O: 12, bias: true },
    { name: '3 channels (4-channel blocks), W = 48', N: 1, C: 3, H: 6, W: 48, O: 8, bias: false },
    { name: 'x also feeds a third conv (its gradient accumulates)', N: 2, C: 8, H: 16, W: 16, O: 16, bias: false, third: true },
  ];
  const gradConfigs: { cfg: Partial<ConvConfig>; fused: boolean }[] = [
    { cfg: {}, fused: true }, // on by default: the classes in 8-column x 2-row tiles
    { cfg: { classRows8: 1 }, fused: true }, // 8-column x 1-row tiles
    { cfg: { rowCols: 4 }, fused: true }, // 4-column x 2-row tiles
    { cfg: { rowCols: 4, rowRows: 1, rowChannels: 8 }, fused: true },
    { cfg: { rowDirectWeights: true }, fused: true },
    { cfg: { fuseShortcut: true }, fused: true }, // with the fused forward
    { cfg: { fuseShortcutGrad: false }, fused: false },
    { cfg: { rowScatter: false }, fused: false }, // the strided input gradient on conv2d_input_grad: no class launches
  ];

  async function gradRun(s: (typeof gradCases)[number], cfg: Partial<ConvConfig>, v: ReturnType<typeof operands>) {
    setConvConfig(cfg);
    const g = gpu();
    const scope = Scope.open();
    try {
      const { x, w, b, wsc } = leaves(s, v);
      const [y, ysc] = conv2dWithShortcut(x, w, b, { stride: 2, padding: 1 }, wsc);
      const p = relu(ysc);
      let out = add(y, p);
      if (s.third) out = add(out, conv2d(x, leaf(g, v.w3, [s.O, s.C, 3, 3], 'w3'), null, { stride: 2, padding: 1 }));
      const { dispatches } = recordDispatches(g, () => backward(out, Tensor.fromArray(g, v.r, out.shape)));
      return {
        dx: await x.grad!.readF32(),
        dw: await w.grad!.readF32(),
        dwsc: await wsc.grad!.readF32(),
        p: await p.readF32(),
        outcome: shortcutInputGradOutcome(y),
        names: dispatches.map(dispatchName),
      };
    } finally {
      scope.close();
      setConvConfig(defaultConvConfig);
    }
  }

  it('a pass that stopped after the first node left x to its partner does not disturb the next one', async () => {
    const s = gradCases[0];
    const rng = new Rng();
    const v = operands(rng, s);
    const g = gpu();
    const scope = Scope.open();
    try {
      const { x, w, b, wsc } = leaves(s, v);
      const [y, ysc] = conv2dWithShortcut(x, w, b, { stride: 2, padding: 1 }, wsc);
      const out = add(y, ysc);
      const r = Tensor.fromArray(g, v.r, out.shape);
      // the main conv's backward alone, granted its deferral, as in a pass that threw before the shortcut's ran
      const [dx] = y.node!.backward(r, { needsGrad: (i) => i === 0, gradOutput: () => Tensor.empty(g, x.shape), deferTo: () => true });
      expect(dx, 'x left to the partner').toBeNull();
      backward(out, r);
      expect(shortcutInputGradOutcome(y)).toBe('fused');
      const [s3, s1] = shapes(s);
      const dxSc = conv2dInputGradRef(v.r, v.wsc, s1);
      expectClose(await x.grad!.readF32(), conv2dInputGradRef(v.r, v.w, s3).map((d, i) => d + dxSc[i]), { atol: 2e-6 * 10 * s.O, rtol: 1e-4 }, `dx seed=${rng.seed}`);
    } finally {
      scope.close();
    }
  });

  for (const s of gradCases) {
    for (const { cfg, fused } of s.third ? gradConfigs.slice(0, 1) : gradConfigs) {
      it(`${s.name}, ${JSON.stringify(cfg)}: ${fused ? 'one pass' : 'apart'}, the float64 reference, the bits of the two apart`, async () => {
        const rng = new Rng();
        const [s3, s1] = shapes(s);
        const { OH, OW } = convOutSize(s3);
        const v = operands(rng, s);
        const got = await gradRun(s, cfg, v);
        const tag = `${s.name} ${JSON.stringify(cfg)} seed=${rng.seed}`;
        // the third consumer's part is added into the pair's: the two input gradients then accumulate apart
        expect(got.outcome, tag).toBe(fused && !s.third ? 'fused' : 'apart');
        // one pass: class (0, 0) with the shortcut, the other three classes, and no launch of the shortcut's own
        const joint = got.names.filter((n) => n === 'conv2d_forward_row4:scatter_shortcut').length;
        const classes = got.names.filter((n) => n === 'conv2d_forward_row4:scatter').length;
        const pointwise = got.names.filter((n) => n.startsWith('conv2d_pointwise')).length;
        if (fused && !s.third) expect([joint, classes, pointwise], got.names.join(' ')).toEqual([1, 3, 0]);
        else expect(joint, got.names.join(' ')).toBe(0);
        // the shortcut's output gradient: r where relu passed it
        const dys = v.r.map((r, i) => (got.p[i] > 0 ? r : 0));
        const dxSc = conv2dInputGradRef(dys, v.wsc, s1);
        const dx3 = s.third ? conv2dInputGradRef(v.r, v.w3, s3) : null;
        const dxRef = conv2dInputGradRef(v.r, v.w, s3).map((d, i) => d + dxSc[i] + (dx3 ? dx3[i] : 0));
        const tol = (len: number) => ({ atol: 2e-6 * len, rtol: 1e-4 });
        expectClose(got.dx, dxRef, tol(20 * s.O), `dx ${tag}`);
        expectClose(got.dw, conv2dWeightGradRef(v.r, v.x, s3), tol(s.N * OH * OW), `dw ${tag}`);
        expectClose(got.dwsc, conv2dWeightGradRef(dys, v.x, s1), tol(s.N * OH * OW), `dwsc ${tag}`);
        if (fused) {
          const apart = await gradRun(s, { ...cfg, fuseShortcutGrad: false }, v);
          expect(apart.outcome).toBe('apart');
          for (const k of ['dx', 'dw', 'dwsc'] as const) expect(bitsOf(got[k]), `${k} bits ${tag}`).toEqual(bitsOf(apart[k]));
        }
      });
    }
  }
});

describe("conv2dWithShortcut's backward: both weight gradients in one pass (fuseShortcutWeightGrad)", () => {
  // out = y + relu(ysc): the two output gradients differ (relu's mask)
  const wCases: Case[] = [
    { name: 'ResNet-20 16->32 on 32x32', N: 2, C: 16, H: 32, W: 32, O: 32, bias: false },
    { name: 'ResNet-20 32->64 on 16x16 (four channel blocks)', N: 2, C: 32, H: 16, W: 16, O: 64, bias: false },
    { name: 'odd rows (H = 14), 5 channels, O = 12 (a partial channel block), bias on the 3x3 conv', N: 3, C: 5, H: 14, W: 16, O: 12, bias: true },
    { name: '3 channels, 8 out, W = 48', N: 1, C: 3, H: 6, W: 48, O: 8, bias: false },
  ];
  const on = { fuseShortcutWeightGrad: true };
  const wConfigs: { cfg: Partial<ConvConfig>; fused: boolean }[] = [
    { cfg: on, fused: true },
    { cfg: { ...on, weightGradRows: 1 }, fused: true }, // one kernel row per lane
    { cfg: { ...on, weightGradChannels: 8 }, fused: true },
    { cfg: { ...on, weightGradChunk: 12 }, fused: true }, // 3 tiles a chunk: chunks start inside a row
    { cfg: { ...on, fuseShortcutGrad: false }, fused: true }, // x's gradient apart, the weights' together
    { cfg: { ...on, weightGradDirectDy: true }, fused: false }, // no broadcast lanes to hand out the shortcut's dy
    { cfg: {}, fused: false }, // off by default
  ];

  /** The pair's backward under cfg; `frozen`: these leaves get no gradient. */
  async function weightRun(s: Case, cfg: Partial<ConvConfig>, v: ReturnType<typeof operands>, frozen: ('x' | 'wsc')[] = []) {
    setConvConfig(cfg);
    const g = gpu();
    const scope = Scope.open();
    try {
      const ops = leaves(s, v);
      for (const k of frozen) ops[k].requiresGrad = false;
      const { x, w, b, wsc } = ops;
      const [y, ysc] = conv2dWithShortcut(x, w, b, { stride: 2, padding: 1 }, wsc);
      const p = relu(ysc);
      const out = add(y, p);
      const { dispatches } = recordDispatches(g, () => backward(out, Tensor.fromArray(g, v.r, out.shape)));
      return {
        dw: await w.grad!.readF32(),
        dwsc: frozen.includes('wsc') ? null : await wsc.grad!.readF32(),
        dx: frozen.includes('x') ? null : await x.grad!.readF32(),
        p: await p.readF32(),
        outcome: shortcutWeightGradOutcome(y),
        names: dispatches.map(dispatchName),
      };
    } finally {
      scope.close();
      setConvConfig(defaultConvConfig);
    }
  }

  for (const s of wCases) {
    for (const { cfg, fused } of wConfigs) {
      it(`${s.name}, ${JSON.stringify(cfg)}: ${fused ? 'one pass' : 'apart'}, the float64 reference, the bits of the two apart`, async () => {
        const rng = new Rng();
        const [s3, s1] = shapes(s);
        const { OH, OW } = convOutSize(s3);
        const v = operands(rng, s);
        const got = await weightRun(s, cfg, v);
        const tag = `${s.name} ${JSON.stringify(cfg)} seed=${rng.seed}`;
        expect(got.outcome, tag).toBe(fused ? 'fused' : 'apart');
        // one pass 1 for both (no launch of either conv's weight gradient alone), each reduced
        const joint = got.names.filter((n) => n === 'conv2d_weight_grad_row4:shortcut').length;
        // a conv's own launch: the plain kernel or a texture-mirror variant (weightGradTextures), or the
        // 1x1 kernel with 16 or 32 input channels (weightGradPointwise; variants c16, c16_tex at 16)
        const alone = got.names.filter((n) => /^conv2d_weight_grad(_row4(:tex(_x|_dy)?)?|_pointwise(:(tex_x|c16|c16_tex))?)?$/.test(n)).length;
        expect([joint, alone], got.names.join(' ')).toEqual(fused ? [1, 0] : [0, 2]);
        const dys = v.r.map((r, i) => (got.p[i] > 0 ? r : 0));
        const tol = { atol: 2e-6 * s.N * OH * OW, rtol: 1e-4 };
        expectClose(got.dw, conv2dWeightGradRef(v.r, v.x, s3), tol, `dw ${tag}`);
        expectClose(got.dwsc!, conv2dWeightGradRef(dys, v.x, s1), tol, `dwsc ${tag}`);
        if (fused) {
          const apart = await weightRun(s, { ...cfg, fuseShortcutWeightGrad: false }, v);
          expect(apart.outcome).toBe('apart');
          for (const k of ['dw', 'dwsc', 'dx'] as const) expect(bitsOf(got[k]!), `${k} bits ${tag}`).toEqual(bitsOf(apart[k]!));
        }
      });
    }
  }

  it('x needing no gradient: the weights still in one pass; a frozen shortcut weight: each conv its own', async () => {
    const s = wCases[0];
    const rng = new Rng();
    const [s3, s1] = shapes(s);
    const { OH, OW } = convOutSize(s3);
    const v = operands(rng, s);
    const tol = { atol: 2e-6 * s.N * OH * OW, rtol: 1e-4 };
    const noX = await weightRun(s, on, v, ['x']);
    expect(noX.outcome).toBe('fused');
    expectClose(noX.dw, conv2dWeightGradRef(v.r, v.x, s3), tol, `dw seed=${rng.seed}`);
    expectClose(noX.dwsc!, conv2dWeightGradRef(v.r.map((r, i) => (noX.p[i] > 0 ? r : 0)), v.x, s1), tol, `dwsc seed=${rng.seed}`);
    const noWsc = await weightRun(s, on, v, ['wsc']);
    expect(noWsc.outcome).toBe('apart');
    expect(noWsc.names.filter((n) => n.startsWith('conv2d_weight_grad_row4')).map((n) => n.replace(/:tex(_x|_dy)?$/, '')), noWsc.names.join(' ')).toEqual(['conv2d_weight_grad_row4']);
    expect(bitsOf(noWsc.dw)).toEqual(bitsOf(noX.dw));
  });
});
