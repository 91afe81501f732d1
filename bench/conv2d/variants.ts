// Kernel variants tried for conv2d, kept on record (llm.c dev/cuda style). Each has a one-line note;
// bench/conv2d_variants.ts times them next to the shipped kernels (shaders/conv2d_*.wgsl).
//
// What lavapipe (Mesa 25.0, LLVM, 8-wide) taught us, from GALLIVM_DEBUG=asm and exp_loadcost.wgsl:
// - every storage-buffer load is a per-lane scalar loop with a bounds-check branch, uniform address
//   or not, in a loop or not (~40 cycles per scalar load for 8 lanes, ~90 for a vec4 load): loads,
//   not FMAs, bound a naive kernel (fwd_v1: 3 GFLOP/s). Workgroup-memory loads are no cheaper.
// - subgroupBroadcast with a constant lane is 1-2 instructions; subgroupShuffle ~10 cycles.
// - so: load what a subgroup shares once per subgroup and broadcast it (weights in fwd/dx, dy in
//   dw), load activations as aligned vec4 rows and get halo columns from neighbour lanes by
//   shuffles, and grow the register tile (16 channels x 2 rows x 4 columns) until spills cost more.
// - every accumulator update in a loop is blended with the exec mask (no FMA instruction: mul, add,
//   blend); the FMA ceiling micro-kernel (fma_peak.wgsl) pays the same, so % of ceiling is fair.
// - workgroup barriers suspend and resume every invocation (coroutines): none of the conv kernels
//   uses workgroup memory; only conv2d_bias_grad does, once, for its final tree.
// Experiments: fma_peak.wgsl (the ceiling), exp_loadcost.wgsl (cost of a load by kind).
import { packConvWeights, conv2dForwardInto, conv2dInputGradInto, conv2dWeightGradInto, getConvConfig, type ConvConfig, type ConvDims } from '../../src/ops/conv2d.js';
import { Tensor } from '../../src/tensor/tensor.js';

export type Kind = 'fwd' | 'dx' | 'dw';

export interface Variant {
  kind: Kind;
  name: string;
  note: string;
  supports?: (d: ConvDims) => boolean;
  launch: (o: { x: Tensor; w: Tensor; dy: Tensor; out: Tensor }, d: ConvDims) => void;
}

const k = (name: string) => `../bench/conv2d/${name}`;
const cfg = (c: Partial<ConvConfig>): ConvConfig => ({ ...getConvConfig(), ...c });

