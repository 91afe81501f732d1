// Small fake CIFAR-10 files in the official binary format (1 label byte + 3,072 pixel bytes per
// record), a folder of them, and the official-layout .tar.gz, for loader and pipeline tests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll } from 'vitest';
import { Rng } from './random.js';

export const RECORD = 3073;
export const IMAGE = 3072;
export const TRAIN_NAMES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const TEST_NAME = 'test_batch.bin';

/** n records with the given labels (default: random 0..9) and random pixels. */
export function fakeRecords(n: number, rng: Rng, labels?: (i: number) => number): Uint8Array {
  const b = new Uint8Array(n * RECORD);
  for (let i = 0; i < n; i++) {
    b[i * RECORD] = labels ? labels(i) : rng.int(10);
    for (let j = 1; j < RECORD; j++) b[i * RECORD + j] = rng.int(256);
  }
  return b;
}

export interface FakeCifar {
  /** File name -> bytes, the six official names. */
  files: Map<string, Uint8Array>;
  /** What the loader should return: images concatenated in file order, labels likewise. */
  train: { images: Uint8Array; labels: Uint8Array };
  test: { images: Uint8Array; labels: Uint8Array };
}

function split(records: Uint8Array[]): { images: Uint8Array; labels: Uint8Array } {
  const n = records.reduce((s, r) => s + r.length / RECORD, 0);
  const images = new Uint8Array(n * IMAGE);
  const labels = new Uint8Array(n);
  let k = 0;
  for (const r of records) {
    for (let i = 0; i < r.length / RECORD; i++, k++) {
      labels[k] = r[i * RECORD];
      images.set(r.subarray(i * RECORD + 1, (i + 1) * RECORD), k * IMAGE);
    }
  }
  return { images, labels };
}

/** Six small files: `perFile` records each (the test file `testN`); labels cycle through all ten classes from a random start. */
export function fakeCifar(rng: Rng, perFile = 12, testN = perFile): FakeCifar {
  const files = new Map<string, Uint8Array>();
  const cyclic = () => {
    const o = rng.int(10);
    return (i: number) => (o + i * 3) % 10;
  };
  for (const name of TRAIN_NAMES) files.set(name, fakeRecords(perFile, rng, cyclic()));
  files.set(TEST_NAME, fakeRecords(testN, rng, cyclic()));
  return { files, train: split(TRAIN_NAMES.map((n) => files.get(n)!)), test: split([files.get(TEST_NAME)!]) };
}

/** A temp folder removed after the test file. */
export function tempDir(prefix = 'early-phase-data-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeFiles(dir: string, files: Map<string, Uint8Array>): string {
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
  return dir;
}

function header(path: string, size: number, type = '0'): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string, off: number) => h.set(Buffer.from(s, 'utf8'), off);
  put(path, 0);
  put('0000644\0', 100);
  put('0000000\0', 108);
  put('0000000\0', 116);
  put(size.toString(8).padStart(11, '0') + '\0', 124);
  put('00000000000\0', 136);
  h[156] = type.charCodeAt(0);
  put('ustar\0', 257);
  put('00', 263);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/** An uncompressed ustar archive of these files (with a directory entry first, like the official one). */
export function tarOf(entries: { path: string; data: Uint8Array }[], dirEntry?: string): Uint8Array {
  const parts: Uint8Array[] = [];
  if (dirEntry) parts.push(header(dirEntry, 0, '5'));
  for (const e of entries) {
    parts.push(header(e.path, e.data.length));
    parts.push(e.data);
    const padTo = Math.ceil(e.data.length / 512) * 512 - e.data.length;
    if (padTo) parts.push(new Uint8Array(padTo));
  }
  parts.push(new Uint8Array(1024));
  return Buffer.concat(parts);
}

/** cifar-10-binary.tar.gz layout: cifar-10-batches-bin/<name>. Returns the gzipped bytes. */
export function cifarTarGz(files: Map<string, Uint8Array>): Uint8Array {
  const entries = [...files].map(([name, data]) => ({ path: `cifar-10-batches-bin/${name}`, data }));
  entries.push({ path: 'cifar-10-batches-bin/batches.meta.txt', data: Buffer.from('airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n') });
  return gzipSync(tarOf(entries, 'cifar-10-batches-bin/'));
}
