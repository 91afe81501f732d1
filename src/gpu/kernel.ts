// A Kernel is one WGSL file: its source, what wgsl_reflect says about its bindings and uniform struct,
// and its compiled pipelines (one per set of override constants).
//
// A file may also come in variants that differ in types, which override constants cannot change
// (e.g. vec4f or f32 elements): lines between `// #if NAME` (or `// #elif NAME`) and the next
// directive are kept when the kernel is loaded as variant NAME (Gpu.dispatch's `variant`), the
// `// #else` lines otherwise. `// #if A B` names several variants that share the lines.
//
// Launchers never restate a binding index or a struct offset: bindings are named as in the WGSL
// (`var<storage, read> x`), uniform fields by their struct member names.
import { WgslReflect, ResourceType } from 'wgsl_reflect/wgsl_reflect.module.js';
import { shaderSource } from './shader_source.js';

export interface BindingInfo {
  name: string;
  group: number;
  binding: number;
  /** 'read-only-texture': a `texture_storage_2d<rgba32float, read>` mirror of a buffer range (Gpu.dispatch's `textures`). */
  kind: 'storage' | 'read-only-storage' | 'uniform' | 'read-only-texture';
}

export interface UniformField {
  name: string;
  offset: number;
  /** Number of 4-byte scalars (1 for f32/u32/i32, 2..4 for vecN). */
  components: number;
  scalar: 'f32' | 'u32' | 'i32';
}

export interface UniformLayout {
  binding: string;
  size: number;
  fields: Map<string, UniformField>;
}

export type Overrides = Record<string, number>;

const IF_RE = /^\s*\/\/\s*#(?:(if|elif)\s+(\w+(?:\s+\w+)*)|(else)|(endif))\s*$/;

/**
 * Keep the lines of `variant` in `// #if A` / `// #elif B` / `// #else` / `// #endif` blocks: the
 * first branch naming it, or the `#else` branch when none does. A branch may name several variants
 * (`// #if A B`). No nesting.
 */
export function selectVariant(source: string, variant: string | undefined, kernelName: string): string {
  const out: string[] = [];
  let block: { name: string; keep: boolean; taken: boolean; inElse: boolean } | null = null;
  let seen = false;
  for (const line of source.split('\n')) {
    const m = IF_RE.exec(line);
    if (!m) {
      out.push(!block || block.keep ? line : '');
      continue;
    }
    out.push('');
    const [, kw, name, isElse, isEndif] = m;
    const names = name ? name.split(/\s+/) : [];
    const named = variant !== undefined && names.includes(variant);
    if (kw === 'if') {
      if (block) throw new Error(`kernel '${kernelName}': nested '// #if ${name}' inside '#if ${block.name}'`);
      block = { name, keep: named, taken: named, inElse: false };
      seen ||= named;
    } else if (kw === 'elif') {
      if (!block || block.inElse) throw new Error(`kernel '${kernelName}': '// #elif ${name}' without '// #if'`);
      block.keep = !block.taken && named;
      block.taken ||= block.keep;
      seen ||= named;
    } else if (isElse) {
      if (!block || block.inElse) throw new Error(`kernel '${kernelName}': '// #else' without '// #if'`);
      block.keep = !block.taken;
      block.inElse = true;
    } else if (isEndif) {
      if (!block) throw new Error(`kernel '${kernelName}': '// #endif' without '// #if'`);
      block = null;
    }
  }
  if (block) throw new Error(`kernel '${kernelName}': '// #if ${block.name}' is never closed`);
  if (variant !== undefined && !seen) throw new Error(`kernel '${kernelName}' has no variant '${variant}' (no '// #if ${variant}' line)`);
  return out.join('\n');
}

function scalarOf(typeName: string, format?: string): UniformField['scalar'] {
  // vec4<f32> reflects as name 'vec4' + format 'f32'; the aliases vec4f / vec2u / vec3i carry it in the name.
  const alias = /^vec[234]([fui])$/.exec(typeName);
  const s = format ?? (alias ? { f: 'f32', u: 'u32', i: 'i32' }[alias[1]]! : typeName);
  if (s === 'f32' || s === 'u32' || s === 'i32') return s;
  throw new Error(`unsupported uniform scalar type ${s}`);
}

/** The cache key of a set of override constants: "A=1,B=2" in name order ("" for none). */
export function overridesKey(overrides: Overrides): string {
  const names = Object.keys(overrides);
  if (names.length === 0) return '';
  return names
    .sort()
    .map((k) => `${k}=${overrides[k]}`)
    .join(',');
}

/**
 * The bindings of a kernel's WGSL (storage buffers, one uniform struct, read-only rgba32float storage
 * textures; group 0 only), sorted by binding index, and its uniform struct's layout.
 */
