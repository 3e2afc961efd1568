import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBundle, saveBundle } from '../src/persist/bundle';
import { toRows } from '../src/core/matrix';
import { DEFAULT_PARAMS } from '../src/params/params';
import { bundleFromPipeline, runPipeline } from '../src/workflow/pipeline';
import { simulateBatch } from '../src/data/simulate';
import { processBatch, processStream, simulatedStream } from '../src/stream/batch';
import { createBatchScorer, InlineScorer, prestartScoringWorkers, scoringWorkers, WorkerScorer, type ScoredBatch } from '../src/stream/scorer';
import { ScoringPipeline } from '../src/scoring/pipeline';

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

describe('WorkerScorer (on the worker pool) against InlineScorer', () => {
  /** six batches of different sizes, each in its own buffer (the worker scorer moves them) */
  const batches = [300, 17, 300, 1, 250, 300].map((rows, k) => {
    const X = simulateBatch({ ...params, streamBatchSize: rows }, k, { anomalyShare: 0.1 }).X;
    return { rows, values: Float64Array.from(X.data), tags: Float64Array.from({ length: rows }, (_, i) => 1000 * k + i) };
  });
  const copy = (b: (typeof batches)[number]) => ({ rows: b.rows, values: Float64Array.from(b.values), tags: Float64Array.from(b.tags) });

  it('delivers every batch in submission order with the numbers of the calling thread', async () => {
    const inline: ScoredBatch[] = [];
    const inl = new InlineScorer(new ScoringPipeline(model), (b) => inline.push(b));
    for (const b of batches.map(copy)) inl.submit(b.values, b.tags, b.rows);
    const got: ScoredBatch[] = [];
    const scorer = new WorkerScorer(path, new ScoringPipeline(model), (b) => got.push(b));
    for (const b of batches.map(copy)) {
      scorer.submit(b.values, b.tags, b.rows);
      await scorer.waitUntil(2); // the command's backpressure: at most two batches ahead
      expect(scorer.inFlight).toBeLessThanOrEqual(2);
    }
    await scorer.close();
    expect(scorer.inFlight).toBe(0);
    expect(got.map((b) => b.id)).toEqual([0, 1, 2, 3, 4, 5]);
    got.forEach((b, k) => {
      const { latencyMs: _w, ...mine } = b;
      const { latencyMs: _i, ...theirs } = inline[k];
      expect(mine).toEqual(theirs);
    });
  }, 60_000);

  it('scores with workers started before the bundle was loaded (prestartScoringWorkers), and with others when the options differ', async () => {
    if (scoringWorkers(2, 0) === 0) return; // one core: createBatchScorer scores on the calling thread
    const inline: ScoredBatch[] = [];
    const inl = new InlineScorer(new ScoringPipeline(model), (b) => inline.push(b));
    for (const b of batches.map(copy)) inl.submit(b.values, b.tags, b.rows);
    for (const startedWith of [{ explain: 0 }, { explain: 2 }]) {
      prestartScoringWorkers(path, startedWith, 2);
      const got: ScoredBatch[] = [];
      const scorer = createBatchScorer(new ScoringPipeline(model), path, 2, (b) => got.push(b));
      expect(scorer).toBeInstanceOf(WorkerScorer);
      for (const b of batches.map(copy)) scorer.submit(b.values, b.tags, b.rows);
      await scorer.close();
      got.forEach((b, k) => {
        const { latencyMs: _w, ...mine } = b;
        const { latencyMs: _i, ...theirs } = inline[k];
        expect(mine).toEqual(theirs);
      });
    }
  }, 60_000);

  it('ScoringPipeline.score with the rows scaled by the caller (scaledRows) gives what it gives alone', () => {
    const pipeline = new ScoringPipeline(model);
    const b = batches[0];
    const alone = pipeline.score(b.values, b.rows);
    const scaled = pipeline.scaledRows(b.values, b.rows, new Float64Array(b.rows * 5 + 10).fill(3));
    expect(pipeline.score(b.values, b.rows, scaled)).toEqual({ ...alone, latencyMs: expect.any(Number) });
    expect(() => pipeline.score(b.values, b.rows, scaled.subarray(0, 5))).toThrow(/5 scaled values for 300 rows of 5/);
  });

  it('a worker that cannot start rejects the waiters and later submits with the file named, without hanging', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'stream-')), 'no-scorer-worker.js');
    const got: ScoredBatch[] = [];
    const scorer = new WorkerScorer(path, new ScoringPipeline(model), (b) => got.push(b), missing);
    const b = copy(batches[0]);
    scorer.submit(b.values, b.tags, b.rows);
    await expect(scorer.waitUntil(0)).rejects.toThrow(new RegExp(`scoring worker failed on batch 0: worker thread ${missing} failed: Cannot find module`));
    const c = copy(batches[1]);
    expect(() => scorer.submit(c.values, c.tags, c.rows)).toThrow(/no-scorer-worker\.js failed/);
    await expect(scorer.close()).rejects.toThrow(/no-scorer-worker\.js failed/);
    expect(got).toEqual([]);
  }, 60_000);

  it('workers that return nothing (stuck) are terminated after the watchdog time: the waiters fail with a clear error, nothing hangs', async () => {
    const stuck = join(mkdtempSync(join(tmpdir(), 'stream-')), 'stuck-worker.js');
    // a real worker thread that takes every job and never answers
    writeFileSync(stuck, "require('node:worker_threads').parentPort.on('message', () => {});\n");
    const scorer = new WorkerScorer(path, new ScoringPipeline(model), () => undefined, stuck, 1, 400);
    const b = copy(batches[0]);
    const t0 = performance.now();
    scorer.submit(b.values, b.tags, b.rows);
    await expect(scorer.waitUntil(0)).rejects.toThrow(new RegExp(`scoring worker gave no result for 400 ms with 1 batches out \\(${stuck.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\): terminated`));
    expect(performance.now() - t0).toBeLessThan(5000);
    const c = copy(batches[1]);
    expect(() => scorer.submit(c.values, c.tags, c.rows)).toThrow(/gave no result/);
    await expect(scorer.close()).rejects.toThrow(/gave no result/);
  }, 30_000);

  it('a bundle changed since it was loaded fails the batch with the reason', async () => {
    // the caller loaded one bundle; the file then holds another (another seed) when the worker reads it
    const changed = join(mkdtempSync(join(tmpdir(), 'stream-')), 'model.json');
    saveBundle(changed, bundleFromPipeline(result));
    const loaded = loadBundle(changed);
    saveBundle(changed, bundleFromPipeline(runPipeline({ ...params, seed: params.seed + 1 })));
    expect(loadBundle(changed).checksum).not.toBe(loaded.checksum);
    const scorer = new WorkerScorer(changed, new ScoringPipeline(loaded), () => undefined);
    const b = copy(batches[0]);
    scorer.submit(b.values, b.tags, b.rows);
    await expect(scorer.waitUntil(0)).rejects.toThrow(/scoring worker failed on batch 0: .*changed since it was loaded/);
    await expect(scorer.close()).rejects.toThrow(/changed since it was loaded/);
  }, 60_000);
});
