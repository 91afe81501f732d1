// CIFAR-10 reader for the official binary version (https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz).
//
// Each file is a sequence of records: 1 label byte (0..9) then 3,072 pixel bytes (the 1,024 red
// values, then green, then blue, each plane 32x32 row-major). The official files hold 10,000 records
// (30,730,000 bytes) each: data_batch_1..5.bin (train) and test_batch.bin (test).
//
// Everything is validated before training: exact file sizes, labels in 0..9, class counts. A wrong
// size or a bad label is an error naming the file; a class missing from a full file is an error and a
// wildly unbalanced one a warning. Small files (a whole number of records) are accepted only with
// `allowSmall` (tests).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipArchive, readTar } from './tar.js';

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const IMAGE_SIZE = 32;
export const CHANNELS = 3;
export const IMAGE_BYTES = CHANNELS * IMAGE_SIZE * IMAGE_SIZE; // 3072
export const RECORD_BYTES = IMAGE_BYTES + 1; // 3073
export const RECORDS_PER_FILE = 10_000;
export const FILE_BYTES = RECORD_BYTES * RECORDS_PER_FILE; // 30,730,000
export const NUM_CLASSES = 10;
export const TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'] as const;
export const TEST_FILE = 'test_batch.bin';
export const BATCHES_DIR = 'cifar-10-batches-bin';
export const TARBALL = 'cifar-10-binary.tar.gz';
export const CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const;

/** One split held on the host: n images of 3,072 bytes (CHW, planar) and n labels. */
export interface CifarSplit {
  name: string;
  n: number;
  /** n * 3072 bytes: image i at [i*3072, (i+1)*3072), R plane, G plane, B plane, each 32x32 row-major. */
  images: Uint8Array;
  labels: Uint8Array;
}

export interface CifarData {
  train: CifarSplit;
  test: CifarSplit;
  /** The folder or archive it came from. */
  source: string;
}

export interface LoadOptions {
  /** Accept files with any whole number of records (tests). Official files must be 30,730,000 bytes. */
  allowSmall?: boolean;
  /** Where warnings go (default console.warn). */
  warn?: (message: string) => void;
  /** Which splits to read (default both; the other comes back empty). */
  splits?: 'both' | 'train' | 'test';
}

export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

const HOW_TO_GET =
  `Download the binary version of CIFAR-10 from ${CIFAR10_URL}, then either pass --data DIR ` +
  `(the ${BATCHES_DIR} folder, a folder containing it or ${TARBALL}, or the .tar.gz itself) or set EARLY_PHASE_DATA=DIR.`;

/** The package root (the folder with this package's package.json), if found. */
function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'early-phase') return dir;
      } catch {
        /* keep looking */
      }
    }
    dir = dirname(dir);
  }
  return null;
}

/** If `p` holds CIFAR-10 (batches folder, a folder containing it or the tarball, or the tarball), the path to read. */
function dataAt(p: string): string | null {
  if (!existsSync(p)) return null;
  const st = statSync(p);
  if (st.isFile()) return /\.(tar\.gz|tgz)$/.test(p) ? p : null;
  if (existsSync(join(p, TRAIN_FILES[0])) || existsSync(join(p, TEST_FILE))) return p;
  if (existsSync(join(p, BATCHES_DIR))) return dataAt(join(p, BATCHES_DIR));
  if (existsSync(join(p, TARBALL))) return join(p, TARBALL);
  return null;
}

/**
 * Where the data is: the flag (--data), else $EARLY_PHASE_DATA, else ../shared/data/cifar-10-batches-bin
 * relative to the working directory, then relative to the package root. Returns a folder with the
 * .bin files or a path to cifar-10-binary.tar.gz. An explicit flag or variable that does not point at
 * the data is an error (no fallback), as is finding nothing.
 */
