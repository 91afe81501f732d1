// The GPU runtime: kernels by name, the buffer pool, and the command encoder that a training step
// records into. Everything a step launches goes into one command encoder and (mostly) one compute
// pass; `submit()` ends it. Uniform buffers are content-addressed (same bytes -> same buffer) and
// bind groups are cached by (pipeline, buffers, uniform), so a steady-state step creates nothing.
import { BufferPool, GpuBuffer, type PoolStats } from './buffer_pool.js';
import { acquireDevice, GpuDevice, type GpuOptions } from './device.js';
import { Kernel, overridesKey, type Overrides } from './kernel.js';

/** A byte range of a GPU buffer: what a binding points at. */
export interface BufferRange {
  buf: GpuBuffer;
  /** Byte offset; a multiple of 256 (minStorageBufferOffsetAlignment). */
  offset: number;
  /** Byte length. */
  bytes: number;
}

export type Workgroups = number | [number, number?, number?];

/**
 * Texels a row of a buffer's texture mirror (rgba32float: 4 floats each, so a row is 16 KiB). The
 * kernels that read mirrors address texel i at (i % 1024, i / 1024): shaders/include/texture_rows.wgsl.
 */
export const TEXTURE_ROW_TEXELS = 1024;
const MIRROR_ROW_BYTES = 16 * TEXTURE_ROW_TEXELS;

/**
 * A texture mirror and what it holds: the buffer range last copied into it and that buffer's write
 * count then (Gpu.writes), or null where unknown (a capture or replay since; see Gpu.forgetMirrors).
 */
interface Mirror {
  texture: GPUTexture;
  view: GPUTextureView;
  id: number;
  holds: { buf: number; offset: number; bytes: number; writes: number } | null;
}

/** A buffer range copied into a texture mirror before a dispatch that reads it (see DispatchArgs.textures). */
export interface TextureCopy {
  src: BufferRange;
  texture: GPUTexture;
}

export interface DispatchArgs {
  /** Storage bindings by their WGSL variable names. */
  bindings: Record<string, BufferRange>;
  /**
   * Buffer ranges a kernel reads through `texture_storage_2d<rgba32float, read>` bindings, by their
   * WGSL names. Before the dispatch each range is copied into a texture of the runtime's (one per
   * kernel, binding and size, reused by every dispatch of that shape: the queue orders each copy
   * after the dispatches before it), TEXTURE_ROW_TEXELS vec4 texels a row; its bytes must be a
   * multiple of 16. Where some mirror (of any kernel) holds that range already, unwritten since, the
   * dispatch reads that one and makes no copy (Gpu.mirrorHolds). On lavapipe a texel load costs
   * about half a storage load (bench/load_costs.ts).
   */
  textures?: Record<string, BufferRange>;
  /** Uniform struct fields by member name (every member required). */
  uniforms?: Record<string, number | readonly number[]>;
  workgroups: Workgroups;
  overrides?: Overrides;
  /** Which `// #if NAME` variant of the WGSL file to use (see src/gpu/kernel.ts); default: none. */
  variant?: string;
}

/**
 * One command of a captured stretch of recording (beginCapture/endCapture), resolved to what Dawn
 * needs to encode it again (pipeline, bind group, grid) and to the buffer ranges it touches, so two
 * captures can be compared and their pooled buffers held (src/train/train_step.ts).
 */
export type CapturedCommand =
  | { kind: 'dispatch'; name: string; pipeline: GPUComputePipeline; group: GPUBindGroup; grid: [number, number, number]; ranges: BufferRange[]; textureCopies?: TextureCopy[] }
  | { kind: 'copy'; src: BufferRange; dst: BufferRange; bytes: number };

/** What Gpu.write/readBytes throw while capturing: a replay could not repeat a host write or read. */
export class CaptureRefused extends Error {
  constructor(what: string) {
    super(`${what} while capturing a step: a replay cannot repeat host writes or reads`);
    this.name = 'CaptureRefused';
  }
}

