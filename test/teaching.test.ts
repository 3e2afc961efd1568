import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createMatrix, fromRows, getRow } from '../src/core/matrix';
import { DEFAULT_PARAMS, type Params } from '../src/params/params';
import { simulateTraffic } from '../src/data/simulate';
import { confusionMatrix, falseAlarmRate } from '../src/eval/metrics';
import { contourSegments, decisionGrid, firstTwoColumns } from '../src/model/decision-map';
import { averagePathLength, IsolationForest } from '../src/model/forest';
import { isolationPath, meanPathLengths } from '../src/model/isolation';
import { compileSpec, decisionMapSpec, pathLengthHistogramSpec, pcaPredictionDensitySpec, batchTimelineSpec } from '../src/notebook/plots';
import { describeStreamAlarms } from '../src/notebook/stream-dashboard';
import { falseAlarmPlacementRows, isolationPathRows, scoreRangeRows, treePathRows } from '../src/notebook/tables';
import { evaluateProtocol, protocolRows } from '../src/workflow/protocol';
import { runPipeline } from '../src/workflow/pipeline';
import { sweepParameter } from '../src/workflow/sweep';

/** The helpers behind the teaching sections of the notebooks (issue 12). */

const small: Params = { ...DEFAULT_PARAMS, nNormal: 2000, nAnomalous: 100, nEstimators: 50 };
const run = runPipeline(small);

describe('isolation paths', () => {
  it('walk one tree: every step obeys its threshold and h(x) = splits + c(leaf rows)', () => {
    for (const i of [0, small.nNormal]) {
      const p = isolationPath(run.forest, getRow(run.scaled, i), 3);
      expect(p.steps.length).toBeLessThanOrEqual(run.forest.maxDepth);
      for (const s of p.steps) expect(s.side === 'left' ? s.value <= s.threshold : s.value > s.threshold).toBe(true);
      expect(p.pathLength).toBeCloseTo(p.steps.length + averagePathLength(p.leafRows), 12);
    }
  });
  it('the mean over trees of the per-tree paths is meanPathLengths, and gives scoreSamples', () => {
    const x = getRow(run.scaled, small.nNormal + 1);
    let sum = 0;
    for (let t = 0; t < run.forest.nEstimators; t++) sum += isolationPath(run.forest, x, t).pathLength;
    const { pathLengths, cPsi } = meanPathLengths(run.forest, fromRows([x]));
    expect(pathLengths[0]).toBeCloseTo(sum / run.forest.nEstimators, 9);
    expect(-(2 ** (-pathLengths[0] / cPsi))).toBeCloseTo(run.scores[small.nNormal + 1], 12);
    const rows = treePathRows(run.forest, [x], ['a'], 3);
    expect(rows).toHaveLength(4);
    expect(rows[3].a).toBeCloseTo(pathLengths[0], 12);
  });
  it('anomalies are isolated in fewer splits on average', () => {
    const { pathLengths } = meanPathLengths(run.forest, run.scaled);
    const mean = (from: number, to: number) => pathLengths.slice(from, to).reduce((a, b) => a + b, 0) / (to - from);
    expect(mean(small.nNormal, run.data.y.length)).toBeLessThan(mean(0, small.nNormal) - 3);
  });
  it('refuse a bad tree index or row length', () => {
    expect(() => isolationPath(run.forest, getRow(run.scaled, 0), 50)).toThrow(/tree must be an integer from 0 to 49/);
    expect(() => isolationPath(run.forest, [1, 2], 0)).toThrow(/2 values, the forest expects 5/);
  });
  it('table: one row per depth, then leaf and h(x)', () => {
    const a = isolationPath(run.forest, getRow(run.scaled, 0), 0);
    const b = isolationPath(run.forest, getRow(run.scaled, small.nNormal), 0);
    const rows = isolationPathRows([a, b], ['n', 'a'], run.data.featureNames);
    expect(rows).toHaveLength(Math.max(a.steps.length, b.steps.length) + 2);
    expect(String(rows[rows.length - 1].n)).toContain(a.pathLength.toFixed(2));
  });
});

