import { describe, expect, it } from 'vitest';
import { averagePathLength, IsolationForest } from '../src/model/forest';
import { createMatrix, type Matrix } from '../src/core/matrix';
import { createRng } from '../src/core/rng';
import { buildShapTables, gaussLegendre01, treeShapRows, treeShapRowsJs } from '../src/model/treeshap';
import { groupContributions, toScoreUnits, topDrivers } from '../src/explain/contributions';
import type { FlatForest } from '../src/model/kernel/forest-kernel';

/** Random data; `discrete` columns take few integer values (many ties, repeated splits on one feature). */
function randomData(rows: number, cols: number, seed: number, discrete = 0): Matrix {
  const rng = createRng(seed, 'data');
  const X = createMatrix(rows, cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      X.data[i * cols + j] = j < discrete ? rng.int(4) : (rng.next() - 0.5) * 4 + (i % 17 === 0 ? 5 : 0);
    }
  }
  return X;
}

/**
 * The path-dependent value function v(S) of TreeSHAP's Algorithm 1, written
 * out independently: follow x at splits on features in S, otherwise average
 * both children weighted by their training rows; mean over trees.
 */
function conditionalExpectation(forest: FlatForest, x: Float32Array, inS: boolean[]): number {
  const { treeStart, feature, threshold, right, leafPath } = forest;
  const cover = (k: number): number => (feature[k] < 0 ? right[k] : cover(k + 1) + cover(right[k]));
  const value = (k: number): number => {
    const f = feature[k];
    if (f < 0) return leafPath[k];
    const l = k + 1;
    const r = right[k];
    if (inS[f]) return x[f] <= threshold[k] ? value(l) : value(r);
    return (cover(l) * value(l) + cover(r) * value(r)) / cover(k);
  };
  let sum = 0;
  for (let t = 0; t + 1 < treeStart.length; t++) sum += value(treeStart[t]);
  return sum / (treeStart.length - 1);
}

/** Shapley values by enumerating all 2^d subsets with the exact weights |S|!(d-|S|-1)!/d!. */
function bruteForceShapley(forest: FlatForest, row: Float64Array): { expected: number; phi: number[] } {
  const d = row.length;
  const x = Float32Array.from(row);
  const v = new Float64Array(1 << d);
  for (let mask = 0; mask < 1 << d; mask++) {
    v[mask] = conditionalExpectation(forest, x, Array.from({ length: d }, (_, j) => ((mask >> j) & 1) === 1));
  }
  const fact = [1];
  for (let k = 1; k <= d; k++) fact.push(fact[k - 1] * k);
  const phi = new Array<number>(d).fill(0);
  for (let i = 0; i < d; i++) {
    for (let mask = 0; mask < 1 << d; mask++) {
      if ((mask >> i) & 1) continue;
      let s = 0;
      for (let j = 0; j < d; j++) s += (mask >> j) & 1;
      phi[i] += ((fact[s] * fact[d - s - 1]) / fact[d]) * (v[mask | (1 << i)] - v[mask]);
    }
  }
  return { expected: v[0], phi };
}

describe('Gauss-Legendre on [0, 1]', () => {
  it('integrates t^k exactly up to degree 2n - 1', () => {
    for (let n = 1; n <= 12; n++) {
      const { t, w } = gaussLegendre01(n);
      for (let k = 0; k <= 2 * n - 1; k++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += w[j] * t[j] ** k;
        expect(Math.abs(s - 1 / (k + 1)), `n=${n} k=${k}`).toBeLessThan(1e-14);
      }
      // and not degree 2n: the error is then (n!)^4 / ((2n+1) ((2n)!)^2), the textbook remainder on [0, 1]
      if (n <= 6) {
        let s = 0;
        for (let j = 0; j < n; j++) s += w[j] * t[j] ** (2 * n);
        let nf = 1;
        for (let k = 2; k <= n; k++) nf *= k;
        let n2f = 1;
        for (let k = 2; k <= 2 * n; k++) n2f *= k;
        expect(1 / (2 * n + 1) - s).toBeCloseTo(nf ** 4 / ((2 * n + 1) * n2f ** 2), 12);
      }
    }
  });
});

