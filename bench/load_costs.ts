// What it costs to bring a value into a lane, by kind of access: the measurement the conv kernels'
// design rests on (docs/writing-kernels.md, "What a lane's access costs").
//   npx vite-node bench/load_costs.ts [--iters N]
//
// Kernel: bench/conv2d/exp_loadcost.wgsl, one pipeline per MODE. Each invocation runs `iters` trips
// of a loop that gets one vec4 per trip (a 64-byte struct counts as four) at an index that differs
// per lane, from a 64 KiB table (cache-resident: this times the access, not DRAM). Timing: the
// dispatch R times back to back in one submit, wall clock to onSubmittedWorkDone, 5 reps after a
// warm-up; the fastest rep counts (other processes only ever add time). Each mode's cost is its time
// less the baseline's (the loop alone), per lane and vec4, also given in units of the same loop's vec4
// multiply-add (mode `fma x16`). Compare modes within one run; the machine's noise is large.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Gpu } from '../src/gpu/runtime.js';

const MODES = [
  { mode: 0, name: 'none (the loop alone: baseline)', vec4s: 1 },
  { mode: 1, name: 'storage f32 x4 (four scalar loads)', vec4s: 1 },
  { mode: 2, name: 'storage vec4', vec4s: 1 },
  { mode: 3, name: 'storage vec4, one address per workgroup', vec4s: 1 },
  { mode: 4, name: 'storage 64-byte struct (4 vec4s)', vec4s: 4 },
  { mode: 5, name: 'uniform-buffer vec4', vec4s: 1 },
  { mode: 6, name: 'workgroup memory f32 x4', vec4s: 1 },
  { mode: 7, name: 'read-only storage texture (rgba32float)', vec4s: 1 },
  { mode: 8, name: 'sampled texture, textureLoad (rgba32float)', vec4s: 1 },
  { mode: 9, name: 'subgroupBroadcast x4 (constant lanes)', vec4s: 1 },
  { mode: 10, name: 'subgroupShuffle x4 (computed lanes)', vec4s: 1 },
  { mode: 12, name: 'store: storage vec4', vec4s: 1 },
  { mode: 13, name: 'store: storage 64-byte struct (4 vec4s)', vec4s: 4 },
  { mode: 14, name: 'store: write-only storage texture', vec4s: 1 },
  { mode: 11, name: 'fma x16 (vec4 multiply-adds)', vec4s: 16 },
] as const;

const { values } = parseArgs({ options: { iters: { type: 'string', default: '256' } } });
const iters = Number(values.iters);
if (!Number.isInteger(iters) || iters < 16) throw new Error(`--iters must be an integer >= 16 (got ${values.iters})`);

const gpu = await Gpu.create();
const device = gpu.device;
const INVOCATIONS = 65536;
const TABLE_VEC4S = 4096; // 64 KiB: the uniform-buffer binding limit, and a 64x64 texture
const code = readFileSync(fileURLToPath(new URL('./conv2d/exp_loadcost.wgsl', import.meta.url)), 'utf8');
const module = device.createShaderModule({ code, label: 'exp_loadcost' });

const table = new Float32Array(TABLE_VEC4S * 4).map((_, i) => (i % 97) / 97);
const buffer = (usage: number, bytes: number, label: string, data?: Float32Array | Uint32Array): GPUBuffer => {
  const b = device.createBuffer({ size: bytes, usage: usage | GPUBufferUsage.COPY_DST, label });
  if (data) device.queue.writeBuffer(b, 0, data);
  return b;
};
const storageTable = buffer(GPUBufferUsage.STORAGE, table.byteLength, 'table', table);
const uniformTable = buffer(GPUBufferUsage.UNIFORM, table.byteLength, 'table (uniform)', table);
const texture = device.createTexture({ size: [64, 64], format: 'rgba32float', usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_DST, label: 'table (texture)' });
device.queue.writeTexture({ texture }, table, { bytesPerRow: 64 * 16 }, [64, 64]);
const out = buffer(GPUBufferUsage.STORAGE, INVOCATIONS * 4, 'out');
const SINK_BYTES = INVOCATIONS * 16 * 16; // each invocation stores to its own 16 vec4s
const sinkVec4 = buffer(GPUBufferUsage.STORAGE, SINK_BYTES, 'sink (vec4)');
const sinkStruct = buffer(GPUBufferUsage.STORAGE, SINK_BYTES, 'sink (64-byte structs)');
const sinkTexture = device.createTexture({ size: [1024, 1024], format: 'rgba32float', usage: GPUTextureUsage.STORAGE_BINDING, label: 'sink (texture)' });
const params = buffer(GPUBufferUsage.UNIFORM, 16, 'params', new Uint32Array([iters, TABLE_VEC4S - 1, 0, 0]));

