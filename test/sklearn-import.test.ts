import { referencePathLengthSums } from '../src/model/kernel/reference-walk';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { averagePathLength, IsolationForest } from '../src/model/forest';
import { float32AtMost, type SklearnForestExport } from '../src/model/sklearn-import';
import { fromRows } from '../src/core/matrix';
import { readFixtureJson } from './fixtures';
import { DEFAULT_PARAMS } from '../src/params/params';
import { runPipeline, type PipelineResult } from '../src/workflow/pipeline';
import { createBundle, loadBundle, saveBundle } from '../src/persist/bundle';

const bundleParts = (r: PipelineResult) => ({
  params: r.params,
  featureNames: r.data.featureNames,
  scaler: r.scaler,
  pca: r.pca,
  forest: r.forest,
  trainingMetrics: r.metrics,
});

const ROOT = resolve(__dirname, '..');
const PY = join(ROOT, '.venv', 'bin', 'python');

interface FixtureCase extends SklearnForestExport {
  params: { n_estimators: number; max_samples: number; contamination: number | 'auto'; random_state: number };
  X_query: number[][];
  score_samples: number[];
  decision_function: number[];
  predict: number[];
  shap_expected_value: number;
  shap_values: number[][];
}

const fixture = readFixtureJson<{ generator: string; notes: string; cases: FixtureCase[] }>('sklearn-forest', 'iforest_shap.json');

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('float32AtMost: x32 <= t64 iff x32 <= float32AtMost(t64)', () => {
  const f32 = (x: number) => Math.fround(x);
  const next = (x: number, dir: 1 | -1) => {
    const b = new Float32Array([x]);
    const i = new Int32Array(b.buffer);
    i[0] += (x > 0 || (x === 0 && dir > 0)) === dir > 0 ? 1 : -1;
    return b[0];
  };
  it('keeps float32 values, rounds others down (never up)', () => {
    expect(float32AtMost(0.5)).toBe(0.5);
    expect(float32AtMost(f32(0.1))).toBe(f32(0.1));
    // 0.1 rounds up to float32: the answer is one float32 below
    expect(f32(0.1)).toBeGreaterThan(0.1);
    expect(float32AtMost(0.1)).toBe(next(f32(0.1), -1));
    expect(float32AtMost(-0.1)).toBeLessThanOrEqual(-0.1);
    expect(float32AtMost(-1e-50)).toBe(-(2 ** -149));
    expect(float32AtMost(1e-50)).toBe(0);
  });
  it('agrees with the float64 comparison on ties and neighbours of random thresholds', () => {
    let state = 12345;
    const rand = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    for (let k = 0; k < 2000; k++) {
      const t = rand() * 10 ** Math.floor(rand() * 6);
      const t32 = float32AtMost(t);
      for (const x of [f32(t), next(f32(t), 1), next(f32(t), -1), t32, next(t32, 1), next(t32, -1)]) {
        expect(x <= t32, `x=${x} t=${t}`).toBe(x <= t);
      }
    }
  });
});

