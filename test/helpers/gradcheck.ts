// Finite-difference gradient check in float64 on the CPU reference.
//
// For an op y = f(x_1..x_k) we pick a random upstream gradient r, let L = sum(r * f(x)), and compare
// the GPU backward's dL/dx_i against central differences of the float64 reference forward f.
import { expectClose, type Tolerance } from './compare.js';

export function numericalGrad(
  forward: (inputs: Float64Array[]) => Float64Array,
  inputs: Float64Array[],
  upstream: ArrayLike<number>,
  which: number,
  eps = 1e-6,
): Float64Array {
  const x = inputs[which];
  const g = new Float64Array(x.length);
  const loss = () => {
    const y = forward(inputs);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * upstream[i];
    return s;
  };
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + eps;
    const lp = loss();
    x[i] = keep - eps;
    const lm = loss();
    x[i] = keep;
    g[i] = (lp - lm) / (2 * eps);
  }
  return g;
}

export function expectGradClose(
  gpuGrad: ArrayLike<number>,
  forward: (inputs: Float64Array[]) => Float64Array,
  inputs: Float64Array[],
  upstream: ArrayLike<number>,
  which: number,
  tol: Tolerance = { atol: 1e-3, rtol: 1e-2 },
  label = `input ${which}`,
): void {
  expectClose(gpuGrad, numericalGrad(forward, inputs, upstream, which), tol, `gradcheck ${label}`);
}

/**
 * Inputs for a gradient check through a ReLU. Where a float64 pre-activation lies within float32
 * rounding of 0, the GPU's float32 forward and the reference can take opposite sides of the kink
 * (an element's whole own term then differs, seen at 1 element in 2048 in CI), and within the
 * finite-difference step the differences straddle it. `draw` is called until every value of
 * `preActivation` is at least `margin` from 0 (a margin of 1e-4 is 100x both); it throws if no
 * draw in `tries` does, rather than check a gradient that is not defined.
 */
export function drawAwayFromKink<T>(draw: () => T, preActivation: (inputs: T) => ArrayLike<number>, margin = 1e-4, tries = 100): T {
  for (let t = 0; t < tries; t++) {
    const inputs = draw();
    const pre = preActivation(inputs);
    let closest = Infinity;
    for (let i = 0; i < pre.length; i++) closest = Math.min(closest, Math.abs(pre[i]));
    if (closest >= margin) return inputs;
  }
  throw new Error(`no draw in ${tries} kept every pre-activation ${margin} from the ReLU's kink: make the inputs smaller or the margin narrower`);
}
