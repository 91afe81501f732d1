// Initialisation (paper.md): conv and fc weights Kaiming normal, fan-in, sigma = sqrt(2 / fan_in);
// BN gamma ~ U[0, 1], beta = 0; biases PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
// Drawn on the CPU from Philox4x32-10: element i of parameter p uses counter (i >> 1, p, 0, INIT)
// under the run's key, so a value depends only on (seed, parameter index, element), never on order.
import { philox4x32, seedKey, unitFrom } from '../random/philox.js';
import type { LayerParamSpec } from './layers.js';

const INIT_STREAM = 0x494e_0005;

export function initParameter(spec: LayerParamSpec, paramIndex: number, seed: number): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const [k0, k1] = seedKey(seed);
  const r = new Uint32Array(4);
  const draw = (i: number) => philox4x32(i >>> 1, paramIndex, 0, INIT_STREAM, k0, k1, r);
  switch (spec.init) {
    case 'kaiming_normal': {
      const std = Math.sqrt(2 / spec.fanIn);
      for (let i = 0; i < n; i += 2) {
        draw(i);
        // Box-Muller: two normals from two 53-bit uniforms.
        const u1 = 1 - unitFrom(r[0], r[1]); // (0, 1]
        const u2 = unitFrom(r[2], r[3]);
        const rad = Math.sqrt(-2 * Math.log(u1));
        out[i] = std * rad * Math.cos(2 * Math.PI * u2);
        if (i + 1 < n) out[i + 1] = std * rad * Math.sin(2 * Math.PI * u2);
      }
      break;
    }
    case 'uniform_fan_in': {
      const bound = 1 / Math.sqrt(spec.fanIn);
      for (let i = 0; i < n; i++) {
        draw(i);
        const w = i & 1 ? unitFrom(r[2], r[3]) : unitFrom(r[0], r[1]);
        out[i] = -bound + 2 * bound * w;
      }
      break;
    }
    case 'uniform01':
      for (let i = 0; i < n; i++) {
        draw(i);
        out[i] = i & 1 ? unitFrom(r[2], r[3]) : unitFrom(r[0], r[1]);
      }
      break;
    case 'zeros':
      break;
  }
  return out;
}