describe('decision map', () => {
  const plane = firstTwoColumns(run.projected);
  const forest = IsolationForest.fit(plane, small);
  const grid = decisionGrid(forest, plane, { resolution: 30 });
  it('covers the points and evaluates the forest at every grid point', () => {
    expect(grid.values).toHaveLength(900);
    const probe = createMatrix(1, 2, Float64Array.from([grid.xs[7], grid.ys[11]]));
    expect(grid.values[11 * 30 + 7]).toBe(forest.decisionFunction(probe)[0]);
  });
  it('the boundary segments lie where the decision function changes sign', () => {
    const segs = contourSegments(grid, 0);
    expect(segs.length).toBeGreaterThan(10);
    const ends = createMatrix(segs.length, 2, Float64Array.from(segs.flatMap((s) => [s.x, s.y])));
    // on the line the value is near 0 compared with the range of the map
    const range = Math.max(...grid.values) - Math.min(...grid.values);
    const near = forest.decisionFunction(ends).filter((v) => Math.abs(v) < 0.25 * range).length;
    expect(near / segs.length).toBeGreaterThan(0.9);
  });
  it('a square with one negative corner gives one segment through the interpolated crossings', () => {
    const segs = contourSegments({ xs: Float64Array.from([0, 1]), ys: Float64Array.from([0, 1]), values: Float64Array.from([-1, 1, 1, 1]) });
    expect(segs).toEqual([{ x: 0.5, y: 0, x2: 0, y2: 0.5 }]);
  });
  it('refuses a forest of more than two features', () => {
    expect(() => decisionGrid(run.forest, plane)).toThrow(/2 features/);
  });
  it('the spec compiles, draws every anomaly and says how many normal rows it drew', () => {
    const spec = decisionMapSpec(grid, contourSegments(grid), plane, run.data.y, { maxNormal: 500 }) as { title: { subtitle: string } };
    expect(spec.title.subtitle).toContain('500 of 2,000 normal rows drawn, every anomaly');
    expect(compileSpec(spec as never).warnings).toEqual([]);
  });
});

describe('protocols and sweeps', () => {
  const data = simulateTraffic(small);
  it('the reference protocol reproduces the in-sample pipeline', () => {
    const r = evaluateProtocol(data, small);
    expect(r.metrics.rocAuc).toBe(run.metrics.rocAuc);
    expect(r.metrics.nFlagged).toBe(run.metrics.nFlagged);
  });
  it('a held-out split is stratified, disjoint and trains on normal rows only when asked', () => {
    const held = evaluateProtocol(data, small, { holdout: 0.3 });
    expect(held.testRows).toBe(630);
    expect(held.testAnomalies).toBe(30);
    expect(held.trainRows + held.testRows).toBe(2100);
    const novelty = evaluateProtocol(data, small, { holdout: 0.3, trainOn: 'normal' });
    expect(novelty.trainAnomalies).toBe(0);
    expect(novelty.trainRows).toBe(1400);
    expect(protocolRows([novelty])[0]['test rows (anomalies)']).toBe('630 (30)');
    expect(() => evaluateProtocol(data, small, { holdout: 1 })).toThrow(/holdout/);
  });
  it('a contamination sweep moves the flags, not the ranking', () => {
    const rows = sweepParameter(small, 'contamination', [0.01, 0.1], data);
    expect(rows.map((r) => r.nFlagged)).toEqual([21, 210]);
    expect(rows[0].rocAuc).toBe(rows[1].rocAuc);
    expect(() => sweepParameter(small, 'contamination', [0.9])).toThrow(/contamination/);
  });
});

