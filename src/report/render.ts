// Vega-Lite spec -> SVG (vega's headless SVG renderer: no canvas, no browser) -> PNG (resvg, with the
// DejaVu Sans TTF shipped by the dejavu-fonts-ttf npm package, so the PNG text does not depend on the
// fonts of the machine).
//
// resvg-js is a native addon: it is loaded through a runtime require (not an import) so that the
// esbuild bundle leaves it to Node's resolution from node_modules.
import { createRequire } from 'node:module';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { TextWidths } from './text_width.js';

const nodeRequire = createRequire(import.meta.url);

export const FONT_FAMILY = 'DejaVu Sans';

type ResvgModule = typeof import('@resvg/resvg-js');
let resvg: ResvgModule | null = null;
let fontFiles: string[] | null = null;

function loadResvg(): ResvgModule {
  resvg ??= nodeRequire('@resvg/resvg-js') as ResvgModule;
  return resvg;
}

function fonts(): string[] {
  fontFiles ??= ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf'].map((f) => nodeRequire.resolve(`dejavu-fonts-ttf/ttf/${f}`));
  return fontFiles;
}

interface TextItem {
  fontSize?: number | string;
  fontWeight?: string | number;
  limit?: number;
}
let widths: TextWidths | null = null;

/** Lay text out by DejaVu Sans' own advance widths instead of vega's canvas-less estimate (src/report/text_width.ts). */
function measureTextWithFont(): void {
  if (widths) return;
  const [regular, bold] = fonts();
  const w = (widths = new TextWidths(regular, bold));
  // vega exports its textMetrics object (meant to be replaced, as vl-convert does) but does not type it
  (vega as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } }).textMetrics.width = (item, text) => {
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11; // vega's default size
    const t = text == null ? '' : String(text).trim();
    if (size <= 0 || !t) return 0;
    const px = w.width(t, size, item.fontWeight);
    return item.limit !== undefined && item.limit > 0 ? Math.min(px, item.limit) : px; // vega truncates to the limit
  };
}

/** Compile a Vega-Lite spec and render it to an SVG string. */
export async function renderSvg(spec: object): Promise<string> {
  measureTextWithFont();
  const vgSpec = compile(spec as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterise an SVG (scale 2 = 2 pixels per SVG unit) to PNG bytes. */
export function svgToPng(svg: string, scale = 2): Buffer {
  const { Resvg } = loadResvg();
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: false, fontFiles: fonts(), defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
  });
  return r.render().asPng();
}
