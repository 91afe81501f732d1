// The types of a kernel that streams NCHW activations. V is the arithmetic vector: vec4f (VL = 4
// values), or f32 in the `scalar` variant for shapes whose H*W is not a multiple of 4 (a vec4 would
// straddle two channels); lane(v, k) is value k < VL. E is what one storage access moves: V itself,
// or in the `wide` variant (H*W or the size a multiple of 16) a 64-byte struct of four vec4s. On
// lavapipe every storage access is a per-lane loop, so wider accesses move more bytes per loop trip;
// the 64-byte shape is the one that sets the copy ceiling in `npm run bench`. vec_of(e, f) is V number
// f < EW of an element; elem_of(r) builds an element from EW of them.
// #if scalar
alias V = f32;
const VL = 1u;
fn lane(v: V, k: u32) -> f32 { return v; }
// #else
alias V = vec4f;
const VL = 4u;
fn lane(v: V, k: u32) -> f32 { return v[k]; }
// #endif
// #if wide
struct E { a: V, b: V, c: V, d: V }
const EW = 4u;
fn vec_of(e: E, f: u32) -> V {
  switch f {
    case 0u: { return e.a; }
    case 1u: { return e.b; }
    case 2u: { return e.c; }
    default: { return e.d; }
  }
}
fn elem_of(r: array<V, 4>) -> E { return E(r[0], r[1], r[2], r[3]); }
// #else
alias E = V;
const EW = 1u;
fn vec_of(e: E, f: u32) -> V { return e; }
fn elem_of(r: array<V, 4>) -> E { return r[0]; }
// #endif