describe('false alarms and their baseline', () => {
  it('falseAlarmRate = flagged normal rows / normal rows', () => {
    const cm = confusionMatrix([1, 1, 1, 1, -1], [1, -1, 1, 1, -1], { labels: [-1, 1] });
    expect(falseAlarmRate(cm)).toBe(0.25);
    expect(() => falseAlarmRate(confusionMatrix([1], [1], { labels: [1] }))).toThrow(/labels/);
  });
  it('the stream sentence calls flags in pure normal traffic false alarms', () => {
    const totals = { batches: 2, rows: 1000, anomalies: 3, anomalyRate: 0.003, scoringMs: 1, rowsPerSecond: 1 };
    const base = { rate: 0.0025, label: 'false-alarm rate on normal training rows' };
    expect(describeStreamAlarms(totals as never, 0, base)).toBe('pure normal traffic: all 3 flagged rows are false alarms, 0.30% of 1000 rows, against a baseline of 0.25% (false-alarm rate on normal training rows)');
    expect(describeStreamAlarms(totals as never, 0.05, base)).toContain('5.00% of the streamed rows were injected anomalies');
  });
  it('the timeline labels its baseline line', () => {
    const spec = JSON.stringify(batchTimelineSpec([{ batch: 0, rows: 10, anomalies: 0, anomalyRate: 0 } as never], { baseline: { rate: 0.0025, label: 'false-alarm rate' } }));
    expect(spec).toContain('false-alarm rate: 0.25%');
    expect(spec).not.toContain('contamination');
  });
});

describe('tables and plots of the corrected claims', () => {
  it('score ranges per class are s(x) = -scoreSamples', () => {
    const rows = scoreRangeRows(run.scores, run.data.y, run.forest.offset);
    expect(rows[1]['max s(x)']).toBe(-Math.min(...run.scores));
    expect(rows[0].threshold).toBe(-run.forest.offset);
  });
  it('false alarms are placed among normal rows in the plotted and the hidden components', () => {
    const rows = falseAlarmPlacementRows(runPipeline({ ...small, pcaComponents: 5 }).projected, run.data.y, run.predictions);
    const fa = Array.from(run.predictions).filter((p, i) => p === -1 && run.data.y[i] === 1).length;
    expect(rows).toHaveLength(fa);
    for (const r of rows) expect(r['percentile (PC1-PC2)']).toBeGreaterThanOrEqual(0);
    expect(() => falseAlarmPlacementRows(run.projected, run.data.y, run.predictions)).toThrow(/more than 2 components/);
  });
  it('the density picture accounts for every row', () => {
    const spec = pcaPredictionDensitySpec(run.projected, run.data.y, run.predictions) as unknown as { layer: Array<{ data: { values: Array<{ rows?: number }> } }> };
    const inCells = spec.layer[0].data.values.reduce((s, c) => s + (c.rows ?? 0), 0);
    expect(inCells + spec.layer[1].data.values.length).toBe(run.data.y.length);
    expect(compileSpec(spec as never).warnings).toEqual([]);
    const { pathLengths, cPsi } = meanPathLengths(run.forest, run.scaled);
    expect(compileSpec(pathLengthHistogramSpec(pathLengths, run.data.y, cPsi)).warnings).toEqual([]);
  });
});

describe('the hard preset', () => {
  it('loads as a parameter file and gives curves with shape (README figures)', async () => {
    const { loadParams } = await import('../src/params/params');
    const { PROJECT_ROOT } = await import('../src/core/paths');
    const loaded = loadParams({ file: join(PROJECT_ROOT, 'presets', 'hard.json'), env: {} });
    expect(loaded.params).toMatchObject({ anomalyMean: 2, anomalyStd: 1 });
    const m = runPipeline(loaded.params).metrics;
    expect(m.rocAuc).toBeGreaterThan(0.96);
    expect(m.rocAuc).toBeLessThan(0.98);
    expect(m.averagePrecision).toBeCloseTo(0.72, 2);
    expect(m.precision).toBeCloseTo(0.64, 2);
    expect(m.recall).toBeCloseTo(0.67, 2);
  });
});
