// A WGSL rule the compiler does not enforce for us: a function-scope `var` declared inside a loop body
// must have an initialiser. WGSL zero-initialises `var x: T;` every time the declaration runs, but
// Dawn on Mesa lavapipe (Mesa 25.0.7, 2026-11-26) zeroes it once per invocation: on the loop's second
// trip it still holds the first trip's value. A kernel that accumulates into such a var sums across
// trips (docs/writing-kernels.md has the reproducer and what it returned).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listShaders, shadersDir } from '../src/gpu/shader_source.js';

interface Finding {
  line: number;
  name: string;
}

/** `var name: T;` statements (no initialiser) inside a for / while / loop body. */
export function uninitialisedLoopVars(source: string): Finding[] {
  const found: Finding[] = [];
  const blocks: boolean[] = []; // per open brace: is it a loop body (or inside one)?
  let statement = '';
  let parens = 0;
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const code = lines[i].replace(/\/\/.*$/, '');
    for (const ch of code) {
      if (ch === '(') parens++;
      if (ch === ')') parens--;
      if (ch === '{') {
        const inLoop = blocks.length > 0 && blocks[blocks.length - 1];
        blocks.push(inLoop || /^\s*(for|while|loop)\b/.test(statement));
        statement = '';
      } else if (ch === '}') {
        blocks.pop();
        statement = '';
      } else if (ch === ';' && parens === 0) {
        const m = /^\s*var(?:\s*<\s*function\s*>)?\s+([A-Za-z_]\w*)\s*:[^=]*$/.exec(statement);
        if (m && blocks.length > 0 && blocks[blocks.length - 1]) found.push({ line: i + 1, name: m[1] });
        statement = '';
      } else {
        statement += ch;
      }
    }
    statement += ' ';
  }
  return found;
}

describe('WGSL lint', () => {
  it('finds an uninitialised var in a loop body, and only there', () => {
    const src = [
      'fn f() {',
      '  var a: f32;            // function scope: zeroed once, fine',
      '  for (var i = 0u; i < 4u; i++) {',
      '    var b: vec4f;        // flagged',
      '    var c = vec4f(0.0);  // initialised: fine',
      '    if (i > 0u) { var d: u32; d = i; }  // nested in the loop: flagged',
      '  }',
      '  loop { var e: f32; break; }',
      '  while (false) {',
      '    var<function> g: array<f32, 4>;',
      '  }',
      '  var h: f32;',
      '}',
    ].join('\n');
    expect(uninitialisedLoopVars(src)).toEqual([
      { line: 4, name: 'b' },
      { line: 6, name: 'd' },
      { line: 8, name: 'e' },
      { line: 10, name: 'g' },
    ]);
  });

  it('no shader declares an uninitialised var inside a loop', () => {
    const bad: string[] = [];
    const dir = shadersDir();
    const includes = readdirSync(join(dir, 'include')).filter((f) => f.endsWith('.wgsl'));
    const files = [...listShaders().map((s) => `${s}.wgsl`), ...includes.map((f) => `include/${f}`)];
    expect(files.length).toBeGreaterThan(includes.length + 10);
    for (const f of files) {
      for (const { line, name } of uninitialisedLoopVars(readFileSync(join(dir, f), 'utf8'))) bad.push(`${f}:${line} var ${name}`);
    }
    expect(bad).toEqual([]);
  });
});
