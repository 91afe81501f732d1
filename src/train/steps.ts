// Steps in open_lth's notation: "500it", "2ep", "1ep10it". An epoch is ceil(train_size / batch)
// iterations (the last, smaller batch is kept: 391 for 50,000 images at batch 128).
export class Step {
  constructor(
    readonly iteration: number,
    readonly iterationsPerEpoch: number,
  ) {
    if (!Number.isInteger(iteration) || iteration < 0) throw new Error(`invalid iteration ${iteration}`);
  }
  get epoch(): number {
    return Math.floor(this.iteration / this.iterationsPerEpoch);
  }
  get inEpoch(): number {
    return this.iteration % this.iterationsPerEpoch;
  }
  toString(): string {
    return `${this.epoch}ep${this.inEpoch}it`;
  }
}

const STEP_RE = /^(?:(\d+)ep)?(?:(\d+)it)?$/;

/** Parse "500it" / "2ep" / "1ep10it" (a bare number means iterations) into an iteration count. */
export function parseStep(text: string, iterationsPerEpoch: number): number {
  const s = text.trim();
  if (/^\d+$/.test(s)) return Number(s);
  const m = STEP_RE.exec(s);
  if (!s || !m || (m[1] === undefined && m[2] === undefined)) throw new Error(`invalid step '${text}': use e.g. 500it, 2ep or 1ep10it`);
  return Number(m[1] ?? 0) * iterationsPerEpoch + Number(m[2] ?? 0);
}

export function isValidStep(text: string): boolean {
  const s = text.trim();
  if (/^\d+$/.test(s)) return true;
  const m = STEP_RE.exec(s);
  return Boolean(s && m && (m[1] !== undefined || m[2] !== undefined));
}
