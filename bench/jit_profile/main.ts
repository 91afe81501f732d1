// `npm run profile:lavapipe -- --filter REGEX` (node dist/jit-profile.js): where a kernel's time goes
// inside the machine code lavapipe made of it. Runs `npm run bench` for the kernel entries matching
// REGEX under `perf record` (cpu-clock samples, on only while those entries are timed:
// bench/perf_control.ts) with lavapipe printing every pipeline's x86 code (GALLIVM_DEBUG=asm), then
// places the samples on that code (match_samples.ts) and prints, for each function that holds them,
// its share of the samples, the share per kind of instruction, and the hottest instructions in
// context. The full annotated listings go to --out. Needs Linux `perf` (Debian: linux-perf) and the
// lavapipe adapter; a GPU's code is not printed this way.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { intFlag } from '../cli_args.js';
import { parseAsmListing } from './asm_listing.js';
import { matchSamples, samplesByClass, type FunctionMatch } from './match_samples.js';

const USAGE = `usage: node dist/jit-profile.js --filter REGEX [options]
  --filter REGEX       the bench's kernel entries to profile (as bench --filter: "op shape", e.g.
                       'forward 128x16x32x32 -> 16 k3'); one entry gives the clearest profile
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
const rec = spawnSync('perf', ['record', '-q', '-e', 'cpu-clock', '-F', String(frequency), '-D', '-1', '--control', `fifo:${ctl},${ack}`, '-o', data, '--', process.execPath, benchJs, ...benchArgs], {
  env: { ...process.env, GALLIVM_DEBUG: 'asm', MESA_SHADER_CACHE_DISABLE: 'true', EARLY_PHASE_PERF_CONTROL: `${ctl},${ack}` },
  stdio: ['ignore', 'inherit', asmFd],
});
closeSync(asmFd);
if (rec.status !== 0) fail(`perf record / bench exited with ${rec.status ?? rec.signal} (the bench's messages are in ${asmPath})`);

const fns = parseAsmListing(readFileSync(asmPath, 'utf8'));
if (!fns.some((f) => f.name.startsWith('cs_'))) fail(`no compute shader code in ${asmPath}: is the adapter lavapipe (llvmpipe)?`);

// `perf script -F ip,dso`: "    7f0662adc089 (/tmp/perf-1397.map)"; JIT code has no file behind it
const script = execFileSync('perf', ['script', '-i', data, '-F', 'ip,dso'], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
const samples = new Map<number, number>();
const byObject = new Map<string, number>(); // the samples outside JIT code, per shared object
let total = 0;
for (const line of script.split('\n')) {
  const m = /^\s*([0-9a-f]+)\s+\((.*)\)\s*$/.exec(line);
  if (!m) continue;
  total++;
  if (!/perf-\d+\.map|\[JIT\]|\[unknown\]|\/\/anon/.test(m[2])) {
    const name = basename(m[2]);
    byObject.set(name, (byObject.get(name) ?? 0) + 1);
    continue;
  }
  const ip = parseInt(m[1], 16);
  samples.set(ip, (samples.get(ip) ?? 0) + 1);
}
const jit = [...samples.values()].reduce((a, b) => a + b, 0);
if (total === 0) fail('perf recorded no samples: did any bench entry match the filter?');
const matches = matchSamples(samples, fns);
const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1)}%`;
console.log(`\n${total} samples while timing; ${jit} in JIT code (${pct(jit, total)}: the shaders, and Node's own JIT code), the rest in`);
// lavapipe's thread pool and dispatch set-up (libvulkan_lvp, libc, the OS kernel) is what a small kernel's time can go to
for (const [name, n] of [...byObject.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6)) console.log(`  ${pct(n, total).padStart(6)} ${name}`);
if (matches.length === 0) fail('no function of the listing explains the JIT samples');
matches.forEach((m, k) => report(m, k + 1));
console.log(`\nannotated listings (samples, offset, instruction): ${out}`);

function report(m: FunctionMatch, k: number): void {
  const file = join(out, `function-${k}.txt`);
  writeFileSync(file, m.fn.instructions.map((ins, i) => `${String(m.perInstruction[i]).padStart(7)} ${ins.offset.toString(16).padStart(6)}  ${ins.mnemonic}\t${ins.operands}`).join('\n') + '\n');
  console.log(`\n#${k} ${m.fn.name} (listing line ${m.fn.line}, ${m.fn.instructions.length} instructions, at 0x${m.base.toString(16)}): ${m.samples} samples, ${pct(m.samples, jit)} of the JIT samples`);
  for (const c of samplesByClass(m)) if (c.samples > 0) console.log(`  ${c.cls.padEnd(28)} ${pct(c.samples, m.samples).padStart(6)}`);
  const hottest = m.perInstruction.map((n, i) => [n, i] as const).filter(([n]) => n > 0).sort((a, b) => b[0] - a[0]).slice(0, top);
  console.log(`  hottest instructions (a sample usually names the instruction after the one that waited):`);
  for (const [n, i] of hottest) {
    const ins = m.fn.instructions[i];
    const prev = m.fn.instructions[i - 1];
    const before = prev ? `   after ${prev.mnemonic} ${prev.operands}` : '';
    console.log(`  ${pct(n, m.samples).padStart(6)} +${ins.offset.toString(16).padStart(5)}  ${`${ins.mnemonic} ${ins.operands}`.padEnd(44)}${before}`);
  }
}
