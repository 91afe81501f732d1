// Attribute perf samples taken in JIT code to the functions of a GALLIVM_DEBUG=asm listing.
// perf knows the sampled addresses but not which compiled shader lives there, and the listing knows
// each function's instructions by offset but not where it was loaded. A sampled address is the start
// of an instruction, and LLVM places functions at 16-byte boundaries, so a function loaded at `base`
// explains a sample at address a when a - base is one of its instruction offsets. The match takes the
// hottest addresses, tries every (function, 16-aligned base) that puts one of them on an instruction,
// and keeps the pair whose instructions the most samples land on, less a heavy penalty for samples
// inside its span that land between instructions (a wrong base); then it removes those samples and
// looks again, since one pipeline can be several functions (the code after each barrier is its own).

import type { AsmFunction } from './asm_listing.js';

export interface FunctionMatch {
  fn: AsmFunction;
  /** Where the function's first byte was in memory. */
  base: number;
  /** Samples at its instructions. */
  samples: number;
  /** Samples per instruction, in listing order. */
  perInstruction: number[];
}

export interface MatchOptions {
  /** Functions to find at most (default 4). */
  maxFunctions?: number;
  /** Stop when the best match explains fewer samples than this share of all of them (default 0.02). */
  minShare?: number;
  /** Hottest addresses scored (default 400). */
  hotAddresses?: number;
  /** Hottest addresses each function is anchored on (default 3). */
  anchors?: number;
}

/** Samples that land inside a candidate's span but between its instructions weigh this much against it. */
const MISS_PENALTY = 20;

/** The functions that explain the samples (address -> count), hottest first. */
export function matchSamples(samples: ReadonlyMap<number, number>, fns: readonly AsmFunction[], opts: MatchOptions = {}): FunctionMatch[] {
  const { maxFunctions = 4, minShare = 0.02, hotAddresses = 400, anchors = 3 } = opts;
  const left = new Map(samples);
  const total = [...samples.values()].reduce((a, b) => a + b, 0);
  const offsetSets = fns.map((f) => new Set(f.instructions.map((i) => i.offset)));
  const found: FunctionMatch[] = [];
  while (found.length < maxFunctions && left.size > 0) {
    const hot = [...left.entries()].sort((a, b) => b[1] - a[1]).slice(0, hotAddresses);
    let best: { score: number; fi: number; base: number } | null = null;
    for (let fi = 0; fi < fns.length; fi++) {
      const f = fns[fi];
      if (found.some((m) => m.fn === f)) continue;
      const offs = offsetSets[fi];
      for (const [anchor] of hot.slice(0, anchors)) {
        for (const ins of f.instructions) {
          const base = anchor - ins.offset;
          if (base % 16 !== 0) continue;
          let score = 0;
          for (const [a, n] of hot) {
            const o = a - base;
            if (o < 0 || o >= f.size) continue;
            score += offs.has(o) ? n : -MISS_PENALTY * n;
          }
          if (!best || score > best.score) best = { score, fi, base };
        }
      }
    }
    if (!best || best.score <= 0) break;
    const fn = fns[best.fi];
    const perInstruction = fn.instructions.map((i) => left.get(best!.base + i.offset) ?? 0);
    const got = perInstruction.reduce((a, b) => a + b, 0);
    if (got < minShare * total) break;
    for (const i of fn.instructions) left.delete(best.base + i.offset);
    found.push({ fn, base: best.base, samples: got, perInstruction });
  }
  return found;
}

/**
 * Samples (address -> count) in the `span` bytes after a match's listed code that no other match's
 * span covers: for a function whose listing lavapipe cut short (AsmFunction.truncated), the samples
 * in its code the listing does not show (more of its code, or of whatever was loaded after it).
 */
export function samplesPastEnd(samples: ReadonlyMap<number, number>, m: FunctionMatch, others: readonly FunctionMatch[], span = 1 << 20): number {
  const from = m.base + m.fn.size;
  let n = 0;
  for (const [a, c] of samples) {
    if (a < from || a >= from + span) continue;
    if (others.some((o) => o !== m && a >= o.base && a < o.base + o.fn.size)) continue;
    n += c;
  }
  return n;
}

/** What an instruction spends its time on, coarsely, for lavapipe's code. */
export type InstructionClass =
  | 'vector arithmetic'
  | 'mask blend'
  | 'stack spill/fill'
  | 'buffer access'
  | 'lane shuffle/insert/extract'
  | 'other vector (moves, masks, integer)'
  | 'scalar and control';

const STACK = /\((%rsp|%rbp|%rdi)\b/;

/**
 * Class of one instruction. Accumulators that do not fit the 32 vector registers live on the stack
 * (`(%rsp)`; lavapipe's coroutine state, for code after a barrier, is addressed from %rdi); loop-carried
 * values are merged with the execution mask (vblendvps, vpblendm*); a storage access is a per-lane loop
 * of scalar loads or stores with a bounds check each.
 */
export function classifyInstruction(mnemonic: string, operands: string): InstructionClass {
  if (/^v(blendv|pblendm)/.test(mnemonic)) return 'mask blend';
  if (/^v(add|sub|mul|div|fn?m(add|sub)\d*|min|max|sqrt|rcp|rsqrt|round|cvt)[a-z0-9]*(ps|ss|pd|sd)$/.test(mnemonic)) return 'vector arithmetic';
  if (/^v?(mov|movu|mova|movdq)/.test(mnemonic) && STACK.test(operands)) return 'stack spill/fill';
  if (/^v(p?extr|p?insr|extract|insert|pbroadcast|broadcast|pshuf|perm|pblendd|shuf|unpck|movd$|movq$|movss$)/.test(mnemonic)) {
    return /\(%r(?!sp|bp)/.test(operands) || /\(%e/.test(operands) ? 'buffer access' : 'lane shuffle/insert/extract';
  }
  if (/\(%r(?!sp|bp)[a-z0-9]+,/.test(operands) || /\(%r(ax|bx|cx|dx|si|8|9|1[0-5])\)/.test(operands)) return 'buffer access';
  if (/^[vk]/.test(mnemonic)) return 'other vector (moves, masks, integer)';
  return 'scalar and control';
}

/** Samples per instruction class of one matched function, largest first. */
export function samplesByClass(m: FunctionMatch): { cls: InstructionClass; samples: number }[] {
  const by = new Map<InstructionClass, number>();
  m.fn.instructions.forEach((ins, i) => {
    const cls = classifyInstruction(ins.mnemonic, ins.operands);
    by.set(cls, (by.get(cls) ?? 0) + m.perInstruction[i]);
  });
  return [...by.entries()].map(([cls, samples]) => ({ cls, samples })).sort((a, b) => b.samples - a.samples);
}