export interface RuntimeStats extends PoolStats {
  uniformBuffers: number;
  /** Free staging (readback) buffers kept for reuse. */
  stagingBuffers: number;
  /** Staging buffers created so far. */
  stagingCreated: number;
  bindGroups: number;
  /** Texture mirrors made so far (DispatchArgs.textures; kept and reused), and their bytes. */
  textureMirrors: number;
  textureMirrorBytes: number;
  /** Buffer ranges copied into texture mirrors so far (a dispatch whose mirror held its range already made none), and their bytes. */
  textureCopies: number;
  textureCopyBytes: number;
  pipelines: number;
  dispatches: number;
  submits: number;
}

/** Workgroup grid covering n items at `perGroup` items a workgroup, folded into y past 65535. */
export function grid1d(n: number, perGroup: number): [number, number] {
  const groups = Math.ceil(n / perGroup);
  if (groups <= 65535) return [groups, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y];
}

export class Gpu {
  readonly pool: BufferPool;
  /** Tests set this: every new pooled tensor is filled with NaN (f32) or 0xdeadbeef so unwritten elements show. */
  poisonNewTensors = false;
  private readonly kernels = new Map<string, Kernel>();
  private readonly uniformBuffers = new Map<string, GpuBuffer>();
  private stagingCreated = 0;
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly textures = new Map<string, Mirror>();
  /** Writes recorded so far into each buffer (by GpuBuffer id): a mirror holds a range as of one of these. */
  private readonly writes = new Map<number, number>();
  private readonly staging = new Map<number, GPUBuffer[]>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private dispatchCount = 0;
  private submitCount = 0;
  private textureCopyCount = 0;
  private textureCopyBytes = 0;
  private captured: CapturedCommand[] | null = null;

  constructor(readonly dev: GpuDevice) {
    this.pool = new BufferPool(dev.device);
  }

  static async create(options: GpuOptions = {}): Promise<Gpu> {
    return new Gpu(await acquireDevice(options));
  }

  get device(): GPUDevice {
    return this.dev.device;
  }

  kernel(name: string, variant?: string): Kernel {
    const key = variant === undefined ? name : `${name}#${variant}`;
    let k = this.kernels.get(key);
    if (!k) {
      k = new Kernel(name, this.device, variant);
      this.kernels.set(key, k);
    }
    return k;
  }

  private uniformBuffer(kernel: Kernel, values: Record<string, number | readonly number[]>): GpuBuffer | null {
    const bytes = kernel.packUniforms(values);
    if (bytes.length === 0) return null;
    const key = Buffer.from(bytes).toString('base64');
    let b = this.uniformBuffers.get(key);
    if (!b) {
      const buffer = this.device.createBuffer({ size: bytes.length, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: `uniform:${kernel.name}` });
      this.device.queue.writeBuffer(buffer, 0, bytes);
      b = new GpuBuffer(buffer, bytes.length, false);
      this.uniformBuffers.set(key, b);
    }
    return b;
  }

  /**
   * The texture mirror of `src` for binding `binding` of `kernel`: one texture per kernel, binding
   * and number of rows, made on first use and kept (a steady-state step creates none).
   */
  private textureFor(kernel: Kernel, binding: string, src: BufferRange): Mirror {
    if (src.bytes % 16 !== 0) throw new Error(`kernel '${kernel.name}': texture '${binding}' mirrors ${src.bytes} bytes, not a whole number of rgba32float texels`);
    const rows = Math.ceil(src.bytes / MIRROR_ROW_BYTES);
    const maxRows = this.device.limits.maxTextureDimension2D;
    if (rows > maxRows) throw new Error(`kernel '${kernel.name}': texture '${binding}' needs ${rows} rows, over this adapter's ${maxRows} (use the storage-buffer path for this size)`);
    const key = `${kernel.name}:${binding}:${rows}`; // variants share it: each dispatch fills it first
    let t = this.textures.get(key);
    if (!t) {
      const texture = this.device.createTexture({ size: [TEXTURE_ROW_TEXELS, rows], format: 'rgba32float', usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_DST, label: `mirror:${key}` });
      t = { texture, view: texture.createView(), id: this.textures.size, holds: null };
      this.textures.set(key, t);
    }
    return t;
  }

