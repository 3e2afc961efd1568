import { beforeAll, describe, expect, it } from 'vitest';
import { createMatrix } from '../src/core/matrix';
import { DEFAULT_PARAMS } from '../src/params/params';
import { filterFlowRecords, type FlowRecords } from '../src/data/flows';
import { loadNslKdd } from '../src/data/nslkdd-files';
import { EncodedRecordParser } from '../src/data/records';
import { alertDrivers, alertDriversJson, explainAlerts, explainRecords, featureImportance, originalFeatureGroups } from '../src/explain/alerts';
import { averagePathLength } from '../src/model/forest';
import { parseBundle, serializeBundle, type LoadedModel } from '../src/persist/bundle';
import { bundleFromPipeline, runPipeline } from '../src/workflow/pipeline';
import { prepareRealTraffic, realTrafficBundle } from '../src/workflow/real-traffic';
import { simulateBatch } from '../src/data/simulate';
import { compileSpec, explanationWaterfallSpec } from '../src/notebook/plots';
import { describeDriver, explanationSteps, formatRawValue } from '../src/explain/alerts';
import { scoreRecords } from '../src/scoring/pipeline';

let model: LoadedModel; // NSL-KDD, one-hot + log1p, with an encoder
let test: FlowRecords;
let reference: LoadedModel; // the 5-feature reference bundle, no encoder

beforeAll(() => {
  const nsl = loadNslKdd();
  const train = filterFlowRecords(nsl.train, (i) => i < 4000);
  test = filterFlowRecords(nsl.test, (i) => i < 600);
  const bundle = realTrafficBundle(prepareRealTraffic(train, test, { trainOn: 'all', encoding: 'onehot', log1p: true }), train, 7, { nEstimators: 40, maxSamples: 256, contamination: 0.05 });
  model = parseBundle(serializeBundle(bundle));
  reference = parseBundle(serializeBundle(bundleFromPipeline(runPipeline({ ...DEFAULT_PARAMS, nEstimators: 30 }))));
}, 120_000);

