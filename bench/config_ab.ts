// `bench --compare-config JSON`: two kernel configurations (conv and BatchNorm) inside a training
// step (ResNet-20, or the first of --models), timed alternately in one process. On a shared VM a kernel's time moves by
// 10-60% between runs minutes apart (and the same kernel can run 1.5x slower in one process than in the
// next), so two configurations compare fairly only side by side: here each round replays one whole
// step under A, then one under B, every dispatch between GPU timestamps in step order (so each kernel
// runs after its real predecessor, with the caches a step leaves), and each dispatch keeps its median
// over the rounds. A kernel timed
// alone can mislead: two-row 8-column tiles were 5-10% faster alone and 2-5% slower in the step
// (docs/writing-kernels.md). Both configurations also train two steps from the same initial state, and
// the second step's loss and the parameters after both are compared bit for bit (a configuration that
// changes a summation order changes the parameters; the loss, one rounded mean, often stays the same).
import type { Gpu } from '../src/gpu/runtime.js';
import { GpuTimer, median } from '../src/gpu/timer.js';
import { getKernelConfig, setKernelConfig, type KernelConfig } from '../src/ops/kernel_config.js';
import { recordTrainStep, trainSetup } from '../src/train/train_setup.js';
import { capture, endsPass, replay, type Recorded } from './capture.js';

export interface ConfigComparisonRow {
  /** kernel[:variant] and the shape uniforms that tell its launches apart; `acc` where it adds into its output */
  kernel: string;
  /** dispatches of this kind in A's step, and in B's (they differ where a field switches kernels) */
  count: number;
  count_b: number;
  a_ms: number;
  b_ms: number;
  /** b_ms / a_ms (null where A's step runs no such dispatch) */
  ratio: number | null;
  /** override constants that differ between A and B, as `NAME a->b` */
  differs: string[];
}

export interface ConfigComparison {
  model: string;
  batch: number;
  rounds: number;
  a: KernelConfig;
  b: KernelConfig;
  /** the step's dispatches (and buffer copies), each at its median over the rounds, summed */
  step_ms_a: number;
  step_ms_b: number;
  /** losses of the second training step from the same initial state */
  loss_a: number;
  loss_b: number;
  same_loss_bits: boolean;
  /** the parameters after those two steps, bit for bit: the same sums */
  same_param_bits: boolean;
  /** how many of the parameters differ (0 where same_param_bits) */
  params_differing: number;
  rows: ConfigComparisonRow[];
}

const SHAPE_UNIFORMS = ['N', 'C', 'H', 'O', 'KH', 'n', 'c', 'hw'];

function tagOf(w: Extract<Recorded, { kind: 'dispatch' }>): string {
  const u = (w.args.uniforms ?? {}) as Record<string, number>;
  const shape = SHAPE_UNIFORMS.filter((k) => k in u).map((k) => `${k}=${u[k]}`).join(' ');
  return `${w.name}${w.args.variant ? ':' + w.args.variant : ''}${shape ? ' ' + shape : ''}${w.args.overrides?.ACCUM ? ' acc' : ''}`;
}

