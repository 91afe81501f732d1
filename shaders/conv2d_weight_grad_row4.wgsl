// conv2d_weight_grad_row4 (split-K pass 1, fast path for the row-kernel shapes: OW*S == W,
// W % 4S == 0, S <= 2, KW <= 4, P <= 4, KW-P-S <= 4):
//   part[q,o,c,kh,kw] = sum over the output tiles (n, oh, 4j..4j+3) of chunk q of
//                       sum_t dy[n,o,oh,4j+t] * x[n,c,oh*S-P+kh, (4j+t)*S-P+kw]
// Layouts: x NCHW [N,C,H,W] as vec4, dy NCHW [N,O,OH,OW] as vec4,
// part [nchunks, O, C*KH*KW]; conv2d_weight_grad_reduce sums part over q in fixed order.
//
// Tiling: lanes over kernel rows r = (c, kh): a lane owns TK = 1 or 2 of them (r and r + ceil(NR/TK),
// NR = C*KH; workgroup_id.x picks WG lanes), OB = 8, 16 or 32 output channels per workgroup
// (workgroup_id.y), chunk q = workgroup_id.z = a run of consecutive 4-column output
// tiles walked in order by the whole workgroup. Per tile: lane j (< 8) loads the vec4
// dy[n,o0+j,oh,4j..4j+3] (and o0+8+j, o0+16+j, o0+24+j as OB allows) and subgroupBroadcast hands all 4*OB values to every lane; each lane loads
// its input rows' S aligned vec4 chunks for the next tile (the previous and next tiles' chunks give the
// P left / KW-P-S right halo columns: one load per row and tile), and accumulates TK rows x OB channels x KW taps (dot products over the tile's 4 columns); each
// broadcast dy value serves TK*KW multiply-adds. Summation order is
// fixed (tiles ascending, then columns t = 0..3). Needs subgroups of >= 8 invocations.
// DDIRECT = 1: every lane loads the tile's dy for all its channels itself, from the same address
// across the subgroup (one cached broadcast load on a GPU, where a subgroupBroadcast per dy value
// competes with the FMAs; on lavapipe a load is a per-lane loop, hence the default 0). Same bits.
// Variant `shortcut` (a ResNet block's 3x3 stride-2 conv and its 1x1 stride-2 projection shortcut of the
// same x, to the same output grid): also psc[q,o,c] = sum over chunk q's tiles of
// sum_t dsc[n,o,oh,4j+t] * x[n,c,oh*S,(4j+t)*S], the shortcut's partials, which are the main conv's
// tap (kh, kw) = (PAD, PAD): the lane whose kernel row is (c, PAD) has them in registers already. Lanes
// take kernel rows in kh-major order (m = kh*C + c), so that no lane's two rows are both the shortcut's
// (needs KH >= TK); every lane computes the shortcut's sums, only those lanes store them. Each (o, c)
// sum runs in the same order as the 1x1 conv's own launch: the same bits where the chunks agree. On
// lavapipe the launch took 1.1-1.4x as long as the two convs' launches apart (the main kernel's
// accumulators already spill; the shortcut's add to every trip), hence off by default there.
// Variants `tex`, `tex_x`, `tex_dy` (config weightGradTextures): x and dy, x, or dy are read through
// texture mirrors (read-only rgba32float storage textures the runtime copies them into before the
// launch: src/gpu/runtime.ts) instead of storage buffers; the same values, so the same bits. On
// lavapipe a texel load costs about half a storage load (bench/load_costs.ts: a storage load is a
// per-lane loop with a bounds check per component), which pays for the copy of a tensor the launch
// reads more than once (x by several output-channel blocks, dy by several lane groups).
enable subgroups;
override WG: u32 = 64;
override S_: u32 = 1;
override PAD_: u32 = 1;
override KW_: u32 = 3;
override OB: u32 = 16;  // output channels per workgroup: 8, 16, or 32 (1x1 kernels on lavapipe; not with DDIRECT)
override TK: u32 = 2;   // kernel rows (c, kh) per lane: 1 or 2
override DDIRECT: u32 = 0;
override KH_: u32 = 3;  // kernel rows (the uniform KH as a constant: the per-tile row arithmetic divides by it)
// SKIP_IDLE: some lanes own no kernel row (or no second one): they skip those loads. On lavapipe a
// load is a loop over the active lanes, so the stem (9 rows on 5 of 8 lanes) gets 10% faster; where
// every lane is busy the extra branch costs 7%, hence a constant the launcher sets.
override SKIP_IDLE: bool = false;
struct Params { N: u32, C: u32, H: u32, W: u32, O: u32, OH: u32, OW: u32, KH: u32, chunk: u32 }
// #include "texture_rows.wgsl"
// #if tex tex_x
@group(0) @binding(0) var x4t: texture_storage_2d<rgba32float, read>;
fn xAt(i: u32) -> vec4f { return textureLoad(x4t, mirrorTexel(i)); }
// #else
@group(0) @binding(0) var<storage, read> x4: array<vec4f>;
fn xAt(i: u32) -> vec4f { return x4[i]; }
// #endif
// #if tex tex_dy
@group(0) @binding(2) var dyt: texture_storage_2d<rgba32float, read>;
fn dyAt(i: u32) -> vec4f { return textureLoad(dyt, mirrorTexel(i)); }
// #else
@group(0) @binding(2) var<storage, read> dy: array<vec4f>;
fn dyAt(i: u32) -> vec4f { return dy[i]; }
// #endif
@group(0) @binding(3) var<storage, read_write> part: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
// #if shortcut
@group(0) @binding(5) var<storage, read> dsc: array<vec4f>;      // the shortcut's output gradient, shaped as dy
@group(0) @binding(6) var<storage, read_write> psc: array<f32>;  // its partials [nchunks, O, C]
// #endif

