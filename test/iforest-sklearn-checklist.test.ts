/**
 * scikit-learn's sklearn/ensemble/tests/test_iforest.py as a checklist: each
 * block names the scikit-learn test it mirrors. Where we differ on purpose the
 * test pins our behaviour and README.md ("Differences from scikit-learn") says
 * why. Data are drawn with our own seeded generator (numpy's draws are not
 * reproducible here), so the thresholds, not the exact numbers, carry over.
 */
import { referencePathLengthSums } from '../src/model/kernel/reference-walk';
import { describe, expect, it } from 'vitest';
import { averagePathLength, EULER_GAMMA, IsolationForest, type IsolationForestOptions } from '../src/model/forest';
import { createMatrix, fromRows, selectRows, vstack, type Matrix } from '../src/core/matrix';
import { createRng } from '../src/core/rng';
import { rocAuc } from '../src/eval/metrics';
import { ParameterError } from '../src/params/constraints';

const rng = createRng(0, 'sklearn-checklist');
const randn = (rows: number, cols: number, scale = 1): Matrix => createMatrix(rows, cols, Float64Array.from({ length: rows * cols }, () => scale * rng.normal()));
const uniform = (rows: number, cols: number, lo: number, hi: number): Matrix =>
  createMatrix(rows, cols, Float64Array.from({ length: rows * cols }, () => lo + (hi - lo) * rng.next()));
const fit = (X: Matrix, o: Partial<IsolationForestOptions> = {}) =>
  IsolationForest.fit(X, { nEstimators: 100, maxSamples: 'auto', contamination: 'auto', seed: 0, ...o });

/** iris has 150 rows of 4 features; any 150 x 4 data serves the row-count tests */
const iris = randn(150, 4);

describe('test_iforest: small grids of settings fit and predict', () => {
  const Xtrain = fromRows([[0, 1], [1, 2]]);
  const Xtest = fromRows([[2, 1], [1, 1]]);
  it('maxSamples 3 on 2 rows is capped at 2; the forest predicts', () => {
    const f = fit(Xtrain, { nEstimators: 3, maxSamples: 3 });
    expect(f.maxSamples).toBe(2);
    expect(Array.from(f.predict(Xtest)).every((p) => p === 1 || p === -1)).toBe(true);
  });
  /**
   * scikit-learn 1.9.1 (numpy 2.4.6), for contamination "auto" and 0.1 alike:
   * IsolationForest(n_estimators=3, max_samples=0.5).fit(X_train) has
   * max_samples_ = 1, three one-node trees (max_depth parameter 1), offset_ =
   * -0.5, score_samples(X_test) = score_samples(X_train) = [-0.5, -0.5],
   * decision_function(X_test) = [0.0, 0.0], predict(X_test) = [1, 1]
   * (c(1) = 0: _compute_score_samples sets the 0/0 ratio to 1).
   */
  it.each(['auto', 0.1] as const)('maxSamples 0.5 of 2 rows fits one row per tree, scored as scikit-learn does (contamination %s)', async (contamination) => {
    const f = fit(Xtrain, { nEstimators: 3, maxSamples: 0.5, contamination });
    expect(f.maxSamples).toBe(1);
    expect(f.maxDepth).toBe(1);
    expect(f.toJSON().nodeCounts).toEqual([1, 1, 1]);
    expect(f.offset).toBe(-0.5);
    expect(Array.from(f.scoreSamples(Xtest))).toEqual([-0.5, -0.5]);
    expect(Array.from(f.scoreSamples(Xtrain))).toEqual([-0.5, -0.5]);
    expect(Array.from(f.decisionFunction(Xtest))).toEqual([0, 0]);
    expect(Array.from(f.predict(Xtest))).toEqual([1, 1]);
    expect(Array.from(await f.scoreSamplesAsync(Xtest, { threads: 2 }))).toEqual([-0.5, -0.5]);
    // it saves and loads like any forest, and still refuses rows it cannot score
    const back = IsolationForest.fromJSON(JSON.parse(JSON.stringify(f.toJSON())));
    expect(Array.from(back.scoreSamples(Xtest))).toEqual([-0.5, -0.5]);
    expect(() => f.scoreSamples(fromRows([[NaN, 1]]))).toThrow(/row 0, column 0 is NaN/);
    expect(() => f.scoreSamples(fromRows([[1, 2, 3]]))).toThrow(/got 3 features, the model was fitted on 2/);
  });
  it('a fraction giving no row per tree is refused (scikit-learn 1.9.1 raises a ValueError too)', () => {
    expect(() => fit(Xtrain, { maxSamples: 0.4 })).toThrow(/maxSamples = 0.4 gives floor\(0.4 \* 2\) = 0 rows per tree for 2 training rows; a tree needs at least 1/);
  });
  it('differs: 1.0 (= the integer 1: one row per tree or every row?) is refused', () => {
    expect(() => fit(Xtrain, { maxSamples: 1.0 })).toThrow(/maxSamples = 1 is not allowed/);
  });
});

