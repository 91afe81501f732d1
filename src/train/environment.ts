// What produced a result: adapter, Dawn (webgpu package) version, git commit, Node version.
// Logged with every run so results from different machines can be compared.
import { execFileSync } from 'node:child_process';
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
  };
}