// the input row segment a tile needs: [L | A0 | A1 (S_ = 2 only) | R], element 4 = column 4*S_*j
struct Row { L: vec4f, A0: vec4f, A1: vec4f, R: vec4f }
struct Acc8 { a0: vec4f, a1: vec4f, a2: vec4f, a3: vec4f, a4: vec4f, a5: vec4f, a6: vec4f, a7: vec4f }
struct Sc8 { lo: vec4f, hi: vec4f }  // variant shortcut: one kernel row's shortcut sums for 8 output channels

fn pick(r: Row, i: u32) -> f32 {
  if (i < 4u) { return r.L[i]; }
  if (i < 8u) { return r.A0[i - 4u]; }
  if (S_ > 1u && i < 12u) { return r.A1[i - 8u]; }
  return r.R[i - 4u - 4u * S_];
}

// a[kw] += sum_t d[t] * x[row, col(t) + kw], kw < KW_
fn taps(a: vec4f, d: vec4f, r: Row) -> vec4f {
  var o = a;
  for (var kw = 0u; kw < KW_; kw++) { o[kw] = dot4(o[kw], d, tapCols(r, 4u - PAD_ + kw)); }
  return o;
}

// the row segment's elements i0, i0 + S, i0 + 2S, i0 + 3S: one tap's inputs for the tile's 4 columns
fn tapCols(r: Row, i0: u32) -> vec4f {
  return vec4f(pick(r, i0), pick(r, i0 + S_), pick(r, i0 + 2u * S_), pick(r, i0 + 3u * S_));
}

// s + the tile's 4 products d[t] * x[t], in the order every sum of this kernel takes them
fn dot4(s: f32, d: vec4f, x: vec4f) -> f32 {
  return fma(d.w, x.w, fma(d.z, x.z, fma(d.y, x.y, fma(d.x, x.x, s))));
}

// the lane's own input columns of kernel row rr = (c, kh) for the tile (n, oh, j): A0 (and A1 for
// S_ = 2); zeros outside the image. The halo columns come from the neighbouring tiles (withHalo).
fn loadOwn(rr: u32, n: u32, oh: u32, j: u32) -> Row {
  let c = rr / KH_;
  let kh = rr - c * KH_;
  let ih = i32(oh * S_) - i32(PAD_) + i32(kh);
  let rowok = ih >= 0 && ih < i32(p.H);
  // branch-free: a clamped row, zeroed after (a branch around the loads ran slower on lavapipe)
  let i = ((n * p.C + c) * p.H * p.W + u32(select(0, ih, rowok)) * p.W + 4u * S_ * j) / 4u;
  var r: Row;
  r.A0 = select(vec4f(0.0), xAt(i), rowok);
  if (S_ > 1u) { r.A1 = select(vec4f(0.0), xAt(i + 1u), rowok); }
  return r;
}

// the tile's row segment [L | A0 | A1 | R]: L is the last 4 columns of the previous tile of the row
// (zeros at the row start), R the first 4 of the next one (zeros at the row end)
fn withHalo(own: Row, prev: vec4f, next: Row, first: bool, last: bool) -> Row {
  return Row(select(prev, vec4f(0.0), first), own.A0, own.A1, select(next.A0, vec4f(0.0), last));
}

