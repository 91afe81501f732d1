// Which element type a streaming kernel moves (shaders/include/lanes.wgsl): the widest of a 64-byte
// struct of four vec4s (variant `wide`), a vec4 (the default) or an f32 (variant `scalar`) whose
// float count divides `run`, the length of the contiguous runs it streams (a tensor's size, or H*W
// for per-channel kernels, so that no element straddles two channels). Uniforms then count elements.
export interface StreamLayout {
  /** The kernel variant to dispatch. */
  variant: 'wide' | 'scalar' | undefined;
  /** Floats per element: 16, 4 or 1. */
  floats: 16 | 4 | 1;
}

/** Floats per element of a streaming kernel's variant (the inverse of streamLayout's choice). */
export function floatsOf(variant: string | undefined): StreamLayout['floats'] {
  return variant === 'wide' ? 16 : variant === 'scalar' ? 1 : 4;
}

export function streamLayout(run: number): StreamLayout {
  if (run % 16 === 0) return { variant: 'wide', floats: 16 };
  if (run % 4 === 0) return { variant: undefined, floats: 4 };
  return { variant: 'scalar', floats: 1 };
}
