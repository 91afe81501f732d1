// What produced a result: adapter, Dawn (webgpu package) version, git commit, Node version, and the
// host CPU (on a CPU adapter such as lavapipe it is the hardware: the 2-core VM of 2026-12-06, an AMD
// EPYC of family 26, trained ResNet-20 at 127-189 img/s where the one of 2026-11-26 had reached 230,
// under the same adapter string).
// Logged with every run so results from different machines can be compared.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { idleWaitInstalled } from '../gpu/idle_wait.js';
import type { Gpu } from '../gpu/runtime.js';

export interface Environment {
  adapter: string;
  adapter_vendor: string;
  adapter_architecture: string;
  fallback_adapter: boolean;
  /** Waits polled Dawn gently instead of busy-looping (src/gpu/idle_wait.ts): speed, never bits. */
  idle_wait: boolean;
  webgpu_package: string;
  git_commit: string;
  node: string;
  platform: string;
  /** The host CPU: model name, family and model numbers, widest vector extension, cores (describeCpu). */
  cpu: string;
}

/**
 * The host CPU in one line, e.g. "AMD EPYC (family 26, model 2; avx512f), 2 cores". A VM may mask
 * the model name ("AMD EPYC"); /proc/cpuinfo's family and model numbers still name the
 * microarchitecture, and the vector extension is what LLVM (hence lavapipe) compiles for.
 */
export function describeCpu(cpuinfo?: string): string {
  let info = cpuinfo;
  if (info === undefined) {
    try {
      info = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      info = ''; // not Linux
    }
  }
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(info!)?.[1]?.trim();
  const model = field('model name') ?? cpus()[0]?.model?.trim() ?? 'unknown CPU';
  const flags = new Set((field('flags') ?? '').split(/\s+/));
  const vector = ['avx512f', 'avx2', 'avx', 'sse4_2', 'neon', 'asimd'].find((f) => flags.has(f));
  const family = field('cpu family');
  const number = field('model');
  const ids = [family && `family ${family}`, number && `model ${number}`].filter(Boolean).join(', ');
  const detail = [ids, vector].filter(Boolean).join('; ');
  const cores = cpuinfo === undefined ? availableParallelism() : (info.match(/^processor\s*:/gm) ?? []).length;
  return `${model}${detail ? ` (${detail})` : ''}, ${cores} core${cores === 1 ? '' : 's'}`;
}

let cachedCommit: string | null = null;

export function gitCommit(): string {
  if (cachedCommit) return cachedCommit;
  // Set by bench/gpu/setup.sh to the commit the carried dist/ was built from: the copy of the tree
  // on a GPU machine may hold a stale .git of its own (seen on the device machines: the session's
  // first commit, "-dirty").
  if (process.env.EARLY_PHASE_GIT_COMMIT) return (cachedCommit = process.env.EARLY_PHASE_GIT_COMMIT);
  try {
    const cwd = dirname(fileURLToPath(import.meta.url));
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    cachedCommit = dirty ? `${head}-dirty` : head;
  } catch {
    cachedCommit = 'unknown'; // no git here
  }
  return cachedCommit;
}

export function describeEnvironment(gpu: Gpu): Environment {
  const d = gpu.dev.description;
  return {
    adapter: d.description || d.device,
    adapter_vendor: d.vendor,
    adapter_architecture: d.architecture,
    fallback_adapter: d.isFallbackAdapter,
    idle_wait: idleWaitInstalled(),
    webgpu_package: d.webgpuPackageVersion,
    git_commit: gitCommit(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: describeCpu(),
  };
}
