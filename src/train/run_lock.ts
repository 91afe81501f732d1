// A lock file inside a run directory, so that several workers sharing an output directory (GNU
// parallel, a Slurm array, Kubernetes Jobs) never train the same run twice. The holder refreshes the
// file's mtime while it works; a lock whose holder is gone (same host, dead pid) or that has not been
// refreshed for `staleMs` (another host) is taken over.
//
// Every step is atomic against other workers:
// - taking a free lock: the holder record is written to a private temp file and hard-linked to
//   `.lock` (link fails if `.lock` exists), so `.lock` never exists half-written;
// - taking over a stale lock: only the worker that creates `.lock.takeover` exclusively may remove the
//   stale `.lock`, and only after re-reading it as the same record it judged stale. Without that, two
//   workers that both judged a lock stale could each remove it and each create their own (the
//   second removing the first one's fresh lock): both would train the run. A takeover marker left by a
//   worker killed mid-takeover is cleared after TAKEOVER_STALE_MS;
// - releasing: a worker removes `.lock` only while it still holds its own record.
// A pid on this host is judged by whether it runs; a record naming this very process (a container
// restarted with the same pid) is stale unless this process holds that lock now.
import { readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { processAlive, writeFileExclusive } from '../io/files.js';

export class RunBusyError extends Error {
  constructor(dir: string, holder: string) {
    super(`${dir} is being run by another worker (${holder}); skipping it`);
    this.name = 'RunBusyError';
  }
}

export const LOCK_FILE = '.lock';
const TAKEOVER_FILE = '.lock.takeover';
const DEFAULT_STALE_MS = 5 * 60_000;
const TAKEOVER_STALE_MS = 60_000;

/** Lock paths this process holds now. */
const heldHere = new Set<string>();

interface Holder {
  host?: string;
  pid?: number;
  token?: string;
}

const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (code(e) === 'ENOENT') return null;
    throw e;
  }
}

function ageMs(path: string): number | null {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch (e) {
    if (code(e) === 'ENOENT') return null;
    throw e;
  }
}

export class RunLock {
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    readonly path: string,
    private readonly record: string,
  ) {}

  /** Take the lock of `dir` or throw RunBusyError. */
  static acquire(dir: string, staleMs = DEFAULT_STALE_MS): RunLock {
    const path = join(dir, LOCK_FILE);
    const record = JSON.stringify({ host: hostname(), pid: process.pid, since: new Date().toISOString(), token: randomBytes(8).toString('hex') });
    for (let attempt = 0; attempt < 3; attempt++) {
      if (writeFileExclusive(path, record)) return RunLock.held(path, record, staleMs);
      const seen = readText(path);
      const age = ageMs(path);
      if (seen === null || age === null) continue; // released meanwhile: try again
      const holder = parseHolder(seen);
      if (!RunLock.isStale(path, holder, age, staleMs)) throw new RunBusyError(dir, `${holder.host ?? '?'} pid ${holder.pid ?? '?'}`);
      RunLock.takeOver(dir, path, seen);
    }
    throw new RunBusyError(dir, 'lock contention');
  }

  private static held(path: string, record: string, staleMs: number): RunLock {
    const lock = new RunLock(path, record);
    heldHere.add(path);
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
  }

  private static isStale(path: string, holder: Holder, age: number, staleMs: number): boolean {
    if (age > staleMs) return true; // the holder refreshes the mtime while it lives
    if (holder.host !== hostname()) return false;
    if (holder.pid === process.pid) return !heldHere.has(path); // our pid, but not our lock: a previous life
    return !(holder.pid && processAlive(holder.pid)); // no pid: a record from before pids were written
  }

  /** Remove the stale lock whose text was `seen`, if no other worker is taking it over and it is unchanged. */
  private static takeOver(dir: string, path: string, seen: string): void {
    const marker = join(dir, TAKEOVER_FILE);
    if (!writeFileExclusive(marker, String(process.pid))) {
      const age = ageMs(marker);
      if (age !== null && age > TAKEOVER_STALE_MS) {
        // left by a worker killed mid-takeover: move it aside (only one of several renames succeeds)
        const aside = `${marker}.${process.pid}.${randomBytes(6).toString('hex')}.stale`;
        try {
          renameSync(marker, aside);
          rmSync(aside, { force: true });
        } catch (e) {
          if (code(e) !== 'ENOENT') throw e;
        }
        return; // the caller tries again
      }
      throw new RunBusyError(dir, 'another worker is taking over its stale lock');
    }
    try {
      if (readText(path) === seen) rmSync(path, { force: true });
    } finally {
      rmSync(marker, { force: true });
    }
  }

  release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    heldHere.delete(this.path);
    // only our own record: a lock taken over after we stalled belongs to its new holder
    if (readText(this.path) === this.record) rmSync(this.path, { force: true });
  }
}

function parseHolder(text: string): Holder {
  try {
    const h = JSON.parse(text) as Holder;
    return typeof h === 'object' && h !== null ? h : {};
  } catch {
    return {}; // not a record of ours: judged by age
  }
}
