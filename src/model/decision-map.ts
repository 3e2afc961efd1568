import { createMatrix, type Matrix } from '../core/matrix';
import type { IsolationForest } from './forest';

/**
 * The decision function of a two-feature forest evaluated on a regular grid
 * over the plane, and the decision boundary (where it crosses 0) traced by
 * marching squares: the data behind scikit-learn's "path length decision
 * boundary" picture. A 2-D map can only show a model with two inputs, so the
 * forest given here must have been fitted on the two plotted coordinates.
 */
export interface DecisionGrid {
  /** grid coordinates along each axis (cell centres) */
  xs: Float64Array;
  ys: Float64Array;
  /** decision function at (xs[i], ys[j]), stored at j * xs.length + i */
  values: Float64Array;
}

export interface DecisionGridOptions {
  /** points per axis (default 60) */
  resolution?: number;
  /** share of each axis's range added on both sides (default 0.05) */
  margin?: number;
}

/**
 * Evaluate `forest.decisionFunction` on a grid covering the points of `X`.
 *
 * @param forest a forest fitted on exactly two features
 * @param X the points the grid must cover (two columns)
 * @param options resolution (points per axis, default 60, 2-400) and margin (default 0.05)
 * @returns the grid axes and the decision value at each grid point (negative = flagged)
 * @throws RangeError when the forest or X does not have two features
 */
export function decisionGrid(forest: IsolationForest, X: Matrix, options: DecisionGridOptions = {}): DecisionGrid {
  if (forest.nFeatures !== 2 || X.cols !== 2) {
    throw new RangeError(`decisionGrid needs a forest fitted on 2 features and 2-column points, got ${forest.nFeatures} and ${X.cols}`);
  }
  const res = options.resolution ?? 60;
  if (!Number.isInteger(res) || res < 2 || res > 400) throw new RangeError(`decisionGrid: resolution must be an integer from 2 to 400, got ${res}`);
  const margin = options.margin ?? 0.05;
  const axis = (col: number) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < X.rows; i++) {
      const v = X.data[i * 2 + col];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const pad = (hi - lo) * margin || 1;
    lo -= pad;
    hi += pad;
    return Float64Array.from({ length: res }, (_, k) => lo + ((hi - lo) * k) / (res - 1));
  };
  const xs = axis(0);
  const ys = axis(1);
  const grid = createMatrix(res * res, 2);
  for (let j = 0; j < res; j++) {
    for (let i = 0; i < res; i++) {
      grid.data[(j * res + i) * 2] = xs[i];
      grid.data[(j * res + i) * 2 + 1] = ys[j];
    }
  }
  return { xs, ys, values: forest.decisionFunction(grid) };
}

/** A piece of the boundary: a segment from (x, y) to (x2, y2). */
export interface Segment {
  x: number;
  y: number;
  x2: number;
  y2: number;
}

/**
 * The level line `values = level` of a grid as segments (marching squares,
 * linear interpolation along each cell edge). For the decision function,
 * level 0 is the decision boundary.
 */
export function contourSegments(grid: DecisionGrid, level = 0): Segment[] {
  const { xs, ys, values } = grid;
  const nx = xs.length;
  const v = (i: number, j: number) => values[j * nx + i] - level;
  const segments: Segment[] = [];
  for (let j = 0; j + 1 < ys.length; j++) {
    for (let i = 0; i + 1 < nx; i++) {
      // corners counter-clockwise from bottom-left, and the crossings on the four edges
      const c = [v(i, j), v(i + 1, j), v(i + 1, j + 1), v(i, j + 1)];
      const p = [
        [xs[i], ys[j]],
        [xs[i + 1], ys[j]],
        [xs[i + 1], ys[j + 1]],
        [xs[i], ys[j + 1]],
      ];
      const crossings: [number, number][] = [];
      for (let e = 0; e < 4; e++) {
        const a = c[e];
        const b = c[(e + 1) % 4];
        if (a < 0 !== b < 0) {
          const t = a / (a - b);
          crossings.push([p[e][0] + t * (p[(e + 1) % 4][0] - p[e][0]), p[e][1] + t * (p[(e + 1) % 4][1] - p[e][1])]);
        }
      }
      // 2 crossings: one segment; 4 (a saddle): pair them in edge order
      for (let k = 0; k + 1 < crossings.length; k += 2) {
        segments.push({ x: crossings[k][0], y: crossings[k][1], x2: crossings[k + 1][0], y2: crossings[k + 1][1] });
      }
    }
  }
  return segments;
}

/** The first two columns of a matrix (e.g. PC1 and PC2 of a projection with more components), as a new 2-column matrix. */
export function firstTwoColumns(m: Matrix): Matrix {
  if (m.cols < 2) throw new RangeError(`firstTwoColumns needs at least 2 columns, got ${m.cols}`);
  const out = createMatrix(m.rows, 2);
  for (let i = 0; i < m.rows; i++) {
    out.data[i * 2] = m.data[i * m.cols];
    out.data[i * 2 + 1] = m.data[i * m.cols + 1];
  }
  return out;
}
