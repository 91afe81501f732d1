// Experiment on record (2026-12-08): would half-precision storage pay on lavapipe? ResNet-20's 16->32
// projection shortcut's weight gradient (the one conv kernel of a step under 25% of the FMA ceiling:
// its loads, not its multiply-adds, bound it) with its operands stored as packed f16 pairs.
//   npx vite-node bench/exp/shortcut16_f16.ts [--rounds N]
//
// Split-K pass 1 over x's stride-2 copy [128,16,16,16] and dy [128,32,16,16], four ways, captured once
// and replayed alternately round by round in one process (each round times 10 replays after a
// warm-up; the best and the median round are printed):
//   f32        the shipped kernel (conv2d_weight_grad_pointwise, variant c16, x from storage)
//   f16        bench/exp/conv2d_weight_grad_pointwise_f16.wgsl: x and dy as packed f16 pairs, an
//              8-column tile a trip (6 vec4u loads a lane for what takes the f32 kernel 12 vec4s)
//   f16 dy     the same with x in f32 (two vec4f a channel a tile): only dy packed
//   f16 x      the same with dy in f32: only x packed
// Before timing, the f16 kernel's partials (summed over chunks) are checked against float64 sums of
// the same f16-rounded inputs, and the f16 rounding's effect on the gradient is printed.
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' } } });
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 3) throw new Error(`--rounds must be an integer >= 3 (got ${values.rounds})`);

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ep-shortcut16-f16-'));
cpSync(join(here, '..', '..', 'shaders'), dir, { recursive: true });
const KERNEL = 'conv2d_weight_grad_pointwise_f16';
copyFileSync(join(here, `${KERNEL}.wgsl`), join(dir, `${KERNEL}.wgsl`));
const must = (code: string, from: string, to: string): string => {
  if (!code.includes(from)) throw new Error(`substitution target not found: ${from}`);
  return code.split(from).join(to);
};
{
  const src = readFileSync(join(here, `${KERNEL}.wgsl`), 'utf8');
  // only dy packed: x read as f32, two vec4f a channel a tile
  let dyOnly = must(src, '@group(0) @binding(0) var<storage, read> xh: array<vec4u>;', '@group(0) @binding(0) var<storage, read> xf: array<vec4f>;\nfn xAt(i: u32) -> H8 { return H8(xf[2u * i], xf[2u * i + 1u]); }');
  dyOnly = must(must(dyOnly, 'unpack8(xh[xbase + k * cs])', 'xAt(xbase + k * cs)'), 'unpack8(xh[xbase + (k + 8u) * cs])', 'xAt(xbase + (k + 8u) * cs)');
  writeFileSync(join(dir, `${KERNEL}_dy.wgsl`), dyOnly);
  // only x packed: dy read as f32
  let xOnly = must(src, '@group(0) @binding(2) var<storage, read> dyh: array<vec4u>;', '@group(0) @binding(2) var<storage, read> dyf: array<vec4f>;\nfn dyAt(i: u32) -> H8 { return H8(dyf[2u * i], dyf[2u * i + 1u]); }');
  for (const off of ['k', 'k + 8u', 'k + 16u', 'k + 24u']) xOnly = must(xOnly, `unpack8(dyh[dbase + min(o0 + ${off}, p.O - 1u) * cs])`, `dyAt(dbase + min(o0 + ${off}, p.O - 1u) * cs)`);
  writeFileSync(join(dir, `${KERNEL}_x.wgsl`), xOnly);
}
process.env.EARLY_PHASE_SHADERS = dir;

// (imported after the variants exist: the runtime finds shaders/ once, on its first kernel)
const { Gpu } = await import('../../src/gpu/runtime.js');
const { GpuTimer, timeGpu } = await import('../../src/gpu/timer.js');
const { Tensor } = await import('../../src/tensor/tensor.js');
const { conv2dWeightGradInto, defaultConvConfig, rowMirrorsAllowed } = await import('../../src/ops/conv2d.js');
const { capture, replay } = await import('../capture.js');
type Recorded = import('../capture.js').Recorded;

