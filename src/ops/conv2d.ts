// 2-D convolution (NCHW activations, OIHW weights, optional bias) and its backward.
//
// Kernels (shaders/conv2d_*.wgsl):
//   conv2d_pack_weights        repack w per call: a vec4 of kernel-row taps per (channel, row), or the
//                              transposed + flipped kernel (one parity class of it) for dx
//   conv2d_forward_row4        forward, fast path for "same"-width rows (every ResNet conv): aligned
//                              vec4 row loads, halo columns by subgroup shuffles, 16 channels of an
//                              8-column x 1-row tile per invocation (4 x 2 at stride 2; config
//                              rowChannels, rowCols, rowRows); also the stride-1 input gradient
//                              (a convolution of dy with the flipped kernel)
//                              variant `scatter`: the stride-2 input gradient, one stride-1 row
//                              convolution of dy per parity class, scattered into dx
//                              variant `shortcut`: a block's stride-2 conv and its 1x1 stride-2
//                              projection shortcut in one launch (conv2dWithShortcut)
//   conv2d_forward_stem        forward of a 3x3 stride-1 pad-1 conv with at most 4 input channels (a
//                              network's first conv on RGB images; config stemTile): each invocation
//                              reads its 16-column row tile's inputs once, then walks the output channels
//   conv2d_pointwise           1x1 convs (config pointwise, on by default): forward, and the input gradient with
//                              w^T (transpose2d) writing the stride-2 zeros itself; a GEMM over channels
//   conv2d_pointwise_tile      the same sums (same bits) where K <= 32 and K <= R (config pointwiseTile):
//                              each invocation reads its tile's source once, then walks the dst channels
//   conv2d_weight_grad_row4    split-K weight gradient pass 1, fast path (lanes over kernel rows)
//   conv2d_forward, conv2d_input_grad (parity classes), conv2d_weight_grad: any shape; also the
//                              strided input gradient with config rowScatter false (one launch for
//                              all parity classes: faster on an H100, where the scatter variant's four
//                              launches of 8k invocations each leave it mostly idle)
//   conv2d_weight_grad_reduce  split-K pass 2: fixed-order sum of the chunk partials (deterministic)
//   conv2d_bias_grad           db: per-channel fixed-shape tree reduction
// Lavapipe turns every storage load into a per-lane scalar loop (uniform address or not), so the
// kernels load an operand shared by a subgroup once per subgroup and hand it out with
// subgroupBroadcast: they need the 'subgroups' feature and subgroups of at least 8 invocations.
// No float atomics anywhere; scratch (packed weights, split-K partials) comes from the pool.
//
// The tunables (workgroup sizes, register-tile shape, split-K chunk) are WGSL override constants;
// they come from a module-level ConvConfig (setConvConfig/getConvConfig) so an autotuner can pick
// them per adapter and a training run can record them. Another config may change the summation
// order (e.g. the weight-gradient chunking); the same config gives the same bits every run.
import { isGradEnabled, record, type BackwardContext } from '../autograd/node.js';
import { grid1d, type Gpu } from '../gpu/runtime.js';
import { isPowerOfTwoIn } from '../gpu/workgroup_size.js';
import { shapeStr, Tensor } from '../tensor/tensor.js';
import { expectDtype, expectRank, ShapeError } from './check.js';
import { stride2CopyOf } from './stride2_copy.js';

export interface Conv2dOptions {
  /** Square stride, default 1. */
  stride?: number;
  /** Square zero padding, default 0. */
  padding?: number;
}

export interface ConvConfig {
  /** Invocations per workgroup of conv2d_forward (each computes 4 pixels x 8 channels); multiple of 8. */
  forwardWorkgroup: number;
  /** Invocations per workgroup of conv2d_input_grad (4 pixels x 8 channels each); multiple of 8. */
  inputGradWorkgroup: number;
  /** Largest workgroup of the weight-gradient pass 1 (shrunk to fit the kernel rows / taps); multiple of 8. */
  weightGradWorkgroup: number;
  /** Output channels per workgroup of conv2d_weight_grad_row4 (8 or 16). */
  weightGradChannels: number;
  /**
   * The same for 1x1 convs (8, 16 or 32; 32 not with weightGradDirectDy, which then uses
   * weightGradChannels). With no taps to reuse an x value over, a 1x1 weight gradient gains from
   * more output channels per loaded x; a 3x3 one loses (27-46% slower at 32 on lavapipe).
   */
  weightGradChannels1x1: number;
  /** Kernel rows (c, kh) per invocation of conv2d_weight_grad_row4 (1 or 2). */
  weightGradRows: number;
  /** Output pixels (n,oh,ow) per split-K chunk of the weight gradient. */
  weightGradChunk: number;
  /**
   * conv2d_weight_grad_row4: every lane loads the tile's dy for all its channels (one address across
   * the subgroup) instead of lanes 0..7 loading one channel each and broadcasting; for GPUs. Same bits.
   */
  weightGradDirectDy: boolean;
  /** Workgroup of conv2d_weight_grad_reduce and conv2d_pack_weights. */
  reduceWorkgroup: number;
  /** Invocations summing one weight-gradient element's chunks in conv2d_weight_grad_reduce (a power of two dividing reduceWorkgroup; 1 = one serial sum). */
  reduceLanes: number;
  /** Workgroup of conv2d_bias_grad; a power of two <= 256. */
  biasGradWorkgroup: number;
  /** Use the row kernels (conv2d_forward_row4 and its scatter variant, conv2d_weight_grad_row4) where the shape allows. */
  rowKernel: boolean;
  /** Invocations per workgroup of conv2d_forward_row4 (both variants); multiple of 8. */
  rowWorkgroup: number;
  /** Output rows per invocation of the row kernels' 4-column tiles (1 or 2). */
  rowRows: number;
  /**
   * Output rows per invocation of conv2d_forward_row4's 8-column tiles (rowCols 8) in the stride-1
   * convs (forward and input gradient): 1 or 2 (always 1 with rowDirectWeights, and where the launch
   * adds into its output). Two reuse each loaded weight and each input row for a second output row, at
   * twice the accumulators. Same bits either way.
   */
  rowRows8: number;
  /** The same for the parity classes of a strided input gradient (the scatter variants). */
  classRows8: number;
  /**
   * Output columns per invocation of conv2d_forward_row4 for stride-1 convs (forward and input
   * gradient) with OW % 8 == 0: 4 (then rowRows rows) or 8 (then rowRows8 rows; each weight broadcast,
   * or direct load, feeds both 4-column halves). Not with channel packing. Same bits either way.
   */
  rowCols: number;
  /**
   * Output channels per invocation of the row kernels: 16, 8, or 4 (half a weight block: twice the
   * invocations of 8; on an H100 that made a step slower, 5.08 against 4.74 ms, 2026-11-26).
   */
  rowChannels: number;
  /** 1x1 forward convs with C % 4 == 0: pack 4 input channels per weight vec4 (a quarter of the weight loads). */
  rowChannelPack: boolean;
  /**
   * Row kernels: every lane loads all its output channels' taps (one address across the subgroup)
   * instead of lanes 0..7 loading one channel each and broadcasting; for GPUs. Same bits either way.
   */
  rowDirectWeights: boolean;
  /**
   * Strided input gradients on the row kernel's scatter variant (one launch per parity class); false:
   * on conv2d_input_grad, one launch for all classes (workgroup_id.z picks the class).
   */
  rowScatter: boolean;
  /** Run 1x1 convs (forward, input gradient) on conv2d_pointwise where the shape allows. */
  pointwise: boolean;
  /** Output channels per invocation of conv2d_pointwise (8, 16 or 32). */
  pointwiseChannels: number;
  /**
   * 1x1 convs with a contraction of at most 32 channels and at least as many dst channels (K <= 32,
   * K <= R; K, R = C, O forward, O, C for the input gradient: in ResNet-20 the shortcuts' forwards) on
   * conv2d_pointwise_tile (a tile's source read once, then one dst channel at a time) instead of
   * conv2d_pointwise. Same bits either way; needs `pointwise`.
   */
  pointwiseTile: boolean;
  /**
   * conv2dWithShortcut: run a ResNet block's stride-2 first conv and its 1x1 stride-2 projection
   * shortcut as one launch (conv2d_forward_row4, variant `shortcut`) where the row kernel runs the
   * first conv. Same bits as the two convs apart, one launch fewer per downsampling block; off by
   * default, because on lavapipe the fused launch took 0-8% longer than the two apart (2026-12-06).
   * The autotuner's whole-step search on a GPU tries it on.
   */
  fuseShortcut: boolean;
  /**
   * conv2dWithShortcut's backward: compute x's gradient of a ResNet block's 3x3 stride-2 pad-1 conv
   * and its 1x1 stride-2 projection shortcut in one pass where the stride-2 conv's input gradient runs
   * on the scatter variant: the shortcut's part is added inside the launch of parity class (0, 0), the
   * pixels it lands on (conv2d_forward_row4, variant `scatter_shortcut`), instead of by a launch of
   * its own that reads and writes them again. Same bits as apart.
   */
  fuseShortcutGrad: boolean;
  /**
   * conv2dWithShortcut's backward: compute the weight gradients of a ResNet block's stride-2 conv and
   * its 1x1 stride-2 projection shortcut in one split-K pass (conv2d_weight_grad_row4, variant
   * `shortcut`): the shortcut's products are the stride-2 conv's centre taps, already in the registers
   * of the lanes that own kernel rows (c, pad). Same bits as apart (shortcutWeightGradFusable). Off by
   * default: on lavapipe the fused launch took 1.1-1.4x as long as the two apart (2026-12-07); the
   * autotuner's whole-step search on a GPU tries it on.
   */
  fuseShortcutWeightGrad: boolean;
  /**
   * 3x3 stride-1 pad-1 forwards with at most 4 input channels and W % 16 == 0 (ResNet-20's first conv)
   * on conv2d_forward_stem (a tile's inputs read once, then one output channel at a time) instead of
   * the row kernel, whose 16 channels x 8 columns of accumulators a 3-channel conv cannot amortise.
   * Same bits either way.
   */
  stemTile: boolean;
  /**
   * conv2d_weight_grad_row4 reads x, dy or both through texture mirrors (variants `tex_x`, `tex_dy`,
   * `tex`: read-only storage textures the runtime copies them into) where the launch reads that
   * tensor more than once, and a 1x1 launch x where the mirror holds it already (weightGradMirrors).
   * Same bits either way.
   */
  weightGradTextures: boolean;
  /**
   * 1x1 weight gradients with 32 input channels (ResNet-20's 32->64 projection shortcut) on
   * conv2d_weight_grad_pointwise: a lane owns 4 input channels, so each dy load and broadcast serves
   * twice the multiply-adds of conv2d_weight_grad_row4's 2 kernel rows a lane (0.79-0.83x as long
   * in-step on lavapipe, 2026-12-07). With 16 input channels (the 16->32 shortcut) its variant c16:
   * a lane owns 4 output channels and x is broadcast, again 4 multiply-adds a broadcast value
   * (0.82-0.99x in-step). Same partials, same bits. For 8-lane subgroups only (a workgroup is one
   * subgroup of 8).
   */
  weightGradPointwise: boolean;
  /**
   * conv2d_forward_row4's plain stride-1 launches read x through a texture mirror (variant `tex`)
   * where they do not accumulate (3x3 forwards, fresh input gradients) and 4+ blocks of output
   * channels read it, or (an input gradient, accumulating or not) where the layer's weight gradient
   * mirrors the same dy next and then reads this copy (launchRow4). Same bits.
   */
  rowTextures: boolean;
  /**
   * conv2d_forward_row4's plain and channel-packed launches (not the scatter ones, not the fused
   * shortcut) read the packed weights through a texture mirror (variants `tex_w`, `tex_xw`): every
   * invocation reads them, and the copy is a few KiB. Same bits.
   */
  rowWeightTextures: boolean;
  /**
   * A 1x1 stride-2 conv (no padding) whose x has a stride-2 copy (stride2CopyOf: x[:, :, ::2, ::2],
   * written beside x by its producer, a ResNet block's last BatchNorm when the next block projects)
   * reads the copy, as a stride-1 conv over the same output grid: its forward and weight gradient
   * load a quarter of x, contiguously, not half of every even row. Same bits. Also asks the models
   * to have the copies written (wantStride2Copies).
   */
  stride2Copies: boolean;
}