async function pipelineFor(mode: number): Promise<GPUComputePipeline> {
  device.pushErrorScope('validation');
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main', constants: { MODE: mode } }, label: `exp_loadcost MODE=${mode}` });
  const err = await device.popErrorScope();
  if (err) throw new Error(`exp_loadcost MODE=${mode}: ${err.message}`);
  return pipeline;
}

/** Fastest rep's ms per dispatch (R back-to-back dispatches per rep), and the median rep's. */
async function timeMode(pipeline: GPUComputePipeline): Promise<{ min: number; median: number }> {
  const view = texture.createView();
  // the 'auto' layout lists every binding the shader names, whatever MODE its code keeps
  const all: GPUBindGroupEntry[] = [
    { binding: 0, resource: { buffer: storageTable } },
    { binding: 1, resource: { buffer: storageTable } },
    { binding: 2, resource: { buffer: storageTable } },
    { binding: 3, resource: { buffer: uniformTable } },
    { binding: 4, resource: view },
    { binding: 5, resource: view },
    { binding: 6, resource: { buffer: out } },
    { binding: 7, resource: { buffer: params } },
    { binding: 8, resource: { buffer: sinkVec4 } },
    { binding: 9, resource: { buffer: sinkStruct } },
    { binding: 10, resource: sinkTexture.createView() },
  ];
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: all });
  const run = async (reps: number): Promise<number> => {
    device.pushErrorScope('validation');
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    for (let r = 0; r < reps; r++) pass.dispatchWorkgroups(INVOCATIONS / 64);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    const ms = (performance.now() - t0) / reps;
    const err = await device.popErrorScope();
    if (err) throw new Error(`exp_loadcost: ${err.message}`);
    return ms;
  };
  const one = await run(1);
  const R = Math.max(1, Math.min(20, Math.ceil(150 / Math.max(one, 0.05))));
  const ts: number[] = [];
  for (let rep = 0; rep < 5; rep++) ts.push(await run(R));
  ts.sort((a, b) => a - b);
  return { min: ts[0], median: ts[2] };
}

console.log(`adapter: ${gpu.dev.description.description} (webgpu@${gpu.dev.description.webgpuPackageVersion})`);
console.log(`${INVOCATIONS} invocations x ${iters} trips, one vec4 per lane and trip (per access of the kind below); ns per lane and vec4 above the baseline`);
const times = new Map<number, { min: number; median: number }>();
for (const m of MODES) times.set(m.mode, await timeMode(await pipelineFor(m.mode)));
const base = times.get(0)!.min;
const perVec4 = (mode: number, vec4s: number) => ((times.get(mode)!.min - base) * 1e6) / (INVOCATIONS * iters * vec4s);
const fmaNs = perVec4(11, 16);
console.log(`${'access'.padEnd(46)} ${'ms (best)'.padStart(10)} ${'ms (median)'.padStart(12)} ${'ns/lane/vec4'.padStart(13)} ${'x vec4 fma'.padStart(11)}`);
for (const m of MODES) {
  const t = times.get(m.mode)!;
  const ns = m.mode === 0 ? NaN : perVec4(m.mode, m.vec4s);
  const cells = m.mode === 0 ? ['', ''] : [ns.toFixed(3), (ns / fmaNs).toFixed(1)];
  console.log(`${m.name.padEnd(46)} ${t.min.toFixed(2).padStart(10)} ${t.median.toFixed(2).padStart(12)} ${cells[0].padStart(13)} ${cells[1].padStart(11)}`);
}
gpu.destroy();
process.exit(0);