export const VARIANTS: Variant[] = [
  {
    kind: 'fwd',
    name: 'generic',
    note: 'shaders/conv2d_forward (any shape): lanes = 4 flattened pixels x 8 channels, per-tap scalar x loads, weights subgroupBroadcast',
    launch: (o, d) => conv2dForwardInto(o.x, o.w, null, o.out, d, cfg({ rowKernel: false })),
  },
  {
    kind: 'fwd',
    name: 'row4 8ch x 1row',
    note: 'row kernel with 8 channels x 4 columns x 1 output row per lane (each input row loaded once per kernel row: 3 loads per output row)',
    launch: (o, d) => conv2dForwardInto(o.x, o.w, null, o.out, d, cfg({ rowCols: 4, rowRows: 1, rowChannels: 8 })),
  },
  {
    kind: 'fwd',
    name: 'row4 8ch x 2rows',
    note: 'row kernel with 8 output channels x 4 columns x 2 rows per lane (16 vec4 accumulators); 16 x 4 x 2 (32 accumulators) is ~20% faster',
    launch: (o, d) => conv2dForwardInto(o.x, o.w, null, o.out, d, cfg({ rowCols: 4, rowChannels: 8 })),
  },
  {
    kind: 'fwd',
    name: 'row4 16ch x 1row',
    note: 'row kernel with 16 output channels x 4 columns x 1 row per lane',
    launch: (o, d) => conv2dForwardInto(o.x, o.w, null, o.out, d, cfg({ rowCols: 4, rowChannels: 16, rowRows: 1 })),
  },
  {
    kind: 'fwd',
    name: 'row4 16ch x 4cols x 2rows',
    note: 'row kernel with 16 output channels x 4 columns x 2 rows per lane (the default before 8-column tiles; stride 2 always uses it): twice the weight broadcasts per multiply-add',
    supports: (d) => d.stride === 1,
    launch: (o, d) => conv2dForwardInto(o.x, o.w, null, o.out, d, cfg({ rowCols: 4, rowChannels: 16, rowRows: 2 })),
  },
  {
    kind: 'fwd',
    name: 'row4 no channel pack',
    note: '1x1 convs with weights packed per kernel row like 3x3 (vec4 of KW taps, 1 of 4 used): 4x the weight loads',
    supports: (d) => d.KH === 1 && d.KW === 1,
    launch: (o, d) => conv2dForwardInto(o.x, o.w, null, o.out, d, cfg({ rowChannelPack: false })),
  },
  {
    kind: 'fwd',
    name: 'row4 WG=32',
    note: 'shipped row kernel, 32 invocations per workgroup (default 64)',
    launch: (o, d) => conv2dForwardInto(o.x, o.w, null, o.out, d, cfg({ rowWorkgroup: 32 })),
  },
  {
    kind: 'fwd',
    name: 'row4 WG=128',
    note: 'shipped row kernel, 128 invocations per workgroup (default 64)',
    launch: (o, d) => conv2dForwardInto(o.x, o.w, null, o.out, d, cfg({ rowWorkgroup: 128 })),
  },
  {
    kind: 'dw',
    name: 'row4 chunk 256',
    note: 'shipped row weight-grad kernel with 4x shorter split-K chunks (more partials to reduce)',
    launch: (o, d) => conv2dWeightGradInto(o.x, o.dy, o.out, d, cfg({ weightGradChunk: 256 })),
  },
  {
    kind: 'dw',
    name: 'generic',
    note: 'shaders/conv2d_weight_grad (any shape): lanes over 3 taps (c,kh,kw), per-pixel scalar x loads, dy subgroupBroadcast',
    launch: (o, d) => conv2dWeightGradInto(o.x, o.dy, o.out, d, cfg({ rowKernel: false })),
  },
  {
    kind: 'dw',
    name: 'row4 chunk 4096',
    note: 'shipped row kernel with 4x longer split-K chunks (fewer partials, less parallelism)',
    launch: (o, d) => conv2dWeightGradInto(o.x, o.dy, o.out, d, cfg({ weightGradChunk: 4096 })),
  },
  {
    kind: 'dw',
    name: 'row4 1 row/lane',
    note: 'row weight-grad kernel with one kernel row (c,kh) per lane (TK=1): each broadcast dy value serves KW multiply-adds',
    launch: (o, d) => conv2dWeightGradInto(o.x, o.dy, o.out, d, cfg({ weightGradRows: 1 })),
  },
  {
    kind: 'dw',
    name: 'row4 8 channels',
    note: 'row weight-grad kernel with OB=8 output channels per workgroup, 1 row per lane (one dy vec4 + 32 broadcasts per tile)',
    launch: (o, d) => conv2dWeightGradInto(o.x, o.dy, o.out, d, cfg({ weightGradChannels: 8, weightGradRows: 1 })),
  },
  {
    kind: 'dx',
    name: 'generic (parity)',
    note: 'shaders/conv2d_input_grad (any shape, stride via parity classes): 4 flattened pixels x 8 channels per lane',
    launch: (o, d) => conv2dInputGradInto(o.dy, o.w, o.out, d, cfg({ rowKernel: false })),
  },
  {
    kind: 'fwd',
    name: 'fwd_v1',
    note: 'lanes = pixels, 8 channels per lane, every lane loads all 8 weights (per-lane loads on lavapipe): 3 GFLOP/s',
    launch: (o, d) =>
      o.x.gpu.dispatch(k('fwd_v1'), {
        bindings: { x: o.x, w: o.w, b: o.w, y: o.out },
        uniforms: { ...d, has_bias: 0 },
        workgroups: [Math.ceil((d.N * d.OH * d.OW) / 64), Math.ceil(d.O / 8)],
        overrides: { WG: 64 },
      }),
  },
];

