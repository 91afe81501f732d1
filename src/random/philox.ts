// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the
// counter-based generator of Random123 / cuRAND / PyTorch, in plain TypeScript: the one CPU
// implementation, used by the data pipeline's draws (shuffles, crop offsets, flips, rotations,
// random labels), initialisation, telemetry, and src/ops/rng.ts (whose GPU kernels compute the
// same function, shaders/include/philox.wgsl).
// A draw is a pure function of (counter, key): no state, so any (seed, epoch, example) can be
// recomputed in any order, e.g. when training resumes from a rewinding point.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two u32 values, exactly, in doubles. */
function mulhi32(a: number, b: number): number {
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const t = a * bl; // < 2^48, exact
  const u = a * bh; // < 2^48, exact
  return Math.floor((u + Math.floor(t / 65536)) / 65536) >>> 0;
}

/**
 * Philox4x32 with 10 rounds: four u32 counter words and two u32 key words in, four u32 out.
 * Writes into `out` (allocation-free in loops) and returns it.
 */
export function philox4x32(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array = new Uint32Array(4)): Uint32Array {
  let x0 = c0 >>> 0, x1 = c1 >>> 0, x2 = c2 >>> 0, x3 = c3 >>> 0;
  let y0 = k0 >>> 0, y1 = k1 >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi32(M0, x0);
    const lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi32(M1, x2);
    const lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ y0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ y1) >>> 0;
    x3 = lo0;
    y0 = (y0 + W0) >>> 0;
    y1 = (y1 + W1) >>> 0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
  return out;
}

/** Split a non-negative integer seed (< 2^53) into the two key words. */
export function seedKey(seed: number): [number, number] {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative safe integer, got ${seed}`);
  return [seed >>> 0, Math.floor(seed / 4294967296) >>> 0];
}

/**
 * seed XOR tag on the low 32 bits of a seed below 2^53, the high bits kept: JavaScript's `^` would
 * truncate a replicate seed past 2^31 (--seed 32768 and up) to a negative or a colliding number. For
 * seeds below 2^31 it is exactly `seed ^ tag`, so the streams derived that way before keep their bits.
 */
export function mixSeed(seed: number, tag: number): number {
  seedKey(seed); // validates
  const high = Math.floor(seed / 4294967296);
  return high * 4294967296 + (((seed % 4294967296) ^ tag) >>> 0);
}

/** Domain tags (the fourth counter word) so different uses of one seed never share a stream. */
export const Stream = {
  shuffle: 0x5348_0001,
  augment: 0x4155_0002,
  rotation: 0x524f_0003,
  randomLabel: 0x524c_0004,
} as const;

/** Uniform double in [0, 1) with 53 random bits from two u32 words. */
export function unitFrom(a: number, b: number): number {
  return ((a >>> 5) * 67108864 + (b >>> 6)) / 9007199254740992;
}

/** Uniform integer in [0, n) from two u32 words (bias < n / 2^53). */
export function intFrom(a: number, b: number, n: number): number {
  return Math.floor(unitFrom(a, b) * n);
}
