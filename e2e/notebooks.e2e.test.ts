import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notebookPaths } from '../src/cli/notebooks';
import { ARTIFACTS, TSLAB, VENV_PYTHON } from '../src/cli/project';
import { startLab, type Lab } from './jupyterlab';

/**
 * What a learner sees: JupyterLab from the project's .venv, driven in Debian's
 * Chromium. Each notebook is opened, run top to bottom with the TypeScript
 * kernel, and checked for errors, rendered Vega-Lite plots, visible tables and
 * (08) a live display that updates in place; a full-page screenshot of each
 * goes to artifacts/screenshots/.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(ARTIFACTS, 'screenshots');
/** Vega-Lite charts each notebook draws */
const PLOTS: Record<string, number> = {
  '01_simulate_traffic.ipynb': 1,
  '02_preprocess.ipynb': 1,
  '03_train_isolation_forest.ipynb': 1,
  '04_predict.ipynb': 1,
  '05_evaluate.ipynb': 0,
  '06_visualize.ipynb': 8,
  '07_save_model.ipynb': 0,
  '08_streaming.ipynb': 1,
  '09_real_traffic.ipynb': 3,
  '10_explain_alerts.ipynb': 3,
  '11_scale_out_redis.ipynb': 1,
  '12_your_own_traffic.ipynb': 2,
};

let lab: Lab | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;

