// bench/jit_profile: parsing lavapipe's GALLIVM_DEBUG=asm listing and placing perf samples on it
// (pure functions; the perf run itself needs Linux perf and is not part of the tests).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LISTING_LIMIT, parseAsmListing, type AsmFunction } from '../bench/jit_profile/asm_listing.js';
import { classifyInstruction, matchSamples, samplesByClass, samplesPastEnd, type InstructionClass } from '../bench/jit_profile/match_samples.js';
import { isJit, parsePerfScript, parseWindows, samplesByWindow } from '../bench/jit_profile/windows.js';
import { perfSampling, WINDOW_PREFIX } from '../bench/perf_control.js'; // reads EARLY_PHASE_PERF_CONTROL on its first call

// instruction lengths as x86 code has them: irregular, 2 to 10 bytes (a periodic pattern would let a
// base shifted by the period explain the same samples)
function lengths(n: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => 2 + ((x = (x * 1103515245 + 12345) % 2147483648) % 9));
}

// a listing of n instructions of the given byte lengths (cycled), as lavapipe prints one
function listing(name: string, lengths: number[], n: number, mnemonic = (i: number) => (i % 3 === 0 ? 'vmulps\t%ymm1, %ymm2, %ymm3' : i % 3 === 1 ? 'vmovups\t%ymm3, 64(%rsp)' : 'cmpl\t%ecx, %edi')): string {
  let off = 0;
  const lines = [`${name}:`];
  for (let i = 0; i < n; i++) {
    lines.push(`${off.toString(16).padStart(6)}:\t${mnemonic(i)}`);
    off += lengths[i % lengths.length];
  }
  return lines.join('\n');
}

/** Samples at chosen instructions of f loaded at base: instruction index -> count. */
function samplesAt(f: AsmFunction, base: number, counts: Map<number, number>, into = new Map<number, number>()): Map<number, number> {
  for (const [i, n] of counts) into.set(base + f.instructions[i].offset, (into.get(base + f.instructions[i].offset) ?? 0) + n);
  return into;
}

describe('parseAsmListing', () => {
  it('reads functions, offsets, mnemonics and operands, and skips other lines', () => {
    const text = ['warning: something', 'cs_variant:', '     0:\tpushq\t%rbp', '     1:\tmovq\t%rsp, %rbp', '    a4:\tretq', 'sample:', 'cs_co_variant.resume:', '   0:\tvaddps\t%ymm1, %ymm2, %ymm3', ''].join('\n');
    const fns = parseAsmListing(text);
    expect(fns.map((f) => f.name)).toEqual(['cs_variant', 'cs_co_variant.resume']);
    expect(fns[0].line).toBe(2);
    expect(fns[0].instructions).toEqual([
      { offset: 0, mnemonic: 'pushq', operands: '%rbp' },
      { offset: 1, mnemonic: 'movq', operands: '%rsp, %rbp' },
      { offset: 0xa4, mnemonic: 'retq', operands: '' },
    ]);
    expect(fns[0].size).toBe(0xa4 + 16);
    expect(fns[1].instructions[0].mnemonic).toBe('vaddps');
  });
});

describe('a listing lavapipe cut short', () => {
  // lavapipe prints at most 96 KiB of a function; its last line decodes the limit's last bytes as `invalid`
  const cut = ['cs_co_variant:', '     0:\tpushq\t%rbp', '     8:\tvmulps\t%ymm1, %ymm2, %ymm3', ` ${(LISTING_LIMIT - 2).toString(16)}:\tinvalid`].join('\n');
  const whole = ['cs_co_variant:', '     0:\tpushq\t%rbp', '     8:\tinvalid', '     9:\tretq'].join('\n');

  it('is marked truncated only when it ends at the limit with an undecodable byte', () => {
    expect(parseAsmListing(cut)[0].truncated).toBe(true);
    expect(parseAsmListing(whole)[0].truncated).toBe(false);
    expect(parseAsmListing(cut.replace('invalid', 'retq'))[0].truncated).toBe(false);
  });

  it('samplesPastEnd counts the samples after its listed code that no other match covers', () => {
    const [f] = parseAsmListing(cut);
    const [g] = parseAsmListing(whole);
    const base = 0x7f0000000000;
    const m = { fn: f, base, samples: 0, perInstruction: f.instructions.map(() => 0) };
    const other = { fn: g, base: base + f.size + 0x1000, samples: 0, perInstruction: g.instructions.map(() => 0) };
    const samples = new Map<number, number>([
      [base + 8, 5], // inside the listing
      [base + f.size + 0x10, 3], // past its end
      [base + f.size + 0x800, 2], // past its end
      [other.base + 8, 7], // inside the other match
      [base + f.size + (1 << 20) + 4, 11], // beyond the span
      [base - 16, 13], // before it
    ]);
    expect(samplesPastEnd(samples, m, [m, other])).toBe(5);
    expect(samplesPastEnd(samples, m, [m])).toBe(12);
  });
});

