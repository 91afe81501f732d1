// Statistics over replicates and the CSV of every plotted point. A point keeps the per-replicate
// values it was computed from, so figures.csv can be checked against the metrics files by hand.

export interface Observation {
  replicate: string;
  value: number;
}

export interface Aggregate {
  mean: number;
  /** Sample standard deviation (n - 1); 0 for a single replicate. */
  std: number;
  min: number;
  max: number;
  n: number;
  values: Observation[];
}

export function aggregate(values: Observation[]): Aggregate | null {
  const finite = values.filter((v) => Number.isFinite(v.value));
  const n = finite.length;
  if (!n) return null;
  const xs = finite.map((v) => v.value);
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, min: Math.min(...xs), max: Math.max(...xs), n, values: finite };
}

/** One plotted point: the mean and spread of y over replicates at (series, x), or a missing one. */
export interface PlotPoint {
  figure: string;
  panel: string;
  series: string;
  xLabel: string;
  x: number;
  yLabel: string;
  y: Aggregate | null;
  /**
   * Replicates the point expects that have no finished value there (not plotted): their run is
   * unfinished, not started yet, or (telemetry) still running short of this iteration.
   */
  missing: string[];
  /** Of `missing`, those whose run has not started (no run directory yet). */
  notStarted?: string[];
}

export const CSV_COLUMNS = [
  'figure',
  'panel',
  'series',
  'x_label',
  'x',
  'y_label',
  'y_mean',
  'y_std',
  'y_min',
  'y_max',
  'n',
  'n_missing',
  'status',
  'values',
  'missing_replicates',
] as const;

function csvField(v: string | number): string {
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(fields: (string | number)[]): string {
  return fields.map(csvField).join(',') + '\n';
}

/** status: ok (every expected replicate finished), partial (some unfinished or not started: mean of the finished), missing (none finished). */
export function pointStatus(p: PlotPoint): 'ok' | 'partial' | 'missing' {
  if (!p.y) return 'missing';
  return p.missing.length ? 'partial' : 'ok';
}

export function pointsCsv(points: PlotPoint[]): string {
  let out = csvLine([...CSV_COLUMNS]);
  for (const p of points) {
    out += csvLine([
      p.figure,
      p.panel,
      p.series,
      p.xLabel,
      p.x,
      p.yLabel,
      p.y ? p.y.mean : '',
      p.y ? p.y.std : '',
      p.y ? p.y.min : '',
      p.y ? p.y.max : '',
      p.y ? p.y.n : 0,
      p.missing.length,
      pointStatus(p),
      p.y ? p.y.values.map((v) => `${v.replicate}=${v.value}`).join(';') : '',
      p.missing.join(';'),
    ]);
  }
  return out;
}

/** Parse a CSV written by csvLine (quoted fields with doubled quotes). */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}
