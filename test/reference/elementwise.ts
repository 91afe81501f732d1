// Float64 references for the elementwise ops.
export function addRef(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => v + b[i]);
}

export function reluRef(x: Float64Array): Float64Array {
  return x.map((v) => (v > 0 ? v : 0));
}
