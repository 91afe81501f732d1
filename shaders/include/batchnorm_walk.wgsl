// How an invocation of a BatchNorm kernel walks its slice of chunk `part` of a channel. Channel c's
// N*HWV elements (HWV = p.hw elements per image plane) have the channel-local index j = nn*HWV + s
// and the storage index (nn*C + c)*HWV + s. Chunk `part` is j in [part*chunk, min((part+1)*chunk,
// N*HWV)), and invocation lid takes j = start + lid + k*WG, so a workgroup's accesses coalesce.
// (nn, s) advance incrementally by WG = step_n*HWV + step_s, because integer division is slow on CPU
// drivers. Loop: for (var w = walk_start(part, lid); w.j < w.end; walk_next(&w)) { let i = walk_at(w, c); }
// The including kernel declares p (n, c, hw, chunk) and WG.
struct Walk { j: u32, end: u32, nn: u32, s: u32, step_n: u32, step_s: u32 }

fn walk_start(part: u32, lid: u32) -> Walk {
  let start = part * p.chunk;
  let step_n = WG / p.hw;
  let nn = (start + lid) / p.hw;
  return Walk(start + lid, min(start + p.chunk, p.n * p.hw), nn, (start + lid) - nn * p.hw, step_n, WG - step_n * p.hw);
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
