// The GPU runtime: reflected bindings and uniforms, clear errors for bad launches, caching (no GPU
// objects created by repeated launches), the buffer pool, and asynchronous errors naming the kernel.
// @kernels fill add
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bucketSize } from '../src/gpu/buffer_pool.js';
import { reflectBindings, selectVariant } from '../src/gpu/kernel.js';
import { WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';
import { readShader, shaderSource, shadersDir } from '../src/gpu/shader_source.js';
import { Gpu, TEXTURE_ROW_TEXELS } from '../src/gpu/runtime.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { useGpu } from './helpers/gpu.js';

const gpu = useGpu();

describe('GPU runtime', () => {
  it('reflects bindings and uniform layouts from the WGSL', () => {
    const k = gpu().kernel('add');
    expect(k.bindings.map((b) => [b.name, b.binding, b.kind])).toEqual([
      ['a', 0, 'read-only-storage'],
      ['b', 1, 'read-only-storage'],
      ['out', 2, 'storage'],
      ['p', 3, 'uniform'],
    ]);
    expect([...k.uniform!.fields.keys()]).toEqual(['n']);
  });

  it('the `// #if NAME` variants of a file are separate kernels with their own types', async () => {
    const g = gpu();
    const vec = g.kernel('add');
    const scalar = g.kernel('add', 'scalar');
    expect(scalar).not.toBe(vec);
    expect(scalar.source).toMatch(/alias V = f32;/);
    expect(scalar.source).not.toMatch(/alias V = vec4f;/);
    expect(vec.source).toMatch(/alias V = vec4f;/);
    expect(() => g.kernel('add', 'no_such_variant')).toThrow(/kernel 'add' has no variant 'no_such_variant'/);
    // the same buffers through both variants: 8 floats as 2 vec4s, and as 8 scalars
    const scope = Scope.open();
    const a = Tensor.fromArray(g, [1, 2, 3, 4, 5, 6, 7, 8], [8]);
    const out = Tensor.empty(g, [8]);
    out.fill(-1);
    g.dispatch('add', { bindings: { a, b: a, out }, uniforms: { n: 2 }, workgroups: 1 });
    expect(Array.from(await out.read())).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
    out.fill(-1);
    g.dispatch('add', { bindings: { a, b: a, out }, uniforms: { n: 7 }, workgroups: 1, variant: 'scalar' });
    expect(Array.from(await out.read())).toEqual([2, 4, 6, 8, 10, 12, 14, -1]);
    scope.close();
  });

  it('fill writes every word of a tensor in each store width (u32, vec4, 64-byte) and nothing around it', async () => {
    const g = gpu();
    const scope = Scope.open();
    // sizes hitting each variant (16 | n: wide, 4 | n: vec4, else scalar) and a grid folded into y
    for (const n of [1, 3, 4, 12, 16, 20, 48, 4099, 4100, 4112, (1 << 24) + 48]) {
      const guard = 64; // words (256 bytes, the storage offset alignment) before and after the view
      const big = Tensor.empty(g, [n + 2 * guard], 'u32');
      big.fillBits(0xaaaaaaaa);
      const view = new Tensor(g, big.buf, big.offset + 4 * guard, [n], 'u32', false);
      view.fillBits(0xdeadbeef);
      const got = (await big.read()) as Uint32Array;
      let bad = 0;
      for (let i = 0; i < got.length; i++) if (got[i] !== (i >= guard && i < guard + n ? 0xdeadbeef : 0xaaaaaaaa)) bad++;
      expect(bad, `n = ${n}`).toBe(0);
    }
    // an f32 NaN bit pattern is stored unchanged
    const t = Tensor.empty(g, [32]);
    t.fillBits(0x7fc00001);
    const bits = new Uint32Array((await t.read()).buffer);
    expect(bits.every((b) => b === 0x7fc00001)).toBe(true);
    scope.close();
  });

  it("a kernel's source is its file with each #include expanded once (what it compiles, and what the autotune key hashes)", () => {
    // conv2d_forward_row4 includes texture_rows.wgsl: the raw file names it, the source holds it once
    const include = readFileSync(join(shadersDir(), 'include', 'texture_rows.wgsl'), 'utf8');
    const raw = readShader('conv2d_forward_row4');
    const source = shaderSource('conv2d_forward_row4');
    expect(raw).toMatch(/^\s*\/\/\s*#include "texture_rows.wgsl"\s*$/m);
    expect(raw).not.toContain('fn mirrorTexel(');
    expect(source).not.toMatch(/#include/);
    expect(source.split(include).length - 1).toBe(1);
    expect(source.match(/fn mirrorTexel\(/g)).toHaveLength(1);
    expect(gpu().kernel('conv2d_forward_row4', 'tex').source).toContain('fn mirrorTexel(');
  });

  it('malformed variant blocks are errors naming the kernel', () => {
    expect(() => selectVariant('// #if a\n// #if b\n// #endif\n// #endif', 'a', 'k')).toThrow(/kernel 'k': nested/);
    expect(() => selectVariant('// #if a\nx', 'a', 'k')).toThrow(/kernel 'k': '\/\/ #if a' is never closed/);
    expect(() => selectVariant('// #else\n', undefined, 'k')).toThrow(/'\/\/ #else' without/);
    expect(() => selectVariant('// #endif\n', undefined, 'k')).toThrow(/'\/\/ #endif' without/);
    expect(selectVariant('a\n// #if v\nb\n// #else\nc\n// #endif\nd', 'v', 'k').split('\n').filter(Boolean)).toEqual(['a', 'b', 'd']);
    expect(selectVariant('a\n// #if v\nb\n// #else\nc\n// #endif\nd', undefined, 'k').split('\n').filter(Boolean)).toEqual(['a', 'c', 'd']);
    const three = 'a\n// #if u\nb\n// #elif v\nc\n// #else\nd\n// #endif\ne';
    expect(selectVariant(three, 'u', 'k').split('\n').filter(Boolean)).toEqual(['a', 'b', 'e']);
    expect(selectVariant(three, 'v', 'k').split('\n').filter(Boolean)).toEqual(['a', 'c', 'e']);
    expect(selectVariant(three, undefined, 'k').split('\n').filter(Boolean)).toEqual(['a', 'd', 'e']);
    expect(() => selectVariant('// #elif v\n', 'v', 'k')).toThrow(/'\/\/ #elif v' without/);
    // a branch naming several variants keeps its lines for each of them
    const shared = 'a\n// #if u w\nb\n// #elif v\nc\n// #else\nd\n// #endif\n// #if w\ne\n// #endif';
    expect(selectVariant(shared, 'u', 'k').split('\n').filter(Boolean)).toEqual(['a', 'b']);
    expect(selectVariant(shared, 'w', 'k').split('\n').filter(Boolean)).toEqual(['a', 'b', 'e']);
    expect(selectVariant(shared, 'v', 'k').split('\n').filter(Boolean)).toEqual(['a', 'c']);
    expect(selectVariant(shared, undefined, 'k').split('\n').filter(Boolean)).toEqual(['a', 'd']);
    expect(() => selectVariant(shared, 'x', 'k')).toThrow(/no variant 'x'/);
  });

  it('bad launches are clear errors naming the kernel', () => {
    const g = gpu();
    const t = Tensor.zeros(g, [8]);
    expect(() => g.dispatch('add', { bindings: { a: t, b: t }, uniforms: { n: 8 }, workgroups: 1 })).toThrow(/kernel 'add': binding 'out' not given/);
    expect(() => g.dispatch('add', { bindings: { a: t, b: t, out: t, c: t }, uniforms: { n: 8 }, workgroups: 1 })).toThrow(/kernel 'add': no binding named 'c'/);
    expect(() => g.dispatch('add', { bindings: { a: t, b: t, out: t }, uniforms: {}, workgroups: 1 })).toThrow(/kernel 'add': uniform field 'n' not given/);
    expect(() => g.dispatch('add', { bindings: { a: t, b: t, out: t }, uniforms: { n: -1 }, workgroups: 1 })).toThrow(/not a u32/);
    expect(() => g.dispatch('add', { bindings: { a: t, b: t, out: t }, uniforms: { n: 8, m: 1 }, workgroups: 1 })).toThrow(/no field 'm'/);
    expect(() => g.dispatch('nonexistent_kernel', { bindings: {}, workgroups: 1 })).toThrow(/unknown kernel 'nonexistent_kernel'/);
    expect(() => g.dispatch('add', { bindings: { a: t, b: t, out: t }, uniforms: { n: 8 }, workgroups: 1, overrides: { TILE: 4 } })).toThrow(/no override constant 'TILE'/);
  });

  it('repeated launches create no pipelines, uniform buffers or bind groups', async () => {
    const g = gpu();
    const scope = Scope.open();
    const a = Tensor.zeros(g, [1000]);
    const b = Tensor.zeros(g, [1000]);
    const out = Tensor.empty(g, [1000]);
    g.dispatch('add', { bindings: { a, b, out }, uniforms: { n: 1000 }, workgroups: 4 });
    const before = g.stats();
    for (let i = 0; i < 50; i++) g.dispatch('add', { bindings: { a, b, out }, uniforms: { n: 1000 }, workgroups: 4 });
    const after = g.stats();
    expect(after.pipelines).toBe(before.pipelines);
    expect(after.uniformBuffers).toBe(before.uniformBuffers);
    expect(after.bindGroups).toBe(before.bindGroups);
    expect(after.dispatches - before.dispatches).toBe(50);
    await g.sync();
    scope.close();
  });

  it('the pool hands released buffers back (LIFO per size bucket) and counts what it holds', () => {
    const g = gpu();
    const s1 = Scope.open();
    const t = Tensor.empty(g, [3000]);
    const id = t.buf.id;
    s1.close();
    const created = g.stats().created;
    const s2 = Scope.open();
    const u = Tensor.empty(g, [2900]); // same bucket
    expect(u.buf.id).toBe(id);
    expect(g.stats().created).toBe(created);
    s2.close();
    expect(bucketSize(1)).toBe(256);
    expect(bucketSize(3000 * 4)).toBeGreaterThanOrEqual(12000);
    expect(bucketSize(3000 * 4)).toBeLessThanOrEqual(12000 * 1.25);
  });

  it('asynchronous GPU errors surface as thrown errors naming the kernel', async () => {
    const g = await Gpu.create({ debug: true });
    try {
      const t = new Tensor(g, g.createBuffer(1024, 't'), 0, [16], 'f32', false);
      // A binding range past the end of the buffer is caught before Dawn sees it.
      expect(() => g.dispatch('fill', { bindings: { out: { buf: t.buf, offset: 0, bytes: 4096 } }, uniforms: { n: 4, bits: 0 }, workgroups: 1 })).toThrow(/kernel 'fill'.*outside buffer/);
      // One buffer bound both read-only and writable in one dispatch is a Dawn validation error,
      // reported asynchronously: it comes back from sync() naming the kernel.
      g.dispatch('add', { bindings: { a: t, b: t, out: t }, uniforms: { n: 16 }, workgroups: 1 });
      await expect(g.sync()).rejects.toThrow(/GPU error in kernel 'add'/);
    } finally {
      g.destroy();
    }
  });

  it('without debug mode an error found at submit names the last kernel encoded and how to find the one at fault', async () => {
    const g = await Gpu.create({ debug: false });
    try {
      const t = new Tensor(g, g.createBuffer(1024, 't'), 0, [16], 'f32', false);
      g.dispatch('add', { bindings: { a: t, b: t, out: t }, uniforms: { n: 16 }, workgroups: 1 }); // invalid: aliasing
      const u = new Tensor(g, g.createBuffer(1024, 'u'), 0, [16], 'f32', false);
      g.dispatch('fill', { bindings: { out: u }, uniforms: { n: 16, bits: 0 }, workgroups: 1 });
      await expect(g.sync()).rejects.toThrow(/found at submit; the last kernel encoded was 'fill'.*EARLY_PHASE_DEBUG=1/);
    } finally {
      g.destroy();
    }
  });

  it('EARLY_PHASE_DEBUG=1 (what that message suggests) turns debug mode on for a GPU opened without options, as the commands open it', async () => {
    const prev = process.env.EARLY_PHASE_DEBUG;
    process.env.EARLY_PHASE_DEBUG = '1';
    let g: Gpu;
    try {
      g = await Gpu.create();
    } finally {
      if (prev === undefined) delete process.env.EARLY_PHASE_DEBUG;
      else process.env.EARLY_PHASE_DEBUG = prev;
    }
    try {
      const t = new Tensor(g, g.createBuffer(1024, 't'), 0, [16], 'f32', false);
      g.dispatch('add', { bindings: { a: t, b: t, out: t }, uniforms: { n: 16 }, workgroups: 1 });
      const u = new Tensor(g, g.createBuffer(1024, 'u'), 0, [16], 'f32', false);
      g.dispatch('fill', { bindings: { out: u }, uniforms: { n: 16, bits: 0 }, workgroups: 1 });
      await expect(g.sync()).rejects.toThrow(/GPU error in kernel 'add'/);
    } finally {
      g.destroy();
    }
  });

  it("a binding over the adapter's one-binding limit is refused before Dawn sees it", () => {
    const g = gpu();
    const max = g.device.limits.maxStorageBufferBindingSize;
    const big = g.createBuffer(max + 256, 'big');
    try {
      expect(() => g.dispatch('fill', { bindings: { out: { buf: big, offset: 0, bytes: max + 256 } }, uniforms: { n: 4, bits: 0 }, workgroups: 1 })).toThrow(
        new RegExp(`kernel 'fill': binding 'out' is ${max + 256} bytes, over this adapter's ${max}-byte limit`),
      );
    } finally {
      big.buffer.destroy();
    }
  });

  it('scopes left open by an exception are released by the enclosing close, which does not throw over it', async () => {
    const g = gpu();
    const before = g.stats().inUseBuffers;
    const outer = Scope.open();
    Tensor.empty(g, [64]);
    const failing = async () => {
      Scope.open(); // an evaluation's scope: its close is skipped by the throw below
      Tensor.empty(g, [64]);
      throw new Error('readback failed');
    };
    await expect(failing()).rejects.toThrow('readback failed');
    outer.close(); // the step's finally: releases both scopes, throws nothing of its own
    expect(g.stats().inUseBuffers).toBe(before);
    expect(() => outer.close()).toThrow(/not open/);
    // Scope.run releases what fn made before it threw
    expect(() => Scope.run(() => (Tensor.empty(g, [64]), Scope.open(), Tensor.empty(g, [64]), (() => { throw new Error('record failed'); })()))).toThrow('record failed');
    expect(g.stats().inUseBuffers).toBe(before);
    const s = Scope.open(); // the stack is sound again
    s.close();
  });

  it('reading a tensor back after release is an error', () => {
    const g = gpu();
    const s = Scope.open();
    const t = Tensor.zeros(g, [4]);
    s.close();
    expect(() => t.assertAlive()).toThrow(/used after release/);
  });
});

describe('GPU runtime: texture mirrors (DispatchArgs.textures)', () => {
  it("the kernels' texel addressing and the runtime's copies agree on the row width", () => {
    const m = /const TEXTURE_ROW: u32 = (\d+)u;/.exec(readFileSync(join(shadersDir(), 'include', 'texture_rows.wgsl'), 'utf8'));
    expect(Number(m?.[1])).toBe(TEXTURE_ROW_TEXELS);
  });

  it('reflects a read-only rgba32float storage texture binding (the variant without it has none)', () => {
    const k = gpu().kernel('conv2d_weight_grad_row4', 'tex');
    expect(k.bindings.filter((b) => b.kind === 'read-only-texture').map((b) => b.name)).toEqual(['x4t', 'dyt']);
    expect(gpu().kernel('conv2d_weight_grad_row4', 'tex_x').bindings.filter((b) => b.kind === 'read-only-texture').map((b) => b.name)).toEqual(['x4t']);
    expect(gpu().kernel('conv2d_weight_grad_row4').bindings.some((b) => b.kind === 'read-only-texture')).toBe(false);
  });

  it('refuses a texture that is not a read-only rgba32float storage texture, and a sampled one', () => {
    const src = (decl: string, use: string) => new WgslReflect(`${decl}\n@group(0) @binding(1) var<storage, read_write> o: array<f32>;\n@compute @workgroup_size(1) fn main() { o[0] = ${use}; }`);
    const ok = reflectBindings('k', src('@group(0) @binding(0) var t: texture_storage_2d<rgba32float, read>;', 'textureLoad(t, vec2u(0u, 0u)).x'));
    expect(ok.bindings.map((b) => [b.name, b.kind])).toEqual([['t', 'read-only-texture'], ['o', 'storage']]);
    expect(() => reflectBindings('k', src('@group(0) @binding(0) var t: texture_storage_2d<r32float, read>;', 'textureLoad(t, vec2u(0u, 0u)).x'))).toThrow(/texture t must be texture_storage_2d<rgba32float, read>/);
    expect(() => reflectBindings('k', src('@group(0) @binding(0) var t: texture_storage_2d<rgba32float, read_write>;', 'textureLoad(t, vec2u(0u, 0u)).x'))).toThrow(/texture t must be/);
    expect(() => reflectBindings('k', src('@group(0) @binding(0) var t: texture_2d<f32>;', 'textureLoad(t, vec2u(0u, 0u), 0).x'))).toThrow(/unsupported resource t/);
  });

  it('says which sizes a mirror can hold: whole texels, rows within the adapter limit', () => {
    const g = gpu();
    const maxBytes = g.device.limits.maxTextureDimension2D * TEXTURE_ROW_TEXELS * 16;
    expect(g.textureMirrorFits(16)).toBe(true);
    expect(g.textureMirrorFits(maxBytes)).toBe(true);
    expect(g.textureMirrorFits(maxBytes + 16)).toBe(false);
    expect(g.textureMirrorFits(20)).toBe(false);
  });

  it('refuses a source that is not whole texels, and a texture name the kernel lacks', () => {
    const g = gpu();
    const s = Scope.open();
    try {
      const t = Tensor.zeros(g, [4100]);
      const args = (textures: Record<string, Tensor>) => ({ bindings: { part: t }, textures, uniforms: { N: 1, C: 1, H: 1, W: 4, O: 1, OH: 1, OW: 4, KH: 1, chunk: 1 }, workgroups: 1 as const });
      expect(() => g.dispatch('conv2d_weight_grad_row4', { ...args({ x4t: t.view(0, [4098]), dyt: t }), variant: 'tex' })).toThrow(/not a whole number of rgba32float texels/);
      expect(() => g.dispatch('conv2d_weight_grad_row4', { ...args({ x4t: t, dyt: t, other: t }), variant: 'tex' })).toThrow(/no texture binding named 'other'/);
      expect(() => g.dispatch('conv2d_weight_grad_row4', { ...args({ x4t: t }), variant: 'tex' })).toThrow(/texture 'dyt' not given/);
    } finally {
      s.close();
    }
  });

  it('a mirror holds a range only once a dispatch copies it there: not after an empty grid, not after a write', () => {
    const g = gpu();
    const s = Scope.open();
    try {
      const t = Tensor.zeros(g, [4096]);
      const part = Tensor.zeros(g, [16]);
      const run = (workgroups: [number, number, number]) =>
        g.dispatch('conv2d_weight_grad_row4', { bindings: { part }, textures: { x4t: t, dyt: t }, uniforms: { N: 1, C: 1, H: 1, W: 4, O: 1, OH: 1, OW: 4, KH: 1, chunk: 1 }, workgroups, variant: 'tex' });
      const copies = g.stats().textureCopies;
      run([0, 1, 1]);
      expect([g.mirrorHolds(t), g.stats().textureCopies - copies]).toEqual([false, 0]);
      run([1, 1, 1]);
      expect([g.mirrorHolds(t), g.stats().textureCopies - copies]).toEqual([true, 2]);
      run([1, 1, 1]); // both bindings read the mirror that holds t: no copy
      expect(g.stats().textureCopies - copies).toBe(2);
      g.write(t, new Float32Array(4096));
      expect(g.mirrorHolds(t)).toBe(false);
    } finally {
      s.close();
    }
  });
});