describe('TreeSHAP equals brute-force Shapley enumeration of the path-dependent value function', () => {
  const cases = [
    { d: 2, n: 300, psi: 32, trees: 5, discrete: 0 },
    { d: 3, n: 400, psi: 64, trees: 8, discrete: 1 },
    { d: 4, n: 500, psi: 256, trees: 6, discrete: 2 },
    { d: 5, n: 600, psi: 128, trees: 10, discrete: 0 },
    { d: 6, n: 700, psi: 256, trees: 7, discrete: 3 },
    { d: 6, n: 200, psi: 16, trees: 12, discrete: 6 },
  ];
  cases.forEach((c, k) => {
    it(`d=${c.d}, psi=${c.psi}, ${c.trees} trees, ${c.discrete} discrete columns: to 1e-9`, () => {
      const X = randomData(c.n, c.d, 100 + k, c.discrete);
      const forest = IsolationForest.fit(X, { nEstimators: c.trees, maxSamples: c.psi, contamination: 'auto', seed: k });
      const Q = randomData(25, c.d, 900 + k, c.discrete);
      const shap = forest.shapValues(Q);
      let worst = 0;
      for (let i = 0; i < Q.rows; i++) {
        const brute = bruteForceShapley(forest.flat(), Q.data.subarray(i * c.d, (i + 1) * c.d));
        expect(Math.abs(brute.expected - shap.expectedValue)).toBeLessThanOrEqual(1e-9);
        for (let j = 0; j < c.d; j++) worst = Math.max(worst, Math.abs(brute.phi[j] - shap.values.data[i * c.d + j]));
      }
      expect(worst).toBeLessThanOrEqual(1e-9);
    });
  });
});

describe('the WebAssembly sweeps (q = 4) give the JavaScript sweeps\' doubles exactly', () => {
  it('on 150 rows (three blocks, the last partial) of a 60-tree forest with discrete columns', () => {
    const X = randomData(2000, 9, 41, 3);
    const forest = IsolationForest.fit(X, { nEstimators: 60, maxSamples: 256, contamination: 0.05, seed: 'wasm-shap' });
    const flat = forest.flat();
    const tables = buildShapTables(flat);
    expect(tables.q).toBe(4);
    const Q = randomData(150, 9, 42, 3);
    const wasm = new Float64Array(Q.data.length);
    const js = new Float64Array(Q.data.length);
    treeShapRows(flat, tables, Q.data, 0, 150, wasm);
    treeShapRowsJs(flat, tables, Q.data, 0, 150, js);
    expect(Array.from(wasm)).toEqual(Array.from(js));
    // a range not starting at 0 lands at the start of out, as in the JavaScript sweeps
    const part = new Float64Array(37 * 9);
    treeShapRows(flat, tables, Q.data, 100, 137, part);
    expect(Array.from(part)).toEqual(Array.from(js.subarray(100 * 9, 137 * 9)));
  });
});

describe('local accuracy and dummy features', () => {
  it('expectedValue + row sum = mean path length, and gives scoreSamples, on random forests and data', () => {
    for (const [d, psi, trees] of [
      [5, 256, 100],
      [20, 512, 30],
      [1, 64, 10],
      [9, 2, 5],
    ]) {
      const X = randomData(1500, d, d * 7 + psi, Math.floor(d / 3));
      const forest = IsolationForest.fit(X, { nEstimators: trees, maxSamples: psi, contamination: 0.05, seed: `la-${d}` });
      const Q = randomData(200, d, 77 + d, Math.floor(d / 3));
      const { expectedValue, values } = forest.shapValues(Q);
      const sums = forest.pathLengthSums(Q);
      const scores = forest.scoreSamples(Q);
      const cPsi = averagePathLength(forest.maxSamples);
      for (let i = 0; i < Q.rows; i++) {
        let f = expectedValue;
        for (let j = 0; j < d; j++) f += values.data[i * d + j];
        expect(Math.abs(f - sums[i] / trees), `row ${i}, d=${d}`).toBeLessThanOrEqual(1e-10);
        expect(Math.abs(-(2 ** (-f / cPsi)) - scores[i])).toBeLessThanOrEqual(1e-12);
      }
    }
  });

  it('the expected value is the mean path length of the training rows under path weighting (leaf sizes)', () => {
    const X = randomData(400, 3, 5);
    const forest = IsolationForest.fit(X, { nEstimators: 4, maxSamples: 64, contamination: 'auto', seed: 3 });
    const { feature, right, leafPath } = forest.flat();
    let sum = 0;
    for (let k = 0; k < feature.length; k++) if (feature[k] < 0) sum += (right[k] / 64) * leafPath[k];
    expect(forest.shapValues(createMatrix(0, 3)).expectedValue).toBeCloseTo(sum / 4, 12);
  });

  it('a feature no tree splits on gets exactly 0', () => {
    const X = randomData(800, 5, 11);
    for (let i = 0; i < X.rows; i++) X.data[i * 5 + 2] = 3.25; // constant column: never split on
    const forest = IsolationForest.fit(X, { nEstimators: 50, maxSamples: 128, contamination: 'auto', seed: 1 });
    expect(Array.from(forest.flat().feature)).not.toContain(2);
    const Q = randomData(100, 5, 12);
    const { values } = forest.shapValues(Q);
    for (let i = 0; i < Q.rows; i++) expect(values.data[i * 5 + 2]).toBe(0);
    // and the others are not all zero (the test can fail)
    expect(values.data.some((v, k) => k % 5 !== 2 && v !== 0)).toBe(true);
  });

  it('rejects a wrong width or non-finite input with the column named', () => {
    const forest = IsolationForest.fit(randomData(100, 3, 1), { nEstimators: 2, maxSamples: 16, contamination: 'auto', seed: 1 });
    expect(() => forest.shapValues(createMatrix(1, 4))).toThrow(/got 4 features, the model was fitted on 3/);
    const bad = createMatrix(1, 3);
    bad.data[1] = NaN;
    expect(() => forest.shapValues(bad)).toThrow(/row 0, column 1 is NaN/);
  });
});

