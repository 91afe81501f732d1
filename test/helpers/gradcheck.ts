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
