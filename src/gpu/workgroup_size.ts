// Workgroup sizes and lane counts that kernels take as override constants: their reduction trees
// halve, their loops stride by them, so they must be powers of two within what the kernel supports.

/** Is v an integer power of two in [lo, hi]? */
export function isPowerOfTwoIn(v: number, lo: number, hi: number): boolean {
  return Number.isInteger(v) && v >= lo && v <= hi && (v & (v - 1)) === 0;
}
