// Host-side data pipeline: CIFAR-10 binary reader (folder and .tar.gz), validation errors, location
// resolution, balanced subsets, Philox, the per-epoch shuffle and the augmentation draws.
// (No kernels: the GPU side is in data_augment.test.ts.)
import { copyFileSync, mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  balancedSubset,
  BatchOrder,
  CIFAR10_URL,
  classCounts,
  epochOrder,
  FILE_BYTES,
  loadCifar10,
  parseCifarFile,
  prepareCifar10,
  philox4x32,
  randomLabels,
  resolveDataDir,
  rotationDraw,
  selectSplit,
  sequentialBatches,
  subsetQuotas,
  trainDraw,
} from '../src/data/index.js';
import { readTar } from '../src/data/tar.js';
import { cifarTarGz, fakeCifar, fakeRecords, RECORD, tarOf, tempDir, TEST_NAME, TRAIN_NAMES, writeFiles } from './helpers/cifar_fixture.js';
import { Rng } from './helpers/random.js';

const small = { allowSmall: true, warn: () => {} };

describe('CIFAR-10 reader', () => {
  const rng = new Rng();
  const fake = fakeCifar(rng, 13, 17);
  const root = tempDir();
  const dir = join(root, 'ok');
  mkdirSync(dir, { recursive: true });
  writeFiles(dir, fake.files);

  it(`reads a folder of small official-format files (seed=${rng.seed})`, () => {
    const d = loadCifar10(dir, small);
    expect(d.train.n).toBe(65);
    expect(d.test.n).toBe(17);
    expect(Buffer.compare(d.train.images, fake.train.images)).toBe(0);
    expect(Buffer.compare(d.train.labels, fake.train.labels)).toBe(0);
    expect(Buffer.compare(d.test.images, fake.test.images)).toBe(0);
    expect(Buffer.compare(d.test.labels, fake.test.labels)).toBe(0);
    const onlyTest = loadCifar10(dir, { ...small, splits: 'test' });
    expect(onlyTest.train.n).toBe(0);
    expect(onlyTest.test.n).toBe(17);
  });

  it('reads the official .tar.gz layout (and gives the same data)', () => {
    const tgz = join(root, 'cifar-10-binary.tar.gz');
    writeFileSync(tgz, cifarTarGz(fake.files));
    const d = loadCifar10(tgz, small);
    expect(Buffer.compare(d.train.images, fake.train.images)).toBe(0);
    expect(Buffer.compare(d.train.labels, fake.train.labels)).toBe(0);
    expect(Buffer.compare(d.test.images, fake.test.images)).toBe(0);
  });

  it('rejects small files unless allowSmall (official files are exactly 30,730,000 bytes)', () => {
    expect(() => loadCifar10(dir, { warn: () => {} })).toThrow(/data_batch_1\.bin: 39,949 bytes, expected 30,730,000/);
  });

  it('accepts a full-size file without allowSmall and checks its classes', () => {
    const full = new Uint8Array(FILE_BYTES);
    for (let i = 0; i < 10_000; i++) full[i * RECORD] = i % 10;
    const p = parseCifarFile('full.bin', full);
    expect(p.n).toBe(10_000);
    expect(p.counts).toEqual(new Array(10).fill(1000));
    for (let i = 0; i < 10_000; i++) full[i * RECORD] = i % 9; // class 9 missing
    expect(() => parseCifarFile('nine.bin', full)).toThrow(/nine\.bin: no images of class 9/);
    for (let i = 0; i < 10_000; i++) full[i * RECORD] = i < 6000 ? 0 : i % 10; // class 0 way over
    const warnings: string[] = [];
    parseCifarFile('skew.bin', full, { warn: (m) => warnings.push(m) });
    expect(warnings.join()).toMatch(/skew\.bin: class counts wildly unbalanced/);
  });

  it('a truncated file is an error naming the file', () => {
    const bad = join(root, 'truncated');
    mkdirSync(bad);
    writeFiles(bad, fake.files);
    truncateSync(join(bad, 'data_batch_3.bin'), 13 * RECORD - 100);
    expect(() => loadCifar10(bad, small)).toThrow(/truncated\/data_batch_3\.bin: 39,849 bytes is not a whole number of 3,073-byte records/);
  });

  it('a label outside 0..9 is an error naming the file and the record', () => {
    const bad = join(root, 'label11');
    mkdirSync(bad);
    writeFiles(bad, fake.files);
    const t = fake.files.get(TEST_NAME)!.slice();
    t[5 * RECORD] = 11;
    writeFileSync(join(bad, TEST_NAME), t);
    expect(() => loadCifar10(bad, small)).toThrow(/label11\/test_batch\.bin: record 5 \(byte 15,365\) has label 11, expected 0\.\.9/);
  });

  it('a missing file is an error naming it', () => {
    const bad = join(root, 'missing');
    mkdirSync(bad);
    writeFiles(bad, new Map([...fake.files].filter(([n]) => n !== 'data_batch_4.bin')));
    expect(() => loadCifar10(bad, small)).toThrow(/missing\/data_batch_4\.bin: missing/);
    expect(() => loadCifar10(join(root, 'nowhere'), small)).toThrow(/nowhere: no such file or folder\. Download the binary version/);
  });

  it('corrupt or truncated archives are errors naming the archive', () => {
    const gz = cifarTarGz(fake.files);
    const cut = join(root, 'cut.tar.gz');
    writeFileSync(cut, gz.subarray(0, Math.floor(gz.length / 2)));
    expect(() => loadCifar10(cut, small)).toThrow(/cut\.tar\.gz: cannot gunzip/);
    const noTest = join(root, 'notest.tar.gz');
    writeFileSync(noTest, cifarTarGz(new Map([...fake.files].filter(([n]) => n !== TEST_NAME))));
    expect(() => loadCifar10(noTest, small)).toThrow(/notest\.tar\.gz: no entry cifar-10-batches-bin\/test_batch\.bin/);
    const bad11 = new Map(fake.files);
    const b = fake.files.get('data_batch_2.bin')!.slice();
    b[0] = 11;
    bad11.set('data_batch_2.bin', b);
    const lab = join(root, 'lab.tar.gz');
    writeFileSync(lab, cifarTarGz(bad11));
    expect(() => loadCifar10(lab, small)).toThrow(/lab\.tar\.gz:cifar-10-batches-bin\/data_batch_2\.bin: record 0 .* label 11/);
    const tar = tarOf([{ path: 'a/x.bin', data: new Uint8Array(1000) }]);
    expect(() => readTar(tar.subarray(0, 900), 'short.tar')).toThrow(/short\.tar: truncated: entry 'a\/x\.bin' needs 1000 bytes/);
    const corrupt = tar.slice();
    corrupt[10] ^= 0xff;
    expect(() => readTar(corrupt, 'hdr.tar')).toThrow(/hdr\.tar: corrupt tar header/);
  });

  it('resolveDataDir: flag, then EARLY_PHASE_DATA, then ../shared/data, else a clear error', () => {
    const tgz = join(root, 'cifar-10-binary.tar.gz');
    expect(resolveDataDir(dir, {})).toBe(dir);
    expect(resolveDataDir(undefined, { EARLY_PHASE_DATA: dir })).toBe(dir);
    expect(resolveDataDir(dir, { EARLY_PHASE_DATA: '/nonexistent' })).toBe(dir);
    expect(resolveDataDir(tgz, {})).toBe(tgz);
    // A folder containing cifar-10-batches-bin, and the ../shared/data default relative to cwd.
    const ws = join(root, 'ws');
    const batches = join(ws, 'shared', 'data', 'cifar-10-batches-bin');
    mkdirSync(batches, { recursive: true });
    for (const n of [...TRAIN_NAMES, TEST_NAME]) copyFileSync(join(dir, n), join(batches, n));
    expect(resolveDataDir(join(ws, 'shared', 'data'), {})).toBe(batches);
    mkdirSync(join(ws, 'main'));
    expect(resolveDataDir(undefined, {}, join(ws, 'main'))).toBe(batches);
    expect(() => resolveDataDir('/nonexistent/cifar', {})).toThrow(/--data \/nonexistent\/cifar: no such file or folder/);
    expect(() => resolveDataDir(undefined, { EARLY_PHASE_DATA: root + '/ws/main' })).toThrow(/EARLY_PHASE_DATA .*: no CIFAR-10 binary files there/);
    let msg = '';
    try {
      // cwd with nothing around it; the package root may still find the real data, so only check the message when it fails.
      resolveDataDir(undefined, {}, join(root, 'ok'));
    } catch (e) {
      msg = (e as Error).message;
    }
    if (msg) {
      expect(msg).toContain(CIFAR10_URL);
      expect(msg).toMatch(/--data DIR/);
      expect(msg).toMatch(/EARLY_PHASE_DATA/);
    }
  });

  it('prepareCifar10: resolve + load + balanced subsets in one call', () => {
    const p = prepareCifar10({ data: dir, allowSmall: true, warn: () => {}, trainSubset: 20, testSubset: 7 });
    expect(p.source).toBe(dir);
    expect(p.train.n).toBe(20);
    expect(p.test.n).toBe(7);
    expect(Array.from(p.train.labels)).toEqual(Array.from(p.trainIndices!, (i) => fake.train.labels[i]));
    expect(Buffer.compare(p.test.images.subarray(0, 3072), fake.test.images.subarray(p.testIndices![0] * 3072, (p.testIndices![0] + 1) * 3072))).toBe(0);
    const all = prepareCifar10({ data: dir, allowSmall: true, warn: () => {} });
    expect(all.trainIndices).toBeNull();
    expect(all.train.n).toBe(65);
  });

  it('selectSplit copies the chosen images and labels', () => {
    const d = loadCifar10(dir, { ...small, splits: 'train' });
    const s = selectSplit(d.train, [4, 0, 64]);
    expect(s.n).toBe(3);
    expect(Array.from(s.labels)).toEqual([d.train.labels[4], d.train.labels[0], d.train.labels[64]]);
    expect(Buffer.compare(s.images.subarray(3072, 6144), d.train.images.subarray(0, 3072))).toBe(0);
  });
});

