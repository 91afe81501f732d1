// The roofline of one timed kernel entry: the least time the measured ceilings allow for its work,
//   roofline_ms = max(flops / FMA ceiling, bytes / bandwidth ceiling)
// where bytes are the compulsory traffic: each operand read once and each result written once.
// percent_of_roofline = 100 * roofline_ms / ms says how close the kernel gets to what this adapter
// could do with that work, and `bound` which resource binds:
//   'compute'  the FMA term is the larger
//   'memory'   the bandwidth term is the larger (e.g. a 1x1 conv over 16 channels on lavapipe:
//              2.7 FLOP per byte against a ridge of 160 GFLOP/s / 21 GB/s = 7.6)
//   'launch'   the fixed cost of a timed pass with that many dispatches (floor_ms: empty pass +
//              empty dispatches, measured in the same run) exceeds both: tiny tensors, whose low
//              percentage says that launching them costs more than their work
// The floor is not added to the roofline: measured in a pass of 1,000 empty dispatches, it can
// exceed a short pass's real overhead, and would then put a kernel above 100% of its roofline.
// percent_of_ceiling (the measure) stays beside it: a memory-bound conv cannot reach a high
// percentage of the FMA ceiling on any kernel design, and the roofline shows how far it is from
// the bound that does apply.

export type Bound = 'compute' | 'memory' | 'launch';

export interface RooflineInput {
  /** Useful floating-point operations (2 per multiply-add), if the entry counts them. */
  flops?: number;
  /** Compulsory bytes moved (read + written), if the entry counts them. */
  bytes?: number;
  /** FMA ceiling, GFLOP/s. */
  gflops: number;
  /** The bandwidth ceiling that matches the entry's traffic, GB/s. */
  gbps: number;
  /** Fixed cost of the timed pass, ms (decides 'launch'; not added to the roofline). */
  floorMs: number;
}

export interface Roofline {
  roofline_ms: number;
  bound: Bound;
}

export function roofline(r: RooflineInput): Roofline {
  const compute = r.flops !== undefined ? r.flops / (r.gflops * 1e6) : 0;
  const memory = r.bytes !== undefined ? r.bytes / (r.gbps * 1e6) : 0;
  const bound: Bound = r.floorMs >= compute && r.floorMs >= memory ? 'launch' : compute >= memory ? 'compute' : 'memory';
  return { roofline_ms: Math.max(compute, memory), bound };
}

/** Geometry of one convolution, as the bench describes it. */
export interface ConvGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  k: number;
  stride: number;
  bias: boolean;
}

/**
 * Compulsory bytes of one conv kernel: each operand read once, each result written once (f32).
 * Input pixels no tap reaches (3/4 of them for a 1x1 stride-2 conv: min(k, s)/s per axis) need not be
 * read by the forward and the weight gradient, nor touched by an accumulating input gradient; a
 * fresh input gradient writes all of dx (the unreached pixels are zeros).
 */
export function convBytes(g: ConvGeometry, OH: number, OW: number, op: 'forward' | 'input_grad' | 'input_grad_accumulate' | 'weight_grad'): number {
  const reach = (Math.min(g.k, g.stride) / g.stride) ** 2;
  const x = g.N * g.C * g.H * g.W;
  const y = g.N * g.O * OH * OW;
  const w = g.O * g.C * g.k * g.k;
  const b = g.bias ? g.O : 0;
  switch (op) {
    case 'forward':
      return 4 * (x * reach + w + b + y);
    case 'input_grad':
      return 4 * (y + w + x);
    case 'input_grad_accumulate':
      return 4 * (y + w + 2 * x * reach);
    case 'weight_grad':
      return 4 * (x * reach + y + w);
  }
}
