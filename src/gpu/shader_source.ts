// Where the WGSL lives. Shaders are plain files in `shaders/` at the package root, read at run time,
// so the same lookup works from `src/` (vitest), from `dist/` (the bundle) and from an installed package.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedDir: string | null = null;

export function shadersDir(): string {
  if (cachedDir) return cachedDir;
  const fromEnv = process.env.EARLY_PHASE_SHADERS;
  if (fromEnv && existsSync(fromEnv)) return (cachedDir = fromEnv);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'shaders');
    if (existsSync(join(candidate, 'README.md')) || existsSync(join(dir, 'package.json'))) {
      if (existsSync(candidate)) return (cachedDir = candidate);
    }
    dir = dirname(dir);
  }
  throw new Error(`cannot find the shaders/ folder above ${fileURLToPath(import.meta.url)}; set EARLY_PHASE_SHADERS`);
}

export function readShader(name: string): string {
  const path = join(shadersDir(), `${name}.wgsl`);
  if (!existsSync(path)) throw new Error(`unknown kernel '${name}': no file ${path}`);
  return readFileSync(path, 'utf8');
}

const INCLUDE_RE = /^\s*\/\/\s*#include\s+"([\w.-]+)"\s*$/gm;

/** Expand `// #include "name.wgsl"` lines from shaders/include/, once per file. */
function expandIncludes(source: string, seen = new Set<string>()): string {
  return source.replace(INCLUDE_RE, (_line, file: string) => {
    if (seen.has(file)) return '';
    seen.add(file);
    const path = join(shadersDir(), 'include', file);
    if (!existsSync(path)) throw new Error(`#include "${file}": no file ${path}`);
    return expandIncludes(readFileSync(path, 'utf8'), seen);
  });
}

/**
 * A kernel's WGSL as it compiles, before a variant is chosen (src/gpu/kernel.ts): its file with each
 * `// #include "name.wgsl"` line replaced by shaders/include/name.wgsl (each file once).
 */
export function shaderSource(name: string): string {
  return expandIncludes(readShader(name));
}

export function listShaders(): string[] {
  return readdirSync(shadersDir())
    .filter((f) => f.endsWith('.wgsl'))
    .map((f) => f.slice(0, -5))
    .sort();
}