  /** A texture mirror (of any kernel and binding) holding `src`, with no write into its buffer recorded since it was copied there. */
  private mirrorHolding(src: BufferRange): Mirror | undefined {
    const writes = this.writes.get(src.buf.id) ?? 0;
    for (const t of this.textures.values()) {
      const h = t.holds;
      if (h && h.buf === src.buf.id && h.offset === src.offset && h.bytes === src.bytes && h.writes === writes) return t;
    }
    return undefined;
  }

  /**
   * Does some texture mirror hold `src` already, unwritten since it was copied there? Then a dispatch
   * reading `src` through a mirror reads that one and makes no copy: a launcher can read through a
   * mirror an earlier launch left (the 1x1 shortcut's weight gradient after its block's 3x3 one).
   */
  mirrorHolds(src: BufferRange): boolean {
    return this.mirrorHolding(src) !== undefined;
  }

  /**
   * How many writes into `buf` have been recorded (dispatches binding it writable, copies, host
   * writes): a value derived from its contents is current while this has not changed.
   */
  writeCount(buf: GpuBuffer): number {
    return this.writes.get(buf.id) ?? 0;
  }

  /** A write into `buf` was recorded: mirrors holding a range of it are stale. */
  private wrote(buf: GpuBuffer): void {
    this.writes.set(buf.id, (this.writes.get(buf.id) ?? 0) + 1);
  }

  /**
   * What the mirrors hold is unknown from here, so every mirror is copied again at its next use: a
   * capture may be dropped (abortCapture) or replayed later, and a replay writes buffers without
   * going through dispatch(). The benchmark also calls it before each repetition of a launch, which
   * in a training step copies its inputs afresh.
   */
  forgetMirrors(): void {
    for (const t of this.textures.values()) t.holds = null;
  }

  /** Can a range of `bytes` bytes be read through a texture mirror on this adapter (whole texels, rows within its limit)? */
  textureMirrorFits(bytes: number): boolean {
    return bytes % 16 === 0 && Math.ceil(bytes / MIRROR_ROW_BYTES) <= this.device.limits.maxTextureDimension2D;
  }