// whether a tile reads columns outside its own (3x3 kernels do; a 1x1 stride-2 kernel does not)
override HALO: bool = PAD_ > 0u || KW_ > PAD_ + S_;

fn lastVec(r: Row) -> vec4f {
  return select(r.A0, r.A1, S_ > 1u);
}

// acc1/acc2 (kernel rows 1 and 2 of the lane) += the tile's dy for 8 channels (lane q's d) x row taps
fn accum8(acc1: ptr<function, Acc8>, acc2: ptr<function, Acc8>, d: vec4f, r1: Row, r2: Row) {
  {
    let dq = vec4f(subgroupBroadcast(d.x, 0u), subgroupBroadcast(d.y, 0u), subgroupBroadcast(d.z, 0u), subgroupBroadcast(d.w, 0u));
    (*acc1).a0 = taps((*acc1).a0, dq, r1);
    if (TK > 1u) { (*acc2).a0 = taps((*acc2).a0, dq, r2); }
  }
  {
    let dq = vec4f(subgroupBroadcast(d.x, 1u), subgroupBroadcast(d.y, 1u), subgroupBroadcast(d.z, 1u), subgroupBroadcast(d.w, 1u));
    (*acc1).a1 = taps((*acc1).a1, dq, r1);
    if (TK > 1u) { (*acc2).a1 = taps((*acc2).a1, dq, r2); }
  }
  {
    let dq = vec4f(subgroupBroadcast(d.x, 2u), subgroupBroadcast(d.y, 2u), subgroupBroadcast(d.z, 2u), subgroupBroadcast(d.w, 2u));
    (*acc1).a2 = taps((*acc1).a2, dq, r1);
    if (TK > 1u) { (*acc2).a2 = taps((*acc2).a2, dq, r2); }
  }
  {
    let dq = vec4f(subgroupBroadcast(d.x, 3u), subgroupBroadcast(d.y, 3u), subgroupBroadcast(d.z, 3u), subgroupBroadcast(d.w, 3u));
    (*acc1).a3 = taps((*acc1).a3, dq, r1);
    if (TK > 1u) { (*acc2).a3 = taps((*acc2).a3, dq, r2); }
  }
  {
    let dq = vec4f(subgroupBroadcast(d.x, 4u), subgroupBroadcast(d.y, 4u), subgroupBroadcast(d.z, 4u), subgroupBroadcast(d.w, 4u));
    (*acc1).a4 = taps((*acc1).a4, dq, r1);
    if (TK > 1u) { (*acc2).a4 = taps((*acc2).a4, dq, r2); }
  }
  {
    let dq = vec4f(subgroupBroadcast(d.x, 5u), subgroupBroadcast(d.y, 5u), subgroupBroadcast(d.z, 5u), subgroupBroadcast(d.w, 5u));
    (*acc1).a5 = taps((*acc1).a5, dq, r1);
    if (TK > 1u) { (*acc2).a5 = taps((*acc2).a5, dq, r2); }
  }
  {
    let dq = vec4f(subgroupBroadcast(d.x, 6u), subgroupBroadcast(d.y, 6u), subgroupBroadcast(d.z, 6u), subgroupBroadcast(d.w, 6u));
    (*acc1).a6 = taps((*acc1).a6, dq, r1);
    if (TK > 1u) { (*acc2).a6 = taps((*acc2).a6, dq, r2); }
  }
  {
    let dq = vec4f(subgroupBroadcast(d.x, 7u), subgroupBroadcast(d.y, 7u), subgroupBroadcast(d.z, 7u), subgroupBroadcast(d.w, 7u));
    (*acc1).a7 = taps((*acc1).a7, dq, r1);
    if (TK > 1u) { (*acc2).a7 = taps((*acc2).a7, dq, r2); }
  }
}

