// Conv2d kernel variants on record, timed at the ResNet-20 / CIFAR-10 batch-128 shapes, against
// lavapipe's measured FMA ceiling.   npx vite-node bench/conv2d_variants.ts [regex over 'kind variant', e.g. 'dw|fwd row4']
//
// FLOPs are useful FLOPs only: 2*N*O*OH*OW*C*KH*KW (padding taps and masked lanes don't count).
// Timing: R back-to-back dispatches in one submit, wall clock to onSubmittedWorkDone, median of 5
// reps after a warm-up (GFLOP/s and % of ceiling use it); the best rep is printed too, since other
// processes sharing the cores only ever add time. The ceiling is the fastest rep of the best
// micro-kernel shape, so % of ceiling errs low on a busy machine. Compare variants within one run.
//
// Variants (kernels kept in bench/conv2d/, the shipped ones in shaders/):
import { Gpu, type DispatchArgs } from '../src/gpu/runtime.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { conv2dForwardInto, conv2dInputGradInto, conv2dOutputSize, conv2dWeightGradInto, getConvConfig, type ConvDims } from '../src/ops/conv2d.js';
import { VARIANTS, type Kind } from './conv2d/variants.js';

const filter = process.argv[2] ?? '';
const gpu = await Gpu.create();

/**
 * Per-dispatch wall time of `run` over 5 reps of R back-to-back runs (each rep awaits
 * onSubmittedWorkDone): the median, and the fastest rep (other processes competing for the cores
 * only ever add time, so `min` is the steadier figure on a shared machine).
 */
async function timeMs(run: () => void, minMs = 120): Promise<{ median: number; min: number }> {
  const scoped = () => Scope.run(run);
  scoped();
  await gpu.sync();
  let t0 = performance.now();
  scoped();
  await gpu.sync();
  const one = performance.now() - t0;
  const R = Math.max(1, Math.min(50, Math.ceil(minMs / Math.max(one, 0.05))));
  const ts: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    t0 = performance.now();
    for (let i = 0; i < R; i++) scoped();
    await gpu.sync();
    ts.push((performance.now() - t0) / R);
  }
  ts.sort((a, b) => a - b);
  return { median: ts[2], min: ts[0] };
}

// --- FMA ceiling: CHAINS independent vec4 FMA chains per invocation, best of a few shapes.
async function fmaCeiling(): Promise<number> {
  const inv = 32768;
  const iters = 1500;
  const out = Tensor.empty(gpu, [inv]);
  let best = 0;
  for (const [WG, CHAINS] of [[64, 4], [64, 8], [128, 8], [64, 12], [256, 12]]) {
    const t = await timeMs(() =>
      gpu.dispatch('../bench/conv2d/fma_peak', { bindings: { out }, uniforms: { iters, m: 0.9999, c: 1e-4 }, workgroups: inv / WG, overrides: { WG, CHAINS } }),
    );
    const flops = inv * iters * CHAINS * 8;
    console.log(`  fma_peak WG=${WG} chains=${CHAINS}: ${(flops / t.median / 1e6).toFixed(1)} GFLOP/s (median), ${(flops / t.min / 1e6).toFixed(1)} (best rep)`);
    best = Math.max(best, flops / t.min / 1e6); // the ceiling is a peak: its fastest rep (conservative %)
  }
  return best;
}

interface Shape {
  name: string;
  d: ConvDims;
}
function shape(name: string, C: number, O: number, H: number, K: number, stride: number, pad: number): Shape {
  const [OH, OW] = conv2dOutputSize(H, H, K, K, stride, pad);
  return { name, d: { N: 128, C, H, W: H, O, OH, OW, KH: K, KW: K, stride, pad } };
}
const SHAPES: Shape[] = [
  shape('stem 3->16 3x3 32x32', 3, 16, 32, 3, 1, 1),
  shape('16->16 3x3 32x32', 16, 16, 32, 3, 1, 1),
  shape('16->32 3x3 s2 32x32', 16, 32, 32, 3, 2, 1),
  shape('32->32 3x3 16x16', 32, 32, 16, 3, 1, 1),
  shape('32->64 3x3 s2 16x16', 32, 64, 16, 3, 2, 1),
  shape('64->64 3x3 8x8', 64, 64, 8, 3, 1, 1),
  shape('1x1 s2 16->32 32x32', 16, 32, 32, 1, 2, 0),
  shape('1x1 s2 32->64 16x16', 32, 64, 16, 1, 2, 0),
];