/**
 * A row weight-gradient record kernel (lanes over kernel rows, TK of them per lane, chunks of 256
 * tiles walked by each workgroup) as split-K pass 1, then the shipped conv2d_weight_grad_reduce.
 */
function rowWeightGrad(name: string, o: { x: Tensor; dy: Tensor; out: Tensor }, d: ConvDims, TK: 1 | 2, overrides: Record<string, number>): void {
  const gpu = o.x.gpu;
  const NL = Math.ceil((d.C * d.KH) / TK);
  const T = d.N * d.OH * (d.OW / 4);
  const WG = 8 * Math.ceil(NL / (8 * Math.ceil(NL / 64)));
  const OB = d.O <= 8 ? 8 : 16;
  const chunk = 256;
  const nchunks = Math.ceil(T / chunk);
  const CKK = d.C * d.KH * d.KW;
  const part = Tensor.empty(gpu, [nchunks, d.O, CKK]);
  gpu.dispatch(k(name), {
    bindings: { x4: o.x, x: o.x, dy: o.dy, part },
    uniforms: { N: d.N, C: d.C, H: d.H, W: d.W, O: d.O, OH: d.OH, OW: d.OW, KH: d.KH, chunk },
    workgroups: [Math.ceil(NL / WG), Math.ceil(d.O / OB), nchunks],
    overrides: { WG, OB, S_: d.stride, PAD_: d.pad, KW_: d.KW, ...overrides },
  });
  reduceParts(part, o.out, nchunks);
}

/** Split-K pass 2 of a weight-gradient variant: the shipped conv2d_weight_grad_reduce sums part [nchunks, ...] into dw. */
function reduceParts(part: Tensor, dw: Tensor, nchunks: number): void {
  const n = dw.size;
  part.gpu.dispatch('conv2d_weight_grad_reduce', { bindings: { part, dw }, uniforms: { n, nchunks }, workgroups: [Math.ceil(n / 64)], overrides: { WG: 64 } });
}

const row4Ok = (d: ConvDims) => d.W % (4 * d.stride) === 0 && d.OW * d.stride === d.W && d.pad <= 3 && d.KW <= 3 && d.KW - d.pad - d.stride <= 1;
VARIANTS.push({
  kind: 'fwd',
  name: 'fwd_row4',
  note: "first row kernel: 1 row per lane, OIHW weights by 3 scalar loads per (c,kh) + broadcast (shipped version packs them as a vec4)",
  supports: row4Ok,
  launch: (o, d) => {
    const WG = 64;
    const T = d.N * d.OH * (d.OW / 4);
    o.x.gpu.dispatch(k('fwd_row4'), {
      bindings: { x: o.x, w: o.w, b: o.w, y: o.out },
      uniforms: { ...d, has_bias: 0 },
      workgroups: [Math.ceil(T / WG), Math.ceil(d.O / 8)],
      overrides: { WG, S_: d.stride, PAD_: d.pad, KW_: d.KW },
    });
  },
});

VARIANTS.push({
  kind: 'fwd',
  name: 'row4_v2',
  note: 'row kernel, 2 rows: packed weights loaded per use (2x per channel) and scalar y stores; shipped one preloads + stores vec4',
  supports: (d) => row4Ok(d) && d.KH <= 4,
  launch: (o, d) => {
    const WG = 64;
    const T = d.N * Math.ceil(d.OH / 2) * (d.OW / 4);
    const wp = packConvWeights(o.w, false, getConvConfig());
    o.x.gpu.dispatch(k('fwd_row4_v2'), {
      bindings: { x: o.x, wp, b: wp, y: o.out },
      uniforms: { N: d.N, C: d.C, H: d.H, W: d.W, O: d.O, OH: d.OH, OW: d.OW, KH: d.KH, has_bias: 0 },
      workgroups: [Math.ceil(T / WG), Math.ceil(d.O / 8)],
      overrides: { WG, ROWS: 2, S_: d.stride, PAD_: d.pad, KW_: d.KW },
    });
  },
});

