// Slow tier (EARLY_PHASE_SLOW=1): the kernels need subgroups of at least 8 invocations, not exactly 8.
// A GPU has 32 (NVIDIA) or 64 (AMD); lavapipe has 8 unless LP_NATIVE_VECTOR_WIDTH=512 makes them 16.
// This reruns the kernel and training-step test files in a child process with 16-wide subgroups.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChild } from '../helpers/child_process.js';

const root = join(__dirname, '..', '..');
const FILES = ['conv2d', 'batchnorm', 'batchnorm_relu', 'elementwise', 'pooling', 'linear', 'cross_entropy', 'reduce', 'sgd', 'permute', 'rng', 'data_augment', 'train_step', 'models'];

describe('16-wide subgroups (LP_NATIVE_VECTOR_WIDTH=512)', () => {
  it('the adapter reports 16 and the kernel tests pass', async () => {
    const env = { ...process.env, LP_NATIVE_VECTOR_WIDTH: '512', XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };
    const probe = [
      "import { create, globals } from 'webgpu';",
      'Object.assign(globalThis, globals);',
      'const a = await create([]).requestAdapter();',
      'console.log(JSON.stringify({ description: a?.info.description ?? null, min: a?.info.subgroupMinSize ?? null, max: a?.info.subgroupMaxSize ?? null }));',
      'process.exit(0);',
    ].join('\n');
    const info = JSON.parse((await runChild(process.execPath, ['--input-type=module', '-e', probe], { cwd: root, env, stdio: ['ignore', 'pipe', 'ignore'] })).trim().split('\n').pop()!) as { description: string | null; min: number | null; max: number | null };
    if (!info.description?.startsWith('llvmpipe')) return; // the variable is lavapipe's; another adapter has its own widths
    expect(info.min).toBe(16);
    const files = FILES.map((f) => `test/${f}.test.ts`);
    // rejects (and shows vitest's output) if any test fails
    await runChild(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...files], { cwd: root, env: { ...env, EARLY_PHASE_SLOW: '' }, stdio: 'inherit', timeoutMs: 15 * 60_000 });
  }, 16 * 60_000);
});
