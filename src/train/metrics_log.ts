// metrics.jsonl: one JSON object a line. Appends are flushed line by line; on resume the file is cut
// back (atomically) to what the checkpoint covers, so a resumed run's log has no duplicated lines.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/files.js';

export type MetricRecord = Record<string, string | number | boolean | null>;

export class MetricsLog {
  constructor(readonly path: string) {}

  append(record: MetricRecord): void {
    appendFileSync(this.path, JSON.stringify(record) + '\n');
  }

  read(): MetricRecord[] {
    if (!existsSync(this.path)) return [];
    const out: MetricRecord[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as MetricRecord);
      } catch {
        // A line torn by a kill mid-write: drop it (the checkpoint does not cover it anyway).
      }
    }
    return out;
  }

  /** Keep only records at or before `iteration` (events included), dropping a torn last line. */
  truncateAfter(iteration: number): void {
    const kept = this.read().filter((r) => typeof r.iteration !== 'number' || r.iteration <= iteration);
    writeFileAtomic(this.path, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  }
}
