// Sampling on only while a kernel is timed: bench/jit_profile runs the bench under
// `perf record -D -1 --control fifo:CTL,ACK` (sampling off at start) and sets
// EARLY_PHASE_PERF_CONTROL=CTL,ACK; the bench then turns sampling on around each entry's timed
// repetitions, so the profile holds the kernels asked for and not the ceilings, compiles or set-up.
// It also writes each window's bounds to stderr (CLOCK_MONOTONIC nanoseconds, the clock perf
// stamps samples with under -k CLOCK_MONOTONIC) and the entry's name, so the profile can be split by
// entry. Unset (every other run), this does nothing.
import { openSync, readSync, writeSync } from 'node:fs';

/** How a sampling window's bounds start in stderr: `begin <ns> <entry>` and `end <ns>`. */
export const WINDOW_PREFIX = 'jit-profile window: ';

let fifos: { ctl: number; ack: number } | null | undefined;

/** Tell perf to start (true) or stop (false) sampling while `what` runs, and wait for its acknowledgement. */
export function perfSampling(on: boolean, what = ''): void {
  if (fifos === undefined) {
    const spec = process.env.EARLY_PHASE_PERF_CONTROL;
    if (!spec) fifos = null;
    else {
      const [ctl, ack] = spec.split(',');
      if (!ctl || !ack) throw new Error(`EARLY_PHASE_PERF_CONTROL=${spec}: expected CTL,ACK (perf record's --control fifo:CTL,ACK)`);
      fifos = { ctl: openSync(ctl, 'w'), ack: openSync(ack, 'r') };
    }
  }
  if (!fifos) return;
  if (!on) process.stderr.write(`${WINDOW_PREFIX}end ${process.hrtime.bigint()}\n`);
  writeSync(fifos.ctl, on ? 'enable\n' : 'disable\n');
  readSync(fifos.ack, Buffer.alloc(4), 0, 4, null); // perf answers "ack\n" once it has switched
  if (on) process.stderr.write(`${WINDOW_PREFIX}begin ${process.hrtime.bigint()} ${what.replace(/\s+/g, ' ')}\n`);
}
