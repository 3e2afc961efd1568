import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MissingArtifactError,
  PRODUCERS,
  STAGE_FORMAT,
  STAGE_SCHEMA_VERSION,
  StaleArtifactError,
  Workspace,
  type StageFile,
} from '../src/persist/workspace';
import { DEFAULT_PARAMS, type Params } from '../src/params/params';
import { runPipeline } from '../src/workflow/pipeline';

const params: Params = { ...DEFAULT_PARAMS, nNormal: 400, nAnomalous: 20, nEstimators: 12 };
const r = runPipeline(params);

/** A workspace with every stage written by the library, in a fresh folder. */
function filled(): Workspace {
  const ws = new Workspace(mkdtempSync(join(tmpdir(), 'ws-')));
  ws.saveTraffic(params, r.data);
  ws.savePreprocess(params, r.scaler, r.pca);
  ws.saveForest(params, r.forest, 12.5, [{ model: 'x' }]);
  ws.savePredictions(params, r.scores, r.decision, r.predictions, r.forest.offset);
  ws.saveMetrics(params, r.metrics);
  return ws;
}

const loaders: Record<StageFile, (ws: Workspace, p: Params) => unknown> = {
  'params.json': (ws, p) => ws.loadTraffic(p),
  'preprocess.json': (ws, p) => ws.loadPreprocess(p),
  'forest.json': (ws, p) => ws.loadForest(p),
  'predictions.json': (ws, p) => ws.loadPredictions(p),
  'metrics.json': (ws, p) => ws.loadMetrics(p),
};
const stages = Object.keys(loaders) as StageFile[];

function edit(ws: Workspace, name: StageFile, change: (a: Record<string, any>) => void): void {
  const a = JSON.parse(readFileSync(ws.path(name), 'utf8'));
  change(a);
  writeFileSync(ws.path(name), JSON.stringify(a));
}

/** The loader of `name` refuses with a StaleArtifactError naming the file, the problem and the notebook to re-run. */
function expectStale(ws: Workspace, name: StageFile, problem: RegExp): void {
  let err: unknown;
  try {
    loaders[name](ws, params);
  } catch (e) {
    err = e;
  }
  expect(err, `${name} must be refused`).toBeInstanceOf(StaleArtifactError);
  const e = err as StaleArtifactError;
  expect(e.message).toMatch(problem);
  expect(e.message).toContain(relative(process.cwd(), ws.path(name)));
  expect(e.message).toMatch(new RegExp(`run ${PRODUCERS[name].replace('.', '\\.')} again`));
  expect(e.producer).toBe(PRODUCERS[name]);
}

