/**
 * Issue 18's library pieces for notebooks 03, 09 and 10: baselines beside the
 * forest (rules and a supervised model on the same validation split), the
 * base-rate view, the preprocessing grid, the scaling effect, the counting and
 * selection the notebooks' tables used to do in their cells, and the forest
 * ablation of notebook 03.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNslKdd } from '../src/data/nslkdd-files';
import type { FlowRecords } from '../src/data/flows';
import { categoryCounts, novelAttacks } from '../src/data/flow-stats';
import { baseRate, labelsAtThreshold, rowsBelow } from '../src/eval/metrics';
import { baselineComparison } from '../src/workflow/baselines';
import { prepareRealTraffic, preprocessingGrid, scalingEffect, validationSplit } from '../src/workflow/real-traffic';
import { compareForests } from '../src/workflow/forest-comparison';
import { alertGroupRows, baseRateRows, baselineRows, categorySummary, classCountRows, topAlertRows } from '../src/notebook/real-traffic-tables';
import { paramsTable } from '../src/notebook/tables';
import { DEFAULT_PARAMS, loadParams } from '../src/params/params';
import { explainRecords } from '../src/explain/alerts';
import { realTrafficBundle } from '../src/workflow/real-traffic';
import { parseBundle, serializeBundle } from '../src/persist/bundle';
import { scoreRecords } from '../src/scoring/pipeline';
import { simulateTraffic } from '../src/data/simulate';
import { StandardScaler } from '../src/model/preprocess';
import { IsolationForest } from '../src/model/forest';

const small = { nEstimators: 30, maxSamples: 'auto' as const, contamination: 0.05 };
let train: FlowRecords;
let test: FlowRecords;
beforeAll(() => {
  ({ train, test } = loadNslKdd());
});

describe('the base-rate view', () => {
  it('carries TPR and FPR to another prevalence: precision = TPR p / (TPR p + FPR (1 - p))', () => {
    const r = baseRate(0.5, 0.01, 0.001, 1_000_000);
    expect(r.attacksPerDay).toBeCloseTo(1000, 9);
    expect(r.caughtPerDay).toBeCloseTo(500, 9);
    expect(r.falseAlarmsPerDay).toBeCloseTo(9990, 9);
    expect(r.alertsPerDay).toBeCloseTo(10490, 9);
    expect(r.precision).toBeCloseTo(500 / 10490, 12);
    // the same rates at a test file's prevalence look excellent
    expect(baseRate(0.5, 0.01, 0.569, 22544).precision).toBeGreaterThan(0.98);
    expect(Number.isNaN(baseRate(0, 0, 0.1, 10).precision)).toBe(true);
    expect(() => baseRate(0.5, 0.01, 0, 10)).toThrow(/prevalence must be in \(0, 1\), got 0/);
    expect(() => baseRate(1.5, 0.01, 0.1, 10)).toThrow(/tpr must be in \[0, 1\], got 1.5/);
    expect(() => baseRate(0.5, 0.01, 0.1, -1)).toThrow(/recordsPerDay must be a positive number, got -1/);
  });

  it('baseRateRows: one row per detector and prevalence', () => {
    const rows = baseRateRows([{ name: 'd', detectionRate: 0.5, testFpr: 0.01 }], [0.01, 0.001], 1_000_000);
    expect(rows).toEqual([
      { detector: 'd', 'attack share': '1.0%', 'attacks a day': '10,000', 'alerts a day': '14,900', 'caught attacks': '5,000', 'false alarms': '9,900', precision: '33.6%' },
      { detector: 'd', 'attack share': '0.1%', 'attacks a day': '1,000', 'alerts a day': '10,490', 'caught attacks': '500', 'false alarms': '9,990', precision: '4.8%' },
    ]);
  });
});

describe('thresholds and alert order', () => {
  it('rowsBelow: the rows strictly below, most anomalous first, ties by row; labelsAtThreshold: -1 below', () => {
    const s = [-0.5, -0.7, -0.6, -0.7, -0.4];
    expect(rowsBelow(s, -0.5)).toEqual([1, 3, 2]);
    expect(Array.from(labelsAtThreshold(s, -0.5))).toEqual([1, -1, -1, -1, 1]);
  });
});

describe('validationSplit', () => {
  it('holds out 30% of the normal training records; the labelled part is everything else', () => {
    const s = validationSplit(train);
    const normals = train.y.reduce((a, y) => a + (y === 1 ? 1 : 0), 0);
    expect(s.validation.rows).toBe(Math.round(0.3 * normals));
    expect(s.fit.rows + s.validation.rows).toBe(normals);
    expect(s.labelled.rows).toBe(train.rows - s.validation.rows);
    expect(s.fit.y.every((y) => y === 1) && s.validation.y.every((y) => y === 1)).toBe(true);
    // the held-out records are not in the labelled part: as many normal records there as in the fit part
    expect(s.labelled.y.reduce((a, y) => a + (y === 1 ? 1 : 0), 0)).toBe(s.fit.rows);
    expect(validationSplit(train).validation.numeric.data).toEqual(s.validation.numeric.data);
    expect(() => validationSplit(train, 0)).toThrow(/validation must be in \(0, 1\), got 0/);
  });
});

describe('baselineComparison (notebook 09)', () => {
  it('rules, forest and a supervised model on one split, thresholds from the held-out records', () => {
    const b = baselineComparison(train, test, { seed: 0, forest: small });
    expect(b.detectors.map((d) => d.name)).toEqual([
      'isolation forest (normal records)', 'rule: num_failed_logins > 0', 'rule: service or flag unseen in normal training', 'forest or either rule', 'logistic regression (labelled records)',
    ]);
    const [forest, rule, unseen, either, lr] = b.detectors;
    // the rule, recounted here from the raw column
    const j = test.numericNames.indexOf('num_failed_logins');
    let fp = 0;
    let tp = 0;
    let normals = 0;
    for (let i = 0; i < test.rows; i++) {
      const fires = test.numeric.data[i * test.numeric.cols + j] > 0;
      if (test.y[i] === 1) {
        normals++;
        if (fires) fp++;
      } else if (fires) tp++;
    }
    expect(rule.testFpr).toBe(fp / normals);
    expect(rule.detectionRate).toBe(tp / (test.rows - normals));
    expect(rule.flagged).toBe(tp + fp);
    expect(rule.rocAuc).toBeNull();
    // thresholds meet the target on the held-out records, never above it
    for (const d of [forest, lr]) {
      expect(d.validationFpr).toBeLessThanOrEqual(0.01);
      expect(d.validationFpr).toBeGreaterThan(0.008);
      expect(d.rocAuc).toBeGreaterThan(0.5);
    }
    // "either" flags at least what each of its parts flags
    expect(either.flagged).toBeGreaterThanOrEqual(Math.max(forest.flagged, rule.flagged, unseen.flagged));
    expect(either.detectionRate).toBeGreaterThanOrEqual(forest.detectionRate);
    // known and novel names partition the attacks
    expect(b.knownAttacks + b.novelAttacks).toBe(test.rows - normals);
    expect(b.novelAttacks).toBe(novelAttacks(train, test).records);
    for (const d of b.detectors) expect((d.known * b.knownAttacks + d.novel * b.novelAttacks) / (b.knownAttacks + b.novelAttacks)).toBeCloseTo(d.detectionRate, 12);
    expect(lr.usesLabels).toBe(true);
    expect(baselineRows(b)[4]).toMatchObject({ detector: 'logistic regression (labelled records)', labels: 'yes' });
    expect(() => baselineComparison(train, test, { ruleFeature: 'service' })).toThrow(/service is not a numeric feature of/);
  }, 60_000);
});

describe('the counting behind notebook 09', () => {
  it('novel attack names, category counts, class counts', () => {
    const n = novelAttacks(train, test);
    expect(n.names.length).toBe(18);
    expect(n.names[0]).toEqual({ value: 'mscan', count: 996 });
    expect(n.records).toBe(n.names.reduce((a, c) => a + c.count, 0));
    const services = categoryCounts(train, test, 'service');
    expect(services[0].value).toBe('http');
    expect(services.reduce((a, c) => a + c.train, 0)).toBe(train.rows);
    expect(services.reduce((a, c) => a + c.test, 0)).toBe(test.rows);
    expect(categorySummary(services, 'services')).toBe(`services: ${services.filter((c) => c.train > 0).length} in the training file, ${services.filter((c) => c.test > 0).length} in the test file, ${services.filter((c) => c.test > 0 && c.train === 0).length} of them never seen in training`);
    expect(() => categoryCounts(train, test, 'src_bytes')).toThrow(/no categorical column "src_bytes"/);
    const classes = classCountRows(train, test);
    expect(classes.map((r) => r.class)).toEqual(['normal', 'DoS', 'Probe', 'R2L', 'U2R']);
    expect(classes.reduce((a, r) => a + (r.train as number), 0)).toBe(train.rows);
  });

  it('preprocessingGrid: all eight combinations, each fitted on its own training records', () => {
    const grid = preprocessingGrid(train, test, { seeds: [0], forest: { ...small, nEstimators: 10 } });
    expect(grid.map((g) => `${g.trainOn}/${g.encoding}/${g.log1p}`)).toEqual([
      'normal/onehot/true', 'normal/onehot/false', 'normal/ordinal/true', 'normal/ordinal/false', 'all/onehot/true', 'all/onehot/false', 'all/ordinal/true', 'all/ordinal/false',
    ]);
    expect(grid.map((g) => g.evaluation.encodedFeatures)).toEqual([75, 75, 41, 41, 121, 121, 41, 41]);
  }, 60_000);

  it('scalingEffect: the forest does not move, PCA does', () => {
    const prepared = prepareRealTraffic(train, test, { trainOn: 'normal', encoding: 'onehot', log1p: true });
    const s = scalingEffect(prepared, 3, small);
    expect(s.scoresThatDiffer).toBe(0);
    expect(s.scaledRocAuc).toBe(s.unscaledRocAuc);
    expect(s.pcaUnscaled.varianceRatio).toBeGreaterThan(s.pcaScaled.varianceRatio);
    const l = s.pcaScaled.loadings.map((x) => Math.abs(x.loading));
    expect(l).toEqual([...l].sort((a, b) => b - a));
  }, 60_000);
});

describe('the selection behind notebook 10', () => {
  it('topAlertRows and alertGroupRows read the explanations in alert order', () => {
    const prepared = prepareRealTraffic(train, test, { trainOn: 'normal', encoding: 'onehot', log1p: true });
    const model = parseBundle(serializeBundle(realTrafficBundle(prepared, train, 0, small)));
    const scores = scoreRecords(model, test);
    const alerts = rowsBelow(scores, model.threshold).slice(0, 400);
    const why = explainRecords(model, test, alerts);
    const top = topAlertRows(why, alerts, test, scores, { attacksOnly: true, limit: 5 });
    expect(top).toHaveLength(5);
    const attackAlerts = alerts.filter((i) => test.y[i] === -1);
    expect(top.map((r) => r.record)).toEqual(attackAlerts.slice(0, 5));
    expect(topAlertRows(why, alerts, test, scores, { limit: 3 }).map((r) => r.record)).toEqual(alerts.slice(0, 3));
    const groups = alertGroupRows(why, alerts, test);
    expect(groups[0].alerts).toBe('normal (false alarms)');
    expect(groups.reduce((a, g) => a + (g.count as number), 0)).toBe(alerts.length);
  }, 60_000);
});

describe('notebook 03: the forest ablation', () => {
  it('three forests; ours on all rows has rowsPerTree = n and the height limit ceil(log2 n)', () => {
    const params = { ...DEFAULT_PARAMS, nNormal: 600, nAnomalous: 30, nEstimators: 20 };
    const data = simulateTraffic(params);
    const X = StandardScaler.fit(data.X).transform(data.X);
    const forest = IsolationForest.fit(X, params);
    const rows = compareForests(X, data.y, params, { forest, fitMs: 1 });
    expect(rows.map((r) => [r.model, r.rowsPerTree, r.heightLimit])).toEqual([
      ['this library', 256, 8],
      ['this library, all rows per tree', 630, Math.ceil(Math.log2(630))],
      ['ml-isolation-forest', 630, Math.ceil(Math.log2(630)) + 1],
    ]);
    for (const r of rows) expect(r.rocAuc).toBeGreaterThan(0.9);
  }, 60_000);
});

describe('the parameter table of a notebook on real data', () => {
  it('shows only the keys it is given', () => {
    const t = paramsTable(loadParams({ env: {}, overrides: { seed: 7 } }), DEFAULT_PARAMS as unknown as Record<string, unknown>, 3, ['seed', 'nEstimators', 'maxSamples', 'contamination']);
    const shown = t.rows.flatMap((r) => [r.p0, r.p1, r.p2]).filter(Boolean);
    expect(shown).toEqual(['seed', 'nEstimators', 'maxSamples', 'contamination']);
    expect(t.caption).toMatch(/^Experiment parameters used here \(\* set by/);
  });
});
