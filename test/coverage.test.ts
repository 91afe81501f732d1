// Every kernel in shaders/ has a reference test (some test file lists it under `// @kernels`), and
// every backward/gradient kernel a finite-difference gradient check (`// @gradcheck`).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listShaders } from '../src/gpu/shader_source.js';

function tagged(tag: string): Set<string> {
  const out = new Set<string>();
  const dir = join(__dirname);
  const files = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.test.ts'));
  for (const f of files) {
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(new RegExp(`^\\s*//\\s*@${tag}\\s+(.+)$`, 'gm'))) {
      for (const name of m[1].trim().split(/\s+/)) out.add(name);
    }
  }
  return out;
}

describe('kernel test coverage', () => {
  const shaders = listShaders();
  it('finds the kernels', () => {
    expect(shaders.length).toBeGreaterThan(10);
  });
  it('every shader has a reference test', () => {
    const tested = tagged('kernels');
    expect(shaders.filter((s) => !tested.has(s))).toEqual([]);
  });
  it('every backward / gradient kernel has a gradient check', () => {
    const checked = tagged('gradcheck');
    const needs = shaders.filter((s) => /(_backward|_grad)(_|$)/.test(s));
    expect(needs.filter((s) => !checked.has(s))).toEqual([]);
  });
  it('tags name real shaders', () => {
    const all = new Set(shaders);
    expect([...tagged('kernels'), ...tagged('gradcheck')].filter((s) => !all.has(s))).toEqual([]);
  });
});
