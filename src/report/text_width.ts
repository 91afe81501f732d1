// Text widths from the DejaVu Sans TTFs the PNGs are rendered with, for vega's layout.
//
// Headless vega has no canvas to measure text with, so it estimates every string as
// 0.8 x font size per character: about 1.4x DejaVu Sans' real width. A figure's long subtitle
// then sets a canvas far wider than the text, and the PNG has a blank band on the right. Here
// each character's advance width is read from the font's `hmtx` table (through its Unicode
// `cmap`, format 4), summed and scaled by the font size: kerning aside, what resvg draws.
import { readFileSync } from 'node:fs';

/** Advance widths of one TTF's glyphs, in ems, by code point (read from its cmap and hmtx tables). */
class FontAdvances {
  private readonly view: DataView;
  private readonly unitsPerEm: number;
  private readonly hmtx: number;
  private readonly numberOfHMetrics: number;
  private readonly cmap4: number;
  private readonly cache = new Map<number, number>();

  constructor(path: string) {
    const bytes = readFileSync(path);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const tables = new Map<string, number>();
    const numTables = this.u16(4);
    for (let i = 0; i < numTables; i++) {
      const rec = 12 + 16 * i;
      tables.set(String.fromCharCode(...bytes.subarray(rec, rec + 4)), this.view.getUint32(rec + 8));
    }
    const need = (tag: string) => {
      const at = tables.get(tag);
      if (at === undefined) throw new Error(`${path}: no '${tag}' table`);
      return at;
    };
    this.unitsPerEm = this.u16(need('head') + 18);
    this.numberOfHMetrics = this.u16(need('hhea') + 34);
    this.hmtx = need('hmtx');
    const cmap = need('cmap');
    let sub = -1;
    for (let i = 0; i < this.u16(cmap + 2); i++) {
      const rec = cmap + 4 + 8 * i;
      const platform = this.u16(rec);
      const encoding = this.u16(rec + 2);
      const at = cmap + this.view.getUint32(rec + 4);
      if (((platform === 3 && encoding === 1) || platform === 0) && this.u16(at) === 4) sub = at;
    }
    if (sub < 0) throw new Error(`${path}: no Unicode cmap of format 4`);
    this.cmap4 = sub;
  }

  private u16(at: number): number {
    return this.view.getUint16(at);
  }

  /** The glyph of a BMP code point (0, the missing glyph, outside the BMP or the font). */
  private glyph(c: number): number {
    const t = this.cmap4;
    const segs = this.u16(t + 6) / 2;
    const ends = t + 14;
    const starts = ends + 2 * segs + 2;
    const deltas = starts + 2 * segs;
    const ranges = deltas + 2 * segs;
    for (let i = 0; i < segs; i++) {
      if (this.u16(ends + 2 * i) < c) continue;
      const start = this.u16(starts + 2 * i);
      if (start > c) return 0;
      const delta = this.u16(deltas + 2 * i);
      const range = this.u16(ranges + 2 * i);
      if (range === 0) return (c + delta) & 0xffff;
      const g = this.u16(ranges + 2 * i + range + 2 * (c - start));
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  }

  /** Advance width of a code point, in ems. */
  advance(c: number): number {
    let w = this.cache.get(c);
    if (w === undefined) {
      const g = c > 0xffff ? 0 : this.glyph(c);
      const metric = Math.min(g, this.numberOfHMetrics - 1);
      w = this.u16(this.hmtx + 4 * metric) / this.unitsPerEm;
      this.cache.set(c, w);
    }
    return w;
  }
}

/** Widths of strings in one regular and one bold TTF (e.g. DejaVu Sans and DejaVu Sans Bold). */
export class TextWidths {
  private readonly regular: FontAdvances;
  private readonly bold: FontAdvances;

  constructor(regularTtf: string, boldTtf: string) {
    this.regular = new FontAdvances(regularTtf);
    this.bold = new FontAdvances(boldTtf);
  }

  /** Width in pixels of `text` at `fontSize` px; weights of 600 and up (or 'bold') use the bold face. */
  width(text: string, fontSize: number, fontWeight?: string | number): number {
    const w = fontWeight === 'bold' || fontWeight === 'bolder' || Number(fontWeight) >= 600 ? this.bold : this.regular;
    let ems = 0;
    for (const ch of text) ems += w.advance(ch.codePointAt(0)!);
    return ems * fontSize;
  }
}