export const defaultConvConfig: Readonly<ConvConfig> = Object.freeze({
  forwardWorkgroup: 64,
  inputGradWorkgroup: 64,
  weightGradWorkgroup: 64,
  weightGradChannels: 16,
  weightGradChannels1x1: 32, // 1x1 weight gradients 4-10% faster than 16 on lavapipe, same bits (2026-11-26)
  weightGradRows: 2,
  weightGradChunk: 1024,
  weightGradDirectDy: false, // broadcasting is cheaper on lavapipe (a storage load is a per-lane loop)
  reduceWorkgroup: 64,
  reduceLanes: 1,
  biasGradWorkgroup: 64,
  rowKernel: true,
  rowWorkgroup: 64,
  rowRows: 2,
  // two rows: ResNet-20's stride-1 3x3 forwards and fresh input gradients 2-5% slower in a step on
  // lavapipe (6-8% faster in a slow stretch of the VM), its parity classes 3-13% faster (2026-12-07)
  rowRows8: 1,
  classRows8: 2,
  rowCols: 8, // 8x1 tiles: the stride-1 3x3 forward and input gradients and the parity classes 4-10% faster than 4x2 on lavapipe (2026-11-26)
  rowChannels: 16,
  rowChannelPack: true,
  rowDirectWeights: false, // lavapipe runs every storage load as a per-lane loop: broadcasting is cheaper there
  rowScatter: true,
  pointwise: true, // 1x1 stride-2 forward 25-30% faster than the row kernel on lavapipe, input gradient no slower (2026-11-26)
  pointwiseChannels: 32, // 16->32 shortcut forward 9% faster than 16 on lavapipe, 32->64 level (2026-11-26)
  pointwiseTile: true, // ResNet-20's stride-2 shortcut forwards 1.2-1.4x and 1.5-1.7x faster on lavapipe (2026-12-07)
  fuseShortcut: false, // the fused launch took 0-8% longer than the two apart on lavapipe (2026-12-06)
  fuseShortcutGrad: true,
  fuseShortcutWeightGrad: false, // the fused launch took 1.1-1.4x as long as the two apart on lavapipe (2026-12-07)
  stemTile: true, // ResNet-20's first conv 1.4x faster on lavapipe (2.12-2.23 against 2.93-3.06 ms, 2026-12-07)
  weightGradTextures: true,
  weightGradPointwise: true,
  rowTextures: true,
  rowWeightTextures: true, // the row launches 0.88-0.93x as long on lavapipe, same bits (2026-12-07)
  stride2Copies: true,
});

let config: ConvConfig = { ...defaultConvConfig };

function checkConfig(cfg: ConvConfig, what = 'setConvConfig'): void {
  const unknown = Object.keys(cfg).filter((k) => !(k in defaultConvConfig));
  if (unknown.length) throw new Error(`${what}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${Object.keys(defaultConvConfig).join(', ')})`);
  const bad = (k: keyof ConvConfig, why: string) => {
    throw new Error(`${what}: ${k}=${cfg[k]} ${why}`);
  };
  if (typeof cfg.rowKernel !== 'boolean') bad('rowKernel', 'must be a boolean');
  if (typeof cfg.rowChannelPack !== 'boolean') bad('rowChannelPack', 'must be a boolean');
  if (typeof cfg.rowDirectWeights !== 'boolean') bad('rowDirectWeights', 'must be a boolean');
  if (typeof cfg.weightGradDirectDy !== 'boolean') bad('weightGradDirectDy', 'must be a boolean');
  if (typeof cfg.pointwise !== 'boolean') bad('pointwise', 'must be a boolean');
  if (typeof cfg.pointwiseTile !== 'boolean') bad('pointwiseTile', 'must be a boolean');
  if (typeof cfg.rowScatter !== 'boolean') bad('rowScatter', 'must be a boolean');
  if (typeof cfg.fuseShortcut !== 'boolean') bad('fuseShortcut', 'must be a boolean');
  if (typeof cfg.fuseShortcutGrad !== 'boolean') bad('fuseShortcutGrad', 'must be a boolean');
  if (typeof cfg.fuseShortcutWeightGrad !== 'boolean') bad('fuseShortcutWeightGrad', 'must be a boolean');
  if (typeof cfg.stemTile !== 'boolean') bad('stemTile', 'must be a boolean');
  if (typeof cfg.weightGradTextures !== 'boolean') bad('weightGradTextures', 'must be a boolean');
  if (typeof cfg.weightGradPointwise !== 'boolean') bad('weightGradPointwise', 'must be a boolean');
  if (typeof cfg.rowTextures !== 'boolean') bad('rowTextures', 'must be a boolean');
  if (typeof cfg.rowWeightTextures !== 'boolean') bad('rowWeightTextures', 'must be a boolean');
  if (typeof cfg.stride2Copies !== 'boolean') bad('stride2Copies', 'must be a boolean');
  if (![8, 16, 32].includes(cfg.pointwiseChannels)) bad('pointwiseChannels', 'must be 8, 16 or 32');
  if (cfg.rowRows !== 1 && cfg.rowRows !== 2) bad('rowRows', 'must be 1 or 2');
  if (cfg.rowRows8 !== 1 && cfg.rowRows8 !== 2) bad('rowRows8', 'must be 1 or 2');
  if (cfg.classRows8 !== 1 && cfg.classRows8 !== 2) bad('classRows8', 'must be 1 or 2');
  if (cfg.rowCols !== 4 && cfg.rowCols !== 8) bad('rowCols', 'must be 4 or 8');
  if (![4, 8, 16].includes(cfg.rowChannels)) bad('rowChannels', 'must be 4, 8 or 16');
  if (cfg.weightGradRows !== 1 && cfg.weightGradRows !== 2) bad('weightGradRows', 'must be 1 or 2');
  if (cfg.weightGradChannels !== 8 && cfg.weightGradChannels !== 16) bad('weightGradChannels', 'must be 8 or 16');
  if (![8, 16, 32].includes(cfg.weightGradChannels1x1)) bad('weightGradChannels1x1', 'must be 8, 16 or 32');
  for (const k of ['forwardWorkgroup', 'inputGradWorkgroup', 'weightGradWorkgroup', 'rowWorkgroup'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 8 || cfg[k] % 8 !== 0 || cfg[k] > 256) bad(k, 'must be a multiple of 8 in [8, 256]');
  }
  if (!Number.isInteger(cfg.weightGradChunk) || cfg.weightGradChunk < 1) bad('weightGradChunk', 'must be a positive integer');
  if (!Number.isInteger(cfg.reduceWorkgroup) || cfg.reduceWorkgroup < 1 || cfg.reduceWorkgroup > 256) bad('reduceWorkgroup', 'must be an integer in [1, 256]');
  const L = cfg.reduceLanes;
  if (!isPowerOfTwoIn(L, 1, Infinity) || cfg.reduceWorkgroup % L !== 0) bad('reduceLanes', 'must be a power of two dividing reduceWorkgroup');
  const b = cfg.biasGradWorkgroup;
  if (!isPowerOfTwoIn(b, 1, 256)) bad('biasGradWorkgroup', 'must be a power of two <= 256');
}

const checkedConfigs = new WeakSet<ConvConfig>();
/**
 * A configuration handed straight to a launcher (tests, bench variants, the autotuner's candidates)
 * is checked once per object, as setConvConfig checks its own: a value the kernels do not support
 * would otherwise launch a wrong grid without an error (weightGradChannels 32 launched half the
 * workgroups the 16-channel weight-gradient kernel needs, and the result came out half computed).
 */
function ensureChecked(cfg: ConvConfig): void {
  if (checkedConfigs.has(cfg)) return;
  checkConfig(cfg, 'conv2d configuration');
  checkedConfigs.add(cfg);
}

/** Set the kernel configuration used by every later conv2d call (and its backward). */
export function setConvConfig(cfg: Partial<ConvConfig>): void {
  const next = { ...config, ...cfg };
  checkConfig(next);
  config = next;
  configGeneration++;
}

let configGeneration = 0;

/** Bumped by every setConvConfig: recorded commands from an older generation may use other pipelines. */
export function convConfigGeneration(): number {
  return configGeneration;
}

