// The element type V of a kernel that streams NCHW activations a vector at a time. The default is
// vec4f (VL = 4 values per load: on lavapipe every storage load is a per-lane scalar loop, so a
// vec4 load costs about what a scalar one does); the `scalar` variant is f32 for shapes whose
// H*W is not a multiple of 4 (a vec4 would straddle two channels). lane(v, k) is value k < VL.
// #if scalar
alias V = f32;
const VL = 1u;
fn lane(v: V, k: u32) -> f32 { return v; }
// #else
alias V = vec4f;
const VL = 4u;
fn lane(v: V, k: u32) -> f32 { return v[k]; }
// #endif
