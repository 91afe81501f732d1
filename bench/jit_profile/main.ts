// `npm run profile:lavapipe -- --filter REGEX` (node dist/jit-profile.js): where a kernel's time goes
// inside the machine code lavapipe made of it. Runs `npm run bench` for the kernel entries matching
// REGEX under `perf record` (cpu-clock samples, on only while an entry's repetitions are timed:
// bench/perf_control.ts) with lavapipe printing every pipeline's x86 code (GALLIVM_DEBUG=asm), splits
// the samples by entry (windows.ts), places each entry's samples on that code (match_samples.ts) and
// prints, per entry, where outside the shaders its samples fell, and for each function that holds
// them its share, its samples by kind of instruction and its hottest instructions. The full
// annotated listings go to --out. Needs Linux `perf` (Debian: linux-perf) and the lavapipe adapter;
// a GPU's code is not printed this way.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { intFlag } from '../cli_args.js';
import { LISTING_LIMIT, parseAsmListing, type AsmFunction } from './asm_listing.js';
import { matchSamples, samplesByClass, samplesPastEnd, type FunctionMatch } from './match_samples.js';
import { isJit, parsePerfScript, parseWindows, samplesByWindow, type Sample } from './windows.js';

const USAGE = `usage: node dist/jit-profile.js --filter REGEX [options]
  --filter REGEX       the bench's kernel entries to profile (as bench --filter: "op shape", e.g.
                       'forward 128x16x32x32 -> 16 k3' or batchnorm); each gets its own profile
  --reps N             timed repetitions per entry (default 60: more samples)
  --frequency HZ       samples per second per CPU (default 4000)
  --top N              hottest instructions printed per function (default 12)
  --out DIR            where the annotated listings go (default: a new directory under the system tmp)
  --conv-config JSON   passed to the bench (a conv kernel configuration to profile)
  --no-autotune        passed to the bench`;

function fail(msg: string): never {
  console.error(`jit-profile: ${msg}`);
  process.exit(1);
}