describe('balanced subsets', () => {
  it('quotas differ by at most one, remainder to the lowest classes', () => {
    expect(subsetQuotas(23)).toEqual([3, 3, 3, 2, 2, 2, 2, 2, 2, 2]);
    expect(subsetQuotas(10_000)).toEqual(new Array(10).fill(1000));
    expect(subsetQuotas(7)).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
  });

  it('any N: balanced within one per class, first images of each class in file order, deterministic', () => {
    const rng = new Rng();
    const labels = fakeRecords(2000, rng).filter((_, i) => i % RECORD === 0);
    for (const n of [0, 1, 9, 10, 11, 37, 100, 128, 999, 1000]) {
      const idx = balancedSubset(labels, n);
      expect(idx.length, `n=${n} seed=${rng.seed}`).toBe(n);
      const counts = classCounts(Array.from(idx, (i) => labels[i]));
      expect(Math.max(...counts) - Math.min(...counts), `n=${n}`).toBeLessThanOrEqual(1);
      expect(counts).toEqual(subsetQuotas(n));
      for (let k = 1; k < n; k++) expect(idx[k]).toBeGreaterThan(idx[k - 1]);
      // Each class's members are its first images in file order.
      for (let c = 0; c < 10; c++) {
        const mine = Array.from(idx).filter((i) => labels[i] === c);
        const firsts = [];
        for (let i = 0; i < labels.length && firsts.length < mine.length; i++) if (labels[i] === c) firsts.push(i);
        expect(mine).toEqual(firsts);
      }
      expect(balancedSubset(labels, n)).toEqual(idx);
    }
  });

  it('too large a subset, or a class too small, is a clear error', () => {
    const labels = Uint8Array.from({ length: 50 }, (_, i) => (i < 47 ? i % 9 : 9)); // class 9 has 3
    expect(() => balancedSubset(labels, 51)).toThrow(/subset of 51 images requested from a split of 50/);
    expect(() => balancedSubset(labels, 50)).toThrow(/not enough images in class 9 \(3 of 5\)/);
    expect(balancedSubset(labels, 30).length).toBe(30);
  });
});

