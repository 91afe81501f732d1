// Run a child process without blocking the test worker's event loop. execFileSync would: vitest's
// worker then misses its RPC heartbeats while a minute-long child runs, and the run ends with an
// unhandled "Timeout calling onTaskUpdate" error although every test passed (the slow tier's
// 16-wide-subgroup rerun, 2026-12-07).
import { spawn, type SpawnOptions } from 'node:child_process';

/** Run `cmd args` to completion; resolve with its stdout (empty where stdio is inherited), reject with its exit status and stderr. */
export function runChild(cmd: string, args: readonly string[], opts: SpawnOptions & { timeoutMs?: number } = {}): Promise<string> {
  const { timeoutMs, ...spawnOpts } = opts;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOpts });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const timer = timeoutMs ? setTimeout(() => child.kill('SIGKILL'), timeoutMs) : null;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${signal ?? code}${err ? `:\n${err.slice(-4000)}` : ''}`));
    });
  });
}
