// How the benchmark combines its ceilings with its kernel passes (bench/ceilings.ts, bench/kernels.ts):
// the ceilings are measured once per kernel pass and each keeps its best, the kernels kept are rated
// against those best ceilings, and the submit overhead is measured on empty command buffers. No timing
// assertions: which numbers are combined how, and what is submitted, not how fast.
// @kernels bench_empty
import { describe, expect, it } from 'vitest';
import { bestCeilings, FIXED_COSTS, THROUGHPUTS, timeSubmits, type Ceilings } from '../bench/ceilings.js';
import { kernelPasses, rateAgainst, type KernelEntry } from '../bench/kernels.js';
import { ceilingsTable } from '../bench/report.js';
import { useGpu } from './helpers/gpu.js';

/** One measurement of the ceilings: every throughput `scale` times a base, every fixed cost `cost` µs. */
function ceilings(scale: number, cost: number, over: Partial<Ceilings> = {}): Ceilings {
  const shape = (name: string, value: number) => [{ shape: name, ms: 1, value }];
  return {
    fma_gflops: 100 * scale,
    fma_f16_gflops: 50 * scale,
    read_gbps: 20 * scale,
    write_gbps: 15 * scale,
    copy_gbps: 10 * scale,
    copy_gbps_by_size: [
      { bytes: 2 << 20, gbps: 30 * scale },
      { bytes: 8 << 20, gbps: 20 * scale },
    ],
    copy_buffer_gbps: 12 * scale,
    empty_dispatch_us: cost / 10,
    empty_pass_us: cost,
    dispatch_encode_cpu_us: cost / 20,
    submit_us: 2 * cost,
    submit_roundtrip_us: 4 * cost,
    details: {
      fma: shape(`fma x${scale}`, 100 * scale),
      fma_f16: shape(`fma16 x${scale}`, 50 * scale),
      read: shape(`read x${scale}`, 20 * scale),
      write: shape(`write x${scale}`, 15 * scale),
      copy: shape(`copy x${scale}`, 10 * scale),
      bandwidth_buffer_mib: 128,
      fma_threads: 1 << 18,
      empty_dispatches_per_pass: 1000,
      fixed_cost_reps: { dispatch: 5, pass: 20 },
      submits: 200,
      submit_empty_dispatch_us: 3 * cost,
      passes: 1,
    },
    ...over,
  };
}

describe('bench ceilings over several passes', () => {
  it('keeps every key, each throughput its highest and each fixed cost its lowest, and says how many passes', () => {
    const a = ceilings(1, 30); // slow throughputs, high fixed costs
    const b = ceilings(2, 40, { fma_gflops: 150, empty_dispatch_us: 1, fma_f16_gflops: null });
    const best = bestCeilings([a, b]);
    // the keys users' scripts read, with their meaning: throughputs (more is better) ...
    expect(best.fma_gflops).toBe(150);
    expect(best.fma_f16_gflops).toBe(50); // a pass without f16 (null) does not win
    expect(best.read_gbps).toBe(40);
    expect(best.write_gbps).toBe(30);
    expect(best.copy_gbps).toBe(20);
    expect(best.copy_buffer_gbps).toBe(24);
    expect(best.copy_gbps_by_size).toEqual([
      { bytes: 2 << 20, gbps: 60 },
      { bytes: 8 << 20, gbps: 40 },
    ]);
    // ... and fixed costs (less is better), each from whichever pass gave it
    expect(best.empty_dispatch_us).toBe(1);
    expect(best.empty_pass_us).toBe(30);
    expect(best.dispatch_encode_cpu_us).toBe(1.5);
    expect(best.submit_us).toBe(60);
    expect(best.submit_roundtrip_us).toBe(120);
    expect(best.details.submit_empty_dispatch_us).toBe(90);
    expect(Object.keys(best).sort()).toEqual(Object.keys(a).sort());
    // a ceiling's shapes come from the pass behind its number: the table's best shape is that one
    expect(best.details.fma[0].shape).toBe('fma x2');
    expect(best.details.fma_f16[0].shape).toBe('fma16 x1');
    expect(best.details.read[0].shape).toBe('read x2');
    expect(best.details.passes).toBe(2);
    expect(best.details.by_pass).toHaveLength(2);
    expect(best.details.by_pass![0].fma_gflops).toBe(100);
    expect(best.details.by_pass![1].fma_gflops).toBe(150);
    expect(Object.keys(best.details.by_pass![0]).sort()).toEqual([...THROUGHPUTS, ...FIXED_COSTS].sort());
    // the inputs are left as they were
    expect(a.fma_gflops).toBe(100);
    expect(a.details.passes).toBe(1);
  });

  it('one measurement is its own best: passes 1, no per-pass list', () => {
    const a = ceilings(1, 30);
    const best = bestCeilings([a]);
    expect(best).toEqual({ ...a, details: { ...a.details, passes: 1 } });
    expect(best.details.by_pass).toBeUndefined();
    expect(() => bestCeilings([])).toThrow(/no measurements/);
  });

  it('the ceilings table says how many passes its values are the best of (older files: none)', () => {
    const best = bestCeilings([ceilings(1, 30), ceilings(2, 40)]);
    expect(ceilingsTable(best).split('\n')[0]).toMatch(/value \(best of 2 passes\)/);
    expect(ceilingsTable(best)).toMatch(/200 submits of an empty command buffer, then one wait \(90\.0 µs with an empty dispatch in each\)/);
    const old = ceilings(1, 30);
    delete old.details.passes;
    delete old.details.submit_empty_dispatch_us;
    expect(ceilingsTable(old).split('\n')[0]).not.toMatch(/best of/);
    expect(ceilingsTable(old)).toMatch(/200 submits of one empty dispatch, then one wait/);
  });
});

