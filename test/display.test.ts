import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { displayBundle, inKernel, newLiveDisplay } from '../src/notebook/display';
import { plotBundle, showPlot, VEGALITE_MIME, confusionHeatmapSpec } from '../src/notebook/plots';
import { showTable } from '../src/notebook/tables';
import type { StreamTotals } from '../src/stream/batch';

// The module instance our display code writes through: tslab's own jupyter module.
const jupyter = createRequire(__filename)('tslab/dist/jupyter') as { lastWriteDisplayData: unknown };

interface Sent {
  message: { data: Record<string, unknown>; metadata: object; transient: { display_id?: string } };
  update: boolean;
}

function record(): Sent[] {
  const sent: Sent[] = [];
  jupyter.lastWriteDisplayData = (message: Sent['message'], update: boolean) => sent.push({ message, update });
  return sent;
}

afterEach(() => {
  jupyter.lastWriteDisplayData = null;
});

describe("display through tslab's internal writer", () => {
  it('tslab still exposes the writer this module relies on', () => {
    expect(Object.keys(jupyter)).toContain('lastWriteDisplayData');
  });
  it('outside a kernel cell it explains itself instead of printing nothing', () => {
    jupyter.lastWriteDisplayData = null;
    expect(inKernel()).toBe(false);
    expect(() => displayBundle({ 'text/plain': 'x' })).toThrow(/only inside a cell running in the tslab kernel/);
  });
  it('sends every MIME type of a bundle in ONE display_data message', () => {
    const sent = record();
    displayBundle({ 'text/html': '<b>x</b>', 'text/plain': 'x' });
    expect(sent).toHaveLength(1);
    expect(sent[0].update).toBe(false);
    expect(Object.keys(sent[0].message.data)).toEqual(['text/html', 'text/plain']);
    expect(sent[0].message.transient).toEqual({});
  });
  it('a live display first shows, then updates in place under the same display id', () => {
    const sent = record();
    const live = newLiveDisplay();
    live.show({ 'text/plain': 'one' });
    live.show({ 'text/plain': 'two' });
    live.show({ 'text/plain': 'three' });
    expect(sent.map((s) => s.update)).toEqual([false, true, true]);
    const ids = new Set(sent.map((s) => s.message.transient.display_id));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^[0-9a-f]{16}$/);
    expect(live.updates).toBe(3);
    expect(newLiveDisplay()).not.toBe(live);
  });
  it('a plot is one message carrying Vega-Lite, SVG and text', async () => {
    const sent = record();
    const spec = confusionHeatmapSpec({ labels: [-1, 1], matrix: [[5, 1], [2, 90]] });
    await showPlot(spec);
    expect(sent).toHaveLength(1);
    const data = sent[0].message.data;
    expect(Object.keys(data).sort()).toEqual([VEGALITE_MIME, 'image/svg+xml', 'text/plain'].sort());
    expect(data[VEGALITE_MIME]).toBe(spec);
    expect(String(data['image/svg+xml'])).toMatch(/^<svg[^>]*>/);
    expect(data['text/plain']).toBe('[chart: Confusion matrix]');
    // vega numbers gradient/clip ids with a process-wide counter (unique within a page), otherwise identical
    const again = await plotBundle(spec);
    const ids = (svg: unknown) => String(svg).replace(/(gradient|clip)_?\d+/g, '$1');
    expect(ids(again['image/svg+xml'])).toBe(ids(data['image/svg+xml']));
    expect(again[VEGALITE_MIME]).toEqual(spec);
  });
  it('a table is one message with HTML and a text twin', () => {
    const sent = record();
    showTable([{ a: 1, b: 'x<y' }], { caption: 'T' });
    expect(sent).toHaveLength(1);
    expect(sent[0].message.data['text/html']).toContain('<td>x&lt;y</td>');
    expect(sent[0].message.data['text/plain']).toContain('T\n');
  });
});

describe('StreamDashboard: one chart and one table, redrawn in place', () => {
  it('each batch redraws both under their own display ids; flagged rows newest first', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { DEFAULT_PARAMS } = await import('../src/params/params');
    const { bundleFromPipeline, runPipeline } = await import('../src/workflow/pipeline');
    const { loadBundle, saveBundle } = await import('../src/persist/bundle');
    const { processStream, simulatedStream } = await import('../src/stream/batch');
    const { StreamDashboard, streamTotalsRows } = await import('../src/notebook/stream-dashboard');
    const params = { ...DEFAULT_PARAMS, nNormal: 2000, nAnomalous: 100, nEstimators: 20, streamBatches: 3, streamBatchSize: 200, streamAnomalyShare: 0.05 };
    const path = join(mkdtempSync(join(tmpdir(), 'dash-')), 'model.json');
    saveBundle(path, bundleFromPipeline(runPipeline(params)));
    const model = loadBundle(path);
    const sent = record();
    const dash = new StreamDashboard(model, 3);
    let totals: StreamTotals | undefined;
    for await (const u of processStream(model, simulatedStream(params))) {
      await dash.show(u);
      totals = u.totals;
    }
    expect(dash.redraws).toEqual({ chart: 3, table: 3 });
    const charts = sent.filter((s) => VEGALITE_MIME in s.message.data);
    const tables = sent.filter((s) => 'text/html' in s.message.data);
    expect(charts.map((s) => s.update)).toEqual([false, true, true]);
    expect(tables.map((s) => s.update)).toEqual([false, true, true]);
    expect(new Set(charts.map((s) => s.message.transient.display_id)).size).toBe(1);
    expect(charts[0].message.transient.display_id).not.toBe(tables[0].message.transient.display_id);
    expect(dash.timeline.map((p) => p.batch)).toEqual([0, 1, 2]);
    const batchesOfFlagged = dash.flagged.map((r) => r.batch);
    expect([...batchesOfFlagged].sort((a, b) => b - a)).toEqual(batchesOfFlagged); // newest first
    expect(dash.flagged.length).toBe(totals!.anomalies);
    expect(streamTotalsRows(totals!).find((r) => r.total === 'rows scored')!.value).toBe(600);
  });
});