/** IEEE half-precision bits of v (round to nearest even; the test data has no subnormals or overflow). */
function halfBits(v: number): number {
  const u = new Uint32Array(new Float32Array([v]).buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 112;
  if (exp <= 0 || exp >= 31) throw new Error(`halfBits: ${v} is outside the normal half range`);
  const h = (exp << 10) | ((u >>> 13) & 0x3ff);
  const rest = u & 0x1fff;
  return sign | (rest > 0x1000 || (rest === 0x1000 && (h & 1)) ? h + 1 : h);
}
function halfValue(h: number): number {
  return (h & 0x8000 ? -1 : 1) * (1 + (h & 0x3ff) / 1024) * 2 ** (((h >>> 10) & 0x1f) - 15);
}
/** Pairs of consecutive values as pack2x16float packs them. */
function packHalves(a: Float32Array): Uint32Array {
  const u = new Uint32Array(a.length / 2);
  for (let i = 0; i < u.length; i++) u[i] = (halfBits(a[2 * i]) | (halfBits(a[2 * i + 1]) << 16)) >>> 0;
  return u;
}

const gpu = await Gpu.create();
const timer = new GpuTimer(gpu, 64);
try {
  if (!rowMirrorsAllowed(gpu)) throw new Error('conv2d_weight_grad_pointwise needs 8-wide subgroups; not on this adapter');
  const N = 128, C = 16, O = 32, H = 16, W = 16;
  // values in +-[1/16, 1/2): normal halves
  const values = (len: number, phase: number) => Float32Array.from({ length: len }, (_, i) => (Math.sin(i * 0.7 + phase) >= 0 ? 1 : -1) * (0.0625 + 0.4375 * Math.abs(Math.sin(i * 1.3 + phase))));
  const xa = values(N * C * H * W, 0.1);
  const da = values(N * O * H * W, 0.2);
  const x = Tensor.fromArray(gpu, xa, [N, C, H, W]);
  const dy = Tensor.fromArray(gpu, da, [N, O, H, W]);
  const xh = Tensor.fromArray(gpu, packHalves(xa), [xa.length / 2], 'u32');
  const dyh = Tensor.fromArray(gpu, packHalves(da), [da.length / 2], 'u32');
  const dw = Tensor.empty(gpu, [O, C, 1, 1]);
  const d = { N, C, H, W, O, OH: H, OW: W, KH: 1, KW: 1, stride: 1, pad: 0 };
  const f32 = capture(gpu, () => conv2dWeightGradInto(x, dy, dw, d, { ...defaultConvConfig, weightGradTextures: false })).work.filter(
    (r) => r.kind === 'dispatch' && r.name !== 'conv2d_weight_grad_reduce',
  );
  const shipped = f32[0];
  if (f32.length !== 1 || shipped.kind !== 'dispatch' || shipped.args.variant !== 'c16') throw new Error('the shipped pass 1 did not run as conv2d_weight_grad_pointwise c16');
  const grid = shipped.args.workgroups;
  const nchunks = typeof grid === 'number' ? 1 : (grid[2] ?? 1);
  const chunk = Number(shipped.args.uniforms?.chunk) / 2; // the same chunks, in 8-column tiles
  const part = Tensor.empty(gpu, [nchunks, O, C]);
  const launch = (kernel: string, xb: Record<string, typeof x>, dyb: Record<string, typeof x>): Recorded[] =>
    capture(gpu, () => gpu.dispatch(kernel, { bindings: { ...xb, ...dyb, part }, uniforms: { N, C, H, W, O, OH: H, OW: W, chunk }, workgroups: [1, 1, nchunks] })).work;
  const half = launch(KERNEL, { xh }, { dyh });

  // the f16 kernel against float64 sums of the same rounded inputs, and the rounding's effect
  const got = new Float32Array(await part.read());
  const xr = xa.map((v) => halfValue(halfBits(v)));
  const dr = da.map((v) => halfValue(halfBits(v)));
  let errKernel = 0, errRounding = 0, scale = 0;
  for (let o = 0; o < O; o++) {
    for (let c = 0; c < C; c++) {
      let rounded = 0, exact = 0, sum = 0, size = 0;
      for (let n = 0; n < N; n++) {
        for (let i = 0; i < H * W; i++) {
          const a = (n * O + o) * H * W + i, b = (n * C + c) * H * W + i;
          rounded += dr[a] * xr[b];
          size += Math.abs(dr[a] * xr[b]);
          exact += da[a] * xa[b];
        }
      }
      for (let q = 0; q < nchunks; q++) sum += got[(q * O + o) * C + c];
      errKernel = Math.max(errKernel, Math.abs(sum - rounded) / size); // f32 rounding of the sums: ~1e-6 of the terms' size; one 8-column tile missing: 2.4e-4
      errRounding = Math.max(errRounding, Math.abs(rounded - exact));
      scale = Math.max(scale, Math.abs(exact));
    }
  }
  if (!(errKernel < 1e-5)) throw new Error(`the f16 kernel is wrong: error ${errKernel} (of the terms' size) against float64 on its rounded inputs`);
  console.log(`f16 kernel: within ${errKernel.toExponential(1)} of the terms' size of float64 on its rounded inputs; the rounding moves the gradient by up to ${errRounding.toExponential(2)} (largest entry ${scale.toFixed(1)})`);

  const entries: [string, Recorded[]][] = [
    ['f32 (shipped c16)', f32],
    ['f16 (x and dy packed)', half],
    ['f16 dy (x f32)', launch(`${KERNEL}_dy`, { xf: x }, { dyh })],
    ['f16 x (dy f32)', launch(`${KERNEL}_x`, { xh }, { dyf: dy })],
  ];
  const t = new Map<string, number[]>(entries.map(([n]) => [n, []]));
  for (let r = 0; r < rounds; r++) for (const [name, work] of entries) t.get(name)!.push((await timeGpu(timer, () => replay(gpu, work), { warmup: 1, reps: 10 })).ms);
  const flops = 2 * N * H * W * O * C;
  console.log(`16->32 1x1 weight gradient from x's stride-2 copy, batch 128, split-K pass 1 (${(flops / 1e6).toFixed(1)} MFLOP)`);
  for (const [name] of entries) {
    const s = t.get(name)!.sort((a, b) => a - b);
    const med = s[s.length >> 1];
    console.log(`  ${name.padEnd(24)} best ${s[0].toFixed(3)} ms  median ${med.toFixed(3)} ms  (${(flops / (s[0] * 1e6)).toFixed(1)} / ${(flops / (med * 1e6)).toFixed(1)} GFLOP/s)`);
  }
} finally {
  timer.destroy();
  gpu.destroy();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