// accum8 with DDIRECT: channel q's dy vec4 is dyAt(d0 + min(q, last) * cs), the same for every lane
fn accum8d(acc1: ptr<function, Acc8>, acc2: ptr<function, Acc8>, d0: u32, cs: u32, last: u32, r1: Row, r2: Row) {
  var dq = dyAt(d0);
  (*acc1).a0 = taps((*acc1).a0, dq, r1);
  if (TK > 1u) { (*acc2).a0 = taps((*acc2).a0, dq, r2); }
  dq = dyAt(d0 + min(1u, last) * cs);
  (*acc1).a1 = taps((*acc1).a1, dq, r1);
  if (TK > 1u) { (*acc2).a1 = taps((*acc2).a1, dq, r2); }
  dq = dyAt(d0 + min(2u, last) * cs);
  (*acc1).a2 = taps((*acc1).a2, dq, r1);
  if (TK > 1u) { (*acc2).a2 = taps((*acc2).a2, dq, r2); }
  dq = dyAt(d0 + min(3u, last) * cs);
  (*acc1).a3 = taps((*acc1).a3, dq, r1);
  if (TK > 1u) { (*acc2).a3 = taps((*acc2).a3, dq, r2); }
  dq = dyAt(d0 + min(4u, last) * cs);
  (*acc1).a4 = taps((*acc1).a4, dq, r1);
  if (TK > 1u) { (*acc2).a4 = taps((*acc2).a4, dq, r2); }
  dq = dyAt(d0 + min(5u, last) * cs);
  (*acc1).a5 = taps((*acc1).a5, dq, r1);
  if (TK > 1u) { (*acc2).a5 = taps((*acc2).a5, dq, r2); }
  dq = dyAt(d0 + min(6u, last) * cs);
  (*acc1).a6 = taps((*acc1).a6, dq, r1);
  if (TK > 1u) { (*acc2).a6 = taps((*acc2).a6, dq, r2); }
  dq = dyAt(d0 + min(7u, last) * cs);
  (*acc1).a7 = taps((*acc1).a7, dq, r1);
  if (TK > 1u) { (*acc2).a7 = taps((*acc2).a7, dq, r2); }
}

// #if shortcut
// kernel row m of the kh-major lane order (m = kh*C + c) as its row index r = c*KH + kh
fn rowOf(m: u32) -> u32 {
  let kh = m / p.C;
  return (m - kh * p.C) * KH_ + kh;
}

// acc (8 channels: lo = o0..o0+3, hi = o0+4..o0+7) += the tile's shortcut dy (lane q's d, broadcast) . xs,
// as taps() with one tap. Every lane does it (lanes with no shortcut row never store theirs): a branch
// per subgroup took longer on lavapipe, and on a 32-wide subgroup it would not be uniform.
fn accumSc8(acc: ptr<function, Sc8>, d: vec4f, xs: vec4f) {
  (*acc).lo.x = dot4((*acc).lo.x, vec4f(subgroupBroadcast(d.x, 0u), subgroupBroadcast(d.y, 0u), subgroupBroadcast(d.z, 0u), subgroupBroadcast(d.w, 0u)), xs);
  (*acc).lo.y = dot4((*acc).lo.y, vec4f(subgroupBroadcast(d.x, 1u), subgroupBroadcast(d.y, 1u), subgroupBroadcast(d.z, 1u), subgroupBroadcast(d.w, 1u)), xs);
  (*acc).lo.z = dot4((*acc).lo.z, vec4f(subgroupBroadcast(d.x, 2u), subgroupBroadcast(d.y, 2u), subgroupBroadcast(d.z, 2u), subgroupBroadcast(d.w, 2u)), xs);
  (*acc).lo.w = dot4((*acc).lo.w, vec4f(subgroupBroadcast(d.x, 3u), subgroupBroadcast(d.y, 3u), subgroupBroadcast(d.z, 3u), subgroupBroadcast(d.w, 3u)), xs);
  (*acc).hi.x = dot4((*acc).hi.x, vec4f(subgroupBroadcast(d.x, 4u), subgroupBroadcast(d.y, 4u), subgroupBroadcast(d.z, 4u), subgroupBroadcast(d.w, 4u)), xs);
  (*acc).hi.y = dot4((*acc).hi.y, vec4f(subgroupBroadcast(d.x, 5u), subgroupBroadcast(d.y, 5u), subgroupBroadcast(d.z, 5u), subgroupBroadcast(d.w, 5u)), xs);
  (*acc).hi.z = dot4((*acc).hi.z, vec4f(subgroupBroadcast(d.x, 6u), subgroupBroadcast(d.y, 6u), subgroupBroadcast(d.z, 6u), subgroupBroadcast(d.w, 6u)), xs);
  (*acc).hi.w = dot4((*acc).hi.w, vec4f(subgroupBroadcast(d.x, 7u), subgroupBroadcast(d.y, 7u), subgroupBroadcast(d.z, 7u), subgroupBroadcast(d.w, 7u)), xs);
}

