// One call for a trainer: find the data (--data / EARLY_PHASE_DATA / ../shared/data), read and validate
// it, and cut the fixed balanced subsets of --train-subset / --test-subset.
import { loadCifar10, resolveDataDir, selectSplit, type CifarData, type LoadOptions } from './cifar10.js';
import { balancedSubset } from './subset.js';

export interface DataOptions extends LoadOptions {
  /** --data: a cifar-10-batches-bin folder, a folder containing it, or cifar-10-binary.tar.gz. */
  data?: string;
  /** --train-subset N: the balanced subset (first images of each class in file order). */
  trainSubset?: number;
  /** --test-subset N. */
  testSubset?: number;
}

export interface PreparedData extends CifarData {
  /** Indices of the kept images in the original files' order (null: all). */
  trainIndices: Uint32Array | null;
  testIndices: Uint32Array | null;
  /** Wall time of resolve + read + validate + subset. */
  loadMs: number;
}

export function prepareCifar10(opts: DataOptions = {}): PreparedData {
  const t0 = performance.now();
  const source = resolveDataDir(opts.data);
  const d = loadCifar10(source, opts);
  const cut = (split: CifarData['train'], n: number | undefined) => {
    if (n === undefined || n === split.n) return { split, idx: null };
    const idx = balancedSubset(split.labels, n);
    return { split: selectSplit(split, idx), idx };
  };
  const tr = cut(d.train, d.train.n ? opts.trainSubset : undefined);
  const te = cut(d.test, d.test.n ? opts.testSubset : undefined);
  return { train: tr.split, test: te.split, source, trainIndices: tr.idx, testIndices: te.idx, loadMs: performance.now() - t0 };
}
