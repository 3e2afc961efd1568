/**
 * Rendering Vega-Lite charts: compile a spec (collecting its warnings), render it
 * to SVG in Node, show it in a notebook (the spec, its SVG and a text line in one
 * display) and save it beside the notebook's artifacts.
 *
 * vega-lite 5 / vega 5 on purpose: version 6 is ESM-only with top-level await
 * and cannot be require()d by the CommonJS code the tslab kernel runs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { displayBundle, type LiveDisplay, type MimeBundle } from './display';

/** A Vega-Lite v5 specification (plain JSON). */
export type VegaLiteSpec = vl.TopLevelSpec;

export const VEGALITE_MIME = 'application/vnd.vegalite.v5+json';

/** Compile to Vega, collecting Vega-Lite's warnings instead of printing them. */
export function compileSpec(spec: VegaLiteSpec): { vega: vega.Spec; warnings: string[] } {
  const warnings: string[] = [];
  const logger = {
    level: () => logger,
    error: (...args: unknown[]) => {
      throw new Error(`Vega-Lite: ${args.join(' ')}`);
    },
    warn: (...args: unknown[]) => {
      warnings.push(args.join(' '));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  const compiled = vl.compile(spec, { logger: logger as unknown as NonNullable<Parameters<typeof vl.compile>[1]>['logger'] });
  return { vega: compiled.spec, warnings };
}

/**
 * Round the geometry in an SVG to 2 decimals (1/100 px): vega writes up to 15
 * digits per coordinate, which doubles the size of a scatter plot for nothing.
 * Only geometry attributes are touched, never text.
 */
export function compactSvg(svg: string): string {
  return svg.replace(/ (d|transform|x|y|x1|x2|y1|y2|width|height|viewBox)="([^"]*)"/g, (_m, name: string, value: string) => {
    const v = value.replace(/-?\d*\.\d{3,}/g, (num) => String(Math.round(Number(num) * 100) / 100));
    return ` ${name}="${v}"`;
  });
}

/** Render a spec to SVG in Node with vega's headless view (no browser, no canvas). */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  // The static picture drops the per-mark ARIA descriptions (a sentence per point, most of the
  // bytes of a scatter plot); the interactive Vega-Lite output keeps them.
  const staticSpec = { ...spec, config: { ...(spec as { config?: object }).config, aria: false } } as VegaLiteSpec;
  const { vega: compiled, warnings } = compileSpec(staticSpec);
  for (const w of warnings) console.warn(`Vega-Lite warning: ${w}`);
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return compactSvg(await view.toSVG());
  } finally {
    view.finalize();
  }
}

function titleText(spec: VegaLiteSpec): string {
  const t = (spec as { title?: string | { text?: string | string[] } }).title;
  if (typeof t === 'string') return t;
  if (t && t.text) return Array.isArray(t.text) ? t.text.join(' ') : t.text;
  return 'chart';
}

/**
 * A chart as one display bundle: Vega-Lite for JupyterLab (interactive, with
 * tooltips), SVG for static viewers, and a text line for consoles.
 */
export async function plotBundle(spec: VegaLiteSpec): Promise<MimeBundle> {
  return {
    [VEGALITE_MIME]: spec,
    'image/svg+xml': await renderSvg(spec),
    'text/plain': `[chart: ${titleText(spec)}]`,
  };
}

/** Show a chart in the notebook (or redraw a live display in place). */
export async function showPlot(spec: VegaLiteSpec, live?: LiveDisplay): Promise<void> {
  const bundle = await plotBundle(spec);
  if (live) live.show(bundle);
  else displayBundle(bundle);
}

/** Write a chart as `<base>.vl.json` (Vega-Lite) and `<base>.svg`; returns both paths. */
export async function saveFigure(base: string, spec: VegaLiteSpec): Promise<{ spec: string; svg: string }> {
  mkdirSync(dirname(base), { recursive: true });
  const paths = { spec: `${base}.vl.json`, svg: `${base}.svg` };
  writeFileSync(paths.spec, `${JSON.stringify(spec, null, 1)}\n`);
  writeFileSync(paths.svg, await renderSvg(spec));
  return paths;
}
