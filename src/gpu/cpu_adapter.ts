// Whether an adapter runs its kernels on the CPU (lavapipe/llvmpipe, SwiftShader, softpipe, or any
// adapter Dawn calls a fallback): the idle wait, the autotuner's cache key and the bench's targets
// all depend on it.

export interface AdapterIdentity {
  description: string;
  architecture?: string;
  device?: string;
  isFallbackAdapter?: boolean;
}

export function isCpuAdapter(adapter: AdapterIdentity): boolean {
  if (adapter.isFallbackAdapter) return true;
  return /llvmpipe|lavapipe|swiftshader|softpipe/i.test(`${adapter.description} ${adapter.architecture ?? ''} ${adapter.device ?? ''}`);
}
