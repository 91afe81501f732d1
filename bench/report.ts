// The benchmark's JSON document and its terminal / markdown tables.
import type { Ceilings } from './ceilings.js';
import type { EndToEndResult } from './end_to_end.js';
import type { KernelEntry, StepProfile } from './kernels.js';
import type { TfjsResult } from './tfjs/resnet20_tfjs.js';
import type { PytorchResult } from './pytorch.js';
import { checkTargets, kernelPassCaution, targetLines, type TargetCheck } from './targets.js';

export interface BenchReport {
  schema: 'early-phase-bench-1';
  date: string;
  adapter: string;
  /** The npm `webgpu` package (Dawn's Node bindings) version. */
  dawn_version: string;
  git_commit: string;
  environment: Record<string, unknown>;
  /** Conv kernel configuration in use (tile sizes and the like). */
  kernel_config: unknown;
  options: Record<string, unknown>;
  /** ResNet-20 training, batch 128 (see end_to_end.batch), images per second by wall clock; null if not run. */
  train_images_per_s: number | null;
  eval_images_per_s: number | null;
  ceilings: Ceilings | null;
  kernels: KernelEntry[];
  step_profiles: StepProfile[];
  end_to_end: EndToEndResult | { skipped: string } | null;
  /** TF.js (webgpu backend) training the same ResNet-20 on the same adapter in the same run (child process). */
  tfjs: TfjsResult | { skipped: string } | null;
  /** train_images_per_s / TF.js's, when both ran. */
  speedup_vs_tfjs: number | null;
  /** PyTorch fp32 eager training the same ResNet-20 (bench/pytorch_resnet20.py; CUDA if present, else the CPU). Absent in older files. */
  pytorch?: PytorchResult | { skipped: string } | null;
  /** train_images_per_s / PyTorch's, when both ran (below 1: PyTorch is faster). */
  speedup_vs_pytorch?: number | null;
  /** Wall time of the whole benchmark, s. */
  wall_s: number;
  /** The performance issue's targets for this adapter, checked against this report (bench/targets.ts). Absent in older files. */
  targets?: TargetCheck[];
}

const f = (x: number | undefined, d = 2) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));

function table(headers: string[], rows: string[][], align: ('l' | 'r')[], markdown: boolean): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const pad = (s: string, i: number) => (align[i] === 'l' ? s.padEnd(widths[i]) : s.padStart(widths[i]));
  if (markdown) {
    const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
    return [line(headers), line(align.map((a) => (a === 'l' ? ':--' : '--:'))), ...rows.map(line)].join('\n');
  }
  const line = (cells: string[]) => cells.map(pad).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

// how many repetitions a fixed cost is the median of (files before 2026-12-06 do not say: 5)
const medianOf = (n: number | undefined) => `; median of ${n ?? 5}`;

export function ceilingsTable(c: Ceilings, markdown = false): string {
  // measured once per pass (files before that: once), each the best of them
  const passes = c.details.passes ?? 1;
  const submitHow = c.details.submit_empty_dispatch_us !== undefined
    ? `${c.details.submits} submits of an empty command buffer, then one wait (${f(c.details.submit_empty_dispatch_us, 1)} µs with an empty dispatch in each)`
    : `${c.details.submits} submits of one empty dispatch, then one wait`;
  const rows = [
    ['FMA peak (best shape)', `${f(c.fma_gflops, 1)} GFLOP/s`, c.details.fma.reduce((a, b) => (b.value > a.value ? b : a)).shape],
    ...(c.fma_f16_gflops != null && c.details.fma_f16?.length
      ? [['FMA peak, f16 (not a ceiling: would half precision pay?)', `${f(c.fma_f16_gflops, 1)} GFLOP/s`, c.details.fma_f16.reduce((a, b) => (b.value > a.value ? b : a)).shape]]
      : []),
    ['storage read', `${f(c.read_gbps)} GB/s`, `${c.details.bandwidth_buffer_mib} MiB, best of ${c.details.read.length} shapes`],
    ['storage write', `${f(c.write_gbps)} GB/s`, `${c.details.bandwidth_buffer_mib} MiB`],
    ['storage copy kernel (read + write)', `${f(c.copy_gbps)} GB/s`, `${c.details.bandwidth_buffer_mib} MiB, bytes read + written`],
    ...(c.copy_gbps_by_size ?? []).map((x) => [
      `... at a ${x.bytes / (1 << 20)} MiB working set`,
      `${f(x.gbps)} GB/s`,
      `copy-bound entries moving up to this much are held to max(this, the 128 MiB figure)`,
    ]),
    ['copyBufferToBuffer (read + write)', `${f(c.copy_buffer_gbps)} GB/s`, `${c.details.bandwidth_buffer_mib} MiB, bytes read + written`],
    ['empty dispatch (GPU)', `${f(c.empty_dispatch_us)} µs`, `${c.details.empty_dispatches_per_pass} in one pass, timestamps${medianOf(c.details.fixed_cost_reps?.dispatch)}`],
    ['empty pass with timestamps', `${f(c.empty_pass_us)} µs`, `floor of every timed region${medianOf(c.details.fixed_cost_reps?.pass)}`],
    ['record one dispatch (CPU)', `${f(c.dispatch_encode_cpu_us)} µs`, 'Gpu.dispatch, cached pipeline and bind group'],
    ['submit', `${f(c.submit_us, 1)} µs`, submitHow],
    ['submit + wait round trip', `${f(c.submit_roundtrip_us, 0)} µs`, 'one empty dispatch, onSubmittedWorkDone'],
  ];
  return table(['ceiling', passes > 1 ? `value (best of ${passes} passes)` : 'value', 'how'], rows, ['l', 'r', 'l'], markdown);
}