VARIANTS.push({
  kind: 'dw',
  name: 'dw_row4_tk1',
  note: 'earlier row weight-grad kernel, one kernel row per lane, 16 channels, written without helper functions',
  supports: row4Ok,
  launch: (o, d) => rowWeightGrad('dw_row4_tk1', o, d, 1, {}),
});

VARIANTS.push({
  kind: 'dw',
  name: 'dw_row4_pair',
  note: 'shipped weight-grad kernel walking tiles in pairs (stride 1): 4 instead of 6 input loads per pair and kernel row, same bits, but 20-50% slower on lavapipe',
  supports: (d) => row4Ok(d) && d.stride === 1 && (d.OW / 4) % 2 === 0,
  launch: (o, d) => {
    const TK = d.C * d.KH > 1 ? 2 : 1;
    rowWeightGrad('dw_row4_pair', o, d, TK, { TK, PAIR: 1 });
  },
});

// Workgroup-memory tiling (the issue's "measure workgroup-memory tiling against pure register
// tiling"): 3x3 stride-1 pad-1 convs on maps of 16 or 32 columns, CB input channels a block.
const wgmemOk = (d: ConvDims) => d.KH === 3 && d.KW === 3 && d.stride === 1 && d.pad === 1 && (d.W === 32 || d.W === 16) && d.H === d.W;
for (const [CB, WBCAST] of [[4, false], [8, false], [8, true]] as const) {
  VARIANTS.push({
    kind: 'fwd',
    name: `wgmem cb${CB}${WBCAST ? ' wbcast' : ''}`,
    note:
      `workgroup-memory tiling: the workgroup copies ${CB} input channels' rows and weights into workgroup memory between two barriers, each invocation reads its x from there (4 columns x 16 channels)` +
      (WBCAST ? ', the weights read by 8 lanes and broadcast' : ', and every weight (the same address in every lane)'),
    supports: (d) => wgmemOk(d) && d.C % CB === 0,
    launch: (o, d) => {
      const W4 = d.W / 4;
      const R = 64 / W4;
      const wp = packConvWeights(o.w, false, getConvConfig());
      o.x.gpu.dispatch(k('fwd_wgmem'), {
        bindings: { x: o.x, wp, y: o.out },
        uniforms: { N: d.N, C: d.C, H: d.H, W: d.W, O: d.O, OH: d.OH, OW: d.OW, KH: d.KH, has_bias: 0 },
        workgroups: [d.N * (d.H / R), Math.ceil(d.O / 16)],
        overrides: { CB, W4, WBCAST: WBCAST ? 1 : 0 },
      });
    },
  });
}

// The 16->32 shortcut's weight gradient a whole 16-column output row a trip, 64-byte loads.
for (const OB of [8, 16, 32]) {
  VARIANTS.push({
    kind: 'dw',
    name: `dw_1x1_rows ob${OB}`,
    note: `1x1 stride-2 weight gradient, rows of 16 output columns: a trip takes a whole row with 64-byte loads, each accumulator the row's 16 products in one chain (${OB} output channels a workgroup)`,
    supports: (d) => d.KH === 1 && d.KW === 1 && d.stride === 2 && d.pad === 0 && d.OW === 16 && d.W === 32 && d.C <= 16 && d.C % 2 === 0,
    launch: (o, d) => {
      const gpu = o.x.gpu;
      const rows = d.N * d.OH;
      const chunk = 64; // rows: the shipped kernel's 256 four-column tiles
      const nchunks = Math.ceil(rows / chunk);
      const part = Tensor.empty(gpu, [nchunks, d.O, d.C]);
      gpu.dispatch(k('dw_1x1_rows'), {
        bindings: { x: o.x, dy: o.dy, part },
        uniforms: { N: d.N, C: d.C, H: d.H, O: d.O, OH: d.OH, chunk },
        workgroups: [1, Math.ceil(d.O / OB), nchunks],
        overrides: { OB },
      });
      reduceParts(part, o.out, nchunks);
    },
  });
}
