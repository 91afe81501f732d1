// Plain-text tables for the terminal.
import type { LevelResult } from '../lottery/lottery.js';

export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i])).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function formatLevels(results: LevelResult[]): string {
  return table(
    ['replicate', 'level', 'weights left', 'test acc', 'test loss'],
    results.map((r) => [r.replicate, r.level, `${(100 * r.sparsity.fraction_remaining).toFixed(2)}%`, r.test ? `${(100 * r.test.accuracy).toFixed(2)}%` : '-', r.test ? r.test.loss.toFixed(4) : '-']),
  );
}