export function kernelsTable(entries: KernelEntry[], markdown = false): string {
  const rows = entries
    .filter((e) => !e.error)
    .map((e) => [
      e.model === '-' ? '' : e.model,
      e.op,
      e.shape,
      String(e.per_step),
      f(e.ms, 3),
      e.gflops !== undefined ? `${f(e.gflops, 1)} GFLOP/s` : `${f(e.gbps, 2)} GB/s`,
      `${f(e.percent_of_ceiling, 1)}% ${e.ceiling.replace(/_(gflops|gbps)$/, '')}${e.launch_bound ? ' (launch-bound)' : ''}`,
      e.percent_of_roofline !== undefined ? `${f(e.percent_of_roofline, 0)}% ${e.bound}` : '',
    ]);
  return table(['model', 'op', 'shape', '/step', 'ms', 'rate', 'of ceiling', 'of roofline'], rows, ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r'], markdown);
}

export function perStepSummary(entries: KernelEntry[]): string[] {
  const byModel = new Map<string, { ms: number; conv: number }>();
  for (const e of entries) {
    if (e.error || !e.per_step || e.model === '-' || !Number.isFinite(e.ms)) continue;
    const m = byModel.get(e.model) ?? { ms: 0, conv: 0 };
    m.ms += e.ms * e.per_step;
    if (e.op.startsWith('conv2d')) m.conv += e.ms * e.per_step;
    byModel.set(e.model, m);
  }
  const shared = entries.filter((e) => e.model === '-' && !e.error).reduce((s, e) => s + e.ms * e.per_step, 0);
  return [...byModel.entries()].map(
    ([model, m]) => `${model}: listed ops sum to ${f(m.ms + shared, 1)} ms of GPU time per step (conv ${f(m.conv, 1)} ms = ${f((100 * m.conv) / (m.ms + shared), 0)}%), augmentation included`,
  );
}

export function profileTable(p: StepProfile, markdown = false, top = 15): string {
  const rows = p.kernels.slice(0, top).map((k) => [k.kernel, String(k.count), f(k.ms, 2), `${f(k.percent, 1)}%`]);
  return table(['kernel', 'count', 'ms/step', 'share'], rows, ['l', 'r', 'r', 'r'], markdown);
}

/** How the timed steps were recorded, and what recording them afresh costs (reports from before replay have neither). */
function replayNote(e: EndToEndResult): string {
  const r = e.step_replay;
  if (!r) return '';
  const how = !r.enabled ? 'replay off (EARLY_PHASE_REPLAY=0)' : r.off_reason ? `replay turned off: ${r.off_reason}` : `${r.replayed} of ${e.steps} steps replayed`;
  return `; ${how}; recorded afresh: ${f(e.encode_cpu_ms_plain_gpu_idle, 2)} ms`;
}

export function endToEndTable(e: EndToEndResult, markdown = false, tfjs: BenchReport['tfjs'] = null, pytorch: BenchReport['pytorch'] = null): string {
  const mib = (b: number) => `${f(b / (1 << 20), 1)} MiB`;
  const t = tfjs && !('skipped' in tfjs) ? tfjs : null;
  const p = pytorch && !('skipped' in pytorch) ? pytorch : null;
  const ratio = (x: number) => (x >= 1 ? `ours is ${f(x, 1)}x` : `ours is ${f(x, 2)}x (PyTorch ${f(1 / x, 1)}x faster)`);
  const rows = [
    ['train', `${f(e.train_images_per_s, 1)} img/s`, `${e.model}, batch ${e.batch}, ${e.steps} steps after ${e.warmup_steps} warm-up, loss read every ${e.loss_readback_every} and at the end`],
    ...(t
      ? [[`train, TF.js ${t.backend}`, `${f(t.train_images_per_s, 2)} img/s`, `${t.tfjs_version}: same network and adapter, batch ${t.batch}, ${t.steps} steps after ${t.warmup} warm-up; ours is ${f(e.train_images_per_s / t.train_images_per_s, 1)}x`]]
      : []),
    ...(p
      ? [[`train, PyTorch ${p.device_type === 'cuda' ? 'CUDA' : 'CPU'}`, `${f(p.train_images_per_s, 1)} img/s`, `torch ${p.torch} fp32 eager, TF32 off, on ${p.device_type === 'cuda' ? p.device : `the CPU itself, ${p.threads} threads`}: same network, batch ${p.batch}, ${p.steps} steps after ${p.warmup_steps} warm-up; ${ratio(e.train_images_per_s / p.train_images_per_s)}`]]
      : []),
    ['step (wall)', `${f(e.step_ms, 1)} ms`, `${f(e.dispatches_per_step, 0)} dispatches${e.texture_copies_per_step ? `, ${f(e.texture_copies_per_step, 0)} copies into texture mirrors (${f(e.texture_copy_bytes_per_step! / 2 ** 20, 1)} MiB)` : ''}, ${f(e.submits_per_step, 1)} submits per step`],
    ...(e.gpu_ms_per_step != null
      ? [['step (GPU)', `${f(e.gpu_ms_per_step, 1)} ms`, `GPU timestamps around ${e.steps} more steps recorded back to back: ${f((100 * e.gpu_ms_per_step) / e.step_ms, 0)}% of the wall step above (near 100%: the GPU sets the pace)`]]
      : []),
    ...(e.timed_from_iteration !== undefined
      ? [['final loss', e.final_loss.toPrecision(9), `after iteration ${e.timed_from_iteration + e.steps} (the timed steps start at iteration ${e.timed_from_iteration} whatever the warm-up ran): the same bits for the same code, adapter and kernel configuration`]]
      : []),
    ['encode a step (CPU)', `${f(e.encode_cpu_ms, 2)} ms`, `while the GPU runs; ${f(e.encode_cpu_ms_gpu_idle, 2)} ms with the GPU idle${replayNote(e)}`],
    ...(e.epoch ? [['epoch', `${f(e.epoch.seconds, 2)} s`, `${e.epoch.images} images, ${e.epoch.steps} steps from an epoch boundary (${f(e.epoch.images_per_s, 1)} img/s), loss read every ${e.loss_readback_every} and at the end`]] : []),
    ...(e.epochs ?? []).slice(1).map((x, k) => [`epoch ${k + 2}`, `${f(x.seconds, 2)} s`, `the next one (${f(x.images_per_s, 1)} img/s): the last batch's ${x.images % e.batch || e.batch} images no longer new shapes, as in every later epoch of a run`]),
    ['eval', `${f(e.eval_images_per_s, 1)} img/s`, `${e.eval_images} images, batch ${e.eval_batch}${e.eval_extra_batch ? ' (the training batch, as train evaluates)' : ''}${e.eval_runs_ms ? `; median of ${e.eval_runs_ms.length} evaluations` : ''}`],
    ...(e.eval_extra_batch ? [[`eval, batch ${e.eval_extra_batch.batch}`, `${f(e.eval_extra_batch.images_per_s, 1)} img/s`, 'the same evaluation at another batch']] : []),
    ['GPU memory in use', mib(e.gpu_memory.total_bytes), `training: pool ${mib(e.gpu_memory.pool_bytes)}${e.gpu_memory.texture_mirror_bytes ? `, texture mirrors ${mib(e.gpu_memory.texture_mirror_bytes)}` : ''}, params+grads+momenta+masks ${mib(e.gpu_memory.params_bytes)}, BN state ${mib(e.gpu_memory.state_bytes)}, data ${mib(e.gpu_memory.dataset_bytes)}`],
    ['... after eval', mib(e.gpu_memory_after_eval.total_bytes), `pool ${mib(e.gpu_memory_after_eval.pool_bytes)} (eval batch ${e.eval_batch})`],
    ...(e.gpu_memory_after_epochs
      ? [['... after the epochs', mib(e.gpu_memory_after_epochs.total_bytes), `pool ${mib(e.gpu_memory_after_epochs.pool_bytes)}: also the partial last batch's captured step`]]
      : []),
  ];
  return table(['end to end', 'value', 'how'], rows, ['l', 'r', 'l'], markdown);
}

export function header(r: BenchReport): string {
  // older reports (before the host CPU was recorded) have no cpu
  const cpu = r.environment.cpu ? `\nhost CPU: ${String(r.environment.cpu)}` : '';
  return `adapter: ${r.adapter}\nDawn (npm webgpu): ${r.dawn_version}   commit: ${r.git_commit}   node: ${String(r.environment.node)}${cpu}`;
}

/** The README section: headline numbers, ceilings, end to end, step profile and every kernel. */
export function renderMarkdown(r: BenchReport, source: string): string {
  const out: string[] = [];
  const e = r.end_to_end && !('skipped' in r.end_to_end) ? r.end_to_end : null;
  const cpu = r.environment.cpu ? ` (host CPU: ${String(r.environment.cpu)})` : '';
  out.push(`Measured by \`npm run bench\` on **${r.adapter}**${cpu}, Dawn ${r.dawn_version}, commit \`${r.git_commit.slice(0, 12)}\`, ${r.date.slice(0, 10)} ([${source}](${source})).`);
  out.push('');
  if (e) {
    const p = r.pytorch && !('skipped' in r.pytorch) ? r.pytorch : null;
    const others = [
      ...(r.speedup_vs_tfjs ? [`${f(r.speedup_vs_tfjs, 1)}x TF.js-webgpu measured in the same run`] : []),
      ...(p ? [`PyTorch fp32 eager on ${p.device_type === 'cuda' ? p.device : 'the same CPU'}: ${f(p.train_images_per_s, 1)} img/s`] : []),
    ];
    const vs = others.length ? ` (${others.join('; ')})` : '';
    out.push(`**ResNet-20, batch ${e.batch}: ${f(r.train_images_per_s ?? NaN, 1)} training images/s${vs}, ${f(r.eval_images_per_s ?? NaN, 1)} evaluation images/s.**`);
    out.push('');
  }
  // the issue's targets, read off the report's measurements by the current bench/targets.ts (a
  // file's own `targets` are what the bench that wrote it read; older files have none)
  const targets = checkTargets(r);
  const caution = kernelPassCaution(r);
  out.push('The performance targets for this adapter (`bench/targets.ts`):', '', ...targetLines(targets).map((l) => `- ${l}`), ...(caution ? [`- ${caution}`] : []), '');
  if (r.ceilings) out.push(ceilingsTable(r.ceilings, true), '');
  if (e) out.push(endToEndTable(e, true, r.tfjs ?? null, r.pytorch ?? null), '');
  for (const p of r.step_profiles) {
    out.push(`${p.model} training step, batch ${p.batch}: ${p.dispatches} dispatches + ${p.copies} copies, ${f(p.gpu_ms, 1)} ms of GPU time (each timed alone):`, '');
    out.push(profileTable(p, true), '');
  }
  if (r.kernels.length) {
    const passes = Math.max(1, ...r.kernels.map((k) => k.pass_ms?.length ?? 1));
    const how = passes > 1 ? `median GPU time, the lower of ${passes} passes` : 'median GPU time';
    out.push(`<details><summary>Every kernel at the models' shapes (${how}; rate and share of the matching ceiling)</summary>`, '');
    out.push(kernelsTable(r.kernels, true), '');
    if (r.kernels.some((k) => k.launch_bound)) out.push('(launch-bound): within 3x of the fixed cost of its dispatches in a timed pass (empty pass + empty dispatches): tensors this small measure launch overhead, not bandwidth or FLOPs.', '');
    if (r.kernels.some((k) => k.bound)) {
      out.push(
        "of roofline: the least time the same run's ceilings allow for the entry's work (its FLOPs at the FMA ceiling or its compulsory bytes at the copy bandwidth, whichever is larger; `bench/roofline.ts`) as a share of its time, and which binds (launch: the fixed cost of its dispatches exceeds both). A conv marked memory cannot reach a high share of the FMA ceiling on any kernel design.",
        '',
      );
    }
    for (const line of perStepSummary(r.kernels)) out.push(line, '');
    out.push('</details>');
  }
  return out.join('\n');
}
