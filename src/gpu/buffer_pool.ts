// Size-bucketed pool of storage buffers. A training step allocates its activations and gradients
// from here and gives them back at the end; since a step asks for the same sizes in the same order
// every time, it gets the same buffers back (LIFO per bucket), so cached bind groups keep hitting
// and no GPU buffer is created after the first step.

let nextBufferId = 1;

/** A GPU buffer with a stable numeric id (bind-group cache keys) and its bucket size. */
export class GpuBuffer {
  readonly id = nextBufferId++;
  constructor(
    readonly buffer: GPUBuffer,
    readonly size: number,
    readonly pooled: boolean,
  ) {}
}

/** Round up to a bucket: powers of two split in quarters (waste <= 25%), at least 256 bytes. */
export function bucketSize(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 4) * 4);
  const p = 2 ** Math.floor(Math.log2(b));
  if (p === b) return b;
  const quarter = p / 4;
  return Math.max(256, Math.ceil(b / quarter) * quarter);
}

export interface PoolStats {
  /** Buffers created by the pool and still alive (free or in use). */
  liveBuffers: number;
  liveBytes: number;
  inUseBuffers: number;
  /** Total createBuffer calls made by the pool since it was made. */
  created: number;
}

export class BufferPool {
  private readonly free = new Map<number, GpuBuffer[]>();
  private readonly all = new Set<GpuBuffer>();
  private inUse = 0;
  private created = 0;

  constructor(private readonly device: GPUDevice) {}

  acquire(bytes: number): GpuBuffer {
    const size = bucketSize(bytes);
    const list = this.free.get(size);
    const hit = list?.pop();
    if (hit) {
      this.inUse++;
      return hit;
    }
    const buffer = this.device.createBuffer({
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      label: `pool${size}`,
    });
    const b = new GpuBuffer(buffer, size, true);
    this.all.add(b);
    this.created++;
    this.inUse++;
    return b;
  }

  release(b: GpuBuffer): void {
    if (!b.pooled || !this.all.has(b)) throw new Error('BufferPool.release: buffer does not belong to this pool');
    let list = this.free.get(b.size);
    if (!list) this.free.set(b.size, (list = []));
    if (list.includes(b)) throw new Error(`BufferPool.release: buffer ${b.id} released twice`);
    list.push(b);
    this.inUse--;
  }

  /**
   * Take a free buffer out of the free lists, as if acquired: the caller now holds it and gives it
   * back with release(). False if the buffer is not free (in use, or not this pool's).
   */
  claim(b: GpuBuffer): boolean {
    const list = this.free.get(b.size);
    const i = list ? list.indexOf(b) : -1;
    if (i < 0) return false;
    list!.splice(i, 1);
    this.inUse++;
    return true;
  }

  stats(): PoolStats {
    let bytes = 0;
    for (const b of this.all) bytes += b.size;
    return { liveBuffers: this.all.size, liveBytes: bytes, inUseBuffers: this.inUse, created: this.created };
  }

  destroy(): void {
    for (const b of this.all) b.buffer.destroy();
    this.all.clear();
    this.free.clear();
  }
}
