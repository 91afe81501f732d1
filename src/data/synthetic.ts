// A synthetic CIFAR-shaped dataset for demos and tests that must not need the real data: each class
// is a fixed colour and stripe orientation, plus per-image noise, so a small CNN can learn it in a
// few hundred steps. Deterministic in (n, seed).
import { IMAGE_BYTES, IMAGE_SIZE, NUM_CLASSES, type CifarData, type CifarSplit } from './cifar10.js';
import { philox4x32, seedKey } from '../random/philox.js';

const SYNTH_STREAM = 0x5359_0006;

function split(name: string, n: number, seed: number, splitId: number): CifarSplit {
  const images = new Uint8Array(n * IMAGE_BYTES);
  const labels = new Uint8Array(n);
  const [k0, k1] = seedKey(seed);
  const r = new Uint32Array(4);
  for (let i = 0; i < n; i++) {
    const label = i % NUM_CLASSES;
    labels[i] = label;
    const base = [(label * 53) % 256, (label * 97 + 80) % 256, (label * 151 + 160) % 256];
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < IMAGE_SIZE; y++) {
        for (let x = 0; x < IMAGE_SIZE; x++) {
          const p = (c * IMAGE_SIZE + y) * IMAGE_SIZE + x;
          if (p % 4 === 0) philox4x32(i, p >>> 2, splitId, SYNTH_STREAM, k0, k1, r);
          const noise = (r[p % 4] & 63) - 32;
          const stripe = ((label < 5 ? x : y) >> (1 + (label % 3))) & 1 ? 40 : -40;
          images[i * IMAGE_BYTES + p] = Math.max(0, Math.min(255, base[c] + stripe + noise));
        }
      }
    }
  }
  return { name, n, images, labels };
}

export function syntheticCifar(nTrain: number, nTest: number, seed = 0): CifarData {
  return { train: split('train', nTrain, seed, 0), test: split('test', nTest, seed, 1), source: `synthetic(seed=${seed})` };
}
