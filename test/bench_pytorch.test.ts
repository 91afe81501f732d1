// The PyTorch reference of `npm run bench` is optional: without a Python that has torch, the entry
// says why it was skipped instead of failing the benchmark. (The script itself is checked in the
// parity tier, test/slow/parity.test.ts, where PyTorch is installed.)
import { afterEach, describe, expect, it } from 'vitest';
import { pytorchPython, runPytorch } from '../bench/pytorch.js';

describe('PyTorch reference in bench', () => {
  const saved = process.env.EARLY_PHASE_PYTHON;
  afterEach(() => {
    if (saved === undefined) delete process.env.EARLY_PHASE_PYTHON;
    else process.env.EARLY_PHASE_PYTHON = saved;
  });

  it('is skipped, with the reason and the fix, when the named Python does not exist', () => {
    process.env.EARLY_PHASE_PYTHON = '/nonexistent/python3';
    const py = pytorchPython();
    expect(typeof py).toBe('object');
    expect((py as { skipped: string }).skipped).toMatch(/\/nonexistent\/python3.*apt-get install python3-torch/);
    const r = runPytorch(8, 1, 1);
    expect('skipped' in r && r.skipped).toMatch(/no Python with torch/);
  });
});
