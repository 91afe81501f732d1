// The element E a bench stream kernel moves per access: a vec4 (W = 1), or in the `wide` variant a
// 64-byte struct of four vec4s (W = 4: lavapipe runs each storage access as a per-lane loop, so
// wider accesses mean fewer loop trips per byte). p.n4 counts vec4s; the kernels move p.n4 / W elements.
// #if wide
struct E { a: vec4f, b: vec4f, c: vec4f, d: vec4f }
const W = 4u;
fn total(e: E) -> vec4f { return (e.a + e.b) + (e.c + e.d); }
fn splat(v: vec4f) -> E { return E(v, v, v, v); }
// #else
alias E = vec4f;
const W = 1u;
fn total(e: E) -> vec4f { return e; }
fn splat(v: vec4f) -> E { return v; }
// #endif
