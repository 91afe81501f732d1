// Small helpers shared by the benchmark entry points (bench/main.ts, bench/tfjs/main.ts).

/** An integer flag value >= min, or dflt when the flag was not given. */
export function intFlag(name: string, v: string | undefined, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} ${v}: must be an integer >= ${min}`);
  return n;
}
