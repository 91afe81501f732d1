// How an invocation of a BatchNorm kernel walks its slice of chunk `part` of a channel. Channel c's
// N*HWV elements (HWV = p.hw elements per image plane) have the channel-local index j = nn*HWV + s
// and the storage index (nn*C + c)*HWV + s. Chunk `part` is j in [part*chunk, min((part+1)*chunk,
// N*HWV)), and invocation lid takes j = start + lid + k*WG, so a workgroup's accesses coalesce.
// (nn, s) advance incrementally by WG = step_n*HWV + step_s, because integer division is slow on CPU
// drivers. Loop: for (var w = walk_start(part, lid); w.j < w.end; walk_next(&w)) { let i = walk_at(w, c); }
// The including kernel declares p (n, c, hw, chunk) and WG.
struct Walk { j: u32, end: u32, nn: u32, s: u32, step_n: u32, step_s: u32 }

// (a / p.hw, a % p.hw) for a < 2^24 (the launchers check N*hw < 2^24) without an integer division,
// which lavapipe runs as a scalar `divl` per lane: the float quotient is within 1 of the true one
// (a and hw exact in f32, one rounding), and one correction step each way makes it exact
fn divmod_hw(a: u32) -> vec2u {
  var q = u32(f32(a) / f32(p.hw));
  var r = i32(a) - i32(q * p.hw);
  if (r < 0) { q -= 1u; r += i32(p.hw); }
  if (r >= i32(p.hw)) { q += 1u; r -= i32(p.hw); }
  return vec2u(q, u32(r));
}

fn walk_start(part: u32, lid: u32) -> Walk {
  let start = part * p.chunk;
  let step = divmod_hw(WG);
  let at = divmod_hw(start + lid);
  return Walk(start + lid, min(start + p.chunk, p.n * p.hw), at.x, at.y, step.x, step.y);
}

// the storage index of channel c's element at the walk's position
fn walk_at(w: Walk, c: u32) -> u32 {
  return (w.nn * p.c + c) * p.hw + w.s;
}

fn walk_next(w: ptr<function, Walk>) {
  (*w).j += WG;
  (*w).s += (*w).step_s;
  (*w).nn += (*w).step_n;
  if ((*w).s >= p.hw) {
    (*w).s -= p.hw;
    (*w).nn += 1u;
  }
}
