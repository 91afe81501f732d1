// Files that a kill at any moment leaves whole (src/io/files.ts).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeTempFiles, writeFileAtomic, writeFileExclusive } from '../src/io/files.js';
import { tempDir } from './helpers/cifar_fixture.js';

describe('atomic files', () => {
  it('writeFileAtomic replaces a file whole and leaves no temp file', () => {
    const dir = tempDir('ep-files-');
    const path = join(dir, 'a.json');
    writeFileAtomic(path, 'one');
    writeFileAtomic(path, Buffer.from('two'));
    expect(readFileSync(path, 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  it('writeFileExclusive creates only an absent file, and says whether it did', () => {
    const dir = tempDir('ep-files-');
    const path = join(dir, 'hparams.json');
    expect(writeFileExclusive(path, 'first')).toBe(true);
    expect(writeFileExclusive(path, 'second')).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('first');
    expect(readdirSync(dir)).toEqual(['hparams.json']);
  });

  it('removeTempFiles removes the temp files of dead processes and keeps those of live ones', () => {
    const dir = tempDir('ep-files-');
    const dead = [`.checkpoint.safetensors.${2 ** 22 + 777}.tmp`, `.model_final.safetensors.${2 ** 22 + 778}.0a1b2c3d.tmp`];
    const live = `..lock.${process.pid}.deadbeef.tmp`;
    for (const name of [...dead, live, 'checkpoint.safetensors', '.notes.tmp']) writeFileSync(join(dir, name), 'x');
    expect(removeTempFiles(dir)).toBe(2);
    for (const name of dead) expect(existsSync(join(dir, name))).toBe(false);
    for (const name of [live, 'checkpoint.safetensors', '.notes.tmp']) expect(existsSync(join(dir, name))).toBe(true);
  });
});