describe('matchSamples', () => {
  // three functions with different instruction lengths; two share a name, as a pipeline's do
  const text = [listing('cs_variant', lengths(300, 1), 300), listing('cs_co_variant', lengths(2000, 2), 2000), listing('cs_co_variant', lengths(1500, 3), 1500)].join('\n');
  const fns = parseAsmListing(text);

  it('finds the function and load address that explain the samples, then the next one', () => {
    const hotA = new Map<number, number>();
    const hotB = new Map<number, number>();
    // fresh, irregular hot spots each run: instruction i gets a count from a simple generator
    let seed = (Date.now() % 1000) + 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let k = 0; k < 120; k++) hotA.set(Math.floor(rnd() * 2000), 1 + Math.floor(rnd() * 50));
    for (let k = 0; k < 60; k++) hotB.set(Math.floor(rnd() * 1500), 1 + Math.floor(rnd() * 20));
    const baseA = 0x7f3e23eb1140;
    const baseB = 0x7f3e23f20000;
    const samples = samplesAt(fns[1], baseA, hotA);
    samplesAt(fns[2], baseB, hotB, samples);
    samples.set(0x7f3e10000003, 40); // V8's own JIT code: matches nothing
    const m = matchSamples(samples, fns);
    expect(m.length).toBeGreaterThanOrEqual(2);
    expect(m[0].fn).toBe(fns[1]);
    expect(m[0].base).toBe(baseA);
    expect(m[0].samples).toBe([...hotA.values()].reduce((a, b) => a + b, 0));
    for (const [i, n] of hotA) expect(m[0].perInstruction[i]).toBe(n);
    expect(m[1].fn).toBe(fns[2]);
    expect(m[1].base).toBe(baseB);
    expect(m[1].samples).toBe([...hotB.values()].reduce((a, b) => a + b, 0));
  });

  it('stops at a function that explains less than minShare of the samples', () => {
    const samples = samplesAt(fns[1], 0x7f0000001000, new Map([[10, 30], [700, 40], [1900, 30]]));
    samplesAt(fns[2], 0x7f0000200000, new Map([[3, 20], [900, 20]]), samples);
    expect(matchSamples(samples, fns, { minShare: 0.1 }).map((m) => m.samples)).toEqual([100, 40]);
    expect(matchSamples(samples, fns, { minShare: 0.3 }).map((m) => m.samples)).toEqual([100]);
  });
});

