// Experiment on record: where a first-pass f32 sum of 273,664 elements (ResNet-20's parameters) spends
// its time on lavapipe, by tiling (docs/writing-kernels.md, "Reductions: a run per lane"). Timing: 200
// back-to-back dispatches in one pass, wall clock to onSubmittedWorkDone, 7 reps; the data is
// cache-resident. Compare variants within one run: the VM's noise is large.
//   npx vite-node bench/exp/reduce_variants.ts
import { Gpu } from '../../src/gpu/runtime.js';

const gpu = await Gpu.create();
const device = gpu.device;
const N = 273664;
const V4 = N / 4;
const data = new Float32Array(N).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
const a = device.createBuffer({ size: N * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
device.queue.writeBuffer(a, 0, data);
const out = device.createBuffer({ size: 1 << 20, usage: GPUBufferUsage.STORAGE });

const head = `
@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
struct P { n: u32, steps: u32 }
@group(0) @binding(2) var<uniform> p: P;`;
/** Each of `wg` lanes sums its own run of p.steps 64-byte structs; one barrier, then lane 0 adds the lane sums. */
function structRuns(wg: number): string {
  return `
struct Q16 { a: vec4f, b: vec4f, c: vec4f, d: vec4f }
@group(0) @binding(0) var<storage, read> a: array<Q16>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
struct P { n: u32, steps: u32 }
@group(0) @binding(2) var<uniform> p: P;
var<workgroup> sh: array<f32, ${wg}>;
@compute @workgroup_size(${wg}) fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let g = wid.x; var acc = vec4f(0.0); let RUN = p.steps; let base = (g * ${wg}u + lid.x) * RUN;
  if ((base + RUN) * 16u <= p.n) { for (var k = 0u; k < RUN; k++) { let q = a[base + k]; acc += (q.a + q.b) + (q.c + q.d); } }
  sh[lid.x] = (acc.x + acc.y) + (acc.z + acc.w); workgroupBarrier();
  if (lid.x == 0u) { var total = 0.0; for (var t = 0u; t < ${wg}u; t++) { total += sh[t]; } out[g] = total; }
}`;
}
/** `wg` lanes stride through p.steps * wg vec4s together, each writing its own partial (no barrier). */
function stridedPartials(wg: number): string {
  return head + `
@compute @workgroup_size(${wg}) fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let g = wid.x; var acc = vec4f(0.0);
  for (var k = 0u; k < p.steps; k++) { let j = (g * p.steps + k) * ${wg}u + lid.x; if (j * 4u < p.n) { acc += a[j]; } }
  out[g * ${wg}u + lid.x] = (acc.x + acc.y) + (acc.z + acc.w);
}`;
}

/** The first pass as shaders/include/reduce_f32_tile.wgsl does it (unmasked). */
const shipped = head + `
var<workgroup> sh: array<f32, 64>;
@compute @workgroup_size(64) fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let g = wid.x; var acc = vec4f(0.0); let RUN = p.steps * 4u; let base = (g * 64u + lid.x) * RUN;
  if ((base + RUN) * 4u <= p.n) { for (var k = 0u; k < RUN; k++) { acc += a[base + k]; } }
  else { for (var k = 0u; k < RUN; k++) { let j = base + k;
    if (j * 4u < p.n) { let valid = (vec4u(j * 4u) + vec4u(0u, 1u, 2u, 3u)) < vec4u(p.n); acc += select(vec4f(0.0), a[j], valid); } } }
  sh[lid.x] = (acc.x + acc.y) + (acc.z + acc.w); workgroupBarrier();
  if (lid.x == 0u) { var total = 0.0; for (var t = 0u; t < 64u; t++) { total += sh[t]; } out[g] = total; }
}`;

const variants: Record<string, { code: string; groups: number; n?: number }> = {
  'wg256 steps16 barrier+serial (shipped before 56b15c3)': { groups: Math.ceil(V4 / 4096), code: head + `
var<workgroup> sh: array<f32, 256>;
@compute @workgroup_size(256) fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let g = wid.x; var acc = 0.0;
  for (var k = 0u; k < p.steps; k++) { let j = (g * p.steps + k) * 256u + lid.x;
    if (j * 4u < p.n) { let valid = (vec4u(j * 4u) + vec4u(0u, 1u, 2u, 3u)) < vec4u(p.n); let t = select(vec4f(0.0), a[j], valid); acc = acc + ((t.x + t.y) + (t.z + t.w)); } }
  sh[lid.x] = acc; workgroupBarrier();
  if (lid.x == 0u) { var total = 0.0; for (var t = 0u; t < 256u; t++) { total += sh[t]; } out[g] = total; }
}` },
  'wg256 steps16 no barrier (partial per lane)': { groups: Math.ceil(V4 / 4096), code: head + `
@compute @workgroup_size(256) fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let g = wid.x; var acc = 0.0;
  for (var k = 0u; k < p.steps; k++) { let j = (g * p.steps + k) * 256u + lid.x;
    if (j * 4u < p.n) { let valid = (vec4u(j * 4u) + vec4u(0u, 1u, 2u, 3u)) < vec4u(p.n); let t = select(vec4f(0.0), a[j], valid); acc = acc + ((t.x + t.y) + (t.z + t.w)); } }
  out[g * 256u + lid.x] = acc;
}` },
  'wg64 steps64 barrier+serial': { groups: Math.ceil(V4 / 4096), code: head + `
var<workgroup> sh: array<f32, 64>;
@compute @workgroup_size(64) fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let g = wid.x; var acc = 0.0;
  for (var k = 0u; k < p.steps * 4u; k++) { let j = (g * p.steps * 4u + k) * 64u + lid.x;
    if (j * 4u < p.n) { let valid = (vec4u(j * 4u) + vec4u(0u, 1u, 2u, 3u)) < vec4u(p.n); let t = select(vec4f(0.0), a[j], valid); acc = acc + ((t.x + t.y) + (t.z + t.w)); } }
  sh[lid.x] = acc; workgroupBarrier();
  if (lid.x == 0u) { var total = 0.0; for (var t = 0u; t < 64u; t++) { total += sh[t]; } out[g] = total; }
}` },
  'wg64 lane-contiguous 64 vec4/lane, vec4 acc, no barrier': { groups: Math.ceil(V4 / 4096), code: head + `
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3u) {
  var acc = vec4f(0.0); let base = gid.x * p.steps * 4u;
  for (var k = 0u; k < p.steps * 4u; k++) { let j = base + k; if (j * 4u < p.n) { acc += a[j]; } }
  out[gid.x] = (acc.x + acc.y) + (acc.z + acc.w);
}` },
  'wg64 steps16 unmasked body, no barrier (grid 4x)': { groups: Math.ceil(V4 / 1024), code: stridedPartials(64) },
  'wg64 contiguous 64-byte structs, fast path, barrier+serial': { groups: Math.ceil(V4 / 4096), code: structRuns(64) },
  'wg32 contiguous 64-byte structs, fast path, barrier+serial': { groups: Math.ceil(V4 / 2048), code: structRuns(32) },
  'wg64 contiguous, valid+mask branch, barrier+serial': { groups: Math.ceil(V4 / 4096), code: head + `
var<workgroup> sh: array<f32, 64>;
@compute @workgroup_size(64) fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let g = wid.x; var acc = vec4f(0.0); let RUN = p.steps * 4u; let base = (g * 64u + lid.x) * RUN;
  for (var k = 0u; k < RUN; k++) { let j = base + k;
    if (j * 4u < p.n) { var valid = (vec4u(j * 4u) + vec4u(0u, 1u, 2u, 3u)) < vec4u(p.n); if (p.steps == 7u) { valid = valid & (a[j] != vec4f(0.0)); } acc += select(vec4f(0.0), a[j], valid); } }
  sh[lid.x] = (acc.x + acc.y) + (acc.z + acc.w); workgroupBarrier();
  if (lid.x == 0u) { var total = 0.0; for (var t = 0u; t < 64u; t++) { total += sh[t]; } out[g] = total; }
}` },
  'wg64 contiguous, full-run fast path, barrier+serial (shipped since 56b15c3)': { groups: Math.ceil(V4 / 4096), code: shipped },
  'wg256 strided vec4 acc no barrier': { groups: Math.ceil(V4 / 4096), code: stridedPartials(256) },
  'second pass: 17 values, 1 workgroup of 64 (the shipped kernel)': { groups: 1, n: 17, code: shipped },
  'empty (launch only)': { groups: Math.ceil(V4 / 4096), code: head + `
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3u) { if (gid.x == 1000000u) { out[0] = f32(p.n); } }` },
};
const params = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
device.queue.writeBuffer(params, 0, new Uint32Array([N, 16, 0, 0]));
for (const [name, v] of Object.entries(variants)) {
  const module = device.createShaderModule({ code: v.code });
  const pb = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(pb, 0, new Uint32Array([v.n ?? N, 16, 0, 0]));
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const bg = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: a } }, { binding: 1, resource: { buffer: out } }, { binding: 2, resource: { buffer: pb } }].filter((e) => !(name.startsWith('empty') && e.binding === 0)) });
  const run = async (reps: number) => {
    const t0 = performance.now();
    const enc = device.createCommandEncoder(); const pass = enc.beginComputePass();
    pass.setPipeline(pipeline); pass.setBindGroup(0, bg);
    for (let r = 0; r < reps; r++) pass.dispatchWorkgroups(v.groups);
    pass.end(); device.queue.submit([enc.finish()]); await device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / reps;
  };
  await run(5);
  const ts: number[] = [];
  for (let i = 0; i < 7; i++) ts.push(await run(200));
  ts.sort((x, y) => x - y);
  console.log(`${name.padEnd(58)} ${ts[0].toFixed(4)} ms best, ${ts[3].toFixed(4)} median  (${(N * 4 / ts[0] / 1e6).toFixed(1)} GB/s)`);
}
gpu.destroy();
process.exit(0);