beforeAll(async () => {
  for (const [what, path] of [
    ['Debian chromium (apt-get install chromium)', CHROMIUM],
    ['the .venv (npm run setup)', VENV_PYTHON],
    ['the tslab kernel (npm install)', TSLAB],
  ]) {
    if (!existsSync(path)) throw new Error(`The browser test needs ${what}: ${path} is missing.`);
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  lab = await startLab();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await lab?.stop();
});

interface CellReport {
  index: number;
  count: number | null;
  outputs: Array<{ type: string; name?: string; text: string; mimes: string[] }>;
}

interface PageReport {
  kernel: string;
  toolbarKernel: string;
  cells: CellReport[];
  plots: Array<{ kind: string; width: number; height: number; painted: number; marks: number }>;
  tables: Array<{ width: number; height: number; rows: number }>;
  staticFallbacks: number;
  vegaRenders: number;
  tableRenders: number;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
async function openAndRun(page: Page, name: string): Promise<PageReport> {
  await page.goto(`${lab!.url}/lab/tree/notebooks/${name}?reset&token=${lab!.token}`);
  await page.waitForFunction(
    (n) => {
      const w = (window as any).jupyterapp?.shell?.currentWidget;
      return !!w && w.context?.path?.endsWith(n) && w.sessionContext?.session?.kernel?.status === 'idle';
    },
    name,
    { timeout: 120_000, polling: 250 },
  );
  // start from empty outputs, count every Vega-Lite chart and table the run draws
  await page.evaluate(async () => {
    const app = (window as any).jupyterapp;
    await app.commands.execute('notebook:clear-all-cell-outputs');
    const counts = { vega: 0, table: 0 };
    (window as any).__renders = counts;
    new MutationObserver((records) => {
      for (const r of records) {
        r.addedNodes.forEach((node) => {
          if (!(node instanceof HTMLElement)) return;
          // a chart drawn (or redrawn in place: JupyterLab keeps the output widget and vega-embed draws a new canvas)
          if (node.matches('canvas, svg.marks') ? !!node.closest('.jp-RenderedVegaCommon5') : !!node.querySelector('.jp-RenderedVegaCommon5 canvas, .jp-RenderedVegaCommon5 svg.marks')) counts.vega++;
          if (node.matches('table') || node.querySelector('.jp-RenderedHTMLCommon table')) counts.table++;
        });
      }
    }).observe(app.shell.currentWidget.content.node, { childList: true, subtree: true });
    void app.commands.execute('notebook:run-all-cells');
  });
  // done when the kernel is idle and every code cell has a count, or a cell reported an error
  await page.waitForFunction(
    () => {
      const w = (window as any).jupyterapp.shell.currentWidget;
      const code = w.content.widgets.filter((c: any) => c.model.type === 'code');
      const failed = code.some((c: any) => c.model.outputs.toJSON().some((o: any) => o.output_type === 'error' || o.name === 'stderr'));
      const done = code.every((c: any) => c.model.executionCount !== null && !String(c.promptNode?.textContent ?? '').includes('*'));
      return w.sessionContext.session?.kernel?.status === 'idle' && (done || failed);
    },
    null,
    { timeout: 240_000, polling: 500 },
  );
  // vega-embed draws asynchronously: give the last chart a moment
  await page.waitForTimeout(1000);
  return page.evaluate(() => {
    const w = (window as any).jupyterapp.shell.currentWidget;
    const node: HTMLElement = w.content.node;
    const cells = w.content.widgets
      .map((c: any, index: number) => ({ c, index }))
      .filter(({ c }: any) => c.model.type === 'code')
      .map(({ c, index }: any) => ({
        index,
        count: c.model.executionCount,
        outputs: c.model.outputs.toJSON().map((o: any) => ({
          type: o.output_type,
          name: o.name,
          text: String(Array.isArray(o.text) ? o.text.join('') : (o.text ?? o.evalue ?? '')).slice(0, 800),
          mimes: Object.keys(o.data ?? {}),
        })),
      }));
    const plots = Array.from(node.querySelectorAll('.jp-RenderedVegaCommon5')).map((v) => {
      const canvas = v.querySelector('canvas');
      const svg = v.querySelector('svg');
      let painted = 0;
      if (canvas && canvas.width > 0 && canvas.height > 0) {
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < data.length; i += 4 * 5) if (data[i + 3] > 0 && (data[i] < 235 || data[i + 1] < 235 || data[i + 2] < 235)) painted++;
      }
      const box = v.getBoundingClientRect();
      return {
        kind: canvas ? 'canvas' : svg ? 'svg' : 'none',
        width: box.width,
        height: box.height,
        painted,
        marks: svg ? svg.querySelectorAll('.mark-symbol path, .mark-rect path, .mark-line path, .mark-rule line').length : 0,
      };
    });
    const tables = Array.from(node.querySelectorAll('.jp-RenderedHTMLCommon table')).map((t) => {
      const box = t.getBoundingClientRect();
      return { width: box.width, height: box.height, rows: (t as HTMLTableElement).rows.length };
    });
    const toolbar = w.toolbar?.node?.querySelector('.jp-Toolbar-kernelName') ?? document.querySelector('.jp-Toolbar-kernelName');
    return {
      kernel: w.sessionContext.kernelDisplayName,
      toolbarKernel: String(toolbar?.textContent ?? '').trim(),
      cells,
      plots,
      tables,
      staticFallbacks: node.querySelectorAll('.jp-RenderedSVG, .jp-RenderedImage').length,
      vegaRenders: (window as any).__renders.vega,
      tableRenders: (window as any).__renders.table,
    };
  });
}

/** Grow the viewport to the whole notebook, then take one picture of it. */
async function screenshot(page: Page, name: string): Promise<void> {
  const height = await page.evaluate(async () => {
    const app = (window as any).jupyterapp;
    // the notebook, not the file browser, is the subject
    if (!app.shell.leftCollapsed) await app.commands.execute('application:toggle-left-area');
    const node: HTMLElement = app.shell.currentWidget.content.node;
    // the cells live in the windowed panel's inner element, which is as tall as the whole notebook
    const inner = (node.querySelector('.jp-WindowedPanel-inner') as HTMLElement | null) ?? node;
    return Math.ceil(node.getBoundingClientRect().top + inner.scrollHeight + 60);
  });
  await page.setViewportSize({ width: 1280, height: Math.min(Math.max(height, 900), 16_000) });
  await page.evaluate(() => {
    const panel = (window as any).jupyterapp.shell.currentWidget;
    panel.content.activeCellIndex = 0;
    // run-all leaves the view at the last cell: scroll whatever scrolls back to the top
    for (const el of [panel.node, ...panel.node.querySelectorAll('*')] as HTMLElement[]) if (el.scrollTop > 0) el.scrollTop = 0;
  });
  await page.waitForTimeout(800);
  await page.screenshot({ path: join(SCREENSHOTS, name.replace(/\.ipynb$/, '.png')) });
  await page.setViewportSize({ width: 1280, height: 900 });
}
/* eslint-enable @typescript-eslint/no-explicit-any */

describe('every notebook runs in JupyterLab and shows its tables and plots', () => {
  const names = notebookPaths().map((p) => p.split('/').pop()!);

  it('every notebook of the course is there', () => {
    expect(names).toEqual(Object.keys(PLOTS));
  });

  for (const name of Object.keys(PLOTS)) {
    it(name, async () => {
      const page = await context!.newPage();
      try {
        const report = await openAndRun(page, name);
        await screenshot(page, name);
        expect(report.kernel).toBe('TypeScript');
        expect(report.toolbarKernel).toBe('TypeScript');
        for (const cell of report.cells) {
          for (const o of cell.outputs) {
            expect(o.type === 'error' || o.name === 'stderr', `${name} cell ${cell.index}: ${o.text}`).toBe(false);
          }
          expect(cell.count, `${name} cell ${cell.index} did not run`).not.toBeNull();
        }
        // JupyterLab draws the Vega-Lite version of every chart, and only that one
        expect(report.plots.length, `${name}: Vega-Lite charts rendered`).toBe(PLOTS[name]);
        for (const p of report.plots) {
          expect(p.kind).not.toBe('none');
          expect(p.width).toBeGreaterThan(200);
          expect(p.height).toBeGreaterThan(150);
          expect(p.kind === 'canvas' ? p.painted : p.marks, `${name}: a chart with nothing drawn`).toBeGreaterThan(50);
        }
        expect(report.staticFallbacks, `${name}: the SVG twin must not be shown in JupyterLab`).toBe(0);
        expect(report.tables.length, `${name}: HTML tables`).toBeGreaterThan(0);
        for (const t of report.tables) {
          expect(t.width).toBeGreaterThan(50);
          expect(t.height).toBeGreaterThan(10);
          expect(t.rows).toBeGreaterThan(1);
        }
        if (name === '08_streaming.ipynb') {
          // one chart and one table, redrawn in place batch after batch
          expect(report.vegaRenders, 'live chart redraws').toBeGreaterThan(1);
          expect(report.tableRenders, 'live table redraws').toBeGreaterThan(1);
        }
      } finally {
        await page.close();
      }
    });
  }

  it('wrote every artifact into the fresh folder the kernels used', () => {
    for (const f of ['traffic.csv', 'preprocess.json', 'forest.json', 'predictions.json', 'metrics.json', 'model.json', 'stream-summary.json']) {
      expect(existsSync(join(lab!.artifacts, f)), f).toBe(true);
    }
  });
});