  private bindGroup(kernel: Kernel, pipelineKey: string, pipeline: GPUComputePipeline, args: DispatchArgs, uniform: GpuBuffer | null, mirrors: Map<string, { view: GPUTextureView; id: number }>): GPUBindGroup {
    const parts: string[] = [kernel.name, kernel.variant ?? '', pipelineKey];
    const entries: GPUBindGroupEntry[] = [];
    for (const b of kernel.bindings) {
      if (b.kind === 'uniform') {
        parts.push(`u${uniform!.id}`);
        entries.push({ binding: b.binding, resource: { buffer: uniform!.buffer } });
        continue;
      }
      if (b.kind === 'read-only-texture') {
        const m = mirrors.get(b.name);
        if (!m) throw new Error(`kernel '${kernel.name}': texture '${b.name}' not given (in \`textures\`)`);
        parts.push(`t${m.id}`);
        entries.push({ binding: b.binding, resource: m.view });
        continue;
      }
      const r = args.bindings[b.name];
      if (!r) throw new Error(`kernel '${kernel.name}': binding '${b.name}' not given (needs ${kernel.bindings.filter((x) => x.kind !== 'uniform').map((x) => x.name).join(', ')})`);
      if (r.offset % 256 !== 0) throw new Error(`kernel '${kernel.name}': binding '${b.name}' offset ${r.offset} is not 256-aligned`);
      if (r.bytes <= 0 || r.offset + r.bytes > r.buf.size) throw new Error(`kernel '${kernel.name}': binding '${b.name}' range [${r.offset}, ${r.offset + r.bytes}) outside buffer of ${r.buf.size} bytes`);
      const maxBinding = this.device.limits.maxStorageBufferBindingSize;
      if (r.bytes > maxBinding) {
        // Dawn would reject the bind group asynchronously, and every later command of the step with it
        throw new Error(`kernel '${kernel.name}': binding '${b.name}' is ${r.bytes} bytes, over this adapter's ${maxBinding}-byte limit for one storage binding (bind it in windows, or use a smaller batch)`);
      }
      parts.push(`${r.buf.id}:${r.offset}:${r.bytes}`);
      entries.push({ binding: b.binding, resource: { buffer: r.buf.buffer, offset: r.offset, size: Math.ceil(r.bytes / 4) * 4 } });
    }
    for (const name of Object.keys(args.bindings)) {
      if (!kernel.bindings.some((b) => b.name === name && b.kind !== 'read-only-texture')) throw new Error(`kernel '${kernel.name}': no binding named '${name}'`);
    }
    const key = parts.join('|');
    let g = this.bindGroups.get(key);
    if (!g) {
      g = this.device.createBindGroup({ label: kernel.name, layout: pipeline.getBindGroupLayout(0), entries });
      this.bindGroups.set(key, g);
    }
    return g;
  }

