// Per-sample geometric transforms for the augmentation kernel, built on the CPU with gl-matrix.
//
// Convention: a transform is a 2-D affine map (gl-matrix mat2d [a, b, c, d, tx, ty]) from OUTPUT pixel
// coordinates to SOURCE pixel coordinates, pixel (x = column, y = row) having its centre at the integer
// point (x, y):  sx = a*x + c*y + tx,  sy = b*x + d*y + ty.  The kernel samples the source there
// (nearest: pixel (floor(sx + 0.5), floor(sy + 0.5)); bilinear: the four neighbours), reading zero
// outside the 32x32 image (zero padding, before normalisation).
//
// Composition for one sample: out = rot90^k( hflip?( crop_{dx,dy}( pad4(src) ) ) ), i.e. the crop is
// taken first, then flipped, then rotated, and the output-to-source map is  M = Crop ∘ Flip ∘ Rot.
//   crop (dx, dy):  out(x, y) = src(x + dx, y + dy)        (offset 4+dx, 4+dy into the 40x40 padded image)
//   flip:           out(x, y) = in(31 - x, y)
//   rot k (k*90° counterclockwise as displayed, numpy.rot90 / torch.rot90(img, k, dims=(1, 2))):
//                   k = 1: out(x, y) = in(31 - y, x)
// All entries are small integers for these, so nearest sampling is exact.
import { mat2d } from 'gl-matrix';
import { IMAGE_SIZE } from './cifar10.js';
import { intFrom, philox4x32, seedKey, Stream } from '../random/philox.js';

export type Affine = mat2d;

const C = (IMAGE_SIZE - 1) / 2; // 15.5, the image centre in pixel coordinates

export function identity(): Affine {
  return mat2d.create();
}

/** Random-crop offset (dx, dy) into the zero-padded image, then an optional horizontal flip. */
export function cropFlip(dx: number, dy: number, flip: boolean): Affine {
  const m = mat2d.fromTranslation(mat2d.create(), [dx, dy]);
  if (flip) mat2d.multiply(m, m, mat2d.fromValues(-1, 0, 0, 1, IMAGE_SIZE - 1, 0));
  return m;
}

/** Exact rotation by k*90° counterclockwise about the image centre (numpy.rot90 semantics). */
export function rot90(k: number): Affine {
  if (!Number.isInteger(k)) throw new Error(`rot90: k must be an integer, got ${k}`);
  const r = mat2d.fromRotation(mat2d.create(), (((k % 4) + 4) % 4) * (Math.PI / 2));
  for (let i = 0; i < 4; i++) r[i] = Math.round(r[i]); // cos/sin of multiples of 90° are exactly 0, ±1
  const m = mat2d.fromTranslation(mat2d.create(), [C, C]);
  mat2d.multiply(m, m, r);
  mat2d.multiply(m, m, mat2d.fromTranslation(mat2d.create(), [-C, -C]));
  return m;
}

/** Rotation by an arbitrary angle (degrees, counterclockwise as displayed) about the centre; use with bilinear. */
export function rotateDegrees(deg: number): Affine {
  const m = mat2d.fromTranslation(mat2d.create(), [C, C]);
  mat2d.rotate(m, m, (deg * Math.PI) / 180);
  mat2d.translate(m, m, [-C, -C]);
  return m;
}

/** a ∘ b: first b, then a, on output coordinates (so source = a(b(x))). */
export function compose(a: Affine, b: Affine): Affine {
  return mat2d.multiply(mat2d.create(), a, b);
}

export interface TrainDraw {
  dx: number;
  dy: number;
  flip: boolean;
}

/**
 * The standard training augmentation of example `index` (its index in the uploaded split) in epoch
 * `epoch`: crop offsets dx, dy uniform in {-4..4} and a flip with probability 1/2, from
 * philox(counter = (index, epoch, 0, AUGMENT), key = seed). Every example is seen once per epoch, so
 * (seed, epoch, index) identifies a draw; it does not depend on the batch it lands in.
 */
export function trainDraw(seed: number, epoch: number, index: number, pad = 4, out = new Uint32Array(4)): TrainDraw {
  const [k0, k1] = seedKey(seed);
  philox4x32(index, epoch, 0, Stream.augment, k0, k1, out);
  const span = 2 * pad + 1;
  return { dx: intFrom(out[0], out[1], span) - pad, dy: intFrom(out[2], out[3], span) - pad, flip: (out[3] & 1) === 1 };
}

/** A rotation class 0..3 for example `index` in epoch `epoch` (rotation-prediction pre-training). */
export function rotationDraw(seed: number, epoch: number, index: number): number {
  const [k0, k1] = seedKey(seed);
  const r = philox4x32(index, epoch, 0, Stream.rotation, k0, k1);
  return intFrom(r[0], r[1], 4);
}

/** Random labels fixed per example (not per epoch): label i = philox(i, 0, 0, RANDOM_LABEL) mod classes. */
export function randomLabels(n: number, seed: number, numClasses = 10): Uint8Array {
  const [k0, k1] = seedKey(seed);
  const out = new Uint8Array(n);
  const r = new Uint32Array(4);
  for (let i = 0; i < n; i++) {
    philox4x32(i, 0, 0, Stream.randomLabel, k0, k1, r);
    out[i] = intFrom(r[0], r[1], numClasses);
  }
  return out;
}