describe('test_iforest_error: invalid maxSamples is refused', () => {
  it.each([-1, 0.0, 1.5, 'foobar', NaN, null])('maxSamples = %s', (value) => {
    expect(() => fit(iris, { maxSamples: value as number })).toThrow(ParameterError);
    expect(() => fit(iris, { maxSamples: value as number })).toThrow(/maxSamples = .* is not allowed; must be "auto", an integer from 2 to 10,000,000, or a number in \(0, 1\)/);
  });
  it('differs: 2.0 is the integer 2 in JavaScript, so it is a valid count (scikit-learn refuses the float 2.0)', () => {
    expect(fit(iris, { maxSamples: 2.0 }).maxSamples).toBe(2);
  });
  it('maxSamples above the row count is capped (scikit-learn warns; we cap silently) and "auto" needs no cap', () => {
    expect(fit(iris, { maxSamples: 1000 }).maxSamples).toBe(150);
    expect(fit(iris, { maxSamples: 'auto' }).maxSamples).toBe(150);
  });
  it('predicting with another feature count than fitted is refused', () => {
    const f = fit(iris);
    const fewer = createMatrix(150, 3, Float64Array.from({ length: 450 }, (_, k) => iris.data[Math.floor(k / 3) * 4 + 1 + (k % 3)]));
    expect(() => f.predict(fewer)).toThrow(/got 3 features, the model was fitted on 4/);
  });
});

describe('test_recalculate_max_depth / test_max_samples_attribute', () => {
  it('with fewer rows than 256 the height limit is ceil(log2(n)), from the rows actually drawn', () => {
    const f = fit(iris);
    expect(f.maxSamples).toBe(150);
    expect(f.maxDepth).toBe(Math.ceil(Math.log2(150)));
    expect(f.toJSON().maxDepth).toBe(8);
  });
  it('max_samples_: 500 -> n, 0.4 -> 0.4 * n', () => {
    expect(fit(iris, { maxSamples: 500 }).maxSamples).toBe(150);
    expect(fit(iris, { maxSamples: 0.4 }).maxSamples).toBe(60);
    expect(fit(iris, { maxSamples: 0.4 }).maxDepth).toBe(Math.ceil(Math.log2(60)));
  });
});

describe('test_iforest_parallel_regression: threads do not change results', () => {
  it('scoring on 1 or 2 threads and fitAsync give the same predictions as fit', async () => {
    const Xtrain = randn(300, 5);
    const Xtest = randn(200, 5);
    const f = fit(Xtrain);
    const y1 = await f.scoreSamplesAsync(Xtest, { threads: 1 });
    const y2 = await f.scoreSamplesAsync(Xtest, { threads: 2 });
    expect(y2).toEqual(y1);
    const g = await IsolationForest.fitAsync(Xtrain, { nEstimators: 100, maxSamples: 'auto', contamination: 'auto', seed: 0 }, { threads: 2 });
    expect(g.predict(Xtest)).toEqual(f.predict(Xtest));
    expect(g.scoreSamples(Xtest)).toEqual(y1);
  });
});

describe('test_iforest_performance', () => {
  it('ROC-AUC > 0.98 separating a tight cluster from uniform outliers (maxSamples 100)', () => {
    const X = randn(120, 2, 0.3);
    const Xtrain = selectRows(X, Array.from({ length: 100 }, (_, i) => i));
    const outliers = uniform(20, 2, -4, 4);
    const Xtest = vstack([selectRows(X, Array.from({ length: 20 }, (_, i) => 100 + i)), outliers]);
    const y = [...Array(20).fill(-1), ...Array(20).fill(1)]; // positive class 1 = outlier here
    const f = fit(Xtrain, { maxSamples: 100 });
    const abnormality = Array.from(f.decisionFunction(Xtest), (v) => -v);
    const auc = rocAuc(y, abnormality);
    expect(auc).toBeGreaterThan(0.98);
  });
});

describe('test_iforest_works: the toy outliers are found', () => {
  // the last two rows are outliers
  const X = fromRows([[-2, -1], [-1, -1], [-1, -2], [1, 1], [1, 2], [2, 1], [6, 3], [-4, 7]]);
  for (const contamination of [0.25, 'auto'] as const) {
    it(`contamination ${contamination}: outliers score lowest and are the only rows predicted -1 (10 seeds)`, () => {
      for (let seed = 0; seed < 10; seed++) {
        const f = fit(X, { contamination, seed });
        const d = f.decisionFunction(X);
        expect(Math.max(d[6], d[7])).toBeLessThan(Math.min(...Array.from(d.subarray(0, 6))));
        expect(Array.from(f.predict(X))).toEqual([1, 1, 1, 1, 1, 1, -1, -1]);
      }
    });
  }
});

