/**
 * The supervised reference of notebook 09 (issue 18): L2 logistic regression
 * against scikit-learn's LogisticRegression on the same rows. The objective is
 * strictly convex, so the optimum is solver-independent and the coefficients
 * must agree to 1e-10 (test/fixtures/sklearn/logistic_regression.json,
 * scripts/fixtures/logistic_regression.py).
 */
import { describe, expect, it } from 'vitest';
import { fromRows } from '../src/core/matrix';
import { LogisticRegression } from '../src/model/logistic-regression';
import { readFixtureJson } from './fixtures';

interface Case { name: string; C: number; X: number[][]; y: number[]; coef: number[]; intercept: number; decision_function: number[]; predict_proba_1: number[] }
const fixture = readFixtureJson<{ sklearn_version: string; cases: Case[] }>('sklearn', 'logistic_regression.json');

describe('LogisticRegression = scikit-learn LogisticRegression (L2, unpenalised intercept)', () => {
  for (const c of fixture.cases) {
    it(`${c.name} (scikit-learn ${fixture.sklearn_version})`, () => {
      const X = fromRows(c.X);
      const model = LogisticRegression.fit(X, c.y, { C: c.C });
      c.coef.forEach((w, j) => expect(Math.abs(model.coef[j] - w)).toBeLessThan(1e-10));
      expect(Math.abs(model.intercept - c.intercept)).toBeLessThan(1e-10);
      const z = model.decisionFunction(X);
      const p = model.predictProbability(X);
      c.decision_function.forEach((v, i) => expect(Math.abs(z[i] - v)).toBeLessThan(1e-10));
      c.predict_proba_1.forEach((v, i) => expect(Math.abs(p[i] - v)).toBeLessThan(1e-11));
      expect(model.nIter).toBeLessThan(30);
    });
  }

  it('a constant column gets no weight (the intercept carries it for free)', () => {
    const c = fixture.cases[0];
    expect(LogisticRegression.fit(fromRows(c.X), c.y).coef[4]).toBeCloseTo(0, 12);
  });

  it('refuses what it cannot fit, naming the value', () => {
    const X = fromRows([[0], [1], [2]]);
    expect(() => LogisticRegression.fit(X, [1, 1, 1])).toThrow(/both classes/);
    expect(() => LogisticRegression.fit(X, [0, 2, 1])).toThrow(/target must be 0 or 1, got 2 at row 1/);
    expect(() => LogisticRegression.fit(X, [0, 1])).toThrow(/2 values for 3 rows/);
    expect(() => LogisticRegression.fit(X, [0, 1, 1], { C: 0 })).toThrow(/C must be a positive number, got 0/);
    expect(() => LogisticRegression.fit(X, [0, 1, 1]).decisionFunction(fromRows([[1, 2]]))).toThrow(/2 columns, the model was fitted on 1/);
  });
});
