// Files written so that a kill at any moment leaves either the old file or the new one, never a
// torn one: writeFileAtomic (temp file beside it, fsync, rename), writeFileExclusive (the same, but
// created only if absent: a hard link, which fails if the name exists), and removeTempFiles for what a
// killed writer leaves behind.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const TEMP_SUFFIX = '.tmp';

/** `data` in a fresh temp file beside `path` (same folder, so a rename or link is atomic), fsynced. */
function writeTemp(path: string, data: Buffer | string): string {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
  const fd = openSync(tmp, 'wx');
  try {
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < b.length) off += writeSync(fd, b, off, b.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true }); // e.g. a full disk: leave no partial temp file behind
    throw e;
  }
  closeSync(fd);
  return tmp;
}

/** Write a file atomically: temp file in the same folder, fsync, rename. */
export function writeFileAtomic(path: string, data: Buffer | string): void {
  const tmp = writeTemp(path, data);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Create `path` with `data` atomically, only if it does not exist yet: false if it does (another
 * worker created it first; its content is whole, never half-written).
 */
export function writeFileExclusive(path: string, data: Buffer | string): boolean {
  const tmp = writeTemp(path, data);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Remove the temp files of dead processes of this host in `dir`: what writeFileAtomic leaves when its
 * process is killed mid-write (a checkpoint's is the size of the model's state). Temp files of live
 * processes (another worker creating the run's lock) are kept. Call while holding the run's lock.
 */
export function removeTempFiles(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const m = /^\..+\.(\d+)(?:\.[0-9a-f]+)?\.tmp$/.exec(name);
    if (m && !processAlive(Number(m[1]))) {
      rmSync(join(dir, name), { force: true });
      n++;
    }
  }
  return n;
}

/** Whether process `pid` runs on this host (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
