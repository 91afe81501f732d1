// `early-phase doctor`: what the GPU stack looks like from here, and whether it can run at all.
import { acquireDevice, GpuError, LAVAPIPE_HINT, webgpuPackageVersion } from '../gpu/device.js';
import { idleWaitInstalled } from '../gpu/idle_wait.js';
import { describeCpu } from '../train/environment.js';

export interface DoctorReport {
  ok: boolean;
  adapter?: {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    driver: string;
    isFallbackAdapter: boolean;
    subgroupSizes: [number, number];
    /** Waits sleep between Dawn polls (a CPU adapter, or EARLY_PHASE_IDLE_WAIT=1). */
    idleWait: boolean;
  };
  webgpuPackageVersion: string;
  /** The host CPU (on a CPU adapter, the hardware the kernels run on). */
  cpu: string;
  features?: Record<string, boolean>;
  limits?: Record<string, number>;
  error?: string;
}

export async function doctor(): Promise<DoctorReport> {
  const version = webgpuPackageVersion();
  const cpu = describeCpu();
  let dev;
  try {
    dev = await acquireDevice();
  } catch (e) {
    return { ok: false, webgpuPackageVersion: version, cpu, error: e instanceof GpuError ? e.message : `${(e as Error).message}\n${LAVAPIPE_HINT}` };
  }
  try {
    const d = dev.description;
    const mesa = /Mesa [\w.~+-]+/.exec(d.description)?.[0];
    const has = (f: string) => dev.adapter.features.has(f);
    return {
      ok: true,
      webgpuPackageVersion: version,
      cpu,
      adapter: {
        vendor: d.vendor,
        architecture: d.architecture,
        device: d.device,
        description: d.description,
        driver: mesa ?? d.description,
        isFallbackAdapter: d.isFallbackAdapter,
        subgroupSizes: dev.subgroupSizes,
        idleWait: idleWaitInstalled(),
      },
      features: { 'timestamp-query': has('timestamp-query'), subgroups: has('subgroups'), 'shader-f16': has('shader-f16') },
      limits: {
        maxStorageBufferBindingSize: d.limits.maxStorageBufferBindingSize,
        maxBufferSize: d.limits.maxBufferSize,
        maxComputeWorkgroupSizeX: d.limits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: d.limits.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupStorageSize: d.limits.maxComputeWorkgroupStorageSize,
        maxStorageBuffersPerShaderStage: d.limits.maxStorageBuffersPerShaderStage,
      },
    };
  } finally {
    dev.destroy();
  }
}

export function formatDoctor(r: DoctorReport): string {
  if (!r.ok || !r.adapter) return `early-phase doctor: NO ADAPTER\n${r.error}\nwebgpu (Dawn) package: ${r.webgpuPackageVersion}`;
  const a = r.adapter;
  const lines = [
    `adapter        ${a.description}`,
    `vendor         ${a.vendor}   architecture ${a.architecture}   device ${a.device}`,
    `driver         ${a.driver}`,
    `fallback       ${a.isFallbackAdapter ? 'yes (a CPU software adapter: expect CPU speeds)' : 'no'}`,
    `subgroup size  ${a.subgroupSizes[0]}..${a.subgroupSizes[1]}`,
    `idle wait      ${a.idleWait ? 'on (waits poll Dawn once per ms after 0.3 ms, leaving the CPU to the adapter)' : 'off (Dawn is polled in a busy loop)'}`,
    `webgpu (Dawn)  ${r.webgpuPackageVersion}`,
    `host CPU       ${r.cpu}`,
    `features       ${Object.entries(r.features!).map(([k, v]) => `${k}: ${v ? 'yes' : 'no'}`).join(', ')}`,
    ...Object.entries(r.limits!).map(([k, v]) => `  ${k.padEnd(36)} ${v.toLocaleString('en-US')}`),
  ];
  return lines.join('\n');
}
