// Acquiring a Dawn device on Node, and turning Dawn's asynchronous errors into thrown ones.
//
// Dawn reports validation and out-of-memory errors asynchronously (an `uncapturederror` event, or
// an error scope that resolves later). We keep the first such error and the kernel that was being
// launched when it happened, and `Gpu.check()` (called at every readback and at `sync()`) throws it.
// In debug mode every dispatch is wrapped in its own error scope so the failing kernel is exact.
import { createRequire } from 'node:module';
import { create, globals } from 'webgpu';
import { useIdleWaitFor } from './idle_wait.js';

export const LAVAPIPE_HINT =
  'No WebGPU adapter was found. On Debian bookworm install Mesa lavapipe >= 24 and the Vulkan loader:\n' +
  '  npm run setup        (runs scripts/setup-system.sh), or by hand:\n' +
  '  echo "deb http://deb.debian.org/debian bookworm-backports main" > /etc/apt/sources.list.d/backports.list\n' +
  '  apt-get update && apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1\n' +
  "(bookworm's own Mesa 22.3 gives Dawn a null adapter).";

export interface GpuOptions {
  /** Wrap every dispatch in an error scope so errors name the exact kernel (slow). Default: EARLY_PHASE_DEBUG=1. */
  debug?: boolean;
  /** Request 'high-performance' or 'low-power' (ignored by lavapipe). */
  powerPreference?: GPUPowerPreference;
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  webgpuPackageVersion: string;
  features: string[];
  limits: Record<string, number>;
}

let globalsInstalled = false;

export function webgpuPackageVersion(): string {
  const require = createRequire(import.meta.url);
  try {
    return (require('webgpu/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export class GpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuError';
  }
}

/** The device plus the little state needed to report errors well. */
export class GpuDevice {
  /** Kernel being encoded right now, for error messages. */
  currentKernel = '(none)';
  private pendingError: GpuError | null = null;
  private destroyed = false;

  constructor(
    /** The Dawn instance. Must stay referenced: if it is garbage-collected, Dawn crashes in ProcessEvents. */
    readonly instance: GPU,
    readonly adapter: GPUAdapter,
    readonly device: GPUDevice,
    readonly description: AdapterDescription,
    readonly debug: boolean,
  ) {
    device.addEventListener('uncapturederror', (ev: Event) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      this.recordError(`${err.constructor.name}: ${err.message}`, this.currentKernel);
    });
    void device.lost.then((info) => {
      if (!this.destroyed) this.recordError(`device lost (${info.reason}): ${info.message}`, this.currentKernel);
    });
  }

  recordError(message: string, kernel: string): void {
    if (!this.pendingError) this.pendingError = new GpuError(`GPU error in kernel '${kernel}': ${message}`);
  }

  /** Throw the first asynchronous error seen so far, if any. */
  check(): void {
    if (this.pendingError) {
      const e = this.pendingError;
      this.pendingError = null;
      throw e;
    }
  }

  /** Wait for the queue, then surface any error. */
  async sync(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.check();
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** The adapter's subgroup sizes [min, max] (0 where the adapter does not say). */
  get subgroupSizes(): [number, number] {
    const info = this.adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
    return [info.subgroupMinSize ?? 0, info.subgroupMaxSize ?? 0];
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.device.destroy();
  }
}

function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const key of [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupSizeX',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBuffersPerShaderStage',
    'minStorageBufferOffsetAlignment',
    'maxUniformBufferBindingSize',
  ] as const) {
    limits[key] = Number(adapter.limits[key]);
  }
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: Boolean((info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    webgpuPackageVersion: webgpuPackageVersion(),
    features: [...adapter.features].map(String).sort(),
    limits,
  };
}

/** Create the Dawn instance, pick the adapter, and open a device with the adapter's own limits. */
export async function acquireDevice(options: GpuOptions = {}): Promise<GpuDevice> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  if (!globalsInstalled) {
    Object.assign(globalThis, globals);
    globalsInstalled = true;
  }
  const gpu = create(['disable-dawn-features=timestamp_quantization']);
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) throw new GpuError(LAVAPIPE_HINT);
  const wanted: GPUFeatureName[] = ['timestamp-query', 'shader-f16', 'subgroups'];
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const key of [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupSizeY',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupStorageSize',
    'maxStorageBuffersPerShaderStage',
    'maxComputeWorkgroupsPerDimension',
  ] as const) {
    requiredLimits[key] = Number(adapter.limits[key]);
  }
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  const description = describeAdapter(adapter);
  // a CPU adapter's kernels run on the cores a busy-polling wait would take (src/gpu/idle_wait.ts)
  useIdleWaitFor(description);
  // EARLY_PHASE_DEBUG=1 turns it on for any command (a submit error's message suggests it)
  return new GpuDevice(gpu, adapter, device, description, options.debug ?? process.env.EARLY_PHASE_DEBUG === '1');
}
