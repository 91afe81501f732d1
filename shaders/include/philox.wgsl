// Philox4x32-10 (Salmon, Moraes, Dror & Shaw 2011; the Random123 reference): a counter-based RNG.
// philox4x32_10(counter, key) is a keyed bijection of the 128-bit counter, so random value i depends
// only on (key, counter) and never on how the work is split over invocations or workgroups.
//
// Conventions used by every kernel of this project (and mirrored on the CPU by src/ops/rng.ts):
//   key     = (seed & 0xffffffff, seed >> 32)
//   counter = (block, stream, 0, 0) with block = i >> 2; element i takes word i & 3 of the output.
// So a launch computes one Philox block per invocation and writes 4 consecutive elements.
// Uniforms: u = (2 * (bits >> 9) + 1) * 2^-24, exact in f32 and strictly inside (0, 1).
// Normals (Box-Muller): words (0, 1) give elements 0 and 1 of a block, words (2, 3) give 2 and 3:
//   r = sqrt(-2 ln u_a), t = pi * (2 u_b - 1) in (-pi, pi), z_a = r cos t, z_b = r sin t.
// (The angle is kept inside [-pi, pi], where WGSL's cos/sin accuracy is specified.)
// No 64-bit integers in WGSL: the 32x32 -> 64 product is built from 16-bit halves.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;

// High 32 bits of the 64-bit product a * b (the low half is a * b with wrapping).
fn philox_mulhi(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let p0 = al * bl;
  let p1 = al * bh;
  let p2 = ah * bl;
  let p3 = ah * bh;
  let mid = (p0 >> 16u) + (p1 & 0xffffu) + (p2 & 0xffffu);
  return p3 + (p1 >> 16u) + (p2 >> 16u) + (mid >> 16u);
}

fn philox_round(c: vec4u, k: vec2u) -> vec4u {
  let hi0 = philox_mulhi(PHILOX_M0, c.x);
  let lo0 = PHILOX_M0 * c.x;
  let hi1 = philox_mulhi(PHILOX_M1, c.z);
  let lo1 = PHILOX_M1 * c.z;
  return vec4u(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
}

fn philox4x32_10(counter: vec4u, key: vec2u) -> vec4u {
  var c = counter;
  var k = key;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { k = k + vec2u(PHILOX_W0, PHILOX_W1); }
    c = philox_round(c, k);
  }
  return c;
}

// Uniform in (0, 1) from 32 random bits: odd multiples of 2^-24 (23 random bits, exact in f32).
fn philox_uniform(bits: u32) -> f32 {
  return f32(2u * (bits >> 9u) + 1u) * (1.0 / 16777216.0);
}

// Four standard normals from one Philox block (two Box-Muller pairs).
fn philox_normal4(r: vec4u) -> vec4f {
  let PI = 3.14159265358979323846;
  let ra = sqrt(-2.0 * log(philox_uniform(r.x)));
  let ta = PI * (2.0 * philox_uniform(r.y) - 1.0);
  let rb = sqrt(-2.0 * log(philox_uniform(r.z)));
  let tb = PI * (2.0 * philox_uniform(r.w) - 1.0);
  return vec4f(ra * cos(ta), ra * sin(ta), rb * cos(tb), rb * sin(tb));
}
