// dw_1x1_rows (a variant on record, not shipped): the weight gradient of a 1x1 stride-2 conv whose
// output rows are 16 wide (ResNet-20's 16->32 shortcut), split-K pass 1:
//   part[q, o, c] = sum over the output rows (n, oh) of chunk q of sum_t dy[n,o,oh,t] * x[n,c,2oh,2t]
// Layouts: x NCHW [N,C,H,32] read as 64-byte structs (a row is two), dy NCHW [N,O,OH,16] (a row is
// one), part [nchunks, O, C] (conv2d_weight_grad_reduce sums it over q).
// Tiling: as conv2d_weight_grad_row4 (lanes over input channels, 2 a lane; OB output channels a
// workgroup, their dy rows loaded by lanes 0..7 and handed out by subgroupBroadcast), but a trip of the
// row loop takes a whole output row (16 columns, 4 of the row kernel's tiles) with 64-byte loads:
// per row and lane 4 x loads and OB/8 dy loads, and each accumulator takes the row's 16 products in one
// chain. Same order of additions as conv2d_weight_grad_row4 (rows in walk order, columns ascending),
// so the same partial sums where the chunks are the same rows.
enable subgroups;
override OB: u32 = 8;   // output channels a workgroup: 8, 16 or 32 (groups of 8 written out)
struct Q16 { a: vec4f, b: vec4f, c: vec4f, d: vec4f }
struct Params { N: u32, C: u32, H: u32, O: u32, OH: u32, chunk: u32 }
@group(0) @binding(0) var<storage, read> x: array<Q16>;
@group(0) @binding(1) var<storage, read> dy: array<Q16>;
@group(0) @binding(2) var<storage, read_write> part: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// the even columns of a 32-column row (two 64-byte structs): x[2t], t = 0..15
fn evens(lo: Q16, hi: Q16) -> array<f32, 16> {
  return array<f32, 16>(lo.a.x, lo.a.z, lo.b.x, lo.b.z, lo.c.x, lo.c.z, lo.d.x, lo.d.z,
                        hi.a.x, hi.a.z, hi.b.x, hi.b.z, hi.c.x, hi.c.z, hi.d.x, hi.d.z);
}

// column t of the row for the group's 8 output channels: v = this lane's dy value at t (lane q holds
// channel q's), handed to every lane, times this lane's two x values at t
fn col(a1: ptr<function, array<f32, 8>>, a2: ptr<function, array<f32, 8>>, v: f32, x1: f32, x2: f32) {
  let b0 = subgroupBroadcast(v, 0u); (*a1)[0] = fma(b0, x1, (*a1)[0]); (*a2)[0] = fma(b0, x2, (*a2)[0]);
  let b1 = subgroupBroadcast(v, 1u); (*a1)[1] = fma(b1, x1, (*a1)[1]); (*a2)[1] = fma(b1, x2, (*a2)[1]);
  let b2 = subgroupBroadcast(v, 2u); (*a1)[2] = fma(b2, x1, (*a1)[2]); (*a2)[2] = fma(b2, x2, (*a2)[2]);
  let b3 = subgroupBroadcast(v, 3u); (*a1)[3] = fma(b3, x1, (*a1)[3]); (*a2)[3] = fma(b3, x2, (*a2)[3]);
  let b4 = subgroupBroadcast(v, 4u); (*a1)[4] = fma(b4, x1, (*a1)[4]); (*a2)[4] = fma(b4, x2, (*a2)[4]);
  let b5 = subgroupBroadcast(v, 5u); (*a1)[5] = fma(b5, x1, (*a1)[5]); (*a2)[5] = fma(b5, x2, (*a2)[5]);
  let b6 = subgroupBroadcast(v, 6u); (*a1)[6] = fma(b6, x1, (*a1)[6]); (*a2)[6] = fma(b6, x2, (*a2)[6]);
  let b7 = subgroupBroadcast(v, 7u); (*a1)[7] = fma(b7, x1, (*a1)[7]); (*a2)[7] = fma(b7, x2, (*a2)[7]);
}