describe('stage files round-trip', () => {
  const ws = filled();
  it('every stage file carries the marker, its name, the schema version, the library and the parameters', () => {
    for (const name of stages) {
      const a = JSON.parse(readFileSync(ws.path(name), 'utf8'));
      expect(a).toMatchObject({ format: STAGE_FORMAT, stage: name, schemaVersion: STAGE_SCHEMA_VERSION, params });
      expect(a.library.name).toBeTruthy();
    }
    expect(readdirSync(ws.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
  it('loaders give back what was saved', () => {
    expect(ws.loadTraffic(params).X.data).toEqual(r.data.X.data);
    expect(ws.loadPreprocess(params).scaler.transform(r.data.X).data).toEqual(r.scaled.data);
    expect(ws.loadForest(params).scoreSamples(r.scaled)).toEqual(r.scores);
    const p = ws.loadPredictions(params);
    expect(p.decision).toEqual(r.decision);
    expect(p.predictions).toEqual(r.predictions);
    expect(ws.loadMetrics(params).rocAuc).toBe(r.metrics.rocAuc);
  });
  it('a missing stage names the notebook that writes it', () => {
    const empty = new Workspace(mkdtempSync(join(tmpdir(), 'ws-empty-')));
    expect(() => empty.loadForest(params)).toThrow(MissingArtifactError);
    expect(() => empty.loadForest(params)).toThrow(/forest\.json is missing: run 03_train_isolation_forest\.ipynb first/);
  });
});

describe('stale or invalid stage files are refused, naming the file and what to re-run', () => {
  for (const name of stages) {
    it(`${name}: old layout without the marker (as written before versioning)`, () => {
      const ws = filled();
      edit(ws, name, (a) => {
        delete a.format;
        delete a.stage;
        delete a.schemaVersion;
      });
      expectStale(ws, name, /not a stage file of this library \(format undefined.*written by an older version\?\)/);
    });
    it(`${name}: another schema version`, () => {
      const ws = filled();
      edit(ws, name, (a) => (a.schemaVersion = 99));
      expectStale(ws, name, /stage schema version 99 is not supported/);
    });
    it(`${name}: not JSON, not an object`, () => {
      const ws = filled();
      writeFileSync(ws.path(name), '{"format": ');
      expectStale(ws, name, /is not valid JSON/);
      writeFileSync(ws.path(name), '[1, 2]');
      expectStale(ws, name, /not a stage file \(expected a JSON object\)/);
    });
    it(`${name}: other parameters, or invalid ones`, () => {
      const ws = filled();
      edit(ws, name, (a) => (a.params.seed = 7));
      expectStale(ws, name, /was made with other parameters \(seed: 7 there, 42 now\)/);
      edit(ws, name, (a) => (a.params.contamination = 0.9));
      expectStale(ws, name, /contamination = 0\.9/);
    });
  }
  it('a stage file copied under another name', () => {
    const ws = filled();
    writeFileSync(ws.path('forest.json'), readFileSync(ws.path('preprocess.json')));
    expectStale(ws, 'forest.json', /holds the stage "preprocess\.json", not forest\.json \(copied or renamed\?\)/);
  });
  it('traffic.csv that does not match the parameters', () => {
    const ws = filled();
    const lines = readFileSync(ws.path('traffic.csv'), 'utf8').split('\n');
    writeFileSync(ws.path('traffic.csv'), lines.slice(0, 100).join('\n'));
    expect(() => ws.loadTraffic(params)).toThrow(/traffic\.csv: holds 99 rows x 5 features, the parameters give 420 x 5: run 01_simulate_traffic\.ipynb again/);
  });
  it('preprocess.json: a scaler or PCA in the wrong shape', () => {
    const ws = filled();
    edit(ws, 'preprocess.json', (a) => a.scaler.mean.pop());
    expectStale(ws, 'preprocess.json', /StandardScaler\.scale must be 4 finite numbers/);
    const ws2 = filled();
    edit(ws2, 'preprocess.json', (a) => a.pca.components.pop());
    expectStale(ws2, 'preprocess.json', /PCA\.explainedVariance must be 1 finite numbers|the PCA has 1 components, pcaComponents is 2/);
  });
  it('forest.json: a broken forest, or one that disagrees with the parameters', () => {
    const ws = filled();
    edit(ws, 'forest.json', (a) => (a.forest.threshold = a.forest.threshold.slice(8)));
    expectStale(ws, 'forest.json', /invalid IsolationForest|threshold holds/);
    const ws2 = filled();
    edit(ws2, 'forest.json', (a) => (a.forest.contamination = 'auto'));
    expectStale(ws2, 'forest.json', /fitted with contamination "auto", the parameters say 0\.05/);
    const ws3 = filled();
    edit(ws3, 'forest.json', (a) => (a.fitMs = 'fast'));
    expectStale(ws3, 'forest.json', /fitMs = "fast" is not a duration/);
  });
  it('predictions.json: wrong lengths, non-numbers, inconsistent decision or predictions', () => {
    const cases: Array<[(a: Record<string, any>) => void, RegExp]> = [
      [(a) => a.scores.pop(), /scores must hold 420 values \(one per row\), got 419/],
      [(a) => (a.decision[3] = null), /decision\[3\] = null is not a finite number/],
      [(a) => (a.predictions[5] = 0), /predictions\[5\] = 0 is neither 1 nor -1/],
      [(a) => (a.threshold = 'x'), /threshold = "x" is not a finite number/],
      [(a) => (a.decision[7] += 0.25), /decision\[7\] = .* is not scores\[7\] - threshold/],
      [(a) => (a.predictions[0] = -a.predictions[0]), /predictions\[0\] = -?1 disagrees with decision\[0\]/],
    ];
    for (const [change, problem] of cases) {
      const ws = filled();
      edit(ws, 'predictions.json', change);
      expectStale(ws, 'predictions.json', problem);
    }
  });
  it('metrics.json: missing or out-of-range figures', () => {
    const cases: Array<[(a: Record<string, any>) => void, RegExp]> = [
      [(a) => delete a.metrics, /metrics is missing or not an object/],
      [(a) => (a.metrics.rocAuc = 1.5), /metrics\.rocAuc = 1\.5 is not a number in \[0, 1\]/],
      [(a) => (a.metrics.nRows = 5), /metrics\.nRows = 5, the parameters give 420 rows/],
      [(a) => (a.metrics.nFlagged = -1), /metrics\.nFlagged = -1 is not a row count/],
      [(a) => (a.metrics.confusion = {}), /metrics\.confusion is not a confusion matrix/],
      [(a) => (a.metrics.report = ''), /metrics\.report is missing/],
    ];
    for (const [change, problem] of cases) {
      const ws = filled();
      edit(ws, 'metrics.json', change);
      expectStale(ws, 'metrics.json', problem);
    }
  });
});
