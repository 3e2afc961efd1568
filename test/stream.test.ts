import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBundle, saveBundle } from '../src/persist/bundle';
import { toRows } from '../src/core/matrix';
import { DEFAULT_PARAMS } from '../src/core/params';
import { bundleFromPipeline, runPipeline } from '../src/workflow/pipeline';
import { simulateBatch } from '../src/data/simulate';
import { processBatch, processStream, simulatedStream } from '../src/stream/batch';

const params = { ...DEFAULT_PARAMS, nNormal: 4000, nAnomalous: 200, nEstimators: 50, streamBatches: 4, streamBatchSize: 300 };
const result = runPipeline(params);
const path = join(mkdtempSync(join(tmpdir(), 'stream-')), 'model.json');
saveBundle(path, bundleFromPipeline(result));
const model = loadBundle(path);

describe('processBatch (the reference process_streaming_data)', () => {
  const batch = simulateBatch(params, 0, { anomalyShare: 0.1 });
  const r = processBatch(model, batch.X);
  it('scales, projects and scores with the saved model, no refit', () => {
    const scaled = result.scaler.transform(batch.X);
    expect(r.scores).toEqual(result.forest.scoreSamples(scaled));
    expect(r.projected.data).toEqual(result.pca.transform(scaled).data);
    r.predictions.forEach((p, i) => expect(p).toBe(r.scores[i] - model.threshold < 0 ? -1 : 1));
  });
  it('returns the anomalous rows (unscaled) and batch statistics', () => {
    expect(r.anomalies.length).toBe(r.predictions.filter((p) => p === -1).length);
    for (const a of r.anomalies) {
      expect(a.values).toEqual(Array.from(batch.X.data.subarray(a.index * 5, a.index * 5 + 5)));
      expect(a.decision).toBeLessThan(0);
    }
    expect(r.stats.rows).toBe(300);
    expect(r.stats.anomalies).toBe(r.anomalies.length);
    expect(r.stats.anomalyRate).toBe(r.anomalies.length / 300);
    // 10% injected anomalies: almost all are caught
    const caught = r.anomalies.filter((a) => batch.y[a.index] === -1).length;
    expect(caught).toBeGreaterThanOrEqual(27);
  });
  it('accepts nested arrays and a Dataset as well as a Matrix', () => {
    expect(processBatch(model, toRows(batch.X)).scores).toEqual(r.scores);
    expect(processBatch(model, batch).scores).toEqual(r.scores);
  });
  it('names the feature of a bad value', () => {
    expect(() => processBatch(model, [[0, 0, NaN, 0, 0]])).toThrow(/row 0, feature f3 is NaN/);
    expect(() => processBatch(model, [[0, 0, 0]])).toThrow(/row 0 has 3 values, expected 5/);
  });
});

describe('processStream over an async iterable of batches', () => {
  it('yields every batch with running totals that add up', async () => {
    const updates = [];
    for await (const u of processStream(model, simulatedStream(params, { delayMs: 5 }))) updates.push(u);
    expect(updates.map((u) => u.batchIndex)).toEqual([0, 1, 2, 3]);
    const last = updates[updates.length - 1].totals;
    expect(last.batches).toBe(4);
    expect(last.rows).toBe(1200);
    expect(last.anomalies).toBe(updates.reduce((s, u) => s + u.result.stats.anomalies, 0));
    expect(last.anomalyRate).toBe(last.anomalies / 1200);
    expect(last.rowsPerSecond).toBeGreaterThan(0);
    expect(last.elapsedMs).toBeGreaterThanOrEqual(20);
    // each batch is the same as scoring it directly
    updates.forEach((u, k) => expect(u.result.scores).toEqual(processBatch(model, simulateBatch(params, k)).scores));
  });
});
