/**
 * Reading SHAP explanations: contributions per original feature (encoded
 * columns summed), in score units for display, and an alert's top drivers.
 */
import type { Matrix } from '../core/matrix';
import { averagePathLength } from '../model/forest';
import type { ShapExplanation } from '../model/treeshap';

/** An original feature and the encoded columns it became (e.g. the one-hot columns of a categorical feature). */
export interface FeatureGroup {
  name: string;
  /** column indices into the explained matrix */
  columns: readonly number[];
}

/**
 * Sum the contribution columns of each group. SHAP values are additive, so the
 * sum of a group's columns is the group's contribution (the Shapley value of
 * the coalition of those columns treated as one player is NOT the same
 * number in general, but the sum keeps local accuracy: expectedValue + row sum
 * is unchanged). Groups must partition the columns: every column in exactly
 * one group, so that nothing is counted twice or dropped.
 *
 * @param values - rows x columns contributions (`shapValues(X).values`)
 * @param groups - one entry per original feature, in the order wanted in the output
 * @returns `{ names, values }`: group names and a rows x groups matrix
 * @throws RangeError naming the group and column when the groups do not partition the columns
 */
export function groupContributions(values: Matrix, groups: readonly FeatureGroup[]): { names: string[]; values: Matrix } {
  const owner = new Int32Array(values.cols).fill(-1);
  groups.forEach((g, k) => {
    if (g.columns.length === 0) throw new RangeError(`groupContributions: group "${g.name}" has no columns`);
    for (const c of g.columns) {
      if (!Number.isInteger(c) || c < 0 || c >= values.cols) throw new RangeError(`groupContributions: group "${g.name}" names column ${c}, out of range 0..${values.cols - 1}`);
      if (owner[c] >= 0) throw new RangeError(`groupContributions: column ${c} is in both "${groups[owner[c]].name}" and "${g.name}"`);
      owner[c] = k;
    }
  });
  const missing = owner.indexOf(-1);
  if (missing >= 0) throw new RangeError(`groupContributions: column ${missing} is in no group (groups must cover every column)`);
  const m = groups.length;
  const out = new Float64Array(values.rows * m);
  for (let i = 0; i < values.rows; i++) {
    const src = i * values.cols;
    const dst = i * m;
    for (let c = 0; c < values.cols; c++) out[dst + owner[c]] += values.data[src + c];
  }
  return { names: groups.map((g) => g.name), values: { rows: values.rows, cols: m, data: out } };
}

/** Contributions translated into score_samples units; see {@link toScoreUnits}. */
export interface ScoreUnitExplanation {
  /** score of a row whose mean path length is the expected value: -2^(-expectedValue / c(psi)) */
  baseScore: number;
  /** each row's score_samples value */
  scores: Float64Array;
  /** rows x columns; baseScore + row sum = the row's score (to rounding) */
  values: Matrix;
}

/**
 * Translate path-length contributions into score_samples units for display.
 * The score s = -2^(-f / c(psi)) is a monotone, non-linear function of the mean
 * path length f, so there are no exact Shapley values of s from path-dependent
 * TreeSHAP; instead each row's contributions are rescaled by one factor,
 * (s(x) - baseScore) / (f(x) - expectedValue) (the "rescale rule"): the
 * translated values keep their signs and ranking and add up exactly (to
 * rounding) to s(x) - baseScore. When f(x) is within 1e-9 of the expected value
 * the slope of s at the midpoint is used (the difference quotient would lose
 * its digits there).
 *
 * @param explanation - output of `shapValues` (path-length units)
 * @param maxSamples - the forest's maxSamples (psi), which fixes c(psi)
 */
export function toScoreUnits(explanation: ShapExplanation, maxSamples: number): ScoreUnitExplanation {
  const { expectedValue: e, values } = explanation;
  const c = averagePathLength(maxSamples);
  if (!(c > 0)) throw new RangeError(`toScoreUnits: maxSamples must be at least 2, got ${maxSamples}`);
  const score = (f: number) => -(2 ** (-f / c));
  const baseScore = score(e);
  const scores = new Float64Array(values.rows);
  const out = new Float64Array(values.data.length);
  const d = values.cols;
  for (let i = 0; i < values.rows; i++) {
    let delta = 0;
    for (let j = 0; j < d; j++) delta += values.data[i * d + j];
    const f = e + delta;
    scores[i] = score(f);
    const factor = Math.abs(delta) > 1e-9 * Math.max(1, Math.abs(e)) ? (scores[i] - baseScore) / delta : (Math.LN2 / c) * 2 ** (-(e + delta / 2) / c);
    for (let j = 0; j < d; j++) out[i * d + j] = values.data[i * d + j] * factor;
  }
  return { baseScore, scores, values: { rows: values.rows, cols: d, data: out } };
}

/** One feature's part in a row's explanation. */
export interface Driver {
  /** column index in the explained (or grouped) matrix */
  feature: number;
  name: string;
  contribution: number;
  /** the row's input value for that column, when `X` was given */
  value?: number;
}

/**
 * The k strongest drivers of one row towards "anomalous": columns sorted by
 * contribution, most negative first (ties by column index), so the first entry
 * shortened the row's paths most. Fewer than k when there are fewer columns.
 *
 * @param values - contributions (`shapValues(X).values`, grouped or in score units)
 * @param row - row index
 * @param k - how many drivers (positive integer)
 * @param options.names - column names (default `f<index>`); must match the column count
 * @param options.X - the explained input, to report each driver's value (same shape as `values`)
 */
export function topDrivers(values: Matrix, row: number, k: number, options: { names?: readonly string[]; X?: Matrix } = {}): Driver[] {
  if (!Number.isInteger(row) || row < 0 || row >= values.rows) throw new RangeError(`topDrivers: row ${row} out of range 0..${values.rows - 1}`);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`topDrivers: k must be a positive integer, got ${k}`);
  const { names, X } = options;
  if (names && names.length !== values.cols) throw new RangeError(`topDrivers: ${names.length} names for ${values.cols} columns`);
  if (X && (X.rows !== values.rows || X.cols !== values.cols)) {
    throw new RangeError(`topDrivers: X is ${X.rows} x ${X.cols}, the contributions are ${values.rows} x ${values.cols}`);
  }
  const d = values.cols;
  const base = row * d;
  const order = Array.from({ length: d }, (_, j) => j);
  order.sort((a, b) => values.data[base + a] - values.data[base + b] || a - b);
  return order.slice(0, k).map((j) => {
    const driver: Driver = { feature: j, name: names ? names[j] : `f${j}`, contribution: values.data[base + j] };
    if (X) driver.value = X.data[base + j];
    return driver;
  });
}