/** A configuration written as a JSON object of ConvConfig fields over the defaults (`bench --conv-config`, EARLY_PHASE_CONV_CONFIG); `what` names the source in errors. */
export function parseConvConfig(text: string, what: string): ConvConfig {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${what}: not JSON (${e instanceof Error ? e.message : String(e)}): ${text}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what}: expected a JSON object of conv config fields, got ${text}`);
  const cfg = { ...defaultConvConfig, ...(v as Partial<ConvConfig>) };
  checkConfig(cfg, what);
  return cfg;
}

/** The configuration in use (a copy; record it in hparams.json). */
export function getConvConfig(): ConvConfig {
  return { ...config };
}

/** Output spatial size: floor((H + 2p - K) / s) + 1. */
export function conv2dOutputSize(h: number, w: number, kh: number, kw: number, stride = 1, padding = 0): [number, number] {
  return [Math.floor((h + 2 * padding - kh) / stride) + 1, Math.floor((w + 2 * padding - kw) / stride) + 1];
}

const MAX_GROUPS = 65535;

/** Fold `blocks` workgroups into (x, fold) with x <= 65535. */
function fold(blocks: number): [number, number] {
  const f = Math.max(1, Math.ceil(blocks / MAX_GROUPS));
  return [Math.max(1, Math.ceil(blocks / f)), f];
}

const checkedDevices = new WeakSet<Gpu>();
function checkSubgroups(gpu: Gpu): void {
  if (checkedDevices.has(gpu)) return;
  if (!gpu.device.features.has('subgroups')) throw new Error("conv2d: the device lacks the 'subgroups' feature the conv kernels need");
  const [min] = gpu.dev.subgroupSizes;
  if (min > 0 && min < 8) throw new Error(`conv2d: subgroups of ${min} invocations; the conv kernels need at least 8`);
  checkedDevices.add(gpu);
}

/**
 * Whether conv2d_forward_row4's launches may read through texture mirrors (rowTextures,
 * rowWeightTextures): only with subgroups of exactly 8 invocations, lavapipe's default, where the
 * default tests check them and where they were measured. With lavapipe's 16-wide subgroups
 * (LP_NATIVE_VECTOR_WIDTH=512, test/slow/subgroup16.test.ts) the mirrored forward got wrong values in
 * the tiles next to a padding row, and with every lane loading the weights (rowDirectWeights) the
 * mirrored weights did too, while the same launches with storage loads and the weight gradient's
 * mirrors were right; the cause was not found (2026-12-07). A GPU's texture path is unmeasured.
 */
export function rowMirrorsAllowed(gpu: Gpu): boolean {
  const [min, max] = gpu.dev.subgroupSizes;
  return min === 8 && max === 8;
}

/** Shape of one convolution, as the kernels' uniforms see it. */
export interface ConvDims {
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  OH: number;
  OW: number;
  KH: number;
  KW: number;
  stride: number;
  pad: number;
}

/** Can conv2d_forward_row4 run a convolution of this shape? (Every ResNet conv can.) */
function rowShapeOk(d: ConvDims): boolean {
  const S = d.stride;
  return S <= 2 && d.W % (4 * S) === 0 && d.OW * S === d.W && d.pad <= 4 && d.KH <= 4 && d.KW <= 4 && d.KW - d.pad - S <= 4;
}

/** Which taps to pack: rows kh0 + step*r (r < KHp), columns kw0 + step*t (t < KWp). Default: all. */
interface TapSel {
  kh0: number;
  kw0: number;
  step: number;
  KHp: number;
  KWp: number;
}

/** vec4s in a pack of w [O,C,...] with KHp packed kernel rows: blocks of 8 output channels x input channels x rows x 8. */
function packVec4s(O: number, C: number, flip: boolean, KHp: number): number {
  const [OO, CI] = flip ? [C, O] : [O, C];
  return Math.ceil(OO / 8) * CI * KHp * 8;
}

/** Repack w for the row kernels (flip: transposed + flipped, for the input gradient). */
export function packConvWeights(w: Tensor, flip: boolean, cfg: ConvConfig, sel?: TapSel): Tensor {
  const [O, C, KH, KW] = w.shape;
  const taps = sel ?? { kh0: 0, kw0: 0, step: 1, KHp: KH, KWp: KW };
  const total = packVec4s(O, C, flip, taps.KHp);
  const wp = Tensor.empty(w.gpu, [total, 4], 'f32', 'conv2d:packed-w');
  const WG = cfg.reduceWorkgroup;
  w.gpu.dispatch('conv2d_pack_weights', {
    bindings: { w, wp },
    uniforms: { O, C, KH, KW, flip: flip ? 1 : 0, total, ...taps },
    workgroups: grid1d(total / 8, WG), // an invocation per 8 vec4s (total is a multiple of 8)
    overrides: { WG },
  });
  return wp;
}

/** The packed weights one conv's training step reads: the forward's, and the input gradient's (one per parity class). */
export interface ConvPacks {
  forward: Tensor;
  /** Stride 1: the flipped kernel; stride S: one per parity class, row-major (rh, rw). */
  inputGrad: Tensor[];
}

/**
 * Every pack a conv's training step needs, made in one dispatch (conv2d_pack_weights, variant
 * `all`) as views of one pooled tensor: each holds what packConvWeights would make for its launcher,
 * so the results are the same bits with fewer dispatches. Null where either direction takes another
 * path (pointwise, channel-packed 1x1, the generic kernels) or some parity class has no tap; the
 * launchers then pack for themselves.
 */
export function packConvWeightsAll(w: Tensor, d: ConvDims, cfg: ConvConfig): ConvPacks | null {
  const S = d.stride;
  // the input gradient reads the flipped kernel of every class: stride-1 "same" kernels, or all S*S
  // parity classes on the scatter variant (none empty, no channel packing)
  const inputGradFlips = S === 1 ? stride1RowInputGrad(d, cfg) : scatterClasses(d, cfg)?.empty === false && !inputGradCpack(d, cfg);
  if (!forwardRowPlain(d, cfg) || !inputGradFlips) return null;
  // job 0: the forward (KH rows); jobs 1..S*S: the classes
  const jobs: { rows: number; flip: boolean }[] = [{ rows: d.KH, flip: false }];
  for (let rh = 0; rh < S; rh++) for (let rw = 0; rw < S; rw++) jobs.push({ rows: parityTaps(rh, S, d.pad, d.KH).n, flip: true });
  let total = 0;
  const parts = jobs.map(({ rows, flip }) => {
    const n = packVec4s(d.O, d.C, flip, rows);
    const start = total;
    total += Math.ceil(n / 16) * 16; // 256-byte aligned views
    return { start, n };
  });
  const all = Tensor.empty(w.gpu, [total, 4], 'f32', 'conv2d:packed-w');
  const WG = cfg.reduceWorkgroup;
  w.gpu.dispatch('conv2d_pack_weights', {
    bindings: { w, wp: all },
    uniforms: { O: d.O, C: d.C, KH: d.KH, KW: d.KW, S, pad: d.pad, total },
    workgroups: grid1d(total / 8, WG), // an invocation per 8 vec4s (total is a multiple of 16)
    overrides: { WG },
    variant: 'all',
  });
  const views = parts.map(({ start, n }) => all.view(4 * start, [n, 4]));
  return { forward: views[0], inputGrad: views.slice(1) };
}

/** The forward runs on conv2d_forward_row4 with plainly packed weights (not pointwise, not the stem kernel, not channel-packed)? */
function forwardRowPlain(d: ConvDims, cfg: ConvConfig): boolean {
  return !pointwiseShapeOk(d, cfg) && !stemShapeOk(d, cfg) && cfg.rowKernel && rowShapeOk(d) && !forwardCpack(d, cfg);
}

/** The forward of a 1x1 conv on the row kernel packs 4 input channels per vec4 (w viewed as [O, C/4, 1, 4]). */
function forwardCpack(d: ConvDims, cfg: ConvConfig): boolean {
  return cfg.rowChannelPack && d.KH === 1 && d.KW === 1 && d.C % 4 === 0;
}

/** The stride-S input gradient of a 1x1 conv on the row kernel packs 4 dy channels per vec4 (w^T viewed as [C, O/4, 1, 4]). */
function inputGradCpack(d: ConvDims, cfg: ConvConfig): boolean {
  return cfg.rowChannelPack && d.KH === 1 && d.KW === 1 && d.O % 4 === 0;
}

/** The stride-1 input gradient as the convolution of dy with the transposed, flipped kernel ("same" square kernels). */
function transposedDims(d: ConvDims): ConvDims {
  return { N: d.N, C: d.O, H: d.OH, W: d.OW, O: d.C, OH: d.H, OW: d.W, KH: d.KH, KW: d.KW, stride: 1, pad: d.KW - 1 - d.pad };
}

/** Does the stride-1 input gradient run on conv2d_forward_row4 (with the flipped kernel packed)? */
function stride1RowInputGrad(d: ConvDims, cfg: ConvConfig): boolean {
  return cfg.rowKernel && d.stride === 1 && d.KH === d.KW && d.KW === 2 * d.pad + 1 && rowShapeOk(transposedDims(d));
}

/** Parity class r (0 <= r < s) of one axis: first tap, tap count, and the dy offset b = (r + pad) / s. */
function parityTaps(r: number, s: number, pad: number, K: number): { k0: number; n: number; b: number } {
  const k0 = (r + pad) % s;
  return { k0, n: k0 < K ? Math.ceil((K - k0) / s) : 0, b: Math.floor((r + pad) / s) };
}

/** Output channels per invocation of conv2d_forward_row4 for a conv writing `outChannels` channels. */
function rowChannelsFor(outChannels: number, cfg: ConvConfig): number {
  // 4 for the stem's 3-channel input gradient (1 lane's work in 4 wasted instead of 5 in 8)
  return outChannels <= 4 ? 4 : Math.min(cfg.rowChannels, outChannels <= 8 ? 8 : 16);
}

/**
 * conv2d_forward_row4's tile for a stride-`stride` conv with OW output columns and OB channels per
 * invocation: 8 columns x rowRows8 rows (classRows8 for a parity class) where allowed (COLS8), else 4
 * columns x rowRows rows. An 8-column tile is one row high with direct weight loads, and where the
 * launch adds into its output (`accumulate`): on lavapipe the accumulating input gradients took 1.23x
 * as long with two rows in a ResNet-20 step (2026-12-07).
 */
function rowTile(OW: number, stride: number, OB: number, cpack: boolean, cfg: ConvConfig, accumulate = false, parityClass = false): { cols8: boolean; ROWS: number; cols: number; WDIRECT: number } {
  const direct = cfg.rowDirectWeights && !cpack;
  // not for OB = 4: the stem's input gradient ran 20% slower with 8-column tiles
  const cols8 = cfg.rowCols === 8 && stride === 1 && OW % 8 === 0 && OB >= 8 && !cpack;
  const rows8 = direct || accumulate ? 1 : parityClass ? cfg.classRows8 : cfg.rowRows8;
  return { cols8, ROWS: cols8 ? rows8 : cfg.rowRows, cols: cols8 ? 8 : 4, WDIRECT: direct ? 1 : 0 };
}

type ParityClass = { rh: number; rw: number; th: ReturnType<typeof parityTaps>; tw: ReturnType<typeof parityTaps>; Hc: number; Wc: number };

/**
 * The stride-S input gradient's parity classes for conv2d_forward_row4's scatter variant, row-major
 * (rh, rw), those with a tap (empty: some class has none), or null where some class does not fit it.
 */
function scatterClasses(d: ConvDims, cfg: ConvConfig): { classes: ParityClass[]; empty: boolean } | null {
  const s = d.stride;
  if (!cfg.rowKernel || !cfg.rowScatter || s !== 2 || d.OW % 4 !== 0) return null;
  const classes: ParityClass[] = [];
  let empty = false;
  for (let rh = 0; rh < s; rh++) {
    for (let rw = 0; rw < s; rw++) {
      const th = parityTaps(rh, s, d.pad, d.KH);
      const tw = parityTaps(rw, s, d.pad, d.KW);
      const Hc = Math.ceil((d.H - rh) / s);
      const Wc = Math.ceil((d.W - rw) / s);
      if (th.n === 0 || tw.n === 0 || Hc <= 0 || Wc <= 0) {
        empty = true;
        continue;
      }
      const padh = th.n - 1 - th.b;
      const padw = tw.n - 1 - tw.b;
      // the sub-conv must be a row-kernel shape: class row width == dy row width, small kernel and halo
      if (Wc !== d.OW || th.n > 4 || tw.n > 4 || padh < 0 || padw < 0 || padw > 4 || tw.n - padw - 1 > 4) return null;
      classes.push({ rh, rw, th, tw, Hc, Wc });
    }
  }
  return { classes, empty };
}

/**
 * The stride-S input gradient as S*S stride-1 row convolutions of dy (one per parity class), or
 * false when some class does not fit conv2d_forward_row4's scatter variant. `packs`: the classes'
 * packed weights from packConvWeightsAll (every class has a tap then), else each is packed here.
 */
function inputGradRow4(dy: Tensor, w: Tensor, dx: Tensor, d: ConvDims, cfg: ConvConfig, accumulate: boolean, packs?: Tensor[], shortcut?: { dy: Tensor; wp: Tensor }): boolean {
  const plan = scatterClasses(d, cfg);
  if (!plan) return false;
  const { classes, empty } = plan;
  const s = d.stride;
  // pixels no tap reaches (e.g. 3/4 of dx for a 1x1 stride-2 conv) are zero, or keep the gradient
  // accumulated so far
  if (empty && !accumulate) dx.fillBits(0);
  const WG = cfg.rowWorkgroup;
  const OB = rowChannelsFor(d.C, cfg);
  // a 1x1 conv's one class is a GEMM with w^T: pack 4 dy channels per weight vec4 (w^T viewed as [C, O/4, 1, 4])
  const cpack = inputGradCpack(d, cfg);
  for (const [k, { rh, rw, th, tw, Hc, Wc }] of classes.entries()) {
    const wp = packs
      ? packs[k]
      : cpack
      ? packConvWeights(transposePointwise(w, d, cfg).reshape([d.C, d.O / 4, 1, 4]), false, cfg)
      : packConvWeights(w, true, cfg, { kh0: th.k0, kw0: tw.k0, step: s, KHp: th.n, KWp: tw.n });
    const { cols8, ROWS, cols, WDIRECT } = rowTile(Wc, 1, OB, cpack, cfg, accumulate, true);
    const tiles = d.N * Math.ceil(Hc / ROWS) * (Wc / cols);
    const [gx, gz] = fold(Math.ceil(tiles / WG));
    // class (0, 0) of a fused backward also adds the projection shortcut's input gradient (shortcutGradFusable)
    const sc = shortcut && rh === 0 && rw === 0 ? shortcut : null;
    dy.gpu.dispatch('conv2d_forward_row4', {
      bindings: { x: dy, wp, y: dx, ...(sc ? { x2: sc.dy, wp2: sc.wp } : {}) },
      uniforms: { N: d.N, C: d.O, H: d.OH, W: d.OW, O: d.C, OH: Hc, OW: Wc, KH: th.n, padh: th.n - 1 - th.b, rh, rw, stride: s, DH: d.H, DW: d.W },
      workgroups: [gx, Math.ceil(d.C / OB), gz],
      overrides: { WG, ROWS, OB, CPACK: cpack ? 1 : 0, S_: 1, PAD_: tw.n - 1 - tw.b, KW_: tw.n, KH_: th.n, ACCUM: accumulate ? 1 : 0, WDIRECT, COLS8: cols8 ? 1 : 0 },
      variant: sc ? 'scatter_shortcut' : 'scatter',
    });
  }
  return true;
}

const ROW_MIRROR_X_READS = 4;

/** conv2d_forward_row4 of src [N,C,H,W] with packed weights into dst [N,O,OH,OW] (d describes this conv). */
function launchRow4(src: Tensor, wp: Tensor, bias: Tensor | null, dst: Tensor, d: ConvDims, cfg: ConvConfig, cpack = false, accumulate = false, shortcut?: { wsc: Tensor; ysc: Tensor }, shareX = false): void {
  const WG = cfg.rowWorkgroup;
  const OB = rowChannelsFor(d.O, cfg);
  const { cols8, ROWS, cols, WDIRECT } = rowTile(d.OW, d.stride, OB, cpack, cfg, accumulate);
  const tiles = d.N * Math.ceil(d.OH / ROWS) * (d.OW / cols);
  const [gx, gz] = fold(Math.ceil(tiles / WG));
  // x through a texture mirror where 4+ blocks of output channels read it (rowTextures). Measured
  // in whole ResNet-20 steps on lavapipe (four bench --compare-config runs, 2026-12-07): the 64->64
  // forwards and fresh input gradients took 0.86-0.98x as long mirrored; the 32->32 ones (2 reads)
  // were level; the accumulating input gradients 1.05-1.22x and the 16->32 stride-2 forward
  // 1.11-1.25x as long (why was not profiled), so neither mirrors a copy of its own. `shareX`: a later
  // launch mirrors src anyway (the input gradient's dy, which the weight gradient reads through a
  // mirror next): copy it here, where it also serves this launch, accumulating or not, and the later
  // launch reads this copy (in-step, 2026-12-07: the 64->64 accumulating input gradients 0.89x as
  // long, the copy included; the 32->32 ones level, their weight gradients 0.98x).
  const allowed = rowMirrorsAllowed(src.gpu);
  const reads = Math.ceil(d.O / OB) >= ROW_MIRROR_X_READS || shareX;
  const mirror = allowed && cfg.rowTextures && !shortcut && (!accumulate || shareX) && d.stride === 1 && d.KH * d.KW > 1 && reads && src.gpu.textureMirrorFits(src.bytes);
  // the packed weights through a mirror (rowWeightTextures): read by every invocation, copied in a few KiB
  const mirrorW = allowed && cfg.rowWeightTextures && !shortcut && src.gpu.textureMirrorFits(wp.bytes);
  const texVariant = mirror && mirrorW ? 'tex_xw' : mirror ? 'tex' : mirrorW ? 'tex_w' : undefined;
  src.gpu.dispatch('conv2d_forward_row4', {
    bindings: { ...(mirror ? {} : { x: src }), ...(mirrorW ? {} : { wp }), b: bias ?? wp, y: dst, ...shortcut },
    ...(mirror || mirrorW ? { textures: { ...(mirror ? { xt: src } : {}), ...(mirrorW ? { wpt: wp } : {}) } } : {}),
    uniforms: { N: d.N, C: d.C, H: d.H, W: d.W, O: d.O, OH: d.OH, OW: d.OW, KH: d.KH, has_bias: bias ? 1 : 0 },
    workgroups: [gx, Math.ceil(d.O / OB), gz],
    overrides: { WG, ROWS, OB, CPACK: cpack ? 1 : 0, S_: d.stride, PAD_: d.pad, KW_: d.KW, KH_: d.KH, ACCUM: accumulate ? 1 : 0, WDIRECT, COLS8: cols8 ? 1 : 0 },
    ...(shortcut ? { variant: 'shortcut' } : texVariant ? { variant: texVariant } : {}),
  });
}

/** Can conv2d_pointwise run this 1x1 conv (both directions: even sizes for stride 2, 16-pixel tiles of 8-column runs, vec4 channels)? */
function pointwiseShapeOk(d: ConvDims, cfg: ConvConfig): boolean {
  const S = d.stride;
  return (
    cfg.pointwise && d.KH === 1 && d.KW === 1 && d.pad === 0 && S <= 2 && d.OW % 8 === 0 && (d.OH * d.OW) % 16 === 0 &&
    d.H === d.OH * S && d.W === d.OW * S && d.C % 4 === 0 && d.O % 4 === 0
  );
}

/** conv2d_pointwise (or conv2d_pointwise_tile): dst[n, r, S_OUT*g, S_OUT*h] = b[r] + sum_k wk[r, k] src[n, k, S_IN*g, S_IN*h] over the conv's output grid. */
function launchPointwise(src: Tensor, wk: Tensor, bias: Tensor | null, dst: Tensor, d: ConvDims, dir: 'forward' | 'input_grad', cfg: ConvConfig, accumulate = false): void {
  const fwd = dir === 'forward';
  const [K, R] = fwd ? [d.C, d.O] : [d.O, d.C];
  const bindings = { src, wk, b: bias ?? wk, dst };
  const uniforms = { N: d.N, K, HS: fwd ? d.H : d.OH, WS: fwd ? d.W : d.OW, R, GH: d.OH, GW: d.OW, has_bias: bias ? 1 : 0 };
  // the strided side: reading every other column (down) or writing zeros between (up)
  // (`upacc`: adding into the even pixels only, by scalar accesses)
  const variant = d.stride === 1 ? undefined : fwd ? 'down' : accumulate ? 'upacc' : 'up';
  const tiles = (d.N * d.OH * d.OW) / 16;
  // the tile's source is read once for all R dst channels: where R < K (the shortcuts' input
  // gradients) conv2d_pointwise was faster on lavapipe (16->32: 1.59-1.64 against 1.90-2.06 ms, 2026-12-07)
  if (cfg.pointwiseTile && K <= 32 && K <= R) {
    const WG = 32; // 64 was level on lavapipe (best medians 0.93-1.02 against 0.96-1.02 ms at 16->32, 2026-12-07)
    const RB = 64;
    const [gx, gz] = fold(Math.ceil(tiles / WG));
    src.gpu.dispatch('conv2d_pointwise_tile', { bindings, uniforms, workgroups: [gx, Math.ceil(R / RB), gz], overrides: { WG, KC: K, RB, ACCUM: accumulate ? 1 : 0 }, variant });
    return;
  }
  const OB = Math.min(cfg.pointwiseChannels, R <= 8 ? 8 : R <= 16 ? 16 : 32);
  const WG = cfg.rowWorkgroup;
  const [gx, gz] = fold(Math.ceil(tiles / WG));
  src.gpu.dispatch('conv2d_pointwise', { bindings, uniforms, workgroups: [gx, Math.ceil(R / OB), gz], overrides: { WG, OB, ACCUM: accumulate ? 1 : 0 }, variant });
}

/** Can conv2d_forward_stem run this forward? 3x3 stride 1 pad 1, at most 4 input channels, W % 16 == 0. */
function stemShapeOk(d: ConvDims, cfg: ConvConfig): boolean {
  return cfg.stemTile && d.C <= 4 && d.KH === 3 && d.KW === 3 && d.stride === 1 && d.pad === 1 && d.OH === d.H && d.OW === d.W && d.W % 16 === 0;
}

/** conv2d_forward_stem: 16-column row tiles, 16 output channels a workgroup (a tile's inputs read once per workgroup). */
function launchStem(x: Tensor, w: Tensor, bias: Tensor | null, y: Tensor, d: ConvDims): void {
  const WG = 64; // 32 and 128 were 5-10% slower on lavapipe (2026-12-07)
  const OB = 16; // 8 (each tile's inputs read twice) took 1.9x as long on lavapipe (2026-12-07)
  const [gx, gz] = fold(Math.ceil((d.N * d.H * (d.W / 16)) / WG));
  x.gpu.dispatch('conv2d_forward_stem', {
    bindings: { x, xh: x, w, b: bias ?? w, y },
    uniforms: { N: d.N, C: d.C, H: d.H, W: d.W, O: d.O, has_bias: bias ? 1 : 0 },
    workgroups: [gx, Math.ceil(d.O / OB), gz],
    overrides: { WG, CC: d.C, OB },
  });
}

/** w [O,C,1,1] as its transpose [C,O] (a scratch tensor from the pool). */
function transposePointwise(w: Tensor, d: ConvDims, cfg: ConvConfig): Tensor {
  const wt = Tensor.empty(w.gpu, [d.C, d.O], 'f32', 'conv2d:w^T');
  const WG = cfg.reduceWorkgroup;
  w.gpu.dispatch('transpose2d', { bindings: { a: w, out: wt }, uniforms: { rows: d.O, cols: d.C }, workgroups: grid1d(d.C * d.O, WG), overrides: { WG } });
  return wt;
}

/**
 * Launch the forward conv: y = conv(x, w) (+ b). Outside autograd; y must be [N,O,OH,OW]. `packed`:
 * w already packed for the row kernel (packConvWeightsAll), else it is packed here where needed.
 */
export function conv2dForwardInto(x: Tensor, w: Tensor, bias: Tensor | null, y: Tensor, d: ConvDims, cfg: ConvConfig = config, packed?: Tensor): void {
  ensureChecked(cfg);
  if (pointwiseShapeOk(d, cfg)) {
    launchPointwise(x, w, bias, y, d, 'forward', cfg);
    return;
  }
  if (stemShapeOk(d, cfg)) {
    launchStem(x, w, bias, y, d);
    return;
  }
  if (cfg.rowKernel && rowShapeOk(d)) {
    // 1x1 kernels: pack 4 input channels per vec4 (w viewed as [O, C/4, 1, 4])
    const cpack = forwardCpack(d, cfg);
    const wp = packed ?? packConvWeights(cpack ? w.reshape([d.O, d.C / 4, 1, 4]) : w, false, cfg);
    launchRow4(x, wp, bias, y, d, cfg, cpack);
    return;
  }
  const WG = cfg.forwardWorkgroup;
  const [gx, gz] = fold(Math.ceil((d.N * d.OH * d.OW) / (4 * WG)));
  x.gpu.dispatch('conv2d_forward', {
    bindings: { x, w, b: bias ?? w, y },
    uniforms: { ...d, has_bias: bias ? 1 : 0 },
    workgroups: [gx, Math.ceil(d.O / 8), gz],
    overrides: { WG },
  });
}

/**
 * Launch the input gradient: dx from dy and w, outside autograd; dx must be [N,C,H,W]. With
 * `accumulate`, add it into dx instead (dx += ...) where the kernel path supports that (the row
 * and pointwise kernels), and return false without launching anything where it does not. `packs`:
 * the input gradient's packed weights from packConvWeightsAll, else they are packed here.
 */
export function conv2dInputGradInto(dy: Tensor, w: Tensor, dx: Tensor, d: ConvDims, cfg: ConvConfig = config, accumulate = false, packs?: Tensor[], shareDy = false): boolean {
  ensureChecked(cfg);
  if (pointwiseShapeOk(d, cfg)) {
    launchPointwise(dy, transposePointwise(w, d, cfg), null, dx, d, 'input_grad', cfg, accumulate);
    return true;
  }
  // Stride 1, square "same" kernel: dx is the convolution of dy with the transposed, flipped kernel.
  if (stride1RowInputGrad(d, cfg)) {
    launchRow4(dy, packs?.[0] ?? packConvWeights(w, true, cfg), null, dx, transposedDims(d), cfg, false, accumulate, undefined, shareDy);
    return true;
  }
  if (inputGradRow4(dy, w, dx, d, cfg, accumulate, packs)) return true;
  if (accumulate) return false;
  const WG = cfg.inputGradWorkgroup;
  const s = d.stride;
  const maxClass = d.N * Math.ceil(d.H / s) * Math.ceil(d.W / s);
  const [gx, gz] = fold(Math.ceil(maxClass / (4 * WG)));
  dy.gpu.dispatch('conv2d_input_grad', {
    bindings: { dy, w, dx },
    uniforms: { ...d },
    workgroups: [gx, Math.ceil(d.C / 8), s * s * gz],
    overrides: { WG },
  });
  return true;
}

/**
 * The split-K chunk of the weight gradient (items of the summed-over axis per chunk): the
 * configuration's `wanted`, raised so that the chunks fit the grid (MAX_GROUPS) and their partial sums
 * (`partBytes` each) fit one storage binding (128 MiB on lavapipe; an H100-tuned chunk of 128 on a
 * 512-channel conv needed 144 MiB). Raising it only where the partials would not fit keeps every
 * configuration's bits where it ran before.
 */
export function splitKChunk(items: number, wanted: number, partBytes: number, maxBindingBytes: number): number {
  const maxChunks = Math.max(1, Math.floor(maxBindingBytes / partBytes));
  return Math.max(wanted, Math.ceil(items / MAX_GROUPS), Math.ceil(items / maxChunks));
}

/** conv2d_weight_grad_row4's kernel rows per lane (TK), lanes (NL) and output channels per workgroup (OB) for conv d. */
function weightGradLanes(d: ConvDims, cfg: ConvConfig): { TK: number; NL: number; OB: number } {
  const NR = d.C * d.KH;
  const TK = NR > 1 ? cfg.weightGradRows : 1;
  const OB = d.O <= 8 ? 8 : d.KH * d.KW === 1 && !cfg.weightGradDirectDy ? cfg.weightGradChannels1x1 : cfg.weightGradChannels;
  return { TK, NL: Math.ceil(NR / TK), OB };
}

/** conv2d_weight_grad_row4's split-K chunk (4-column output tiles per chunk) for conv d. */
function rowWeightGradChunk(d: ConvDims, cfg: ConvConfig, maxBindingBytes: number): number {
  return splitKChunk(d.N * d.OH * (d.OW / 4), Math.ceil(cfg.weightGradChunk / 4), d.O * d.C * d.KH * d.KW * 4, maxBindingBytes);
}

/**
 * The split-K chunks of conv d's weight gradient on the row kernels (conv2d_weight_grad_row4, and
 * conv2d_weight_grad_pointwise, whose partials must be the same): tiles per chunk and chunk count.
 */
function rowWeightGradChunks(gpu: Gpu, d: ConvDims, cfg: ConvConfig): { chunk: number; nchunks: number } {
  const chunk = rowWeightGradChunk(d, cfg, gpu.device.limits.maxStorageBufferBindingSize);
  return { chunk, nchunks: Math.ceil((d.N * d.OH * (d.OW / 4)) / chunk) };
}

/**
 * Split-K pass 1 on conv2d_weight_grad_row4 (lanes over kernel rows (c, kh); chunks of 4-column output
 * tiles) into fresh partials [nchunks, O, C*KH*KW]; `dySc`: the variant that also writes the 1x1
 * stride-2 shortcut's partials [nchunks, O, C] from its output gradient (shortcutWeightGradFusable).
 */
function weightGradRow4(x: Tensor, dy: Tensor, d: ConvDims, cfg: ConvConfig, dySc?: Tensor): { part: Tensor; partSc: Tensor | null } {
  const gpu = x.gpu;
  const NR = d.C * d.KH;
  const { TK, NL, OB } = weightGradLanes(d, cfg);
  const groups = Math.ceil(NL / cfg.weightGradWorkgroup);
  const WG = 8 * Math.ceil(NL / (8 * groups)); // balanced: no workgroup mostly idle
  const { chunk, nchunks } = rowWeightGradChunks(gpu, d, cfg);
  const part = Tensor.empty(gpu, [nchunks, d.O, d.C * d.KH * d.KW], 'f32', 'conv2d:dw-part');
  const partSc = dySc ? Tensor.empty(gpu, [nchunks, d.O, d.C], 'f32', 'conv2d:dw-part') : null;
  const mirror = dySc ? { x: false, dy: false } : weightGradMirrors(gpu, x, dy, d, cfg);
  const texVariant = mirror.x && mirror.dy ? 'tex' : mirror.x ? 'tex_x' : mirror.dy ? 'tex_dy' : undefined;
  gpu.dispatch('conv2d_weight_grad_row4', {
    bindings: { ...(mirror.x ? {} : { x4: x }), ...(mirror.dy ? {} : { dy }), part, ...(dySc && partSc ? { dsc: dySc, psc: partSc } : {}) },
    ...(mirror.x || mirror.dy ? { textures: { ...(mirror.x ? { x4t: x } : {}), ...(mirror.dy ? { dyt: dy } : {}) } } : {}),
    uniforms: { N: d.N, C: d.C, H: d.H, W: d.W, O: d.O, OH: d.OH, OW: d.OW, KH: d.KH, chunk },
    workgroups: [Math.ceil(NL / WG), Math.ceil(d.O / OB), nchunks],
    // lanes with no kernel row, or no second one, exist (the stem: 9 rows on 5 of 8 lanes)
    overrides: { WG, OB, TK, S_: d.stride, PAD_: d.pad, KW_: d.KW, KH_: d.KH, DDIRECT: cfg.weightGradDirectDy ? 1 : 0, SKIP_IDLE: groups * WG > NL || NL * TK > NR ? 1 : 0 },
    ...(dySc ? { variant: 'shortcut' } : texVariant ? { variant: texVariant } : {}),
  });
  return { part, partSc };
}

/**
 * Which of conv2d_weight_grad_row4's inputs to read through texture mirrors (weightGradTextures): a
 * tensor the launch reads several times, where a texel load's lower cost (about half a storage
 * load's on lavapipe) pays for the copy. x is read once per block of OB output channels, dy once per
 * subgroup of kernel-row lanes (its lanes 0..7 load the tile's dy and broadcast it). Measured on
 * lavapipe in whole ResNet-20 steps (bench --compare-config, ten runs, 2026-12-07): the 3x3 convs
 * with x mirrored at 2 and 4 reads took 0.92-1.03x as long as with storage loads while the VM ran
 * quietly (steps of about 700 ms) and 0.73-0.93x in its slow stretches (about 1000 ms); dy mirrored
 * at 3 reads (the 16->16 convs) was level to 8% slower, at 6 and 12 a few % faster than x alone. A
 * 1x1 conv's launch is too short to pay for copying its x: 1.25-1.45x as long (32->64), so it reads x
 * through a mirror only where a mirror holds x already, unwritten since (Gpu.mirrorHolds): in a
 * ResNet step its block's 3x3 stride-2 weight gradient, a few dispatches earlier, mirrored the same x.
 * In-step on lavapipe (bench --compare-config '{"weightGradTextures":false}', three runs of 8 rounds,
 * 2026-12-07): the 16->32 shortcut's launch 0.87-0.96x, the 32->64 one's 0.81-0.98x as long.
 */
const MIRROR_X_READS = 2;
const MIRROR_DY_READS = 6;
function weightGradMirrors(gpu: Gpu, x: Tensor, dy: Tensor, d: ConvDims, cfg: ConvConfig): { x: boolean; dy: boolean } {
  if (!cfg.weightGradTextures) return { x: false, dy: false };
  if (d.KH * d.KW === 1) return { x: gpu.mirrorHolds(x), dy: false };
  const xReads = Math.ceil(d.O / weightGradLanes(d, cfg).OB);
  return { x: xReads >= MIRROR_X_READS && gpu.textureMirrorFits(x.bytes), dy: weightGradMirrorsDy(dy, d, cfg) };
}

/**
 * Does conv d's weight gradient read dy through a texture mirror (weightGradMirrors), where it runs
 * on conv2d_weight_grad_row4 on its own? The input gradient's launch before it (stride 1) then
 * mirrors dy too, and the weight gradient reads that copy (Gpu.mirrorHolds).
 */
function weightGradMirrorsDy(dy: Tensor, d: ConvDims, cfg: ConvConfig): boolean {
  const dyReads = Math.ceil(weightGradLanes(d, cfg).NL / 8);
  return cfg.weightGradTextures && cfg.rowKernel && rowShapeOk(d) && d.KH * d.KW > 1 && dyReads >= MIRROR_DY_READS && dy.gpu.textureMirrorFits(dy.bytes);
}

/** Split-K pass 2: dw (n elements) = the fixed-order sum of part [nchunks, n] over its chunks. */
function reduceWeightGrad(part: Tensor, dw: Tensor, cfg: ConvConfig): void {
  const [nchunks] = part.shape;
  const n = dw.size;
  const RW = cfg.reduceWorkgroup;
  const lanes = cfg.reduceLanes;
  const V = n % 4 === 0 ? 4 : 1; // vec4s where the partials' rows (and dw) split into them
  part.gpu.dispatch('conv2d_weight_grad_reduce', {
    bindings: { part, dw },
    uniforms: { n: n / V, nchunks },
    workgroups: grid1d((n / V) * lanes, RW),
    overrides: { WG: RW, LANES: lanes },
    ...(V === 4 ? { variant: 'vec4' } : {}),
  });
}

/** Can conv2d_weight_grad_pointwise run this weight gradient (a 1x1 row-kernel shape with 16 or 32 input channels, 8-lane subgroups)? */
function pointwiseWeightGradOk(gpu: Gpu, d: ConvDims, cfg: ConvConfig): boolean {
  return cfg.weightGradPointwise && cfg.rowKernel && rowShapeOk(d) && d.KH === 1 && d.KW === 1 && d.pad === 0 && (d.C === 16 || d.C === 32) && rowMirrorsAllowed(gpu);
}

/**
 * Split-K pass 1 on conv2d_weight_grad_pointwise: the partials [nchunks, O, C] conv2d_weight_grad_row4
 * computes for the same 1x1 conv (the same chunks, the same sums), a chunk and 32 output channels a
 * workgroup of 8 lanes (lanes over input channels at C = 32, over output channels at C = 16).
 */
function weightGradPointwise(x: Tensor, dy: Tensor, d: ConvDims, cfg: ConvConfig): Tensor {
  const gpu = x.gpu;
  const { chunk, nchunks } = rowWeightGradChunks(gpu, d, cfg);
  const part = Tensor.empty(gpu, [nchunks, d.O, d.C], 'f32', 'conv2d:dw-part');
  const tex = weightGradMirrors(gpu, x, dy, d, cfg).x;
  // C = 16: lanes over output channels, x broadcast (variants c16, c16_tex); C = 32: lanes over input channels
  const variant = d.C === 16 ? (tex ? 'c16_tex' : 'c16') : tex ? 'tex_x' : undefined;
  gpu.dispatch('conv2d_weight_grad_pointwise', {
    bindings: { ...(tex ? {} : { x4: x }), dy, part },
    ...(tex ? { textures: { x4t: x } } : {}),
    ...(variant ? { variant } : {}),
    uniforms: { N: d.N, C: d.C, H: d.H, W: d.W, O: d.O, OH: d.OH, OW: d.OW, chunk },
    workgroups: [1, Math.ceil(d.O / 32), nchunks],
    overrides: { S_: d.stride },
  });
  return part;
}

/** Launch the split-K weight gradient (both passes) into dw [O,C,KH,KW]; scratch comes from the pool. */
export function conv2dWeightGradInto(x: Tensor, dy: Tensor, dw: Tensor, d: ConvDims, cfg: ConvConfig = config): void {
  ensureChecked(cfg);
  let part: Tensor;
  if (pointwiseWeightGradOk(x.gpu, d, cfg)) part = weightGradPointwise(x, dy, d, cfg);
  else if (cfg.rowKernel && rowShapeOk(d)) part = weightGradRow4(x, dy, d, cfg).part;
  else {
    const gpu = x.gpu;
    const CKK = d.C * d.KH * d.KW;
    const P = d.N * d.OH * d.OW;
    const WG = Math.min(cfg.weightGradWorkgroup, 8 * Math.ceil(Math.ceil(CKK / 3) / 8));
    const chunk = splitKChunk(P, cfg.weightGradChunk, d.O * CKK * 4, gpu.device.limits.maxStorageBufferBindingSize);
    const nchunks = Math.ceil(P / chunk);
    part = Tensor.empty(gpu, [nchunks, d.O, CKK], 'f32', 'conv2d:dw-part');
    gpu.dispatch('conv2d_weight_grad', {
      bindings: { x, dy, part },
      uniforms: { ...d, chunk },
      workgroups: [Math.ceil(CKK / (3 * WG)), Math.ceil(d.O / 8), nchunks],
      overrides: { WG },
    });
  }
  reduceWeightGrad(part, dw, cfg);
}

/**
 * Can the weight gradients of the stride-2 conv d and the 1x1 stride-2 shortcut ds of the same input,
 * to the same output grid, run as one pass of conv2d_weight_grad_row4 (variant `shortcut`) with the same
 * bits as apart: both on the row kernel, the shortcut's taps inside d's kernel, the same split-K chunks,
 * and no lane with two kernel rows of the shortcut's (KH >= rows per lane)?
 */
function shortcutWeightGradFusable(d: ConvDims, ds: ConvDims, cfg: ConvConfig, maxBindingBytes: number): boolean {
  if (!cfg.fuseShortcutWeightGrad || !cfg.rowKernel || cfg.weightGradDirectDy || d.stride !== 2 || d.KH < cfg.weightGradRows) return false;
  if (!rowShapeOk(d) || !rowShapeOk(ds) || d.pad >= d.KH || d.pad >= d.KW || !isProjectionOf(ds, d)) return false;
  return rowWeightGradChunk(d, cfg, maxBindingBytes) === rowWeightGradChunk(ds, cfg, maxBindingBytes);
}

/** Both weight gradients of a shortcut pair (d: the stride-2 conv's dims) in one split-K pass 1 (shortcutWeightGradFusable), then each reduced. */
function pairWeightGradInto(x: Tensor, dy: Tensor, dw: Tensor, d: ConvDims, dySc: Tensor, dwSc: Tensor, cfg: ConvConfig): void {
  ensureChecked(cfg);
  const { part, partSc } = weightGradRow4(x, dy, d, cfg, dySc);
  reduceWeightGrad(part, dw, cfg);
  reduceWeightGrad(partSc!, dwSc, cfg);
}

/** Launch conv2d_bias_grad: db[o] = sum of dy over n, oh, ow. */
export function conv2dBiasGradInto(dy: Tensor, db: Tensor, d: ConvDims, cfg: ConvConfig = config): void {
  ensureChecked(cfg);
  dy.gpu.dispatch('conv2d_bias_grad', {
    bindings: { dy, db },
    uniforms: { N: d.N, O: d.O, HW: d.OH * d.OW },
    workgroups: [d.O],
    overrides: { WG: cfg.biasGradWorkgroup },
  });
}

/** Check conv2d's operands and options; the conv's dims. */
function convDims(op: string, x: Tensor, w: Tensor, bias: Tensor | null, opts: Conv2dOptions): ConvDims {
  const stride = opts.stride ?? 1;
  const pad = opts.padding ?? 0;
  expectDtype(op, 'x', x, 'f32');
  expectDtype(op, 'w', w, 'f32');
  expectRank(op, 'x', x, 4);
  expectRank(op, 'w', w, 4);
  const [N, C, H, W] = x.shape;
  const [O, Cw, KH, KW] = w.shape;
  if (Cw !== C) throw new ShapeError(op, `x ${shapeStr(x.shape)} has ${C} channels but w ${shapeStr(w.shape)} expects ${Cw}`);
  if (!Number.isInteger(stride) || stride < 1) throw new ShapeError(op, `stride must be a positive integer, got ${stride}`);
  if (!Number.isInteger(pad) || pad < 0) throw new ShapeError(op, `padding must be a non-negative integer, got ${pad}`);
  if (bias) {
    expectDtype(op, 'bias', bias, 'f32');
    if (bias.rank !== 1 || bias.shape[0] !== O) throw new ShapeError(op, `bias ${shapeStr(bias.shape)} must be [${O}] for w ${shapeStr(w.shape)}`);
  }
  if ([N, C, H, W, O, KH, KW].some((d) => d < 1)) throw new ShapeError(op, `empty operand: x ${shapeStr(x.shape)}, w ${shapeStr(w.shape)}`);
  const [OH, OW] = conv2dOutputSize(H, W, KH, KW, stride, pad);
  if (OH < 1 || OW < 1) throw new ShapeError(op, `kernel ${KH}x${KW} (padding ${pad}) larger than input x ${shapeStr(x.shape)}`);
  checkSubgroups(x.gpu);
  return { N, C, H, W, O, OH, OW, KH, KW, stride, pad };
}

/**
 * A ResNet block's stride-2 conv and its 1x1 stride-2 projection shortcut, both reading x
 * (conv2dWithShortcut): their backward nodes share this, so that the first of the two to run leaves
 * to the other what the two can compute in one pass from both output gradients: x's gradient where
 * shortcutGradFusable allows (the shortcut's part inside the launch of the stride-2 conv's parity
 * class (0, 0)), and both weight gradients where shortcutWeightGradFusable allows (one split-K pass).
 * Each node lists its partner's weight as its last input, so that the second can return that gradient.
 */
interface ShortcutGradPair {
  main: { y: Tensor; w: Tensor; d: ConvDims; packs: ConvPacks | null };
  shortcut: { y: Tensor; w: Tensor; d: ConvDims; packs: ConvPacks | null };
  /** What the node that ran first left to the other: its output gradient and pass (BackwardContext.pass), and which gradients. */
  waiting: { role: 'main' | 'shortcut'; dy: Tensor; pass: object | undefined; input: boolean; weights: boolean } | null;
  /** How the latest backward computed x's gradient and the weight gradients: in one pass, or apart (bench and tests read it). */
  lastInputGrad: 'fused' | 'apart' | null;
  lastWeightGrad: 'fused' | 'apart' | null;
}

const shortcutPairs = new WeakMap<Tensor, ShortcutGradPair>();

/**
 * How the latest backward through conv2dWithShortcut's outputs computed their input's gradient:
 * 'fused' (one pass), 'apart', or null (not a pair, or no backward yet). `y` is either output.
 */
export function shortcutInputGradOutcome(y: Tensor): 'fused' | 'apart' | null {
  return shortcutPairs.get(y)?.lastInputGrad ?? null;
}

/** The same for the two weight gradients. */
export function shortcutWeightGradOutcome(y: Tensor): 'fused' | 'apart' | null {
  return shortcutPairs.get(y)?.lastWeightGrad ?? null;
}

/**
 * Can the input gradients of the 3x3 stride-2 pad-1 conv d and the 1x1 stride-2 shortcut ds of the
 * same input, to the same output grid, run as one pass: d's input gradient on the row kernel's scatter
 * variant, whose class (0, 0) has the one tap (1, 1) and so lands on exactly the shortcut's pixels?
 */
function shortcutGradFusable(d: ConvDims, ds: ConvDims, cfg: ConvConfig): boolean {
  if (!cfg.fuseShortcutGrad || d.stride !== 2 || d.KH !== 3 || d.KW !== 3 || d.pad !== 1) return false;
  const plan = scatterClasses(d, cfg);
  const first = plan?.classes[0];
  if (!plan || plan.empty || !first || first.rh !== 0 || first.rw !== 0 || first.th.n !== 1 || first.tw.n !== 1) return false;
  return isProjectionOf(ds, d);
}

/** Is ds a 1x1 stride-2 conv (no padding) of d's input to d's output grid and channels? */
function isProjectionOf(ds: ConvDims, d: ConvDims): boolean {
  const sameGrid = ds.N === d.N && ds.C === d.C && ds.H === d.H && ds.W === d.W && ds.O === d.O && ds.OH === d.OH && ds.OW === d.OW;
  return sameGrid && ds.KH === 1 && ds.KW === 1 && ds.stride === 2 && ds.pad === 0;
}

/** x's gradient of a pair from both output gradients in one pass (the node that runs second; shortcutGradFusable held). */
function pairInputGrad(pair: ShortcutGradPair, first: 'main' | 'shortcut', dyMain: Tensor, dySc: Tensor, ctx: BackwardContext, cfg: ConvConfig): Tensor {
  const { main, shortcut } = pair;
  const acc = ctx.accumulator?.(0) ?? null;
  if (acc) {
    // a third consumer's part is already there: both parts added into it in the order the nodes ran,
    // as two unpaired convs would (the same bits)
    const addMain = () => conv2dInputGradInto(dyMain, main.w, acc, main.d, cfg, true, main.packs?.inputGrad);
    const addShortcut = () => conv2dInputGradInto(dySc, shortcut.w, acc, shortcut.d, cfg, true);
    if (!(first === 'main' ? addMain() && addShortcut() : addShortcut() && addMain())) {
      throw new Error('conv2d: a fusable shortcut pair could not accumulate its input gradient');
    }
    return acc;
  }
  const dx = ctx.gradOutput(0);
  // the shortcut's weights packed as a one-tap kernel (flipped = transposed), as class (0, 0)'s
  const wp = packConvWeights(shortcut.w, true, cfg, { kh0: 0, kw0: 0, step: 2, KHp: 1, KWp: 1 });
  inputGradRow4(dyMain, main.w, dx, main.d, cfg, false, main.packs?.inputGrad, { dy: dySc, wp });
  pair.lastInputGrad = 'fused';
  return dx;
}

/** x's gradient of one conv alone, added into the gradient another consumer of x already produced (residual blocks) where the kernel can. */
function ownInputGrad(dy: Tensor, w: Tensor, d: ConvDims, ctx: BackwardContext, cfg: ConvConfig, packs: ConvPacks | null): Tensor {
  const acc = ctx.accumulator?.(0) ?? null;
  // the weight gradient, next, reads dy through a mirror: let this launch make it (it reads it too)
  const share = ctx.needsGrad(1) && weightGradMirrorsDy(dy, d, cfg);
  if (acc && conv2dInputGradInto(dy, w, acc, d, cfg, true, packs?.inputGrad, share)) return acc;
  const dx = ctx.gradOutput(0);
  conv2dInputGradInto(dy, w, dx, d, cfg, false, packs?.inputGrad, share);
  return dx;
}

/**
 * The backward of one node of a shortcut pair (inputs [x, w, bias?, partner's weight]). The first to
 * run in a pass computes what cannot be fused and leaves the rest to its partner (ctx.deferTo, which
 * makes the engine check that the partner runs); the second computes its own part and what was left.
 */
function pairBackward(x: Tensor, bias: Tensor | null, pair: ShortcutGradPair, role: 'main' | 'shortcut', dy: Tensor, ctx: BackwardContext, cfg: ConvConfig): (Tensor | null)[] {
  const { main, shortcut } = pair;
  const me = role === 'main' ? main : shortcut;
  const partnerIdx = bias ? 3 : 2;
  const grads: (Tensor | null)[] = bias ? [null, null, null, null] : [null, null, null];
  let input = false; // x's gradient is left to the partner, or computed here for both
  let weights = false;
  const left = pair.waiting;
  pair.waiting = null;
  if (left && left.role !== role && left.pass === ctx.pass) {
    // the second node: its own part and what the first left
    const [dyMain, dySc] = role === 'main' ? [dy, left.dy] : [left.dy, dy];
    if (left.input) grads[0] = pairInputGrad(pair, left.role, dyMain, dySc, ctx, cfg);
    if (left.weights) {
      const [iMain, iSc] = role === 'main' ? [1, partnerIdx] : [partnerIdx, 1];
      const [dwMain, dwSc] = [ctx.gradOutput(iMain), ctx.gradOutput(iSc)];
      pairWeightGradInto(x, dyMain, dwMain, main.d, dySc, dwSc, cfg);
      [grads[iMain], grads[iSc]] = [dwMain, dwSc];
      pair.lastWeightGrad = 'fused';
    }
    [input, weights] = [left.input, left.weights];
  } else {
    // the first node (or one whose partner never ran in the pass that deferred: start afresh)
    pair.lastInputGrad = 'apart';
    pair.lastWeightGrad = 'apart';
    input = ctx.needsGrad(0) && shortcutGradFusable(main.d, shortcut.d, cfg);
    weights = ctx.needsGrad(1) && ctx.needsGrad(partnerIdx) && shortcutWeightGradFusable(main.d, shortcut.d, cfg, x.gpu.device.limits.maxStorageBufferBindingSize);
    if ((input || weights) && ctx.deferTo?.(role === 'main' ? shortcut.y : main.y)) pair.waiting = { role, dy, pass: ctx.pass, input, weights };
    else input = weights = false;
  }
  if (!input && ctx.needsGrad(0)) grads[0] = ownInputGrad(dy, me.w, me.d, ctx, cfg, me.packs);
  if (!weights && ctx.needsGrad(1)) weightGradFromSource(x, dy, (grads[1] = ctx.gradOutput(1)), me.d, cfg);
  if (bias && ctx.needsGrad(2)) conv2dBiasGradInto(dy, (grads[2] = ctx.gradOutput(2)), me.d, cfg);
  return grads;
}

/** Attach conv2d's backward (dx, dw, db as needed) to y = conv(x, w) + bias. */
function recordConv2d(x: Tensor, w: Tensor, bias: Tensor | null, y: Tensor, d: ConvDims, cfg: ConvConfig, packs: ConvPacks | null): Tensor {
  const inputs = bias ? [x, w, bias] : [x, w];
  return record('conv2d', inputs, y, (dy, ctx) => {
    const dx = ctx.needsGrad(0) ? ownInputGrad(dy, w, d, ctx, cfg, packs) : null;
    let dw: Tensor | null = null;
    let db: Tensor | null = null;
    if (ctx.needsGrad(1)) weightGradFromSource(x, dy, (dw = ctx.gradOutput(1)), d, cfg);
    if (bias && ctx.needsGrad(2)) conv2dBiasGradInto(dy, (db = ctx.gradOutput(2)), d, cfg);
    return bias ? [dx, dw, db] : [dx, dw];
  });
}

/** Attach the backward of one output of conv2dWithShortcut (pairBackward); its inputs end with the partner's weight. */
function recordPairConv2d(x: Tensor, w: Tensor, bias: Tensor | null, y: Tensor, pair: ShortcutGradPair, role: 'main' | 'shortcut', cfg: ConvConfig): Tensor {
  const partner = role === 'main' ? pair.shortcut.w : pair.main.w;
  const inputs = bias ? [x, w, bias, partner] : [x, w, partner];
  return record('conv2d', inputs, y, (dy, ctx) => pairBackward(x, bias, pair, role, dy, ctx, cfg));
}

/**
 * Should a model have its BatchNorms write stride-2 copies for the projection shortcuts that read their
 * outputs (config stride2Copies)? Only while recording gradients: a copy lives in the scope of the
 * tensor it copies, and without gradients the models free each stage's tensors early (stage()).
 */
export function wantStride2Copies(): boolean {
  return config.stride2Copies && isGradEnabled();
}

/**
 * What conv d reads: x's stride-2 copy and the stride-1 dims over it, for a 1x1 stride-2 conv with no
 * padding where x has a current copy (stride2CopyOf) and cfg.stride2Copies; else x and d. The same
 * output grid and the same products in the same order: the same bits.
 */
function sourceOf(x: Tensor, d: ConvDims, cfg: ConvConfig): { x: Tensor; d: ConvDims } {
  const copy = copyRead(x, d, cfg);
  return copy ? { x: copy, d: { ...d, H: d.OH, W: d.OW, stride: 1 } } : { x, d };
}

/** The stride-2 copy of x that conv d reads under cfg (sourceOf), or null. */
function copyRead(x: Tensor, d: ConvDims, cfg: ConvConfig): Tensor | null {
  if (!cfg.stride2Copies || d.KH !== 1 || d.KW !== 1 || d.stride !== 2 || d.pad !== 0) return null;
  const copy = stride2CopyOf(x);
  return copy && copy.shape[2] === d.OH && copy.shape[3] === d.OW ? copy : null;
}

/** Would conv2d(x, w, null, opts) read x's stride-2 copy rather than x, under the current configuration (the bench's trace)? */
export function conv2dReadsStride2Copy(x: Tensor, w: Tensor, opts: Conv2dOptions): boolean {
  return copyRead(x, convDims('conv2d', x, w, null, opts), config) !== null;
}

/** Launch conv d's weight gradient (both split-K passes) from what it reads (sourceOf). */
function weightGradFromSource(x: Tensor, dy: Tensor, dw: Tensor, d: ConvDims, cfg: ConvConfig): void {
  const src = sourceOf(x, d, cfg);
  conv2dWeightGradInto(src.x, dy, dw, src.d, cfg);
}

/** Launch conv d's forward from what it reads (sourceOf). */
function forwardFromSource(x: Tensor, w: Tensor, bias: Tensor | null, y: Tensor, d: ConvDims, cfg: ConvConfig, packed?: Tensor): void {
  const src = sourceOf(x, d, cfg);
  conv2dForwardInto(src.x, w, bias, y, src.d, cfg, packed);
}

/** Where x's gradient will be needed, pack w for both directions in one dispatch now. */
function packsFor(x: Tensor, w: Tensor, d: ConvDims, cfg: ConvConfig): ConvPacks | null {
  return isGradEnabled() && x.requiresGrad ? packConvWeightsAll(w, d, cfg) : null;
}

/**
 * y = conv2d(x, w) + bias. x [N,C,H,W], w [O,C,KH,KW], bias [O] or null; returns [N,O,OH,OW].
 * Records a backward that computes dx, dw and db as needed.
 */
export function conv2d(x: Tensor, w: Tensor, bias: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const d = convDims('conv2d', x, w, bias, opts);
  const cfg = config;
  const y = Tensor.empty(x.gpu, [d.N, d.O, d.OH, d.OW], 'f32', 'conv2d');
  const packs = packsFor(x, w, d, cfg);
  forwardFromSource(x, w, bias, y, d, cfg, packs?.forward);
  return recordConv2d(x, w, bias, y, d, cfg, packs);
}

/**
 * Can conv2d_forward_row4's `shortcut` variant run conv d (a stride-2 conv on the row kernel, plainly
 * packed, 4-column tiles, broadcast weights, 8 or more channels per invocation) together with the
 * 1x1 stride-2 conv ds of the same input to the same output grid?
 */
function shortcutFusable(d: ConvDims, ds: ConvDims, cfg: ConvConfig): boolean {
  if (!cfg.fuseShortcut || d.stride !== 2 || !forwardRowPlain(d, cfg) || d.pad >= d.KH || d.pad >= d.KW) return false;
  const OB = rowChannelsFor(d.O, cfg);
  const tile = rowTile(d.OW, d.stride, OB, false, cfg);
  return OB >= 8 && !tile.cols8 && tile.WDIRECT === 0 && isProjectionOf(ds, d);
}

/** Would conv2dWithShortcut(x, w, bias, opts, wsc) run as one launch under the current configuration? */
export function conv2dFusesShortcut(x: Tensor, w: Tensor, bias: Tensor | null, opts: Conv2dOptions, wsc: Tensor): boolean {
  return shortcutFusable(convDims('conv2d', x, w, bias, opts), convDims('conv2d (shortcut)', x, wsc, null, { stride: 2 }), config);
}

/**
 * A ResNet block's first conv and its projection shortcut, both reading x: [conv2d(x, w, bias,
 * opts), conv2d(x, wsc, null, { stride: 2 })]. Where shortcutFusable allows, one launch computes
 * both (the shortcut's 1x1 stride-2 taps are the first conv's centre taps), else two. In the
 * backward, where shortcutGradFusable allows, x's gradient is one pass over both output gradients
 * (ShortcutGradPair). Either way the same bits as the two convs apart.
 */
export function conv2dWithShortcut(x: Tensor, w: Tensor, bias: Tensor | null, opts: Conv2dOptions, wsc: Tensor): [Tensor, Tensor] {
  const d = convDims('conv2d', x, w, bias, opts);
  const ds = convDims('conv2d (shortcut)', x, wsc, null, { stride: 2 });
  const cfg = config;
  const y = Tensor.empty(x.gpu, [d.N, d.O, d.OH, d.OW], 'f32', 'conv2d');
  const ysc = Tensor.empty(x.gpu, [ds.N, ds.O, ds.OH, ds.OW], 'f32', 'conv2d');
  const packs = packsFor(x, w, d, cfg);
  let packsSc: ConvPacks | null;
  if (shortcutFusable(d, ds, cfg)) {
    const wp = packs?.forward ?? packConvWeights(w, false, cfg);
    // the `shortcut` variant: y from the packed w, and ysc from wsc as it is ([O, C])
    launchRow4(x, wp, bias, y, d, cfg, false, false, { wsc, ysc });
    packsSc = packsFor(x, wsc, ds, cfg);
  } else {
    conv2dForwardInto(x, w, bias, y, d, cfg, packs?.forward);
    packsSc = packsFor(x, wsc, ds, cfg);
    forwardFromSource(x, wsc, null, ysc, ds, cfg, packsSc?.forward);
  }
  if (!isGradEnabled() || ![x, w, wsc].some((t) => t.requiresGrad)) return [recordConv2d(x, w, bias, y, d, cfg, packs), recordConv2d(x, wsc, null, ysc, ds, cfg, packsSc)];
  const of: ShortcutGradPair = { main: { y, w, d, packs }, shortcut: { y: ysc, w: wsc, d: ds, packs: packsSc }, waiting: null, lastInputGrad: null, lastWeightGrad: null };
  shortcutPairs.set(y, of);
  shortcutPairs.set(ysc, of);
  return [recordPairConv2d(x, w, bias, y, of, 'main', cfg), recordPairConv2d(x, wsc, null, ysc, of, 'shortcut', cfg)];
}