describe('fromSklearn matches scikit-learn 1.9 and shap 0.51 on the fixture', () => {
  it('the fixture is the one we expect', () => {
    expect(fixture.cases.length).toBe(3);
    expect(fixture.notes).toMatch(/expected_value \+ sum\(shap\)/);
  });
  fixture.cases.forEach((c, k) => {
    const label = `case ${k}: ${c.params.n_estimators} trees, max_samples ${c.max_samples_}, contamination ${c.params.contamination}`;
    it(`${label}: scores and decisions to 1e-12, predictions exact`, () => {
      const forest = IsolationForest.fromSklearn(c);
      expect(forest.nEstimators).toBe(c.params.n_estimators);
      expect(forest.maxSamples).toBe(c.max_samples_);
      expect(forest.offset).toBe(c.offset_);
      const X = fromRows(c.X_query);
      expect(maxAbsDiff(forest.scoreSamples(X), c.score_samples)).toBeLessThanOrEqual(1e-12);
      expect(maxAbsDiff(referencePathLengthSums(forest.flat(), X), forest.pathLengthSums(X))).toBe(0);
      expect(maxAbsDiff(forest.decisionFunction(X), c.decision_function)).toBeLessThanOrEqual(1e-12);
      expect(Array.from(forest.predict(X))).toEqual(c.predict);
    });
    it(`${label}: SHAP expected value and values to 1e-9, local accuracy`, () => {
      const forest = IsolationForest.fromSklearn(c);
      const X = fromRows(c.X_query);
      const { expectedValue, values } = forest.shapValues(X);
      expect(Math.abs(expectedValue - c.shap_expected_value)).toBeLessThanOrEqual(1e-9);
      expect(maxAbsDiff(values.data, c.shap_values.flat())).toBeLessThanOrEqual(1e-9);
      const scores = forest.scoreSamples(X);
      const cPsi = averagePathLength(forest.maxSamples);
      for (let i = 0; i < X.rows; i++) {
        let f = expectedValue;
        for (let j = 0; j < X.cols; j++) f += values.data[i * X.cols + j];
        expect(Math.abs(-(2 ** (-f / cPsi)) - scores[i])).toBeLessThanOrEqual(1e-12);
      }
    });
    it(`${label}: toJSON round trip keeps every number`, () => {
      const forest = IsolationForest.fromSklearn(c);
      const back = IsolationForest.fromJSON(JSON.parse(JSON.stringify(forest.toJSON())));
      expect(back.toJSON()).toEqual(forest.toJSON());
      const X = fromRows(c.X_query);
      expect(Array.from(back.scoreSamples(X))).toEqual(Array.from(forest.scoreSamples(X)));
      expect(back.shapValues(X)).toEqual(forest.shapValues(X));
    });
  });

  it('an imported forest saves into a model bundle and loads back identical', () => {
    const c = fixture.cases[0];
    const forest = IsolationForest.fromSklearn(c);
    const params = { ...DEFAULT_PARAMS, nFeatures: c.n_features_in_, nEstimators: c.trees.length, nNormal: 300, nAnomalous: 15 };
    const result = runPipeline(params);
    const dir = mkdtempSync(join(tmpdir(), 'sk-bundle-'));
    try {
      const path = join(dir, 'model.json');
      saveBundle(path, createBundle({ ...bundleParts(result), forest }));
      const loaded = loadBundle(path);
      expect(loaded.threshold).toBe(c.offset_);
      expect(loaded.forest.toJSON()).toEqual(forest.toJSON());
      const X = fromRows(c.X_query);
      expect(maxAbsDiff(loaded.forest.scoreSamples(X), c.score_samples)).toBeLessThanOrEqual(1e-12);
      expect(maxAbsDiff(loaded.forest.shapValues(X).values.data, c.shap_values.flat())).toBeLessThanOrEqual(1e-9);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ties: inputs equal to, just below and just above every threshold score as scikit-learn would', () => {
    // reference: walk scikit-learn's own arrays with its rule float32(x) <= float64 threshold
    const sklearnScores = (c: SklearnForestExport, rows: number[][]): number[] =>
      rows.map((r) => {
        let sum = 0;
        for (const t of c.trees) {
          let k = 0;
          let depth = 0;
          while (t.children_left[k] !== -1) {
            k = Math.fround(r[t.feature[k]]) <= t.threshold[k] ? t.children_left[k] : t.children_right[k];
            depth++;
          }
          sum += depth + averagePathLength(t.n_node_samples[k]);
        }
        return -(2 ** (-sum / (c.trees.length * averagePathLength(c.max_samples_))));
      });
    for (const c of fixture.cases) {
      const forest = IsolationForest.fromSklearn(c);
      const rows: number[][] = [];
      c.trees.forEach((t, ti) => {
        t.threshold.forEach((thr, k) => {
          if (t.children_left[k] === -1) return;
          const base = c.X_query[(ti + k) % c.X_query.length];
          for (const v of [thr, Math.fround(thr), float32AtMost(thr), thr + Math.abs(thr) * 1e-7 + 1e-30]) {
            const r = base.slice();
            r[t.feature[k]] = v;
            rows.push(r);
          }
        });
      });
      const X = fromRows(rows);
      const ours = forest.scoreSamples(X);
      expect(maxAbsDiff(ours, sklearnScores(c, rows))).toBeLessThanOrEqual(1e-12);
      expect(maxAbsDiff(referencePathLengthSums(forest.flat(), X), forest.pathLengthSums(X))).toBe(0);
    }
  });

  it('a float32 threshold that rounds up would send a tie the wrong way; rounding down does not', () => {
    // find a fixture threshold whose nearest float32 is above it: x = fround(t) > t goes right in scikit-learn
    const c = fixture.cases[0];
    let found = 0;
    for (const t of c.trees) {
      for (let k = 0; k < t.threshold.length; k++) {
        if (t.children_left[k] === -1) continue;
        const thr = t.threshold[k];
        if (Math.fround(thr) > thr) {
          found++;
          const x = Math.fround(thr);
          expect(x <= thr).toBe(false); // scikit-learn: right
          expect(x <= float32AtMost(thr)).toBe(false); // ours: right
          expect(x <= Math.fround(thr)).toBe(true); // naive rounding: left (wrong)
        }
      }
    }
    expect(found).toBeGreaterThan(0);
  });

  it('rejects malformed exports with the field named', () => {
    const c = fixture.cases[0];
    expect(() => IsolationForest.fromSklearn({ ...c, max_samples_: 0 })).toThrow(/fromSklearn: max_samples_ must be a positive integer, got 0/);
    const bad = structuredClone(c.trees[0]);
    bad.children_left[0] = 999;
    expect(() => IsolationForest.fromSklearn({ ...c, trees: [bad] })).toThrow(/fromSklearn: trees\[0\]: child id 999 out of range/);
    const boot = structuredClone(c.trees[0]);
    boot.n_node_samples[0] = c.max_samples_ - 3;
    expect(() => IsolationForest.fromSklearn({ ...c, trees: [boot] })).toThrow(/bootstrap=True forests are not supported/);
    const thr = structuredClone(c.trees[0]);
    (thr.threshold as unknown[])[0] = 'x';
    expect(() => IsolationForest.fromSklearn({ ...c, trees: [thr] })).toThrow(/trees\[0\]\.threshold\[0\] = "x"/);
  });
});

/** Why scikit-learn cannot be used here, or undefined when it can. */
function sklearnUnavailable(): string | undefined {
  if (!existsSync(PY)) return `no ${PY} (run npm run setup)`;
  const r = spawnSync(PY, ['-c', 'import sklearn, joblib, numpy'], { encoding: 'utf8' });
  if (r.status !== 0) return `scikit-learn is not importable in .venv (${(r.stderr || '').trim().split('\n').pop()}); install it with .venv/bin/pip install -r requirements-bench.txt`;
  return undefined;
}

// Fits forests in Python (one with every feature, many ties and contamination;
// one subsampling features), exports them in-process and through the command
// line, and records scikit-learn's outputs on query rows that include every
// threshold's tie and neighbours.
const FIT_AND_EXPORT = `
import json, sys
import numpy as np
import joblib
from sklearn.ensemble import IsolationForest
sys.path.insert(0, sys.argv[1] + '/scripts')
from export_sklearn_forest import export_forest
out = sys.argv[2]
rng = np.random.RandomState(7)
X = rng.normal(size=(1500, 7))
X[:, 2] = rng.randint(0, 4, size=1500)          # ties
X[:40] += 4                                      # a few outliers
Q = rng.normal(size=(300, 7)); Q[:, 2] = rng.randint(0, 4, size=300); Q[:30] += 4
cases = {}
for name, kw in [('full', dict(n_estimators=30, max_samples=200, contamination=0.1, random_state=3)),
                 ('subsampled', dict(n_estimators=20, max_samples=100, max_features=0.6, contamination='auto', random_state=5))]:
    m = IsolationForest(**kw).fit(X)
    rows = [q.copy() for q in Q]
    for est, feats in zip(m.estimators_[:5], m.estimators_features_[:5]):
        t = est.tree_
        for k in range(t.node_count):
            if t.children_left[k] == -1: continue
            col = feats[t.feature[k]] if len(feats) != X.shape[1] else t.feature[k]
            for v in (t.threshold[k], np.float32(t.threshold[k]), np.nextafter(np.float32(t.threshold[k]), np.float32(-np.inf))):
                r = Q[k % len(Q)].copy(); r[col] = float(v); rows.append(r)
    R = np.array(rows)
    joblib.dump(m, f'{out}/{name}.joblib')
    cases[name] = dict(export=export_forest(m), X=R.tolist(), score_samples=m.score_samples(R).tolist(),
                       decision_function=m.decision_function(R).tolist(), predict=m.predict(R).tolist())
joblib.dump(IsolationForest(n_estimators=3, bootstrap=True, random_state=0).fit(X), f'{out}/bootstrap.joblib')
with open(f'{out}/cases.json', 'w') as f: json.dump(cases, f)
`;

describe('scripts/export_sklearn_forest.py round trip with scikit-learn', () => {
  const why = sklearnUnavailable();
  it.skipIf(why !== undefined)(`exports fitted models that score and explain as scikit-learn does${why ? ` (skipped: ${why})` : ''}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'sk-export-'));
    try {
      execFileSync(PY, ['-c', FIT_AND_EXPORT, ROOT, dir], { encoding: 'utf8' });
      const cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as Record<
        string,
        { export: SklearnForestExport; X: number[][]; score_samples: number[]; decision_function: number[]; predict: number[] }
      >;
      for (const [name, c] of Object.entries(cases)) {
        // the command line writes the same JSON as the in-process export
        const cli = join(dir, `${name}.json`);
        execFileSync(PY, [join(ROOT, 'scripts', 'export_sklearn_forest.py'), join(dir, `${name}.joblib`), cli]);
        const fromCli = JSON.parse(readFileSync(cli, 'utf8')) as SklearnForestExport;
        expect(fromCli).toEqual(c.export);
        const forest = IsolationForest.fromSklearn(fromCli);
        const X = fromRows(c.X);
        expect(maxAbsDiff(forest.scoreSamples(X), c.score_samples), name).toBeLessThanOrEqual(1e-12);
        expect(maxAbsDiff(forest.decisionFunction(X), c.decision_function), name).toBeLessThanOrEqual(1e-12);
        expect(Array.from(forest.predict(X)), name).toEqual(c.predict);
        const { expectedValue, values } = forest.shapValues(X);
        const cPsi = averagePathLength(forest.maxSamples);
        for (let i = 0; i < X.rows; i++) {
          let f = expectedValue;
          for (let j = 0; j < X.cols; j++) f += values.data[i * X.cols + j];
          expect(Math.abs(-(2 ** (-f / cPsi)) - c.score_samples[i])).toBeLessThanOrEqual(1e-12);
        }
      }
      // the subsampled forest really used fewer columns per tree
      expect(cases.subsampled.export.trees[0].features.length).toBeLessThan(7);
      // unsupported and unreadable inputs: exit 1, one line naming the file
      const boot = spawnSync(PY, [join(ROOT, 'scripts', 'export_sklearn_forest.py'), join(dir, 'bootstrap.joblib'), join(dir, 'b.json')], { encoding: 'utf8' });
      expect(boot.status).toBe(1);
      expect(boot.stderr.trim()).toMatch(/^export_sklearn_forest: .*bootstrap\.joblib: bootstrap=True forests are not supported/);
      expect(boot.stderr.trim().split('\n').length).toBe(1);
      const missing = spawnSync(PY, [join(ROOT, 'scripts', 'export_sklearn_forest.py'), join(dir, 'nope.joblib'), '-'], { encoding: 'utf8' });
      expect(missing.status).toBe(1);
      expect(missing.stderr).toMatch(/cannot load .*nope\.joblib: FileNotFoundError/);
      const usage = spawnSync(PY, [join(ROOT, 'scripts', 'export_sklearn_forest.py')], { encoding: 'utf8' });
      expect(usage.status).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