const { values } = parseArgs({
  options: {
    filter: { type: 'string' },
    reps: { type: 'string' },
    frequency: { type: 'string' },
    top: { type: 'string' },
    out: { type: 'string' },
    'conv-config': { type: 'string' },
    'no-autotune': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  args: process.argv.slice(2).filter((a) => a !== '--'),
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!values.filter) fail(`--filter is required\n${USAGE}`);
const reps = intFlag('reps', values.reps, 60);
const frequency = intFlag('frequency', values.frequency, 4000);
const top = intFlag('top', values.top, 12);
if (spawnSync('perf', ['--version']).status !== 0) fail('needs Linux perf on the PATH (Debian: apt-get install linux-perf)');
const benchJs = join(dirname(fileURLToPath(import.meta.url)), 'bench.js');
if (!existsSync(benchJs)) fail(`${benchJs} is missing: run npm run build first`);

const work = mkdtempSync(join(tmpdir(), 'jit-profile-'));
const out = values.out ?? join(work, 'listings');
mkdirSync(out, { recursive: true });
const ctl = join(work, 'ctl');
const ack = join(work, 'ack');
execFileSync('mkfifo', [ctl, ack]);
const data = join(work, 'perf.data');
const asmPath = join(work, 'asm.txt');
const asmFd = openSync(asmPath, 'w');
const benchArgs = ['--only', 'kernels', '--filter', values.filter, '--passes', '1', '--no-profile', '--reps', String(reps)];
if (values['conv-config'] !== undefined) benchArgs.push('--conv-config', values['conv-config']);
if (values['no-autotune']) benchArgs.push('--no-autotune');
console.log(`bench under perf (sampling while the entries matching /${values.filter}/ are timed); lavapipe's code -> ${asmPath}`);
const perfArgs = ['record', '-q', '-e', 'cpu-clock', '-F', String(frequency), '-k', 'CLOCK_MONOTONIC', '-D', '-1', '--control', `fifo:${ctl},${ack}`, '-o', data];
const rec = spawnSync('perf', [...perfArgs, '--', process.execPath, benchJs, ...benchArgs], {
  env: { ...process.env, GALLIVM_DEBUG: 'asm', MESA_SHADER_CACHE_DISABLE: 'true', EARLY_PHASE_PERF_CONTROL: `${ctl},${ack}` },
  stdio: ['ignore', 'inherit', asmFd],
});
closeSync(asmFd);
if (rec.status !== 0) fail(`perf record / bench exited with ${rec.status ?? rec.signal} (the bench's messages are in ${asmPath})`);

const listing = readFileSync(asmPath, 'utf8');
const fns = parseAsmListing(listing);
if (!fns.some((f) => f.name.startsWith('cs_'))) fail(`no compute shader code in ${asmPath}: is the adapter lavapipe (llvmpipe)?`);
const windows = parseWindows(listing);
if (windows.length === 0) fail('no entry was timed: does the filter match any bench entry?');
const script = execFileSync('perf', ['script', '-i', data, '-F', 'time,ip,dso', '--ns'], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
const perWindow = samplesByWindow(parsePerfScript(script), windows);
const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1)}%`;
windows.forEach((w, k) => profileEntry(k + 1, w.name, perWindow[k], fns));
console.log(`\nannotated listings (samples, offset, instruction): ${out}; perf data: ${data}`);

function profileEntry(k: number, name: string, samples: Sample[], fns: AsmFunction[]): void {
  console.log(`\n=== ${name}: ${samples.length} samples`);
  if (samples.length === 0) return;
  const jit = new Map<number, number>();
  const elsewhere = new Map<string, number>();
  for (const s of samples) {
    if (isJit(s.dso)) jit.set(s.ip, (jit.get(s.ip) ?? 0) + 1);
    else elsewhere.set(basename(s.dso), (elsewhere.get(basename(s.dso)) ?? 0) + 1);
  }
  const nJit = samples.length - [...elsewhere.values()].reduce((a, b) => a + b, 0);
  // what is not the shaders: lavapipe's dispatch and thread pool (libvulkan_lvp, libc, the OS kernel), Node, Dawn
  const rest = [...elsewhere.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([o, n]) => `${o} ${pct(n, samples.length)}`);
  console.log(`  in JIT code ${pct(nJit, samples.length)} (the shaders, and Node's own); elsewhere: ${rest.join(', ') || 'none'}`);
  const matches = matchSamples(jit, fns);
  if (matches.length === 0) console.log('  no function of the listing explains its JIT samples');
  matches.forEach((m, j) => report(m, `${k}-${j + 1}`, nJit));
  const placed = matches.reduce((a, m) => a + m.samples, 0);
  if (matches.length > 0 && placed < nJit) console.log(`  not placed on a listed instruction: ${pct(nJit - placed, nJit)} of the JIT samples`);
  for (const m of matches.filter((x) => x.fn.truncated)) {
    const past = samplesPastEnd(jit, m, matches);
    console.log(
      `  the listing of ${m.fn.name} (line ${m.fn.line}) stops at ${LISTING_LIMIT / 1024} KiB, where lavapipe's disassembler stops: ` +
        `${pct(past, nJit)} of the JIT samples fall in the next MiB of code, which it does not show (its shares above are of the part it shows)`,
    );
  }
}

function report(m: FunctionMatch, id: string, nJit: number): void {
  const file = join(out, `entry-${id}.txt`);
  writeFileSync(file, m.fn.instructions.map((ins, i) => `${String(m.perInstruction[i]).padStart(7)} ${ins.offset.toString(16).padStart(6)}  ${ins.mnemonic}\t${ins.operands}`).join('\n') + '\n');
  console.log(`  #${id} ${m.fn.name} (listing line ${m.fn.line}, ${m.fn.instructions.length} instructions, at 0x${m.base.toString(16)}): ${pct(m.samples, nJit)} of the JIT samples`);
  for (const c of samplesByClass(m)) if (c.samples > 0) console.log(`    ${c.cls.padEnd(38)} ${pct(c.samples, m.samples).padStart(6)}`);
  const hottest = m.perInstruction.map((n, i) => [n, i] as const).filter(([n]) => n > 0).sort((a, b) => b[0] - a[0]).slice(0, top);
  console.log(`    hottest instructions (a sample usually names the instruction after the one that waited):`);
  for (const [n, i] of hottest) {
    const ins = m.fn.instructions[i];
    const prev = m.fn.instructions[i - 1];
    const before = prev ? `   after ${prev.mnemonic} ${prev.operands}` : '';
    console.log(`    ${pct(n, m.samples).padStart(6)} +${ins.offset.toString(16).padStart(5)}  ${`${ins.mnemonic} ${ins.operands}`.padEnd(44)}${before}`);
  }
}