fn storeSc(acc: Sc8, c: u32, o0: u32, chunkIdx: u32) {
  let a = array<f32, 8>(acc.lo.x, acc.lo.y, acc.lo.z, acc.lo.w, acc.hi.x, acc.hi.y, acc.hi.z, acc.hi.w);
  for (var qq = 0u; qq < 8u; qq++) {
    let o = o0 + qq;
    if (o < p.O) { psc[(chunkIdx * p.O + o) * p.C + c] = a[qq]; }
  }
}
// #else
fn rowOf(m: u32) -> u32 {
  return m;
}
// #endif

fn store(acc: Acc8, rr: u32, o0: u32, chunkIdx: u32) {
  let CKK = p.C * KH_ * KW_;
  let a = array<vec4f, 8>(acc.a0, acc.a1, acc.a2, acc.a3, acc.a4, acc.a5, acc.a6, acc.a7);
  for (var qq = 0u; qq < 8u; qq++) {
    let o = o0 + qq;
    if (o < p.O) {
      for (var kw = 0u; kw < KW_; kw++) { part[(chunkIdx * p.O + o) * CKK + rr * KW_ + kw] = a[qq][kw]; }
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(subgroup_invocation_id) sid: u32) {
  let NR = p.C * KH_;
  let NL = (NR + TK - 1u) / TK;            // lanes needed
  let li = wid.x * WG + lid;
  let r1 = rowOf(min(li, NR - 1u));
  let r2 = rowOf(min(li + NL, NR - 1u));
  let TPR = p.OW / 4u;
  let T = p.N * p.OH * TPR;
  let q0 = wid.z * p.chunk;
  let q1 = min(q0 + p.chunk, T);
  let OHW4 = p.OH * TPR;
  let o0 = wid.y * OB;
  let olane = min(o0 + (sid & 7u), p.O - 1u);
  let olane2 = min(o0 + 8u + (sid & 7u), p.O - 1u);
  let olane3 = min(o0 + 16u + (sid & 7u), p.O - 1u);  // OB = 32
  let olane4 = min(o0 + 24u + (sid & 7u), p.O - 1u);
  // walk tiles q0..q1 with incremental (n, oh, j)
  var n = q0 / OHW4;
  var rem = q0 - n * OHW4;
  var oh = rem / TPR;
  var j = rem - oh * TPR;
  var acc1: Acc8;  // row r1, channels o0..o0+7
  var acc2: Acc8;  // row r2, channels o0..o0+7
  var acc3: Acc8;  // row r1, channels o0+8..o0+15
  var acc4: Acc8;  // row r2, channels o0+8..o0+15
  var acc5: Acc8;  // OB = 32: rows r1, r2 for channels o0+16..o0+23, then o0+24..o0+31
  var acc6: Acc8;
  var acc7: Acc8;
  var acc8: Acc8;
// #if shortcut
  // the lane's shortcut row (kh = PAD_): r1, r2 or none (never both: kh-major order, KH_ >= TK)
  let sc1 = li < NL && r1 % KH_ == PAD_;
  let sc2 = TK > 1u && li < NL && li + NL < NR && r2 % KH_ == PAD_;
  let scOn = sc1 || sc2;
  var sa1: Sc8;  // channels o0..o0+7, then +8, +16, +24 as OB allows
  var sa2: Sc8;
  var sa3: Sc8;
  var sa4: Sc8;
// #endif
  // each tile's own columns are loaded once, as the previous tile's "next": one vec4 (two for S_ = 2)
  // per kernel row and tile; the halos come from the neighbours. Lanes with no kernel row (or no
  // second one) skip the loads where such lanes exist (SKIP_IDLE: on lavapipe a load is a loop over
  // the active lanes; where every lane is busy the extra branch costs more than it saves).
  let act1 = !SKIP_IDLE || li < NL;
  let act2 = TK > 1u && (!SKIP_IDLE || (li < NL && li + NL < NR));
  var cur1: Row;
  var cur2: Row;
  var prev1 = vec4f(0.0);
  var prev2 = vec4f(0.0);
  if (HALO && act1) { cur1 = loadOwn(r1, n, oh, j); }
  if (HALO && act2) { cur2 = loadOwn(r2, n, oh, j); }
  if (HALO && j > 0u) {  // a chunk that starts inside a row: the previous tile's columns for the first L
    if (act1) { prev1 = lastVec(loadOwn(r1, n, oh, j - 1u)); }
    if (act2) { prev2 = lastVec(loadOwn(r2, n, oh, j - 1u)); }
  }
  for (var q = q0; q < q1; q++) {
    // the next tile in walk order (the tensor's last tile reads a clamped copy, never used)
    var jn = j + 1u;
    var ohn = oh;
    var nn = n;
    if (jn == TPR) { jn = 0u; ohn++; if (ohn == p.OH) { ohn = 0u; nn++; } }
    var row1 = Row();  // initialised: see test/wgsl_lint.test.ts
    var row2 = Row();
    var next1 = Row();
    var next2 = Row();
    if (HALO) {
      if (act1) { next1 = loadOwn(r1, min(nn, p.N - 1u), ohn, jn); }
      if (act2) { next2 = loadOwn(r2, min(nn, p.N - 1u), ohn, jn); }
      row1 = withHalo(cur1, prev1, next1, j == 0u, jn == 0u);
      row2 = row1;
      if (TK > 1u) { row2 = withHalo(cur2, prev2, next2, j == 0u, jn == 0u); }
    } else {  // no halo columns (1x1 stride 2): just this tile's own
      if (act1) { row1 = loadOwn(r1, n, oh, j); }
      row2 = row1;
      if (act2) { row2 = loadOwn(r2, n, oh, j); }
    }
    if (DDIRECT != 0u) {
      // channels o0.. (clamped to O - 1 like olane: the clamped sums are never stored)
      let cs = p.OH * TPR;
      let d0 = ((n * p.O + o0) * p.OH + oh) * TPR + j;
      accum8d(&acc1, &acc2, d0, cs, p.O - 1u - o0, row1, row2);
      if (OB > 8u) { accum8d(&acc3, &acc4, d0 + min(8u, p.O - 1u - o0) * cs, cs, p.O - 1u - min(o0 + 8u, p.O - 1u), row1, row2); }
    } else {
      accum8(&acc1, &acc2, dyAt(((n * p.O + olane) * p.OH + oh) * TPR + j), row1, row2);
      if (OB > 8u) { accum8(&acc3, &acc4, dyAt(((n * p.O + olane2) * p.OH + oh) * TPR + j), row1, row2); }
      if (OB > 16u) {
        accum8(&acc5, &acc6, dyAt(((n * p.O + olane3) * p.OH + oh) * TPR + j), row1, row2);
        accum8(&acc7, &acc8, dyAt(((n * p.O + olane4) * p.OH + oh) * TPR + j), row1, row2);
      }
    }
// #if shortcut
    {
      // the shortcut's inputs: its kernel row's tap kw = PAD_, columns (4j+t)*S
      var xs = tapCols(row2, 4u);
      if (sc1) { xs = tapCols(row1, 4u); }
      let base = (n * p.O * p.OH + oh) * TPR + j;
      let cs = p.OH * TPR;
      // lane q hands out channel o0 + q (+ 8, 16, 24) of the shortcut's output gradient
      accumSc8(&sa1, dsc[base + olane * cs], xs);
      if (OB > 8u) { accumSc8(&sa2, dsc[base + olane2 * cs], xs); }
      if (OB > 16u) {
        accumSc8(&sa3, dsc[base + olane3 * cs], xs);
        accumSc8(&sa4, dsc[base + olane4 * cs], xs);
      }
    }
// #endif
    if (HALO) {
      prev1 = lastVec(cur1);
      prev2 = lastVec(cur2);
      cur1 = next1;
      cur2 = next2;
    }
    j = jn;
    oh = ohn;
    n = nn;
  }
// #if shortcut
  if (scOn) {
    let c = select(r2, r1, sc1) / KH_;
    storeSc(sa1, c, o0, wid.z);
    if (OB > 8u) { storeSc(sa2, c, o0 + 8u, wid.z); }
    if (OB > 16u) { storeSc(sa3, c, o0 + 16u, wid.z); storeSc(sa4, c, o0 + 24u, wid.z); }
  }
// #endif
  if (li >= NL) { return; }
  store(acc1, r1, o0, wid.z);
  if (OB > 8u) { store(acc3, r1, o0 + 8u, wid.z); }
  if (OB > 16u) { store(acc5, r1, o0 + 16u, wid.z); store(acc7, r1, o0 + 24u, wid.z); }
  if (TK > 1u && li + NL < NR) {
    store(acc2, r2, o0, wid.z);
    if (OB > 8u) { store(acc4, r2, o0 + 8u, wid.z); }
    if (OB > 16u) { store(acc6, r2, o0 + 16u, wid.z); store(acc8, r2, o0 + 24u, wid.z); }
  }
}