describe('reading explanations: groups, score units, top drivers', () => {
  const X = randomData(1000, 6, 21, 2);
  const forest = IsolationForest.fit(X, { nEstimators: 40, maxSamples: 256, contamination: 0.05, seed: 21 });
  const Q = randomData(60, 6, 22, 2);
  const shap = forest.shapValues(Q);

  it('groupContributions sums the columns of each group and keeps local accuracy', () => {
    const groups = [
      { name: 'proto', columns: [0, 1] },
      { name: 'bytes', columns: [4] },
      { name: 'rest', columns: [5, 2, 3] },
    ];
    const g = groupContributions(shap.values, groups);
    expect(g.names).toEqual(['proto', 'bytes', 'rest']);
    expect(g.values.cols).toBe(3);
    for (let i = 0; i < Q.rows; i++) {
      const v = (j: number) => shap.values.data[i * 6 + j];
      expect(g.values.data[i * 3]).toBe(v(0) + v(1));
      expect(g.values.data[i * 3 + 1]).toBe(v(4));
      expect(g.values.data[i * 3 + 2]).toBeCloseTo(v(5) + v(2) + v(3), 14);
    }
    expect(() => groupContributions(shap.values, [{ name: 'a', columns: [0, 1, 2] }, { name: 'b', columns: [2, 3, 4, 5] }])).toThrow(/column 2 is in both "a" and "b"/);
    expect(() => groupContributions(shap.values, [{ name: 'a', columns: [0, 1, 2, 3, 4] }])).toThrow(/column 5 is in no group/);
    expect(() => groupContributions(shap.values, [{ name: 'a', columns: [0, 1, 2, 3, 4, 5, 6] }])).toThrow(/group "a" names column 6, out of range 0..5/);
  });

  it('toScoreUnits adds up to score_samples and keeps every sign', () => {
    const s = toScoreUnits(shap, forest.maxSamples);
    const scores = forest.scoreSamples(Q);
    expect(s.baseScore).toBe(-(2 ** (-shap.expectedValue / averagePathLength(256))));
    for (let i = 0; i < Q.rows; i++) {
      let sum = s.baseScore;
      for (let j = 0; j < 6; j++) {
        sum += s.values.data[i * 6 + j];
        expect(Math.sign(s.values.data[i * 6 + j])).toBe(Math.sign(shap.values.data[i * 6 + j]));
      }
      expect(Math.abs(sum - scores[i])).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(s.scores[i] - scores[i])).toBeLessThanOrEqual(1e-12);
    }
    // a row at the expected value: slope, not 0/0
    const flat = toScoreUnits({ expectedValue: 10, values: { rows: 1, cols: 2, data: Float64Array.from([0.5, -0.5]) } }, 256);
    expect(Number.isFinite(flat.values.data[0]) && flat.values.data[0] > 0 && flat.values.data[1] < 0).toBe(true);
  });

  it('topDrivers ranks the most negative contributions first, with names and input values', () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const scores = forest.scoreSamples(Q);
    const worst = scores.indexOf(Math.min(...scores));
    const top = topDrivers(shap.values, worst, 3, { names, X: Q });
    expect(top.length).toBe(3);
    const row = Array.from(shap.values.data.subarray(worst * 6, worst * 6 + 6));
    const sorted = [...row].sort((a, b) => a - b);
    expect(top.map((t) => t.contribution)).toEqual(sorted.slice(0, 3));
    for (const t of top) {
      expect(t.name).toBe(names[t.feature]);
      expect(t.value).toBe(Q.data[worst * 6 + t.feature]);
    }
    expect(top[0].contribution).toBeLessThan(0); // the most anomalous row has a driver towards "anomalous"
    expect(topDrivers(shap.values, 0, 10).length).toBe(6);
    expect(() => topDrivers(shap.values, 60, 1)).toThrow(/row 60 out of range 0..59/);
    expect(() => topDrivers(shap.values, 0, 0)).toThrow(/k must be a positive integer, got 0/);
  });
});