describe('explainRecords on an NSL-KDD bundle (one-hot encoder)', () => {
  it('groups the one-hot columns of each categorical feature into its original feature', () => {
    const groups = originalFeatureGroups(model);
    const enc = model.encoder!;
    expect(groups.map((g) => g.name)).toEqual(model.featureNames);
    const service = groups.find((g) => g.name === 'service')!;
    // every output column named service=... and nothing else
    expect(service.columns.map((c) => enc.outputNames[c])).toEqual(enc.outputNames.filter((n) => n.startsWith('service=')));
    expect(service.columns.length).toBeGreaterThan(10);
    const srcBytes = groups.find((g) => g.name === 'src_bytes')!;
    expect(srcBytes.columns.map((c) => enc.outputNames[c])).toEqual(['log1p(src_bytes)']);
    // a partition of the encoded columns
    const all = groups.flatMap((g) => g.columns).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: enc.outputWidth }, (_, c) => c));
  });

  it('keeps additivity per original feature and matches the forest scores', () => {
    const e = explainRecords(model, test);
    const X = model.scaler.transform(model.encoder!.transform(test).X);
    const scores = model.forest.scoreSamples(X);
    const c = averagePathLength(model.forest.maxSamples);
    expect(e.values.cols).toBe(model.featureNames.length);
    for (let i = 0; i < test.rows; i++) {
      let grouped = 0;
      let encoded = 0;
      for (let j = 0; j < e.values.cols; j++) grouped += e.values.data[i * e.values.cols + j];
      for (let j = 0; j < e.encoded.values.cols; j++) encoded += e.encoded.values.data[i * e.encoded.values.cols + j];
      expect(grouped).toBeCloseTo(encoded, 9);
      expect(e.pathLengths[i]).toBeCloseTo(e.expectedValue + encoded, 9);
      expect(Math.abs(e.scores[i] - scores[i])).toBeLessThan(1e-12);
      expect(Math.abs(-(2 ** (-e.pathLengths[i] / c)) - scores[i])).toBeLessThan(1e-12);
      let inScore = e.baseScore;
      for (let j = 0; j < e.scoreValues.cols; j++) inScore += e.scoreValues.data[i * e.scoreValues.cols + j];
      expect(inScore).toBeCloseTo(scores[i], 10);
    }
    // the service contribution is the sum of the service=... columns
    const enc = model.encoder!;
    const js = model.featureNames.indexOf('service');
    const cols = enc.outputColumns(js);
    for (const i of [0, 17, 301]) {
      const sum = cols.reduce((s, c) => s + e.encoded.values.data[i * enc.outputWidth + c], 0);
      expect(e.values.data[i * e.values.cols + js]).toBeCloseTo(sum, 12);
    }
  });

  it('ranks drivers most negative first and reports raw values as in the record', () => {
    const e = explainRecords(model, test);
    const worst = Array.from(e.scores.keys()).sort((a, b) => e.scores[a] - e.scores[b])[0];
    const drivers = alertDrivers(e, worst, 5);
    expect(drivers).toHaveLength(5);
    for (let k = 1; k < drivers.length; k++) expect(drivers[k].contribution).toBeGreaterThanOrEqual(drivers[k - 1].contribution);
    const row = e.values.data.subarray(worst * e.values.cols, (worst + 1) * e.values.cols);
    expect(drivers[0].contribution).toBe(Math.min(...row));
    for (const d of drivers) {
      const j = e.names.indexOf(d.feature);
      const kind = model.encoder!.columns[j].kind;
      if (kind === 'categorical') expect(d.value).toBe(test.categorical[test.categoricalNames.indexOf(d.feature)][worst]);
      else expect(d.value).toBe(test.numeric.data[worst * test.numeric.cols + test.numericNames.indexOf(d.feature)]); // raw, not log1p'd
    }
    // score units keep the ranking
    expect(alertDrivers(e, worst, 5, 'score').map((d) => d.feature)).toEqual(drivers.map((d) => d.feature));
    expect(() => alertDrivers(e, worst, 0)).toThrow(/positive integer/);
  });

  it('explains a subset of rows in the order asked, equal to the full explanation', () => {
    const full = explainRecords(model, test);
    const rows = [420, 3, 99, 3];
    const sub = explainRecords(model, test, rows);
    const m = full.values.cols;
    rows.forEach((r, i) => {
      expect(sub.scores[i]).toBe(full.scores[r]);
      for (let j = 0; j < m; j++) {
        expect(sub.values.data[i * m + j]).toBeCloseTo(full.values.data[r * m + j], 12);
        expect(sub.rawValue(i, j)).toBe(full.rawValue(r, j));
      }
    });
    const alerts = explainAlerts(model, test, rows, { k: 3 });
    expect(alerts.map((a) => a.row)).toEqual(rows);
    expect(alerts[0].drivers).toEqual(alertDrivers(full, 420, 3));
    expect(() => explainRecords(model, test, [600])).toThrow(/row 600 out of range 0..599/);
  });

  it('summarises feature importance over rows', () => {
    const e = explainRecords(model, test);
    const imp = featureImportance(e, { top: 3 });
    expect(imp).toHaveLength(e.names.length);
    for (let k = 1; k < imp.length; k++) expect(imp[k].meanContribution).toBeGreaterThanOrEqual(imp[k - 1].meanContribution);
    const j = e.names.indexOf(imp[0].feature);
    let mean = 0;
    for (let i = 0; i < test.rows; i++) mean += e.values.data[i * e.values.cols + j];
    expect(imp[0].meanContribution).toBeCloseTo(mean / test.rows, 12);
    // each row has exactly 3 top drivers: the shares add up to 3
    expect(imp.reduce((s, r) => s + r.topShare, 0)).toBeCloseTo(3, 12);
    expect(() => featureImportance(e, { rows: [] })).toThrow(/no rows/);
  });

  it('explains stream rows (encoder output before log1p) like the records they came from', () => {
    const parser = new EncodedRecordParser(model.encoder!, 'csv');
    const d = model.encoder!.outputWidth;
    const lines = ['0,tcp,http,SF,1032,5400,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,3,3,0.00,0.00,0.00,0.00,1.00,0.00,0.00,9,255,1.00,0.00,0.11,0.04,0.00,0.00,0.00,0.00,normal,21'];
    const buf = new Float64Array(2 * d);
    expect(parser.parse(lines[0], buf, 0).kind).toBe('record');
    const [json] = alertDriversJson(model, buf, d, [0], 3);
    const drivers = JSON.parse(json) as Array<{ feature: string; value: number | string; contribution: number }>;
    expect(drivers).toHaveLength(3);
    const record = model.encoder!.decodeRow(buf, 0);
    expect(record.service).toBe('http');
    expect(record.src_bytes).toBe(1032);
    for (const dr of drivers) expect(dr.value).toBe(record[dr.feature]);
    // the same record as flow records gives the same drivers
    const asRecords = explainRecords(model, createMatrix(1, d, buf.slice(0, d)));
    expect(alertDrivers(asRecords, 0, 3)).toEqual(drivers);
  });
});

