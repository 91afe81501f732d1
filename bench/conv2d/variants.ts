// Kernel variants tried for conv2d, kept on record (llm.c dev/cuda style). Each has a one-line note;
// bench/conv2d_variants.ts times them next to the shipped kernels (shaders/conv2d_*.wgsl).
import type { ConvDims } from '../../src/ops/conv2d.js';
import type { Tensor } from '../../src/tensor/tensor.js';

export type Kind = 'fwd' | 'dx' | 'dw';

export interface Variant {
  kind: Kind;
  name: string;
  note: string;
  supports?: (d: ConvDims) => boolean;
  launch: (o: { x: Tensor; w: Tensor; dy: Tensor; out: Tensor }, d: ConvDims) => void;
}

const k = (name: string) => `../bench/conv2d/${name}`;

export const VARIANTS: Variant[] = [
  {
    kind: 'fwd',
    name: 'fwd_v1',
    note: 'lanes = pixels, 8 channels per lane, every lane loads all 8 weights (per-lane loads on lavapipe): 3 GFLOP/s',
    launch: (o, d) =>
      o.x.gpu.dispatch(k('fwd_v1'), {
        bindings: { x: o.x, w: o.w, b: o.w, y: o.out },
        uniforms: { ...d, has_bias: 0 },
        workgroups: [Math.ceil((d.N * d.OH * d.OW) / 64), Math.ceil(d.O / 8)],
        overrides: { WG: 64 },
      }),
  },
];
