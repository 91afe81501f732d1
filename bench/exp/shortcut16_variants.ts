// Experiment on record (2026-12-07): where the 16->32 projection shortcut's two kernels that miss 25%
// of the FMA ceiling on lavapipe spend their time (docs/writing-kernels.md).
//   npx vite-node bench/exp/shortcut16_variants.ts [--rounds N]
//
// 1. The stride-2 forward, conv2d_pointwise_tile (variant `down`), against scratch variants made by
//    text substitution: `noload` (synthetic source values, no x loads), `r1` (one dst channel of 32:
//    the loads and one channel's arithmetic and stores), `img0` (every tile reads x from the first two
//    images: 128 KiB, cache-resident), `nostore` (one store at the end instead of one per channel).
// 2. The weight gradient on conv2d_weight_grad_pointwise's variant c16 against conv2d_weight_grad_row4
//    (x from storage in both; the reduce pass is the same and not timed).
// The variants are written into a copy of shaders/ (EARLY_PHASE_SHADERS), captured once through the
// runtime and replayed alternately, round by round, in one process (the VM's noise is large); each
// round times 10 replays after a warm-up, and the best and median round are printed. Variants with
// other values are timing only.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '14' } } });
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 3) throw new Error(`--rounds must be an integer >= 3 (got ${values.rounds})`);

const shipped = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shaders');
const dir = mkdtempSync(join(tmpdir(), 'ep-shortcut16-'));
cpSync(shipped, dir, { recursive: true });
const must = (code: string, from: string, to: string): string => {
  if (!code.includes(from)) throw new Error(`substitution target not found: ${from}`);
  return code.split(from).join(to);
};
const tile = readFileSync(join(shipped, 'conv2d_pointwise_tile.wgsl'), 'utf8');
const io = readFileSync(join(shipped, 'include', 'pointwise_io.wgsl'), 'utf8');
const withIo = (name: string, ioCode: string) => {
  writeFileSync(join(dir, 'include', `pointwise_io_${name}.wgsl`), ioCode);
  writeFileSync(join(dir, `conv2d_pointwise_tile_${name}.wgsl`), must(tile, '// #include "pointwise_io.wgsl"', `// #include "pointwise_io_${name}.wgsl"`));
};
withIo('noload', must(io, '    let a = evens(src[si + s.sA]);\n    let c = evens(src[si + s.sB]);', '    let v = vec4f(f32(si));\n    let a = array<vec4f, 2>(v, v + 1.0);\n    let c = array<vec4f, 2>(v + 2.0, v + 3.0);'));
withIo('img0', must(io, 'return SourceAt(n * p.K * plane', 'return SourceAt((n % 2u) * p.K * plane'));
writeFileSync(join(dir, 'conv2d_pointwise_tile_r1.wgsl'), must(tile, 'for (var i = 0u; i < RB; i++) {', 'for (var i = 0u; i < 1u; i++) {'));
{
  let ns = must(tile, '    if (gi < tileCount()) { storeTile(acc, n, f0, r); }', '    tot.a += acc.a; tot.b += acc.b; tot.c += acc.c; tot.d += acc.d;');
  ns = must(ns, '  for (var i = 0u; i < RB; i++) {', '  var tot = Q16();\n  for (var i = 0u; i < RB; i++) {');
  ns = ns.trimEnd();
  writeFileSync(join(dir, 'conv2d_pointwise_tile_nostore.wgsl'), `${ns.slice(0, -1)}  if (gi < tileCount()) { storeTile(tot, n, f0, r0); }\n}\n`);
}
process.env.EARLY_PHASE_SHADERS = dir;

// (imported after the variants exist: the runtime finds shaders/ once, on its first kernel)
const { Gpu } = await import('../../src/gpu/runtime.js');
const { GpuTimer, timeGpu } = await import('../../src/gpu/timer.js');
const { Tensor } = await import('../../src/tensor/tensor.js');
const { conv2d, conv2dWeightGradInto, defaultConvConfig, rowMirrorsAllowed, setConvConfig } = await import('../../src/ops/conv2d.js');
const { capture, replay } = await import('../capture.js');
type Recorded = import('../capture.js').Recorded;

const gpu = await Gpu.create();
const timer = new GpuTimer(gpu, 64);
async function race(title: string, entries: [string, Recorded[]][]): Promise<void> {
  const t = new Map<string, number[]>(entries.map(([n]) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, work] of entries) t.get(name)!.push((await timeGpu(timer, () => replay(gpu, work), { warmup: 1, reps: 10 })).ms);
  }
  console.log(title);
  for (const [name] of entries) {
    const s = t.get(name)!.sort((a, b) => a - b);
    console.log(`  ${name.padEnd(40)} best ${s[0].toFixed(3)} ms  median ${s[s.length >> 1].toFixed(3)} ms`);
  }
}
const dispatches = (work: Recorded[], prefix: string) => work.filter((w) => w.kind === 'dispatch' && w.name.startsWith(prefix));
const renamed = (work: Recorded[], name: string) => work.map((w) => (w.kind === 'dispatch' ? { ...w, name } : w));

try {
  const x = Tensor.fromArray(gpu, Float32Array.from({ length: 128 * 16 * 32 * 32 }, (_, i) => Math.sin(i)), [128, 16, 32, 32]);
  const w = Tensor.fromArray(gpu, Float32Array.from({ length: 32 * 16 }, (_, i) => Math.cos(i)), [32, 16, 1, 1]);
  setConvConfig({}); // the defaults
  const fwd = dispatches(capture(gpu, () => conv2d(x, w, null, { stride: 2, padding: 0 })).work, 'conv2d_pointwise_tile');
  if (fwd.length !== 1) throw new Error('the 16->32 stride-2 forward did not run on conv2d_pointwise_tile');
  await race('16->32 1x1 stride-2 forward, batch 128 (conv2d_pointwise_tile, down)', [
    ['shipped', fwd],
    ...(['noload', 'r1', 'img0', 'nostore'] as const).map((v): [string, Recorded[]] => [v, renamed(fwd, `conv2d_pointwise_tile_${v}`)]),
  ]);

  if (!rowMirrorsAllowed(gpu)) {
    console.log('weight gradient: conv2d_weight_grad_pointwise needs 8-wide subgroups; not on this adapter');
  } else {
    const dy = Tensor.fromArray(gpu, Float32Array.from({ length: 128 * 32 * 16 * 16 }, (_, i) => Math.cos(i)), [128, 32, 16, 16]);
    const dw = Tensor.empty(gpu, [32, 16, 1, 1]);
    const d = { N: 128, C: 16, H: 32, W: 32, O: 32, OH: 16, OW: 16, KH: 1, KW: 1, stride: 2, pad: 0 };
    const pass1 = (weightGradPointwise: boolean) =>
      capture(gpu, () => conv2dWeightGradInto(x, dy, dw, d, { ...defaultConvConfig, weightGradTextures: false, weightGradPointwise })).work.filter((r) => r.kind === 'dispatch' && r.name !== 'conv2d_weight_grad_reduce');
    await race('16->32 1x1 stride-2 weight gradient, batch 128, split-K pass 1 (x from storage)', [
      ['conv2d_weight_grad_pointwise (c16)', pass1(true)],
      ['conv2d_weight_grad_row4', pass1(false)],
    ]);
  }
} finally {
  timer.destroy();
  gpu.destroy();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
