// Experiment on record: where augment_sample's crop_flip variant (the training augmentation, DIRECT from
// two dataset chunks) spends its time on lavapipe. Each variant is the shipped WGSL with one change made
// by text substitution; all run on the same 128 samples (random images of a 50,000-image dataset in two
// chunks, random crops and flips), their outputs compared with the shipped kernel's. Timing: 100
// back-to-back dispatches in one pass, wall clock to onSubmittedWorkDone, variants interleaved round by
// round (the VM's noise is large), best and median of the rounds.
//   npx vite-node bench/exp/augment_variants.ts
import { Gpu } from '../../src/gpu/runtime.js';
import { selectVariant } from '../../src/gpu/kernel.js';
import { readShader } from '../../src/gpu/shader_source.js';

const gpu = await Gpu.create();
const device = gpu.device;
const N = 128;
const CHUNK = 43690;
const IMAGES = 50000;
const S = device.createBuffer({ size: CHUNK * 3072, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
const S1 = device.createBuffer({ size: CHUNK * 3072, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
let seed = 12345;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
{
  const bytes = new Uint8Array(CHUNK * 3072);
  for (let i = 0; i < bytes.length; i += 4) { const r = (rand() * 2 ** 32) >>> 0; bytes[i] = r; bytes[i + 1] = r >> 8; bytes[i + 2] = r >> 16; bytes[i + 3] = r >> 24; }
  device.queue.writeBuffer(S, 0, bytes);
  device.queue.writeBuffer(S1, 0, bytes.reverse());
}
const prmWords = new Uint32Array(N * 8);
const prmF = new Float32Array(prmWords.buffer);
for (let s = 0; s < N; s++) {
  const flip = rand() < 0.5;
  const dx = Math.floor(rand() * 9) - 4;
  const dy = Math.floor(rand() * 9) - 4;
  // crop+flip as the launcher's affine: x -> a*x + tx, y -> y + ty
  prmF.set([flip ? -1 : 1, 0, 0, 1, flip ? 31 + dx : dx, dy], s * 8);
  prmWords[s * 8 + 6] = s % 10;
  prmWords[s * 8 + 7] = Math.floor(rand() * IMAGES);
}
const prm = device.createBuffer({ size: prmWords.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
device.queue.writeBuffer(prm, 0, prmWords);
const OUT_BYTES = N * 3 * 1024 * 4;
const labels = device.createBuffer({ size: N * 4, usage: GPUBufferUsage.STORAGE });
const MEAN = [0.4914, 0.4822, 0.4465, 0];
const STD = [0.247, 0.2435, 0.2616, 1];
function uniforms(mean: number[], stdev: number[]): GPUBuffer {
  const b = device.createBuffer({ size: 48, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const w = new Uint32Array(12);
  w.set([N, 1, 0, CHUNK]);
  new Float32Array(w.buffer, 16, 8).set([...mean, ...stdev]);
  device.queue.writeBuffer(b, 0, w);
  return b;
}
// scale/bias in the mean/stdev fields: (v/255 - m)/s = v * (1/(255 s)) + (-m/s)
const plain = uniforms(MEAN, STD);
const affine = uniforms(MEAN.map((m, c) => -m / STD[c]), STD.map((s) => 1 / (255 * s)));

const shipped = selectVariant(readShader('augment_sample'), 'crop_flip', 'augment_sample');
const FMA_OLD = 'v[k] = (unpack(w) / 255.0 - vec4f(mean)) / vec4f(sd);';
const FMA_NEW = 'v[k] = unpack(w) * vec4f(sd) + vec4f(mean);';
const must = (code: string, from: string, to: string): string => {
  if (!code.includes(from)) throw new Error(`substitution target not found: ${from}`);
  return code.split(from).join(to);
};
const fma = must(shipped, FMA_OLD, FMA_NEW);
// unpack by the built-in (packed_4x8 language feature)
const builtinUnpack = must(fma, 'return vec4f(f32(w & 255u), f32((w >> 8u) & 255u), f32((w >> 16u) & 255u), f32(w >> 24u));', 'return vec4f(unpack4xU8(w));');
// two rows per invocation instead of four (twice the invocations)
const twoRows = must(must(must(must(fma,
  '  cropFlipRow(s, img, c, ch, y0 + 2u, ty, flip, q, b, mean, sd);\n  cropFlipRow(s, img, c, ch, y0 + 3u, ty, flip, q, b, mean, sd);\n', ''),
  'let quad = (wid.x + wid.y * nwg.x) * 64u + t;  // (s * 3 + ch) * 8 + y / 4', 'let quad = (wid.x + wid.y * nwg.x) * 64u + t;'),
  'if (quad >= p.n * 24u) { return; }\n  let g = quad / 8u;\n  cropFlipRows(g / 3u, g % 3u, (quad % 8u) * 4u);',
  'if (quad >= p.n * 48u) { return; }\n  let g = quad / 16u;\n  cropFlipRows(g / 3u, g % 3u, (quad % 16u) * 2u);'),
  'if (ch == 0u && y0 == 0u)', 'if (ch == 0u && y0 == 0u)');
// stores of one vec4 at a time (8 per row) instead of two 64-byte structs
const vec4Stores = must(must(fma, 'out[o] = Q16(v[0], v[1], v[2], v[3]);\n  out[o + 1u] = Q16(v[4], v[5], v[6], v[7]);',
  'for (var k = 0u; k < 8u; k++) { outv[o * 4u + k] = v[k]; }'),
  '@group(0) @binding(2) var<storage, read_write> out: array<Q16>;', '@group(0) @binding(2) var<storage, read_write> outv: array<vec4f>;');

// what bounds it: no source loads (the words are made up from the row), or stores only where a uniform says so (never)
const noLoads = must(fma, 'if (sy >= 0 && sy <= 31) {', 'lo = vec4u(img, y, c, ch); hi = lo.yxwz; if (sy >= 0 && sy <= 31 && p.blur == 7u) {');
const noStores = must(fma, 'out[o] = Q16(v[0], v[1], v[2], v[3]);', 'if (p.blur == 7u) { out[o] = Q16(v[0], v[1], v[2], v[3]); }');
const noStores2 = must(noStores, 'out[o + 1u] = Q16(v[4], v[5], v[6], v[7]);', 'if (p.blur == 7u) { out[o + 1u] = Q16(v[4], v[5], v[6], v[7]); } else { labels[o % 64u] = bitcast<u32>(v[0].x + v[1].y + v[2].z + v[3].w + v[4].x + v[5].y + v[6].z + v[7].w); }');
// the floor: the same stores (two 64-byte structs a row, 4 rows an invocation), values made up from the index
const storesOnly = `struct Q16 { a: vec4f, b: vec4f, c: vec4f, d: vec4f }
@group(0) @binding(2) var<storage, read_write> out: array<Q16>;
@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let quad = wid.x * 64u + t;
  for (var j = 0u; j < 4u; j++) { let o = (quad * 4u + j) * 2u; let v = vec4f(f32(o)) + vec4f(0.0, 1.0, 2.0, 3.0);
    out[o] = Q16(v, v + 4.0, v + 8.0, v + 12.0); out[o + 1u] = Q16(v + 16.0, v + 20.0, v + 24.0, v + 28.0); } }`;
const variants: Record<string, { code: string; u: GPUBuffer; rows: number }> = {
  'shipped (two divisions a vec4)': { code: shipped, u: plain, rows: 4 },
  'scale and bias (one fma a vec4)': { code: fma, u: affine, rows: 4 },
  'fma + unpack4xU8': { code: builtinUnpack, u: affine, rows: 4 },
  'fma, 2 rows an invocation': { code: twoRows, u: affine, rows: 2 },
  'fma, vec4 stores': { code: vec4Stores, u: affine, rows: 4 },
  'fma, no source loads': { code: noLoads, u: affine, rows: 4 },
  'fma, no image stores': { code: noStores2, u: affine, rows: 4 },
  'stores only (the floor)': { code: storesOnly, u: affine, rows: 4 },
};
const emptyCode = `@group(0) @binding(3) var<storage, read_write> labels: array<u32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3u) { if (gid.x == 1000000u) { labels[0] = 1u; } }`;

/** ms per dispatch of `reps` back-to-back dispatches in one pass, wall clock to onSubmittedWorkDone. */
function timed(pipeline: GPUComputePipeline, bg: GPUBindGroup, groups: number): (reps: number) => Promise<number> {
  return async (reps) => {
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bg);
    for (let r = 0; r < reps; r++) pass.dispatchWorkgroups(groups);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / reps;
  };
}

interface Built { name: string; run: (reps: number) => Promise<number>; out: GPUBuffer; times: number[] }
const built: Built[] = [];
for (const [name, v] of Object.entries(variants)) {
  const module = device.createShaderModule({ code: v.code });
  const info = await module.getCompilationInfo();
  if (info.messages.some((m) => m.type === 'error')) throw new Error(`${name}: ${info.messages.map((m) => m.message).join('\n')}`);
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main', constants: v.code === storesOnly ? {} : { DIRECT: 1 } } });
  const out = device.createBuffer({ size: OUT_BYTES, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const all = [
    { binding: 0, resource: { buffer: S } }, { binding: 5, resource: { buffer: S1 } }, { binding: 1, resource: { buffer: prm } },
    { binding: 2, resource: { buffer: out } }, { binding: 3, resource: { buffer: labels } }, { binding: 4, resource: { buffer: v.u } },
  ];
  const bg = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: v.code === storesOnly ? all.filter((e) => e.binding === 2) : all });
  built.push({ name, run: timed(pipeline, bg, Math.ceil((N * 3 * 32) / v.rows / 64)), out, times: [] });
}
{
  const module = device.createShaderModule({ code: emptyCode });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const bg = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 3, resource: { buffer: labels } }] });
  built.push({ name: 'empty (24 workgroups of 64)', run: timed(pipeline, bg, 24), out: labels, times: [] });
}

async function read(b: GPUBuffer): Promise<Float32Array> {
  const st = device.createBuffer({ size: OUT_BYTES, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(b, 0, st, 0, OUT_BYTES);
  device.queue.submit([enc.finish()]);
  await st.mapAsync(GPUMapMode.READ);
  const r = new Float32Array(st.getMappedRange().slice(0));
  st.unmap();
  return r;
}
for (const b of built) await b.run(3);
const ref = await read(built[0].out);
for (const b of built.slice(1, -2)) {
  const got = await read(b.out);
  let worst = 0;
  let same = 0;
  for (let i = 0; i < ref.length; i++) {
    worst = Math.max(worst, Math.abs(got[i] - ref[i]) / Math.max(1, Math.abs(ref[i])));
    if (got[i] === ref[i]) same++;
  }
  console.log(`${b.name}: largest difference from shipped ${worst.toExponential(2)}, ${((100 * same) / ref.length).toFixed(1)}% same bits`);
}
for (let round = 0; round < 25; round++) for (const b of built) b.times.push(await b.run(100));
const bytes = N * (3072 + 32 + 3 * 32 * 32 * 4 + 4);
for (const b of built) {
  const ts = [...b.times].sort((x, y) => x - y);
  console.log(`${b.name.padEnd(36)} ${ts[0].toFixed(4)} ms best, ${ts[12].toFixed(4)} median  (${(bytes / ts[0] / 1e6).toFixed(2)} GB/s at best)`);
}
gpu.destroy();
process.exit(0);
