// The PyTorch reference in `npm run bench`: bench/pytorch_resnet20.py (fp32 eager, TF32 off) training
// the same ResNet-20 at the same batch, in a child process. On a machine whose PyTorch sees a CUDA GPU
// it runs there; otherwise on the CPU with one thread per core, the number a CPU user knows. Optional:
// when no Python with torch is found the entry says why it was skipped.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PytorchResult {
  framework: 'pytorch';
  torch: string;
  device: string;
  device_type: 'cuda' | 'cpu';
  threads: number;
  dtype: 'float32';
  tf32: false;
  cudnn_benchmark: boolean;
  /** Trainable parameters of the model it built (272,474 for ResNet-20). */
  params: number;
  batch: number;
  warmup_steps: number;
  steps: number;
  train_images_per_s: number;
  step_ms: number;
  last_loss: number | null;
  epoch_s?: number;
  epoch_images?: number;
}

/** The Python that has torch: $EARLY_PHASE_PYTHON, Debian's /usr/bin/python3, or python3 on PATH. */
export function pytorchPython(): string | { skipped: string } {
  const candidates = process.env.EARLY_PHASE_PYTHON ? [process.env.EARLY_PHASE_PYTHON] : ['/usr/bin/python3', 'python3'];
  for (const py of candidates) {
    try {
      execFileSync(py, ['-c', 'import torch, numpy'], { stdio: 'ignore', timeout: 60_000 });
      return py;
    } catch {
      // next candidate
    }
  }
  return { skipped: `no Python with torch and numpy (tried ${candidates.join(', ')}; apt-get install python3-torch, or set EARLY_PHASE_PYTHON)` };
}

/** The script beside this bundle's source: bench/pytorch_resnet20.py from dist/ or from bench/. */
function scriptPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', 'bench', 'pytorch_resnet20.py'), join(here, 'pytorch_resnet20.py')];
  return candidates.find((p) => existsSync(p)) ?? candidates[0];
}

export function runPytorch(batch: number, steps: number, warmup: number): PytorchResult | { skipped: string } {
  const py = pytorchPython();
  if (typeof py !== 'string') return py;
  const script = scriptPath();
  if (!existsSync(script)) return { skipped: `${script} not found` };
  const dir = mkdtempSync(join(tmpdir(), 'early-phase-pytorch-'));
  try {
    const out = join(dir, 'pytorch.json');
    // 10,000 resident images: enough for 23 distinct batches, and quick to generate on a CPU
    const args = [script, '--batch', String(batch), '--steps', String(steps), '--warmup', String(warmup), '--images', '10000', '--threads', String(availableParallelism()), '--json', out];
    execFileSync(py, args, { stdio: ['ignore', 'ignore', 'inherit'], timeout: 20 * 60_000 });
    return JSON.parse(readFileSync(out, 'utf8')) as PytorchResult;
  } catch (e) {
    return { skipped: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