/** A kernel entry timed at `ms`, against the FMA ceiling (flops) or the copy bandwidth (bytes). */
function entry(name: string, ms: number, work: { flops: number } | { bytes: number }): KernelEntry {
  const e: KernelEntry = { name, model: 'm', op: name, shape: 's', batch: 1, per_step: 1, dispatches: ['k', 'k'], ms, min_ms: ms, max_ms: ms, ceiling: 'flops' in work ? 'fma_gflops' : 'copy_gbps', percent_of_ceiling: NaN };
  if ('flops' in work) {
    e.flops = work.flops;
    e.gflops = work.flops / (ms * 1e6);
  } else {
    e.bytes = work.bytes;
    e.gbps = work.bytes / (ms * 1e6);
  }
  return e;
}

describe('bench kernel passes and their ceilings', () => {
  it('rates an entry against the ceilings: its share, its floor from its dispatches, its roofline', () => {
    const c = ceilings(1, 30); // fma 100 GFLOP/s, copy 10 GB/s (30 at 2 MiB), empty pass 30 µs, empty dispatch 3 µs
    const conv = rateAgainst(entry('conv', 1, { flops: 50e6 }), c); // 50 GFLOP/s
    expect(conv.ceiling_value).toBe(100);
    expect(conv.percent_of_ceiling).toBeCloseTo(50, 10);
    expect(conv.floor_ms).toBeCloseTo((30 + 2 * 3) / 1000, 12);
    expect(conv.launch_bound).toBe(false);
    expect(conv.roofline_ms).toBeCloseTo(0.5, 10);
    expect(conv.percent_of_roofline).toBeCloseTo(50, 10);
    // a copy-bound entry that moves 1 MiB is held to the copy bandwidth at the 2 MiB working set
    const bn = rateAgainst(entry('bn', 0.35, { bytes: 1 << 20 }), c);
    expect(bn.ceiling_value).toBe(30);
    expect(bn.percent_of_ceiling).toBeCloseTo((100 * (1 << 20)) / (0.35e6 * 30), 10);
    // a store-bound entry's output written alone in 0.1 ms: the share it would have in that time
    const aug = rateAgainst({ ...entry('augment', 0.35, { bytes: 1 << 20 }), write_floor_ms: 0.1 }, c);
    expect(aug.write_floor_percent).toBeCloseTo((100 * (1 << 20)) / (0.1e6 * 30), 10);
    expect(bn.write_floor_percent).toBeUndefined();
    // an entry that failed is left alone
    const failed = { ...entry('x', NaN, { flops: 1 }), error: 'boom' };
    expect(rateAgainst(failed, c).ceiling_value).toBeUndefined();
  });

  it('measures the ceilings before every kernel pass, and rates the kept entries against the best of them', async () => {
    const events: string[] = [];
    const measured = [ceilings(1, 30), ceilings(2, 60)];
    const runs: Ceilings[] = [];
    const source = async (pass: number) => {
      events.push(`ceilings ${pass}`);
      runs.push(measured[pass]);
      return bestCeilings(runs);
    };
    const heldByPass: Ceilings[] = [];
    const r = await kernelPasses(2, source, () => undefined, async (pass, held) => {
      events.push(`kernels ${pass}`);
      heldByPass.push(held);
      // the conv is fastest in pass 0, the copy in pass 1; each pass rates against the ceilings so far
      const ms = pass === 0 ? [1, 2] : [2, 1];
      return { entries: [rateAgainst(entry('conv', ms[0], { flops: 50e6 }), held), rateAgainst(entry('copy', ms[1], { bytes: 100e6 }), held)], profiles: [] };
    });
    expect(events).toEqual(['ceilings 0', 'kernels 0', 'ceilings 1', 'kernels 1']);
    expect(heldByPass[0].fma_gflops).toBe(100); // pass 0 knew only its own ceilings
    expect(heldByPass[1].fma_gflops).toBe(200);
    // the ceilings reported: the best of both passes
    expect(r.ceilings.fma_gflops).toBe(200);
    expect(r.ceilings.empty_pass_us).toBe(30);
    expect(r.ceilings.details.passes).toBe(2);
    const [conv, copy] = r.entries;
    expect(conv.ms).toBe(1);
    expect(conv.pass_ms).toEqual([1, 2]);
    // kept from pass 0, rated against the final ceilings (200 GFLOP/s), not pass 0's (100)
    expect(conv.ceiling_value).toBe(200);
    expect(conv.percent_of_ceiling).toBeCloseTo(25, 10);
    expect(conv.floor_ms).toBeCloseTo((30 + 2 * 3) / 1000, 12); // the lowest empty pass and dispatch: pass 0's
    expect(copy.ms).toBe(1);
    expect(copy.ceiling_value).toBe(20); // 100 MB: above every working set, the 128 MiB figure
    expect(copy.percent_of_ceiling).toBeCloseTo(500, 10);
  });

  it('with ceilings measured once, every pass is held to them', async () => {
    const c = ceilings(1, 30);
    let calls = 0;
    const r = await kernelPasses(3, c, () => undefined, async (_pass, held) => {
      calls++;
      expect(held).toBe(c);
      return { entries: [rateAgainst(entry('conv', 1, { flops: 50e6 }), held)], profiles: [] };
    });
    expect(calls).toBe(3);
    expect(r.ceilings).toBe(c);
    expect(r.entries[0].pass_ms).toEqual([1, 1, 1]);
    expect(r.entries[0].percent_of_ceiling).toBeCloseTo(50, 10);
  });
});

const gpu = useGpu();

describe('bench submit overhead', () => {
  it('submit_us submits empty command buffers: as many submits as asked, not one dispatch', async () => {
    const g = gpu();
    await g.sync();
    const before = g.stats();
    const us = await timeSubmits(g, 7, 3, false);
    const after = g.stats();
    expect(us).toHaveLength(3);
    for (const x of us) expect(Number.isFinite(x) && x > 0).toBe(true);
    expect(after.dispatches - before.dispatches).toBe(0);
    expect(after.submits - before.submits).toBe(21);
    // the older figure (details.submit_empty_dispatch_us): one empty dispatch in each
    const b2 = g.stats();
    await timeSubmits(g, 7, 2, true);
    const a2 = g.stats();
    expect(a2.dispatches - b2.dispatches).toBe(14);
    expect(a2.submits - b2.submits).toBeGreaterThanOrEqual(14);
  });
});