// the whole row for one group of 8 output channels, columns ascending (written out: no loop carries
// the accumulators within a row)
fn group8(a1: ptr<function, array<f32, 8>>, a2: ptr<function, array<f32, 8>>, d: Q16, x1: array<f32, 16>, x2: array<f32, 16>) {
  col(a1, a2, d.a.x, x1[0], x2[0]); col(a1, a2, d.a.y, x1[1], x2[1]);
  col(a1, a2, d.a.z, x1[2], x2[2]); col(a1, a2, d.a.w, x1[3], x2[3]);
  col(a1, a2, d.b.x, x1[4], x2[4]); col(a1, a2, d.b.y, x1[5], x2[5]);
  col(a1, a2, d.b.z, x1[6], x2[6]); col(a1, a2, d.b.w, x1[7], x2[7]);
  col(a1, a2, d.c.x, x1[8], x2[8]); col(a1, a2, d.c.y, x1[9], x2[9]);
  col(a1, a2, d.c.z, x1[10], x2[10]); col(a1, a2, d.c.w, x1[11], x2[11]);
  col(a1, a2, d.d.x, x1[12], x2[12]); col(a1, a2, d.d.y, x1[13], x2[13]);
  col(a1, a2, d.d.z, x1[14], x2[14]); col(a1, a2, d.d.w, x1[15], x2[15]);
}

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(subgroup_invocation_id) sid: u32) {
  let c1 = min(2u * sid, p.C - 1u);
  let c2 = min(2u * sid + 1u, p.C - 1u);
  let o0 = wid.y * OB;
  let rows = p.N * p.OH;
  let r0 = wid.z * p.chunk;
  let r1 = min(r0 + p.chunk, rows);
  var a1 = array<f32, 8>();  // channel c1, output channels o0..o0+7
  var a2 = array<f32, 8>();  // channel c2
  var b1 = array<f32, 8>();  // OB >= 16: o0+8..
  var b2 = array<f32, 8>();
  var e1 = array<f32, 8>();  // OB = 32: o0+16.., o0+24..
  var e2 = array<f32, 8>();
  var f1 = array<f32, 8>();
  var f2 = array<f32, 8>();
  for (var r = r0; r < r1; r++) {
    let n = r / p.OH;
    let oh = r - n * p.OH;
    // this lane's two input rows 2oh of channels c1, c2: two structs each
    let xi1 = ((n * p.C + c1) * p.H + 2u * oh) * 2u;
    let xi2 = ((n * p.C + c2) * p.H + 2u * oh) * 2u;
    let x1 = evens(x[xi1], x[xi1 + 1u]);
    let x2 = evens(x[xi2], x[xi2 + 1u]);
    // lane q's dy rows: channel o0 + q (+ 8, 16, 24)
    let di = (n * p.O + min(o0 + (sid & 7u), p.O - 1u)) * p.OH + oh;
    group8(&a1, &a2, dy[di], x1, x2);
    if (OB > 8u) { group8(&b1, &b2, dy[di + min(8u, p.O - 1u - o0) * p.OH], x1, x2); }
    if (OB > 16u) {
      group8(&e1, &e2, dy[di + min(16u, p.O - 1u - o0) * p.OH], x1, x2);
      group8(&f1, &f2, dy[di + min(24u, p.O - 1u - o0) * p.OH], x1, x2);
    }
  }
  if (2u * sid >= p.C) { return; }
  for (var q = 0u; q < 8u; q++) {
    let o = o0 + q;
    if (o < p.O) {
      part[(wid.z * p.O + o) * p.C + c1] = a1[q];
      part[(wid.z * p.O + o) * p.C + c2] = a2[q];
    }
    if (OB > 8u && o + 8u < p.O) {
      part[(wid.z * p.O + o + 8u) * p.C + c1] = b1[q];
      part[(wid.z * p.O + o + 8u) * p.C + c2] = b2[q];
    }
    if (OB > 16u && o + 16u < p.O) {
      part[(wid.z * p.O + o + 16u) * p.C + c1] = e1[q];
      part[(wid.z * p.O + o + 16u) * p.C + c2] = e2[q];
    }
    if (OB > 16u && o + 24u < p.O) {
      part[(wid.z * p.O + o + 24u) * p.C + c1] = f1[q];
      part[(wid.z * p.O + o + 24u) * p.C + c2] = f2[q];
    }
  }
}