describe('explainRecords on the 5-feature reference bundle (no encoder)', () => {
  it('explains raw feature matrices with one group per feature', () => {
    const batch = simulateBatch(DEFAULT_PARAMS, 5, { size: 200, anomalyShare: 0.1 });
    const e = explainRecords(reference, batch.X);
    expect(e.names).toEqual(reference.featureNames);
    expect(originalFeatureGroups(reference).map((g) => g.columns)).toEqual([[0], [1], [2], [3], [4]]);
    const scores = reference.forest.scoreSamples(reference.scaler.transform(batch.X));
    for (let i = 0; i < batch.X.rows; i++) {
      expect(Math.abs(e.scores[i] - scores[i])).toBeLessThan(1e-12);
      for (let j = 0; j < 5; j++) {
        expect(e.values.data[i * 5 + j]).toBe(e.encoded.values.data[i * 5 + j]);
        expect(e.rawValue(i, j)).toBe(batch.X.data[i * 5 + j]);
      }
    }
    const [a] = explainAlerts(reference, batch.X, [7], { k: 2, units: 'score' });
    expect(a.drivers).toHaveLength(2);
    expect(a.drivers[0].value).toBe(batch.X.data[7 * 5 + reference.featureNames.indexOf(a.drivers[0].feature)]);
    expect(() => explainRecords(reference, test)).toThrow(/model has no encoder/);
    expect(() => explainRecords(reference, createMatrix(1, 4))).toThrow(/got 4 columns, the model takes 5/);
  });
});

describe('display helpers', () => {
  it('waterfall bars start at E[f], add up to f(x), and compile', () => {
    const e = explainRecords(model, test, [5, 9]);
    const steps = explanationSteps(e, 1);
    expect(steps).toHaveLength(model.featureNames.length);
    expect(steps.find((s) => s.label.startsWith('service = '))!.label).toBe(`service = ${test.categorical[test.categoricalNames.indexOf('service')][9]}`);
    const spec = explanationWaterfallSpec(steps, { expectedValue: e.expectedValue, maxSteps: 6 }) as unknown as { layer: Array<{ data: { values: Array<{ start: number; end: number; label: string }> } }> };
    const bars = spec.layer[0].data.values;
    expect(bars).toHaveLength(7);
    expect(bars[0].start).toBeCloseTo(e.expectedValue, 5);
    expect(bars[6].end).toBeCloseTo(e.pathLengths[1], 5);
    expect(bars[6].label).toBe(`${model.featureNames.length - 6} other features`);
    for (let k = 1; k < bars.length; k++) expect(bars[k].start).toBe(bars[k - 1].end);
    expect(compileSpec(spec as never).warnings).toEqual([]);
    expect(() => explanationWaterfallSpec(steps, { expectedValue: 1, maxSteps: 0 })).toThrow(/maxSteps/);
  });

  it('formats values and drivers, and scores records like the forest', () => {
    expect(formatRawValue('http')).toBe('http');
    expect(formatRawValue(1032)).toBe('1032');
    expect(formatRawValue(0.123456)).toBe('0.123');
    expect(describeDriver({ feature: 'flag', value: 'S0', contribution: -1.4367 })).toBe('flag = S0 (-1.44)');
    expect(describeDriver({ feature: 'count', value: 3, contribution: 0.5 })).toBe('count = 3 (+0.50)');
    const scores = scoreRecords(model, test);
    expect(Array.from(scores)).toEqual(Array.from(model.forest.scoreSamples(model.scaler.transform(model.encoder!.transform(test).X))));
    expect(() => scoreRecords(reference, test)).toThrow(/no encoder/);
  });
});