  private ensurePass(): GPUComputePassEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    this.pass ??= this.encoder.beginComputePass();
    return this.pass;
  }

  private endPass(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    return this.encoder;
  }

  /**
   * The texture each of a dispatch's texture bindings reads (`mirrors`), and the copies it needs
   * first (`fills`). A binding reads a mirror that holds its range already, unless this dispatch
   * copies another range into that texture (its own, for a binding whose range no mirror holds):
   * then it copies too, into its own.
   */
  private mirrorsFor(kernel: Kernel, args: DispatchArgs): { mirrors: Map<string, Mirror>; fills: { mirror: Mirror; src: BufferRange }[] } {
    const mirrors = new Map<string, Mirror>();
    const fills: { mirror: Mirror; src: BufferRange }[] = [];
    const wanted: { binding: string; src: BufferRange; held: Mirror | undefined }[] = [];
    for (const [binding, src] of Object.entries(args.textures ?? {})) {
      if (!kernel.bindings.some((b) => b.name === binding && b.kind === 'read-only-texture')) throw new Error(`kernel '${kernel.name}': no texture binding named '${binding}'`);
      if (src.offset % 16 !== 0 || src.offset + src.bytes > src.buf.size) throw new Error(`kernel '${kernel.name}': texture '${binding}' source range [${src.offset}, ${src.offset + src.bytes}) is misaligned or outside its buffer`);
      wanted.push({ binding, src, held: this.mirrorHolding(src) });
    }
    const refilled = new Set<Mirror>();
    for (let changed = true; changed; ) {
      changed = false;
      for (const w of wanted) {
        if (w.held && !refilled.has(w.held)) continue;
        w.held = undefined;
        const t = this.textureFor(kernel, w.binding, w.src);
        if (!refilled.has(t)) {
          refilled.add(t);
          changed = true;
        }
      }
    }
    for (const { binding, src, held } of wanted) {
      if (held) {
        mirrors.set(binding, held);
        continue;
      }
      const t = this.textureFor(kernel, binding, src);
      mirrors.set(binding, t);
      fills.push({ mirror: t, src });
    }
    return { mirrors, fills };
  }

  /** Record one dispatch of a kernel into the current step's compute pass. */
  dispatch(name: string, args: DispatchArgs): void {
    // first: Dawn reports pipeline and bind-group errors (uncapturederror) while they are created
    this.dev.currentKernel = name;
    const kernel = this.kernel(name, args.variant);
    const overrides = args.overrides ?? {};
    const pipelineKey = overridesKey(overrides);
    const pipeline = kernel.pipeline(overrides, pipelineKey);
    const uniform = this.uniformBuffer(kernel, args.uniforms ?? {});
    const { mirrors, fills } = this.mirrorsFor(kernel, args);
    const textureCopies: TextureCopy[] = fills.map(({ mirror, src }) => ({ src, texture: mirror.texture }));
    const group = this.bindGroup(kernel, pipelineKey, pipeline, args, uniform, mirrors);
    const wg = typeof args.workgroups === 'number' ? [args.workgroups, 1, 1] : args.workgroups;
    const [x, y = 1, z = 1] = wg;
    const maxWg = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxWg || y > maxWg || z > maxWg) throw new Error(`kernel '${name}': workgroups ${x}x${y}x${z} exceed ${maxWg} per dimension`);
    if (x === 0 || y === 0 || z === 0) return;
    // what the mirrors hold from here (the copies are encoded below), then what this dispatch writes
    for (const { mirror, src } of fills) mirror.holds = { buf: src.buf.id, offset: src.offset, bytes: src.bytes, writes: this.writes.get(src.buf.id) ?? 0 };
    for (const b of kernel.bindings) if (b.kind === 'storage') this.wrote(args.bindings[b.name].buf);
    if (this.dev.debug) {
      this.submit();
      this.device.pushErrorScope('validation');
      this.device.pushErrorScope('out-of-memory');
    }
    if (textureCopies.length > 0) this.copyIntoTextures(textureCopies);
    const pass = this.ensurePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
    this.dispatchCount++;
    if (this.captured) {
      // a texture binding's range is its source's: the dispatch reads those bytes (through the copy)
      const ranges = kernel.bindings.map((b) => (b.kind === 'uniform' ? { buf: uniform!, offset: 0, bytes: uniform!.size } : b.kind === 'read-only-texture' ? args.textures![b.name] : args.bindings[b.name]));
      this.captured.push({ kind: 'dispatch', name, pipeline, group, grid: [x, y, z], ranges, ...(textureCopies.length > 0 ? { textureCopies } : {}) });
    }
    if (this.dev.debug) {
      this.submit();
      for (let i = 0; i < 2; i++) {
        void this.device.popErrorScope().then((e) => {
          if (e) this.dev.recordError(e.message, name);
        });
      }
    }
  }

  /** Copy each range into its texture mirror (whole rows, then the last row's first texels), between passes. */
  private copyIntoTextures(copies: readonly TextureCopy[]): void {
    const enc = this.endPass();
    this.textureCopyCount += copies.length;
    for (const c of copies) this.textureCopyBytes += c.src.bytes;
    for (const { src, texture } of copies) {
      const texels = src.bytes / 16;
      const full = Math.floor(texels / TEXTURE_ROW_TEXELS);
      const rest = texels - full * TEXTURE_ROW_TEXELS;
      if (full > 0) enc.copyBufferToTexture({ buffer: src.buf.buffer, offset: src.offset, bytesPerRow: MIRROR_ROW_BYTES }, { texture }, [TEXTURE_ROW_TEXELS, full]);
      if (rest > 0) enc.copyBufferToTexture({ buffer: src.buf.buffer, offset: src.offset + full * MIRROR_ROW_BYTES, bytesPerRow: MIRROR_ROW_BYTES }, { texture, origin: [0, full] }, [rest, 1]);
    }
  }

  /** Copy bytes between buffers, in order with the recorded dispatches. */
  copy(src: BufferRange, dst: BufferRange, bytes = src.bytes): void {
    if (bytes > dst.bytes) throw new Error(`copy: ${bytes} bytes into a ${dst.bytes}-byte range`);
    this.wrote(dst.buf);
    this.endPass().copyBufferToBuffer(src.buf.buffer, src.offset, dst.buf.buffer, dst.offset, bytes);
    this.captured?.push({ kind: 'copy', src, dst, bytes });
  }

  /**
   * Start capturing: every dispatch and copy recorded until endCapture() is also kept, resolved, so
   * replay() can encode the same commands again without the JavaScript that made them. Host writes
   * and reads are refused while capturing: a replay could not repeat them. Submits what was recorded
   * before, so that abortCapture() drops only the captured work.
   */
  beginCapture(): void {
    if (this.captured) throw new Error('Gpu.beginCapture: already capturing');
    if (this.dev.debug) throw new Error('Gpu.beginCapture: not in debug mode (it submits every dispatch alone)');
    this.submit(); // the capture starts on an empty encoder, so abortCapture() can drop it whole
    this.captured = [];
    this.forgetMirrors(); // a replay of the capture must make every copy its first mirror reads need
  }

  /**
   * Stop capturing and drop everything recorded since beginCapture() unsubmitted: none of it runs
   * (for a capture that failed half-way; the caller records the work again the plain way).
   */
  abortCapture(): void {
    if (!this.captured) throw new Error('Gpu.abortCapture: not capturing');
    this.captured = null;
    this.forgetMirrors(); // the copies recorded since beginCapture() never run
    this.pass?.end();
    this.pass = null;
    this.encoder = null;
  }

  /** Stop capturing; the commands recorded since beginCapture(), in order. */
  endCapture(): CapturedCommand[] {
    const out = this.captured;
    if (!out) throw new Error('Gpu.endCapture: not capturing');
    this.captured = null;
    return out;
  }

  /**
   * Encode captured commands again, into the current step's encoder: the same pipelines, bind groups
   * and grids, hence the same buffers and the same arithmetic. The caller keeps every buffer they
   * touch alive and unshared (src/train/train_step.ts).
   */
  replay(commands: readonly CapturedCommand[]): void {
    if (this.captured) throw new Error('Gpu.replay: not while capturing');
    this.forgetMirrors();
    let last: GPUComputePipeline | null = null;
    for (const c of commands) {
      if (c.kind === 'copy') {
        this.endPass().copyBufferToBuffer(c.src.buf.buffer, c.src.offset, c.dst.buf.buffer, c.dst.offset, c.bytes);
        last = null;
        continue;
      }
      if (c.textureCopies) {
        this.copyIntoTextures(c.textureCopies);
        last = null;
      }
      const pass = this.ensurePass();
      if (c.pipeline !== last) pass.setPipeline(c.pipeline);
      last = c.pipeline;
      pass.setBindGroup(0, c.group);
      pass.dispatchWorkgroups(c.grid[0], c.grid[1], c.grid[2]);
      this.dispatchCount++;
    }
  }

  /**
   * Access to the encoder for timestamp queries and the like (ends the current pass). Writes encoded
   * here into buffers the runtime's tensors use are not seen by the mirrors' bookkeeping: call
   * forgetMirrors() after any.
   */
  commandEncoder(): GPUCommandEncoder {
    return this.endPass();
  }

  /**
   * End the current compute pass and begin a new one (optionally writing timestamps at its start and
   * end); the dispatches recorded next go into it. For GPU timing (src/gpu/timer.ts).
   */
  beginPass(timestampWrites?: GPUComputePassTimestampWrites): GPUComputePassEncoder {
    const enc = this.endPass();
    this.pass = enc.beginComputePass(timestampWrites ? { timestampWrites } : undefined);
    return this.pass;
  }

  /** The compute pass dispatches are being recorded into now (null between passes). */
  get currentPass(): GPUComputePassEncoder | null {
    return this.pass;
  }

  /** Finish and submit everything recorded so far. */
  submit(): void {
    if (!this.encoder) return;
    const enc = this.endPass();
    this.encoder = null;
    // Errors in the encoded commands surface here, after the whole step was encoded: name the last
    // kernel, and say how to find the one at fault (debug mode submits and checks each dispatch).
    const last = this.dev.currentKernel;
    if (!this.dev.debug) this.dev.currentKernel = `(found at submit; the last kernel encoded was '${last}': rerun with EARLY_PHASE_DEBUG=1 to find the one at fault)`;
    try {
      this.device.queue.submit([enc.finish()]);
    } finally {
      this.dev.currentKernel = last;
    }
    this.submitCount++;
  }

  /** Write host data into a buffer range. Submits recorded work first so ordering is preserved. */
  write(dst: BufferRange, data: ArrayBufferView): void {
    if (data.byteLength > dst.bytes) throw new Error(`write: ${data.byteLength} bytes into a ${dst.bytes}-byte range`);
    if (this.captured) throw new CaptureRefused('Gpu.write');
    this.submit();
    this.wrote(dst.buf);
    this.device.queue.writeBuffer(dst.buf.buffer, dst.offset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Read a buffer range back to the host (submits recorded work, waits, surfaces errors). */
  async readBytes(src: BufferRange): Promise<ArrayBuffer> {
    if (this.captured) throw new CaptureRefused('Gpu.readBytes');
    const bytes = Math.ceil(src.bytes / 4) * 4;
    // Staging buffers are kept per size, so reading the loss every step creates nothing.
    const size = bytes <= 4096 ? 4096 : bytes;
    const free = this.staging.get(size) ?? [];
    this.staging.set(size, free);
    let staging = free.pop();
    if (!staging) {
      staging = this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'staging' });
      this.stagingCreated++;
    }
    this.endPass().copyBufferToBuffer(src.buf.buffer, src.offset, staging, 0, bytes);
    this.submit();
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
      this.dev.check();
      const out = staging.getMappedRange(0, bytes).slice(0, src.bytes);
      staging.unmap();
      if (size <= 1 << 20) free.push(staging);
      else staging.destroy();
      return out;
    } catch (e) {
      staging.destroy();
      this.dev.check(); // a lost device rejects the map with an empty AbortError: its recorded reason says more
      throw e;
    }
  }

  /** Wait until the GPU has finished everything submitted; throw any error it raised. */
  async sync(): Promise<void> {
    this.submit();
    await this.dev.sync();
  }

  stats(): RuntimeStats {
    return {
      ...this.pool.stats(),
      uniformBuffers: this.uniformBuffers.size,
      stagingBuffers: [...this.staging.values()].reduce((n, l) => n + l.length, 0),
      stagingCreated: this.stagingCreated,
      bindGroups: this.bindGroups.size,
      textureMirrors: this.textures.size,
      textureMirrorBytes: [...this.textures.values()].reduce((n, t) => n + t.texture.width * t.texture.height * 16, 0),
      textureCopies: this.textureCopyCount,
      textureCopyBytes: this.textureCopyBytes,
      pipelines: [...this.kernels.values()].reduce((n, k) => n + k.pipelineCount, 0),
      dispatches: this.dispatchCount,
      submits: this.submitCount,
    };
  }

  /** Allocate a standalone (non-pooled) storage buffer, e.g. for parameters or the dataset. */
  createBuffer(bytes: number, label: string): GpuBuffer {
    const size = Math.max(256, Math.ceil(bytes / 256) * 256);
    const buffer = this.device.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label });
    return new GpuBuffer(buffer, size, false);
  }

  destroy(): void {
    if (this.dev.isDestroyed) return;
    this.pool.destroy();
    for (const b of this.uniformBuffers.values()) b.buffer.destroy();
    this.uniformBuffers.clear();
    this.bindGroups.clear();
    for (const t of this.textures.values()) t.texture.destroy();
    this.textures.clear();
    for (const list of this.staging.values()) for (const b of list) b.destroy();
    this.staging.clear();
    this.dev.destroy();
  }
}
