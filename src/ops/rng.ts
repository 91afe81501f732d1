// Counter-based random numbers: Philox4x32-10 on the GPU (shaders/include/philox.wgsl) and the same
// generator on the CPU, so seeded CPU code (init) and tests see exactly the GPU's bits.
//
// Value i of a fill depends only on (seed, stream, i): key = (seed mod 2^32, floor(seed / 2^32)),
// counter = (i >> 2, stream, 0, 0), element i takes word i & 3. Different streams of one seed are
// independent sequences (use one per purpose: init, noise, shuffles, ...).
import { grid1d } from '../gpu/runtime.js';
import { shapeStr, type Tensor } from '../tensor/tensor.js';
import { expectDtype, expectSameShape, ShapeError } from './check.js';
import { philox4x32 as philoxWords, seedKey } from '../random/philox.js';

export { seedKey };

/** Philox4x32-10 of a 4-word counter under a 2-word key (Random123's philox4x32_R(10, ...)). */
export function philox4x32(counter: ArrayLike<number>, key: ArrayLike<number>, out = new Uint32Array(4)): Uint32Array {
  return philoxWords(counter[0], counter[1], counter[2], counter[3], key[0], key[1], out);
}

function checkStream(op: string, stream: number): void {
  if (!Number.isInteger(stream) || stream < 0 || stream > 0xffffffff) throw new Error(`${op}: stream ${stream} must be a u32`);
}

/** The uniform in (0, 1) the GPU makes of 32 random bits (exactly representable in f32). */
export function uniformFromBits(bits: number): number {
  return (2 * (bits >>> 9) + 1) / 16777216;
}

/** The four standard normals of one Philox block (Box-Muller, as the GPU computes them, in float64). */
export function normalsFromBits(r: ArrayLike<number>): [number, number, number, number] {
  const ra = Math.sqrt(-2 * Math.log(uniformFromBits(r[0])));
  const ta = Math.PI * Math.fround(2 * uniformFromBits(r[1]) - 1);
  const rb = Math.sqrt(-2 * Math.log(uniformFromBits(r[2])));
  const tb = Math.PI * Math.fround(2 * uniformFromBits(r[3]) - 1);
  return [ra * Math.cos(ta), ra * Math.sin(ta), rb * Math.cos(tb), rb * Math.sin(tb)];
}

/** Call fn(block, words) for every Philox block covering n elements of (seed, stream). */
function forBlocks(n: number, seed: number, stream: number, fn: (b: number, r: Uint32Array) => void): void {
  checkStream('rng', stream);
  const key = seedKey(seed);
  const ctr = new Uint32Array(4);
  const r = new Uint32Array(4);
  ctr[1] = stream;
  for (let b = 0; b * 4 < n; b++) {
    ctr[0] = b;
    fn(b, philox4x32(ctr, key, r));
  }
}

/** CPU: the raw bits fillRandomBits writes. */
export function cpuRandomBits(n: number, seed: number, stream: number): Uint32Array {
  const out = new Uint32Array(n);
  forBlocks(n, seed, stream, (b, r) => {
    for (let k = 0; k < 4 && 4 * b + k < n; k++) out[4 * b + k] = r[k];
  });
  return out;
}

/** CPU: the uniforms fillUniform writes (lo + (hi - lo) * u in f32 arithmetic, as the GPU does it). */
export function cpuUniform(n: number, seed: number, stream: number, lo = 0, hi = 1): Float32Array {
  const out = new Float32Array(n);
  const lo32 = Math.fround(lo);
  const scale = Math.fround(Math.fround(hi) - lo32);
  forBlocks(n, seed, stream, (b, r) => {
    for (let k = 0; k < 4 && 4 * b + k < n; k++) out[4 * b + k] = lo32 + Math.fround(scale * uniformFromBits(r[k]));
  });
  return out;
}

/** CPU: the normals fillNormal writes (to f32 rounding of the GPU's transcendentals). */
export function cpuNormal(n: number, seed: number, stream: number, mean = 0, std = 1): Float32Array {
  const out = new Float32Array(n);
  forBlocks(n, seed, stream, (b, r) => {
    const z = normalsFromBits(r);
    for (let k = 0; k < 4 && 4 * b + k < n; k++) out[4 * b + k] = mean + std * z[k];
  });
  return out;
}

function launch(t: Tensor, kernel: string, seed: number, stream: number, extra: Record<string, number>): void {
  checkStream(kernel, stream);
  const [key0, key1] = seedKey(seed);
  t.gpu.dispatch(kernel, { bindings: { out: t }, uniforms: { n: t.size, key0, key1, stream, ...extra }, workgroups: grid1d(Math.ceil(t.size / 4), 256) });
}

/** Fill an f32 tensor with uniforms in (lo, hi). Returns t. */
export function fillUniform(t: Tensor, seed: number, stream: number, lo = 0, hi = 1): Tensor {
  expectDtype('fillUniform', 't', t, 'f32');
  launch(t, 'rng_uniform', seed, stream, { lo, hi, raw: 0 });
  return t;
}

/** Fill a u32 tensor with raw Philox bits (the words cpuRandomBits gives). Returns t. */
export function fillRandomBits(t: Tensor, seed: number, stream: number): Tensor {
  expectDtype('fillRandomBits', 't', t, 'u32');
  launch(t, 'rng_uniform', seed, stream, { lo: 0, hi: 1, raw: 1 });
  return t;
}

/** Fill an f32 tensor with N(mean, std^2) samples (Box-Muller on Philox uniforms). Returns t. */
export function fillNormal(t: Tensor, seed: number, stream: number, mean = 0, std = 1): Tensor {
  expectDtype('fillNormal', 't', t, 'f32');
  launch(t, 'rng_normal', seed, stream, { mean, stddev: std });
  return t;
}

/**
 * In place: w += std * z where mask != 0, z the normals fillNormal(seed, stream) would give (Fig. 7's
 * noise at the rewinding point; pruned weights stay exactly zero).
 */
export function addNoiseMasked(w: Tensor, mask: Tensor, seed: number, stream: number, std: number): void {
  expectDtype('addNoiseMasked', 'w', w, 'f32');
  expectDtype('addNoiseMasked', 'mask', mask, 'f32');
  expectSameShape('addNoiseMasked', w, mask, ['w', 'mask']);
  if (!Number.isFinite(std)) throw new ShapeError('addNoiseMasked', `std ${std} must be finite (w ${shapeStr(w.shape)})`);
  checkStream('addNoiseMasked', stream);
  const [key0, key1] = seedKey(seed);
  w.gpu.dispatch('add_noise_masked', { bindings: { w, mask }, uniforms: { n: w.size, key0, key1, stream, stddev: std }, workgroups: grid1d(Math.ceil(w.size / 4), 256) });
}
