// The bench's roofline arithmetic (bench/roofline.ts): which term binds, and the compulsory bytes of
// each conv kernel, against numbers worked out by hand. No GPU.
import { describe, expect, it } from 'vitest';
import { copyCeilingFor, type Ceilings } from '../bench/ceilings.js';
import { convBytes, roofline } from '../bench/roofline.js';

describe('bench roofline', () => {
  const ceilings = { gflops: 160, gbps: 20 };

  it('takes the larger of the FLOP and byte terms, names it, and calls it launch-bound below the floor', () => {
    // 1.6 GFLOP = 10 ms at 160 GFLOP/s; 20 MB = 1 ms at 20 GB/s
    expect(roofline({ ...ceilings, flops: 1.6e9, bytes: 20e6, floorMs: 0.1 })).toEqual({ roofline_ms: 10, bound: 'compute' });
    // 16 MFLOP = 0.1 ms; 8 MB = 0.4 ms
    const m = roofline({ ...ceilings, flops: 16e6, bytes: 8e6, floorMs: 0.05 });
    expect(m.bound).toBe('memory');
    expect(m.roofline_ms).toBeCloseTo(0.4, 12);
    // 1.6 kFLOP = 1e-5 ms, 2 kB = 1e-4 ms: the floor of 0.04 ms exceeds both
    const l = roofline({ ...ceilings, flops: 1600, bytes: 2000, floorMs: 0.04 });
    expect(l.bound).toBe('launch');
    expect(l.roofline_ms).toBeCloseTo(1e-4, 12);
    // an entry that counts only bytes
    const b = roofline({ ...ceilings, bytes: 40e6, floorMs: 0.01 });
    expect(b).toEqual({ roofline_ms: 2, bound: 'memory' });
  });

  it('counts each operand once, and only the input pixels a strided 1x1 conv reaches', () => {
    // ResNet-20 shortcut: 128x16x32x32 -> 32, 1x1 stride 2: x 2,097,152 floats (a quarter reached),
    // w 512, y 128x32x16x16 = 1,048,576
    const g = { N: 128, C: 16, H: 32, W: 32, O: 32, k: 1, stride: 2, bias: false };
    expect(convBytes(g, 16, 16, 'forward')).toBe(4 * (524288 + 512 + 1048576));
    expect(convBytes(g, 16, 16, 'weight_grad')).toBe(4 * (524288 + 1048576 + 512));
    expect(convBytes(g, 16, 16, 'input_grad')).toBe(4 * (1048576 + 512 + 2097152)); // writes all of dx, zeros included
    expect(convBytes(g, 16, 16, 'input_grad_accumulate')).toBe(4 * (1048576 + 512 + 2 * 524288)); // reads and writes the reached quarter
    // 3x3 stride 2 reaches every pixel; a bias is read once per output channel
    const s2 = { N: 2, C: 3, H: 8, W: 8, O: 5, k: 3, stride: 2, bias: true };
    expect(convBytes(s2, 4, 4, 'forward')).toBe(4 * (2 * 3 * 64 + 5 * 3 * 9 + 5 + 2 * 5 * 16));
    expect(convBytes(s2, 4, 4, 'input_grad_accumulate')).toBe(4 * (2 * 5 * 16 + 5 * 3 * 9 + 2 * 2 * 3 * 64));
  });
});

describe('copy ceiling at a working set', () => {
  const c = { copy_gbps: 13.7, copy_gbps_by_size: [{ bytes: 2 << 20, gbps: 30 }, { bytes: 8 << 20, gbps: 22 }, { bytes: 32 << 20, gbps: 12 }] } as unknown as Ceilings;
  it('holds a kernel to the bandwidth at the smallest measured working set that holds its bytes, never below the streaming figure', () => {
    expect(copyCeilingFor(c, 1_970_000)).toBe(30); // the augmentation: in cache
    expect(copyCeilingFor(c, 6 << 20)).toBe(22);
    expect(copyCeilingFor(c, 25 << 20)).toBe(13.7); // the 32 MiB figure came out below the 128 MiB one
    expect(copyCeilingFor(c, 100 << 20)).toBe(13.7);
    expect(copyCeilingFor({ copy_gbps: 13.7 } as unknown as Ceilings, 1 << 20)).toBe(13.7); // older files
  });
});