describe('test_iforest_average_path_length', () => {
  it('c(0) = c(1) = 0, c(2) = 1, c(5) and c(999) by the formula, non-decreasing', () => {
    expect(averagePathLength(0)).toBe(0);
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    expect(averagePathLength(5)).toBeCloseTo(2 * (Math.log(4) + EULER_GAMMA) - (2 * 4) / 5, 14);
    expect(averagePathLength(999)).toBeCloseTo(2 * (Math.log(998) + EULER_GAMMA) - (2 * 998) / 999, 14);
    const c = [0, 1, 2, 3, 4].map(averagePathLength);
    expect(c).toEqual([...c].sort((a, b) => a - b));
  });
});

describe('test_score_samples', () => {
  it('scoreSamples = decisionFunction + offset, and contamination changes only the offset', () => {
    const Xtrain = fromRows([[1, 1], [1, 2], [2, 1]]);
    const x = fromRows([[2, 2]]);
    const f1 = fit(Xtrain, { contamination: 0.1 });
    const f2 = fit(Xtrain);
    expect(f1.scoreSamples(x)[0]).toBe(f1.decisionFunction(x)[0] + f1.offset);
    expect(f2.scoreSamples(x)[0]).toBe(f2.decisionFunction(x)[0] + f2.offset);
    expect(f1.scoreSamples(x)).toEqual(f2.scoreSamples(x));
    expect(f2.offset).toBe(-0.5);
  });
});

describe('test_iforest_warm_start (our analogue: tree t depends only on the seed and t)', () => {
  it('a forest of 20 trees starts with the 10 trees of a forest of 10', () => {
    const X = randn(20, 2);
    const a = fit(X, { nEstimators: 10, maxSamples: 20 }).toJSON();
    const b = fit(X, { nEstimators: 20, maxSamples: 20 }).toJSON();
    expect(b.nodeCounts.slice(0, 10)).toEqual(a.nodeCounts);
    const nodes = a.nodeCounts.reduce((s, k) => s + k, 0);
    expect(Buffer.from(b.threshold, 'base64').subarray(0, nodes * 4)).toEqual(Buffer.from(a.threshold, 'base64'));
    expect(Buffer.from(b.feature, 'base64').subarray(0, nodes * 2)).toEqual(Buffer.from(a.feature, 'base64'));
  });
});

describe('test_iforest_chunks_works (our analogue: scores do not depend on how rows are batched)', () => {
  it('scoring rows one at a time equals scoring them all at once (kernel and JavaScript walk)', () => {
    const X = randn(1100, 3); // more than the 512-row scoring block
    const f = fit(X);
    const all = f.scoreSamples(X);
    const oneByOne = Float64Array.from({ length: X.rows }, (_, i) => f.scoreSamples(selectRows(X, [i]))[0]);
    expect(oneByOne).toEqual(all);
    expect(referencePathLengthSums(f.flat(), X)).toEqual(f.pathLengthSums(X));
  });
});

describe('test_iforest_with_uniform_data: constant data is all normal', () => {
  const expectAllNormal = (f: IsolationForest, X: Matrix) => expect(Array.from(f.predict(X)).every((p) => p === 1)).toBe(true);
  const ones = createMatrix(100, 10, new Float64Array(1000).fill(1));
  const shift = (X: Matrix, by: number) => createMatrix(X.rows, X.cols, X.data.map((v) => v + by));
  for (const contamination of ['auto', 0.1] as const) {
    it(`all-ones training data (contamination ${contamination})`, () => {
      const f = fit(ones, { contamination });
      expect(f.nodeCount).toBe(100); // every tree is a single leaf: nothing to split
      expectAllNormal(f, ones);
      expectAllNormal(f, randn(100, 10));
      expectAllNormal(f, shift(ones, 1));
      expectAllNormal(f, shift(ones, -1));
    });
  }
  it('one random row repeated 100 times', () => {
    const row = randn(1, 10);
    const X = createMatrix(100, 10, Float64Array.from({ length: 1000 }, (_, k) => row.data[k % 10]));
    const f = fit(X);
    expectAllNormal(f, X);
    expectAllNormal(f, randn(100, 10));
    expectAllNormal(f, ones);
  });
  it('differs: a single training row is refused (scikit-learn fits it and calls everything normal)', () => {
    expect(() => fit(randn(1, 10))).toThrow(/needs at least 2 rows, got 1/);
  });
});

describe('contamination is checked like scikit-learn\'s (0, 0.5] or "auto"', () => {
  it.each([0, -0.1, 0.51, 0.9, 1, 'AUTO', Infinity])('contamination = %s is refused', (c) => {
    expect(() => fit(iris, { contamination: c as number })).toThrow(/contamination = .* is not allowed; must be "auto" or a number in \(0, 0.5\]/);
  });
  it('0.5 is allowed (the upper bound belongs)', () => {
    expect(fit(iris, { contamination: 0.5 }).contamination).toBe(0.5);
  });
});
