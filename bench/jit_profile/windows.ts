// Split perf's samples by bench entry: the bench writes each sampling window's bounds to stderr
// (bench/perf_control.ts), and `perf script -F time,ip,dso --ns` stamps every sample with the same
// clock (perf record -k CLOCK_MONOTONIC).
import { WINDOW_PREFIX } from '../perf_control.js';

export interface Window {
  /** The bench entry timed in it. */
  name: string;
  /** CLOCK_MONOTONIC nanoseconds. */
  begin: number;
  end: number;
}

export interface Sample {
  /** CLOCK_MONOTONIC nanoseconds. */
  time: number;
  ip: number;
  /** perf's name for the object the address is in (a file, `[kernel.kallsyms]`, `/tmp/perf-PID.map` for JIT code). */
  dso: string;
}

/** The windows in the bench's stderr, in order; a window left open (the bench died) is dropped. */
export function parseWindows(text: string): Window[] {
  const out: Window[] = [];
  let open: { name: string; begin: number } | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(WINDOW_PREFIX)) continue;
    const m = /^(begin|end) (\d+)(?: (.*))?$/.exec(line.slice(WINDOW_PREFIX.length).trim());
    if (!m) continue;
    const t = Number(m[2]);
    if (m[1] === 'begin') open = { name: m[3] ?? '', begin: t };
    else if (open) {
      out.push({ ...open, end: t });
      open = null;
    }
  }
  return out;
}

/** The samples of `perf script -F time,ip,dso --ns` output ("  38148.406188017:  7f23efb609b6 (/usr/lib/...)"). */
export function parsePerfScript(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\.(\d{9}):\s+([0-9a-f]+)\s+\((.*)\)\s*$/.exec(line);
    if (m) out.push({ time: Number(m[1]) * 1e9 + Number(m[2]), ip: parseInt(m[3], 16), dso: m[4] });
  }
  return out;
}

/** Is this perf object name JIT code (compiled shaders, or Node's own JIT code)? */
export function isJit(dso: string): boolean {
  return /perf-\d+\.map|\[JIT\]|\[unknown\]|\/\/anon/.test(dso);
}

/** Each window's samples, in window order; samples outside every window are left out. */
export function samplesByWindow(samples: readonly Sample[], windows: readonly Window[]): Sample[][] {
  const out = windows.map((): Sample[] => []);
  for (const s of samples) {
    const k = windows.findIndex((w) => s.time >= w.begin && s.time <= w.end);
    if (k >= 0) out[k].push(s);
  }
  return out;
}