export function reflectBindings(name: string, reflect: WgslReflect): { bindings: BindingInfo[]; uniform: UniformLayout | null } {
  const bindings: BindingInfo[] = [];
  let uniform: UniformLayout | null = null;
  for (const group of reflect.getBindGroups()) {
    for (const v of group) {
      if (!v) continue;
      if (v.group !== 0) throw new Error(`kernel '${name}': only @group(0) is supported (binding ${v.name})`);
      let kind: BindingInfo['kind'];
      if (v.resourceType === ResourceType.Uniform) {
        kind = 'uniform';
        if (uniform) throw new Error(`kernel '${name}': at most one uniform binding`);
        const fields = new Map<string, UniformField>();
        const members = (v.type as unknown as { members?: { name: string; offset: number; size: number; type: { name: string; format?: { name: string } } }[] }).members;
        if (!members) throw new Error(`kernel '${name}': uniform ${v.name} must be a struct`);
        for (const m of members) {
          fields.set(m.name, { name: m.name, offset: m.offset, components: m.size / 4, scalar: scalarOf(m.type.name, m.type.format?.name) });
        }
        uniform = { binding: v.name, size: Math.max(16, Math.ceil(v.size / 16) * 16), fields };
      } else if (v.resourceType === ResourceType.Storage) {
        kind = v.access === 'read' ? 'read-only-storage' : 'storage';
      } else if (v.resourceType === ResourceType.StorageTexture) {
        const t = v.type as unknown as { name: string; format?: { name: string } };
        if (t.name !== 'texture_storage_2d' || t.format?.name !== 'rgba32float' || v.access !== 'read') {
          throw new Error(`kernel '${name}': texture ${v.name} must be texture_storage_2d<rgba32float, read> (a buffer's mirror)`);
        }
        kind = 'read-only-texture';
      } else {
        throw new Error(`kernel '${name}': unsupported resource ${v.name}`);
      }
      bindings.push({ name: v.name, group: v.group, binding: v.binding, kind });
    }
  }
  bindings.sort((a, b) => a.binding - b.binding);
  return { bindings, uniform };
}

export class Kernel {
  readonly source: string;
  readonly bindings: BindingInfo[];
  readonly uniform: UniformLayout | null;
  readonly entryPoint: string;
  readonly workgroupSize: [number, number, number];
  readonly overrideNames: string[];
  private module: GPUShaderModule | null = null;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private layout: GPUBindGroupLayout | null = null;

  constructor(
    readonly name: string,
    private readonly device: GPUDevice,
    readonly variant?: string,
  ) {
    this.source = selectVariant(shaderSource(name), variant, name);
    const reflect = new WgslReflect(this.source);
    const entries = reflect.entry.compute;
    if (entries.length !== 1) throw new Error(`kernel '${name}': expected exactly one @compute entry point, found ${entries.length}`);
    this.entryPoint = entries[0].name;
    const ws = entries[0].workgroupSize as unknown as [number, number, number] | undefined;
    this.workgroupSize = ws ? [ws[0] ?? 1, ws[1] ?? 1, ws[2] ?? 1] : [1, 1, 1];
    this.overrideNames = reflect.overrides.map((o) => o.name);
    const { bindings, uniform } = reflectBindings(name, reflect);
    this.bindings = bindings;
    this.uniform = uniform;
  }

  get pipelineCount(): number {
    return this.pipelines.size;
  }

  bindGroupLayout(): GPUBindGroupLayout {
    if (!this.layout) {
      this.layout = this.device.createBindGroupLayout({
        label: this.name,
        entries: this.bindings.map((b) =>
          b.kind === 'read-only-texture'
            ? { binding: b.binding, visibility: GPUShaderStage.COMPUTE, storageTexture: { access: 'read-only', format: 'rgba32float', viewDimension: '2d' } }
            : { binding: b.binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: b.kind } },
        ),
      });
    }
    return this.layout;
  }

  pipeline(overrides: Overrides = {}, key = overridesKey(overrides)): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      for (const k of Object.keys(overrides)) {
        if (!this.overrideNames.includes(k)) throw new Error(`kernel '${this.name}': no override constant '${k}' (has ${this.overrideNames.join(', ') || 'none'})`);
        // Dawn reads a constant as a double: anything else (a boolean from untyped JS) would silently change the kernel
        if (typeof overrides[k] !== 'number' || !Number.isFinite(overrides[k])) throw new Error(`kernel '${this.name}': override constant '${k}' must be a finite number, got ${String(overrides[k])}`);
      }
      this.module ??= this.device.createShaderModule({ label: this.name, code: this.source });
      p = this.device.createComputePipeline({
        label: `${this.name}{${key}}`,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [this.bindGroupLayout()] }),
        compute: { module: this.module, entryPoint: this.entryPoint, constants: overrides },
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Pack uniform values by member name into the struct's bytes; every member must be given. */
  packUniforms(values: Record<string, number | readonly number[]>): Uint8Array {
    const layout = this.uniform;
    if (!layout) {
      if (Object.keys(values).length) throw new Error(`kernel '${this.name}' has no uniform struct`);
      return new Uint8Array(0);
    }
    const bytes = new ArrayBuffer(layout.size);
    const view = new DataView(bytes);
    for (const key of Object.keys(values)) {
      if (!layout.fields.has(key)) throw new Error(`kernel '${this.name}': uniform has no field '${key}' (fields: ${[...layout.fields.keys()].join(', ')})`);
    }
    for (const f of layout.fields.values()) {
      const v = values[f.name];
      if (v === undefined) throw new Error(`kernel '${this.name}': uniform field '${f.name}' not given`);
      const arr = typeof v === 'number' ? [v] : v;
      if (arr.length !== f.components) throw new Error(`kernel '${this.name}': uniform field '${f.name}' needs ${f.components} values, got ${arr.length}`);
      arr.forEach((x, i) => {
        const o = f.offset + 4 * i;
        if (f.scalar === 'f32') view.setFloat32(o, x, true);
        else if (f.scalar === 'u32') {
          if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new Error(`kernel '${this.name}': uniform ${f.name}=${x} is not a u32`);
          view.setUint32(o, x, true);
        } else {
          if (!Number.isInteger(x)) throw new Error(`kernel '${this.name}': uniform ${f.name}=${x} is not an i32`);
          view.setInt32(o, x, true);
        }
      });
    }
    return new Uint8Array(bytes);
  }
}