export function resolveDataDir(flag?: string, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  for (const [what, value] of [
    ['--data', flag],
    ['EARLY_PHASE_DATA', env.EARLY_PHASE_DATA],
  ] as const) {
    if (value === undefined || value === '') continue;
    const p = resolve(cwd, value);
    if (!existsSync(p)) throw new DataError(`${what} ${value}: no such file or folder (${p}). ${HOW_TO_GET}`);
    const found = dataAt(p);
    if (!found) throw new DataError(`${what} ${value}: no CIFAR-10 binary files there (expected ${TRAIN_FILES.join(', ')}, ${TEST_FILE}, a ${BATCHES_DIR} folder or ${TARBALL}). ${HOW_TO_GET}`);
    return found;
  }
  const tried: string[] = [];
  const bases = [cwd];
  const root = packageRoot();
  if (root && resolve(root) !== resolve(cwd)) bases.push(root);
  for (const base of bases) {
    for (const rel of [join('..', 'shared', 'data', BATCHES_DIR), join('..', 'shared', 'data', TARBALL)]) {
      const p = resolve(base, rel);
      tried.push(p);
      const found = dataAt(p);
      if (found) return found;
    }
  }
  throw new DataError(`CIFAR-10 not found (looked in ${tried.join(', ')}). ${HOW_TO_GET}`);
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/** Records of one file, validated. `name` is used in every error. */
export interface ParsedFile {
  name: string;
  n: number;
  /** Label counts per class. */
  counts: number[];
  /** The file's bytes (records still interleaved with labels). */
  bytes: Uint8Array;
}

/** Throw unless `size` is an official file's size (or, with allowSmall, a whole number of records). */
export function checkFileSize(name: string, size: number, opts: LoadOptions = {}): void {
  if (size !== FILE_BYTES) {
    if (!opts.allowSmall) {
      throw new DataError(
        `${name}: ${fmt(size)} bytes, expected ${fmt(FILE_BYTES)} (${fmt(RECORDS_PER_FILE)} records of ${fmt(RECORD_BYTES)} bytes): ` +
          `the file is truncated, corrupt, or not the CIFAR-10 binary version. ${HOW_TO_GET}`,
      );
    }
    if (size === 0 || size % RECORD_BYTES !== 0) {
      throw new DataError(`${name}: ${fmt(size)} bytes is not a whole number of ${fmt(RECORD_BYTES)}-byte records: the file is truncated or corrupt`);
    }
  }
}

/** Validate one CIFAR-10 binary file's bytes: size, labels, class counts. */
export function parseCifarFile(name: string, bytes: Uint8Array, opts: LoadOptions = {}): ParsedFile {
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  checkFileSize(name, bytes.length, opts);
  const n = bytes.length / RECORD_BYTES;
  const counts = new Array<number>(NUM_CLASSES).fill(0);
  for (let i = 0; i < n; i++) {
    const l = bytes[i * RECORD_BYTES];
    if (l >= NUM_CLASSES) {
      throw new DataError(`${name}: record ${i} (byte ${fmt(i * RECORD_BYTES)}) has label ${l}, expected 0..9: the file is corrupt or not CIFAR-10`);
    }
    counts[l]++;
  }
  if (n === RECORDS_PER_FILE) {
    const missing = counts.flatMap((c, k) => (c === 0 ? [k] : []));
    if (missing.length) throw new DataError(`${name}: no images of class ${missing.join(', ')} in a full file (counts ${counts.join(', ')}): the file is corrupt`);
    const mean = n / NUM_CLASSES;
    const odd = counts.flatMap((c, k) => (c < mean / 2 || c > mean * 2 ? [k] : []));
    if (odd.length) warn(`warning: ${name}: class counts wildly unbalanced (${counts.join(', ')}); classes ${odd.join(', ')} are off by more than 2x`);
  }
  return { name, n, counts, bytes };
}

/** Concatenate validated files into one split (labels and pixels separated). */
export function assembleSplit(name: string, files: ParsedFile[], opts: LoadOptions = {}): CifarSplit {
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  const n = files.reduce((s, f) => s + f.n, 0);
  const images = new Uint8Array(n * IMAGE_BYTES);
  const labels = new Uint8Array(n);
  let k = 0;
  for (const f of files) {
    for (let i = 0; i < f.n; i++, k++) {
      const o = i * RECORD_BYTES;
      labels[k] = f.bytes[o];
      images.set(f.bytes.subarray(o + 1, o + RECORD_BYTES), k * IMAGE_BYTES);
    }
  }
  const fullSize = files.length * RECORDS_PER_FILE;
  if (n === fullSize) {
    const counts = new Array<number>(NUM_CLASSES).fill(0);
    for (let i = 0; i < n; i++) counts[labels[i]]++;
    if (counts.some((c) => c !== n / NUM_CLASSES)) warn(`warning: ${name} split: class counts ${counts.join(', ')} (official CIFAR-10 has exactly ${n / NUM_CLASSES} per class)`);
  }
  return { name, n, images, labels };
}

/** Read and validate one file from a folder. */
function readFromDir(dir: string, file: string, opts: LoadOptions): ParsedFile {
  const path = join(dir, file);
  if (!existsSync(path)) throw new DataError(`${path}: missing (a CIFAR-10 folder needs ${TRAIN_FILES.join(', ')} and ${TEST_FILE}). ${HOW_TO_GET}`);
  const size = statSync(path).size;
  checkFileSize(path, size, opts); // before reading 30 MB of the wrong thing
  const buf = readFileSync(path);
  return parseCifarFile(path, new Uint8Array(buf.buffer, buf.byteOffset, buf.length), opts);
}

/** Load CIFAR-10 from a folder of .bin files or the official .tar.gz (as returned by resolveDataDir). */
export function loadCifar10(source: string, opts: LoadOptions = {}): CifarData {
  const which = opts.splits ?? 'both';
  const wantTrain = which !== 'test';
  const wantTest = which !== 'train';
  let getFile: (file: string) => ParsedFile;
  if (!existsSync(source)) throw new DataError(`${source}: no such file or folder. ${HOW_TO_GET}`);
  if (statSync(source).isFile()) {
    const entries = readTar(gunzipArchive(readFileSync(source), source), source);
    getFile = (file) => {
      const hits = entries.filter((e) => e.path === `${BATCHES_DIR}/${file}` || e.path.endsWith(`/${file}`) || e.path === file);
      if (hits.length === 0) throw new DataError(`${source}: no entry ${BATCHES_DIR}/${file} in the archive (truncated, or not ${TARBALL})`);
      return parseCifarFile(`${source}:${hits[0].path}`, hits[0].data, opts);
    };
  } else {
    getFile = (file) => readFromDir(source, file, opts);
  }
  const empty = (name: string): CifarSplit => ({ name, n: 0, images: new Uint8Array(0), labels: new Uint8Array(0) });
  // Validate every wanted file before assembling anything.
  const trainFiles = wantTrain ? TRAIN_FILES.map(getFile) : [];
  const testFiles = wantTest ? [getFile(TEST_FILE)] : [];
  return {
    train: wantTrain ? assembleSplit('train', trainFiles, opts) : empty('train'),
    test: wantTest ? assembleSplit('test', testFiles, opts) : empty('test'),
    source,
  };
}

/** A new split holding the given images of `split`, in the given order (e.g. a balancedSubset). */
export function selectSplit(split: CifarSplit, indices: ArrayLike<number>, name = split.name): CifarSplit {
  const n = indices.length;
  const images = new Uint8Array(n * IMAGE_BYTES);
  const labels = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const i = indices[k];
    if (!(i >= 0 && i < split.n)) throw new Error(`selectSplit: index ${i} outside ${split.name} (${split.n} images)`);
    labels[k] = split.labels[i];
    images.set(split.images.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES), k * IMAGE_BYTES);
  }
  return { name, n, images, labels };
}

/** Images per class. */
export function classCounts(labels: ArrayLike<number>, numClasses = NUM_CLASSES): number[] {
  const c = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) c[labels[i]]++;
  return c;
}
