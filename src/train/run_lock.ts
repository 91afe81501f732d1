// A lock file inside a run directory, so that several workers sharing an output directory (GNU
// parallel, a Slurm array, Kubernetes Jobs) never train the same run twice. The holder refreshes the
// file's mtime while it works; a lock whose holder is gone (same host, dead pid) or that has not been
// refreshed for `staleMs` (another host) is taken over.
import { closeSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export class RunBusyError extends Error {
  constructor(dir: string, holder: string) {
    super(`${dir} is being run by another worker (${holder}); skipping it`);
    this.name = 'RunBusyError';
  }
}

export const LOCK_FILE = '.lock';
const DEFAULT_STALE_MS = 5 * 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class RunLock {
  private timer: NodeJS.Timeout | null = null;

  private constructor(readonly path: string) {}

  /** Take the lock of `dir` or throw RunBusyError. */
  static acquire(dir: string, staleMs = DEFAULT_STALE_MS): RunLock {
    const path = join(dir, LOCK_FILE);
    const me = JSON.stringify({ host: hostname(), pid: process.pid, since: new Date().toISOString() });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(fd, me);
        closeSync(fd);
        const lock = new RunLock(path);
        lock.timer = setInterval(() => {
          try {
            const t = new Date();
            utimesSync(path, t, t);
          } catch {
            /* directory removed: nothing to refresh */
          }
        }, Math.max(1000, staleMs / 5));
        lock.timer.unref();
        return lock;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let holder: { host?: string; pid?: number } = {};
      try {
        holder = JSON.parse(readFileSync(path, 'utf8'));
      } catch {
        /* torn write: judge by age */
      }
      let age = Infinity;
      try {
        age = Date.now() - statSync(path).mtimeMs;
      } catch {
        continue; // vanished meanwhile: try again
      }
      const sameHost = holder.host === hostname();
      // The holder refreshes the mtime while it lives; a dead pid on this host is stale at once.
      const stale = age > staleMs || (sameHost && !(holder.pid && alive(holder.pid)));
      if (!stale) throw new RunBusyError(dir, `${holder.host ?? '?'} pid ${holder.pid ?? '?'}`);
      rmSync(path, { force: true });
    }
    throw new RunBusyError(dir, 'lock contention');
  }

  release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    rmSync(this.path, { force: true });
  }
}