/** Time training steps of `model` (default ResNet-20, batch 128) under kernel configurations a and b, alternating `rounds` times. */
export async function compareConfigs(gpu: Gpu, a: KernelConfig, b: KernelConfig, opts: { model?: string; batch?: number; rounds?: number; log?: (s: string) => void } = {}): Promise<ConfigComparison> {
  const model = opts.model ?? 'resnet20';
  const batch = opts.batch ?? 128;
  const rounds = opts.rounds ?? 6;
  const log = opts.log ?? (() => undefined);
  const before = getKernelConfig();
  const works: Recorded[][] = [];
  const losses: number[] = [];
  const params: Float32Array[] = [];
  // replay off: every step goes through gpu.dispatch, where capture() sees it
  const setup = () => trainSetup(gpu, model, batch, { nTrain: 2 * batch, nTest: 10, seed: 1, replay: false });
  // the timed steps of both run on one set-up (one set of buffers: placement alone can make the same
  // kernel 1.5x slower in one process than in the next, and a second set of buffers could do the same)
  const timed = setup();
  try {
    for (const [k, cfg] of [a, b].entries()) {
      setKernelConfig(cfg);
      log(`  ${'AB'[k]}: two steps from the initial state (compiles its pipelines), then one captured`);
      const fresh = setup();
      try {
        for (const iteration of [0, 1]) {
          const step = recordTrainStep(gpu, fresh, iteration);
          const loss = (await step.loss.readF32())[0];
          step.scope.close();
          if (iteration === 1) losses.push(loss);
        }
        params.push(await fresh.network.readFlat('values'));
      } finally {
        fresh.destroy();
      }
      const { result, work } = capture(gpu, () => recordTrainStep(gpu, timed, k));
      await result.loss.readF32();
      result.scope.close();
      works.push(work);
    }
    const [wa, wb] = works;
    const da = wa.filter((w) => w.kind === 'dispatch');
    const db = wb.filter((w) => w.kind === 'dispatch');
    const sameKernels = da.length === db.length && da.every((w, i) => w.name === db[i].name);
    const timer = new GpuTimer(gpu, Math.max(64, wa.length, wb.length));
    const times = works.map((w) => w.map(() => [] as number[]));
    try {
      for (let r = 0; r < rounds; r++) {
        for (const k of [0, 1]) {
          for (const w of works[k]) {
            // a copy cannot sit inside a compute pass: it gets a span of its own
            if (endsPass(w)) timer.span(() => replay(gpu, [w]));
            else timer.region(() => replay(gpu, [w]));
          }
          (await timer.read()).forEach((ms, i) => times[k][i].push(ms));
        }
        log(`  round ${r + 1}/${rounds}`);
      }
    } finally {
      timer.destroy();
    }
    const meds = times.map((t) => t.map(median));
    const stepMs = meds.map((m) => m.reduce((s, x) => s + x, 0));
    // rows: kinds of dispatch (tagOf), each side's time summed; where both steps run the same kernels in
    // the same order, the dispatches are also paired: B's dispatch j counts in A's dispatch j's row
    // (so launches that differ only in their variant, e.g. a texture mirror, share a row), and the
    // overrides and variants that differ are named
    const rows = new Map<string, ConfigComparisonRow>();
    const add = (tag: string, side: 0 | 1, ms: number, differs: string[]) => {
      const row = rows.get(tag) ?? { kernel: tag, count: 0, count_b: 0, a_ms: 0, b_ms: 0, ratio: null, differs: [] };
      if (side === 0) {
        row.a_ms += ms;
        row.count++;
      } else {
        row.b_ms += ms;
        row.count_b++;
      }
      for (const d of differs) if (!row.differs.includes(d)) row.differs.push(d);
      rows.set(tag, row);
    };
    for (const [k, work] of works.entries()) {
      let j = 0;
      work.forEach((w, i) => {
        if (w.kind !== 'dispatch') {
          add('copyBufferToBuffer', k as 0 | 1, meds[k][i], []);
          return;
        }
        // A's dispatch j beside B's dispatch j
        const pa = sameKernels ? da[j] : null;
        const pb = sameKernels ? db[j] : null;
        j++;
        const differs: string[] = [];
        if (k === 0 && pa?.kind === 'dispatch' && pb?.kind === 'dispatch') {
          const oa = pa.args.overrides ?? {};
          const ob = pb.args.overrides ?? {};
          for (const name of new Set([...Object.keys(oa), ...Object.keys(ob)])) if (oa[name] !== ob[name]) differs.push(`${name} ${oa[name] ?? '-'}->${ob[name] ?? '-'}`);
          if (pa.args.variant !== pb.args.variant) differs.push(`variant ${pa.args.variant ?? '-'}->${pb.args.variant ?? '-'}`);
        }
        add(tagOf(pa?.kind === 'dispatch' ? pa : w), k as 0 | 1, meds[k][i], differs);
      });
    }
    const out = [...rows.values()].map((r) => ({ ...r, ratio: r.count ? r.b_ms / r.a_ms : null })).sort((x, y) => y.a_ms - x.a_ms || y.b_ms - x.b_ms);
    const [pa, pb] = params.map((p) => new Uint32Array(p.buffer, p.byteOffset, p.length));
    const differing = pa.reduce((n, v, i) => n + (v === pb[i] ? 0 : 1), 0);
    return {
      model,
      batch,
      rounds,
      a,
      b,
      step_ms_a: stepMs[0],
      step_ms_b: stepMs[1],
      loss_a: losses[0],
      loss_b: losses[1],
      same_loss_bits: Object.is(losses[0], losses[1]),
      same_param_bits: differing === 0,
      params_differing: differing,
      rows: out,
    };
  } finally {
    timed.destroy();
    setKernelConfig(before);
  }
}

/** The comparison as a table: the step's kernels by A's time, then the step totals and the loss bits. */
export function comparisonTable(c: ConfigComparison, top = 30): string {
  const lines = [`${'kernel'.padEnd(64)} ${'n'.padStart(3)} ${'A ms'.padStart(8)} ${'B ms'.padStart(8)}    B/A  overrides A->B`];
  for (const r of c.rows.slice(0, top)) {
    const n = r.count === r.count_b ? String(r.count) : `${r.count}/${r.count_b}`;
    lines.push(`${r.kernel.padEnd(64)} ${n.padStart(3)} ${r.a_ms.toFixed(2).padStart(8)} ${r.b_ms.toFixed(2).padStart(8)}  ${r.ratio === null ? '    -' : r.ratio.toFixed(3)}  ${r.differs.join(', ')}`);
  }
  if (c.rows.length > top) lines.push(`... ${c.rows.length - top} more kinds of dispatch (the JSON has them all)`);
  lines.push(`step (sum of each dispatch's median over ${c.rounds} rounds): A ${c.step_ms_a.toFixed(1)} ms, B ${c.step_ms_b.toFixed(1)} ms, B/A ${(c.step_ms_b / c.step_ms_a).toFixed(3)}`);
  lines.push(`two training steps from the same state: loss A ${c.loss_a}, B ${c.loss_b} (${c.same_loss_bits ? 'the same bits' : 'different bits'}); parameters after them: ${c.same_param_bits ? 'the same bits' : `${c.params_differing} differ (the configurations sum in different orders)`}`);
  return lines.join('\n');
}