describe('Philox and data order', () => {
  it('philox4x32-10 matches the Random123 known-answer vectors', () => {
    expect(Array.from(philox4x32(0, 0, 0, 0, 0, 0))).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    const f = 0xffffffff;
    expect(Array.from(philox4x32(f, f, f, f, f, f))).toEqual([0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
    expect(Array.from(philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0))).toEqual([0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
  });

  it('epochOrder is a permutation, deterministic, and differs across epochs and seeds', () => {
    for (const n of [0, 1, 2, 7, 1000, 50_000]) {
      const o = epochOrder(n, 42, 3);
      const seen = new Uint8Array(n);
      for (const i of o) seen[i]++;
      expect(seen.every((c) => c === 1), `n=${n}`).toBe(true);
      expect(epochOrder(n, 42, 3)).toEqual(o);
    }
    const a = epochOrder(1000, 1, 0);
    expect(epochOrder(1000, 1, 1)).not.toEqual(a);
    expect(epochOrder(1000, 2, 0)).not.toEqual(a);
    expect(epochOrder(1000, 2 ** 40 + 1, 0)).not.toEqual(a);
    // Roughly uniform: the mean position of each of 10 items over many epochs is near 4.5.
    const pos = new Float64Array(10);
    for (let e = 0; e < 2000; e++) epochOrder(10, 9, e).forEach((v, p) => (pos[v] += p / 2000));
    for (const p of pos) expect(Math.abs(p - 4.5)).toBeLessThan(0.25);
  });

  it('BatchOrder: 391 iterations per epoch for 50,000 / 128, last batch of 80 kept, epochs continue', () => {
    const b = new BatchOrder(50_000, 128, 5);
    expect(b.itersPerEpoch).toBe(391);
    expect(b.at(390).indices.length).toBe(80);
    const r = b.at(391 + 3);
    expect(r.epoch).toBe(1);
    expect(r.step).toBe(3);
    expect(Array.from(r.indices)).toEqual(Array.from(epochOrder(50_000, 5, 1).subarray(384, 512)));
    expect([...sequentialBatches(10, 4)].map((x) => Array.from(x))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  });

  it('trainDraw covers every crop offset and both flips, reproducibly; rotation and random-label draws are uniform', () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 9 * 9 * 2 * 60; i++) {
      const d = trainDraw(7, 2, i);
      expect(trainDraw(7, 2, i)).toEqual(d);
      const key = `${d.dx},${d.dy},${d.flip}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    expect(seen.size).toBe(162);
    for (const c of seen.values()) expect(c).toBeGreaterThan(20);
    expect(trainDraw(7, 3, 0)).not.toEqual(trainDraw(7, 2, 0)); // (may collide 1/162; fixed seeds so it does not)
    const rot = classCounts(Array.from({ length: 4000 }, (_, i) => rotationDraw(1, 0, i)), 4);
    for (const c of rot) expect(Math.abs(c - 1000)).toBeLessThan(120);
    const rl = randomLabels(10_000, 3);
    expect(randomLabels(10_000, 3)).toEqual(rl);
    for (const c of classCounts(rl)) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });
});