describe('classifyInstruction', () => {
  it('tells arithmetic, blends, spills, buffer accesses and shuffles apart', () => {
    const cases: [string, string, InstructionClass][] = [
      ['vmulps', '%ymm26, %ymm4, %ymm10', 'vector arithmetic'],
      ['vdivps', '%ymm17, %ymm4, %ymm9', 'vector arithmetic'],
      ['vfmadd213ps', '%ymm28, %ymm13, %ymm11', 'vector arithmetic'],
      ['vblendvps', '%ymm0, %ymm10, %ymm1, %ymm1', 'mask blend'],
      ['vmovups', '%ymm14, 1104(%rsp)', 'stack spill/fill'],
      ['vmovups', '13280(%rsp), %ymm7', 'stack spill/fill'],
      ['vpbroadcastd', '(%rax,%rbx,4), %ymm2', 'buffer access'],
      ['movl', '8(%rax), %ecx', 'buffer access'],
      ['vpextrd', '$2, %xmm1, %ecx', 'lane shuffle/insert/extract'],
      ['vmovdqa64', '%ymm5, %ymm17', 'other vector (moves, masks, integer)'],
      ['kortestb', '%k1, %k1', 'other vector (moves, masks, integer)'],
      ['cmpl', '%ecx, %edi', 'scalar and control'],
      ['jae', '8', 'scalar and control'],
    ];
    for (const [mnemonic, operands, cls] of cases) expect(classifyInstruction(mnemonic, operands), `${mnemonic} ${operands}`).toBe(cls);
  });

  it('sums a match by class', () => {
    const fns = parseAsmListing(listing('cs_co_variant', [4], 9));
    const m = { fn: fns[0], base: 0, samples: 0, perInstruction: [5, 1, 2, 5, 1, 2, 5, 1, 2] };
    expect(samplesByClass(m)).toEqual([
      { cls: 'vector arithmetic', samples: 15 },
      { cls: 'scalar and control', samples: 6 },
      { cls: 'stack spill/fill', samples: 3 },
    ]);
  });
});

describe('perfSampling (bench/perf_control.ts)', () => {
  it('sends perf enable/disable on the control file named by EARLY_PHASE_PERF_CONTROL and reads the answer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'perf-ctl-'));
    const ctl = join(dir, 'ctl');
    const ack = join(dir, 'ack');
    writeFileSync(ctl, '');
    writeFileSync(ack, 'ack\nack\n'); // a FIFO in real use: perf's answers
    process.env.EARLY_PHASE_PERF_CONTROL = `${ctl},${ack}`;
    try {
      perfSampling(true);
      perfSampling(false);
      expect(readFileSync(ctl, 'utf8')).toBe('enable\ndisable\n');
    } finally {
      delete process.env.EARLY_PHASE_PERF_CONTROL;
    }
  });
});

describe('windows: samples split by bench entry', () => {
  it('reads the windows from stderr and the samples from perf script, and assigns each sample its window', () => {
    const listing = [
      'cs_variant:',
      `${WINDOW_PREFIX}begin 38148406000000 resnet20 conv2d.forward 128x16x32x32 -> 16 k3 s1`,
      '     0:\tretq',
      `${WINDOW_PREFIX}end 38148500000000`,
      `${WINDOW_PREFIX}begin 38149000000000 resnet20 batchnorm.forward_train 128x64x8x8`,
      `${WINDOW_PREFIX}end 38149100000000`,
      `${WINDOW_PREFIX}begin 38150000000000 left open: the bench died`,
    ].join('\n');
    const windows = parseWindows(listing);
    expect(windows).toEqual([
      { name: 'resnet20 conv2d.forward 128x16x32x32 -> 16 k3 s1', begin: 38148406000000, end: 38148500000000 },
      { name: 'resnet20 batchnorm.forward_train 128x64x8x8', begin: 38149000000000, end: 38149100000000 },
    ]);
    const script = [
      '38148.406188017:  ffffffff81bacf18 ([kernel.kallsyms])',
      '38148.499999999:      7f23efb609b6 (/tmp/perf-1397.map)',
      '38148.700000000:      7f23efb609b6 (/tmp/perf-1397.map)',
      '38149.000000001:      7f0662adc089 (/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so)',
      'not a sample line',
    ].join('\n');
    const samples = parsePerfScript(script);
    expect(samples.map((x) => x.time)).toEqual([38148406188017, 38148499999999, 38148700000000, 38149000000001]);
    expect(samples[1].ip).toBe(0x7f23efb609b6);
    const by = samplesByWindow(samples, windows);
    expect(by.map((w) => w.length)).toEqual([2, 1]);
    expect(by[0].map((x) => isJit(x.dso))).toEqual([false, true]);
    expect(isJit(by[1][0].dso)).toBe(false);
  });
});
