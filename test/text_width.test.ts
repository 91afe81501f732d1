// src/report/text_width.ts: string widths from the DejaVu Sans TTFs, checked against the ink that
// resvg (the PNG renderer, which shapes text itself) draws for the same strings; and the figure's
// SVG is as wide as its content, not as vega's canvas-less estimate (0.8 x font size per character).
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { renderSvg } from '../src/report/render.js';
import { TextWidths } from '../src/report/text_width.js';

const require = createRequire(import.meta.url);
const ttf = (f: string) => require.resolve(`dejavu-fonts-ttf/ttf/${f}`);
const widths = new TextWidths(ttf('DejaVuSans.ttf'), ttf('DejaVuSans-Bold.ttf'));

/** Width of the ink resvg draws for one line of text (between the first and the last glyph's outlines). */
function inkWidth(text: string, size: number, weight: string): number {
  const { Resvg } = require('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
  const esc = text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="3000" height="100"><text x="10" y="50" font-family="DejaVu Sans" font-size="${size}" font-weight="${weight}">${esc}</text></svg>`;
  const r = new Resvg(svg, { font: { loadSystemFonts: false, fontFiles: [ttf('DejaVuSans.ttf'), ttf('DejaVuSans-Bold.ttf')], defaultFontFamily: 'DejaVu Sans' } });
  return r.getBBox()!.width;
}

describe('text widths from the font', () => {
  const lines: [string, number, string][] = [
    ['REDUCED PROTOCOL: CIFAR-10, 2,000 of 50,000 training images, 4ep = 64 iterations', 11, 'normal'],
    ['line: mean over replicates; band: min–max over replicates', 11, 'normal'],
    ['Figure 1: IMP rewound to iteration k, ResNet-20', 14, 'bold'],
    ['Percent of Weights Remaining', 11, 'bold'],
    ['0.375', 10, 'normal'],
  ];
  it.each(lines)('"%s" at %i px %s: the advance widths span the ink resvg draws', (text, size, weight) => {
    const w = widths.width(text, size, weight);
    const ink = inkWidth(text, size, weight);
    // the advances include the first glyph's left and the last glyph's right side bearing (under a
    // tenth of an em each); kerning moves a few glyph pairs by far less
    expect(w).toBeGreaterThan(ink);
    expect(w - ink).toBeLessThan(0.25 * size + 0.01 * w);
  });

  it('bold is wider than regular, and a character outside the font counts as the missing glyph', () => {
    expect(widths.width('Accuracy', 12, 'bold')).toBeGreaterThan(widths.width('Accuracy', 12));
    expect(widths.width('Accuracy', 12, 700)).toBe(widths.width('Accuracy', 12, 'bold'));
    expect(widths.width('\u{1F600}', 10)).toBeGreaterThan(0);
    expect(widths.width('', 10)).toBe(0);
  });

  it('a figure with a long subtitle is as wide as its text, not as the estimate', async () => {
    const subtitle = 'REDUCED PROTOCOL: CIFAR-10, 2,000 of 50,000 training images, 4ep = 64 iterations, 1,000 of 10,000 test images';
    const spec = { title: { text: 'T', subtitle: [subtitle], subtitleFontSize: 11, anchor: 'start' }, width: 200, height: 100, data: { values: [{ x: 1, y: 1 }] }, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } };
    const svg = await renderSvg(spec);
    const width = Number(/<svg[^>]* width="([\d.]+)"/.exec(svg)![1]);
    const text = widths.width(subtitle, 11);
    expect(width).toBeGreaterThan(text);
    expect(width).toBeLessThan(text + 40); // padding only; the estimate would be 0.8 * 11 * 112 = 986 px
    expect(0.8 * 11 * subtitle.length).toBeGreaterThan(text + 200);
  });
});
