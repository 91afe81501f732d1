// bench_empty: an empty kernel (benchmark only), no bindings, to measure the cost of one dispatch.
// Tiling: launched as one workgroup of one invocation that does nothing.
@compute @workgroup_size(1)
fn main() {}
