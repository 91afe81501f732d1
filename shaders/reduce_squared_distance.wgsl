// reduce_squared_distance: per-workgroup partial sums of (a[i] - b[i])^2, i < n (||w_t - w_0||^2 without the
// cancellation of |a|^2 - 2 a.b + |b|^2). Optionally masked (masked != 0: only elements with mask != 0 count; unmasked launches bind a as the mask).
struct Params { n: u32, masked: u32, outOffset: u32, steps: u32 }
@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read> mask: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

// Tiling and the reduction order: shaders/include/reduce_f32_tile.wgsl.
fn term(j: u32) -> vec4f { return (a[j] - b[j]) * (a[j] - b[j]); }

// #include "reduce_f32_tile.wgsl"