function rand(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

export interface Operands {
  x: Tensor;
  w: Tensor;
  dy: Tensor;
  out: Tensor; // y, dx or dw
}

const SHIPPED: Record<Kind, (o: Operands, d: ConvDims) => void> = {
  fwd: (o, d) => conv2dForwardInto(o.x, o.w, null, o.out, d),
  dx: (o, d) => conv2dInputGradInto(o.dy, o.w, o.out, d),
  dw: (o, d) => conv2dWeightGradInto(o.x, o.dy, o.out, d),
};

console.log(`device: ${gpu.dev.description.description || gpu.dev.description.device} (${gpu.dev.description.vendor})`);
console.log(`config: ${JSON.stringify(getConvConfig())}`);
console.log('FMA ceiling micro-kernel:');
const ceiling = await fmaCeiling();
console.log(`ceiling: ${ceiling.toFixed(1)} GFLOP/s (fastest rep of the best shape)\n`);

const rows: string[] = [];
const pad = (s: string, n: number) => s.padEnd(n);
rows.push(`${pad('kernel', 6)} ${pad('variant', 20)} ${pad('shape', 22)} ${'ms'.padStart(8)} ${'best ms'.padStart(8)} ${'GFLOP/s'.padStart(8)} ${'%ceil'.padStart(6)}`);
for (const kind of ['fwd', 'dx', 'dw'] as Kind[]) {
  const variants: [string, (o: Operands, d: ConvDims) => void, ((d: ConvDims) => boolean) | undefined][] = [[`shipped`, SHIPPED[kind], undefined]];
  for (const v of VARIANTS.filter((v) => v.kind === kind)) variants.push([v.name, v.launch, v.supports]);
  for (const s of SHAPES) {
    const d = s.d;
    const scope = Scope.open();
    const ops: Operands = {
      x: Tensor.fromArray(gpu, rand(d.N * d.C * d.H * d.W), [d.N, d.C, d.H, d.W]),
      w: Tensor.fromArray(gpu, rand(d.O * d.C * d.KH * d.KW), [d.O, d.C, d.KH, d.KW]),
      dy: Tensor.fromArray(gpu, rand(d.N * d.O * d.OH * d.OW), [d.N, d.O, d.OH, d.OW]),
      out: Tensor.empty(gpu, kind === 'fwd' ? [d.N, d.O, d.OH, d.OW] : kind === 'dx' ? [d.N, d.C, d.H, d.W] : [d.O, d.C, d.KH, d.KW]),
    };
    const flops = 2 * d.N * d.O * d.OH * d.OW * d.C * d.KH * d.KW;
    let ref: Float32Array | null = null;
    for (const [name, launch, supports] of variants) {
      if (filter && !new RegExp(filter).test(`${kind} ${name}`) && name !== 'shipped') continue;
      if (supports && !supports(d)) continue;
      const t = await timeMs(() => launch(ops, d));
      // check against the shipped kernel's output
      const got = await ops.out.readF32();
      let note = '';
      if (!ref) ref = got;
      else {
        let err = 0;
        let mag = 0;
        for (let i = 0; i < ref.length; i++) {
          err = Math.max(err, Math.abs(got[i] - ref[i]));
          mag = Math.max(mag, Math.abs(ref[i]));
        }
        if (!(err <= 1e-4 * mag + 1e-4)) note = `  MISMATCH max err ${err.toExponential(2)}`;
      }
      const gf = flops / t.median / 1e6;
      rows.push(`${pad(kind, 6)} ${pad(name, 20)} ${pad(s.name, 22)} ${t.median.toFixed(2).padStart(8)} ${t.min.toFixed(2).padStart(8)} ${gf.toFixed(1).padStart(8)} ${((100 * gf) / ceiling).toFixed(0).padStart(5)}%${note}`);
      console.log(rows[rows.length - 1]);
    }
    scope.close();
  }
}
console.log(`\nceiling ${ceiling.toFixed(1)} GFLOP/s\n` + rows.join('\n'));
gpu.destroy();
process.exit(0);
