import type { Matrix } from '../core/matrix';
import { averagePathLength, type IsolationForest } from './forest';

/**
 * Isolation made visible: how one tree of a trained forest cuts a single row
 * off from the others (the isolation-forest paper's figure 1), and each row's
 * average path length over all trees (the quantity the score is built from).
 */

/** One split on a row's way from the root of a tree to its leaf. */
export interface IsolationStep {
  /** 0 at the root */
  depth: number;
  /** index of the feature split on */
  feature: number;
  /** the random threshold: rows with value <= threshold go left */
  threshold: number;
  /** the row's value of that feature (compared in float32, as the forest does) */
  value: number;
  side: 'left' | 'right';
}

export interface IsolationPath {
  tree: number;
  steps: IsolationStep[];
  /** training rows of the tree's sample that share the row's leaf (1 = isolated) */
  leafRows: number;
  /** h(x) in this tree: splits taken + c(leafRows) for a leaf that was not split further */
  pathLength: number;
}

/**
 * The splits one tree makes on one row, in order, and its path length there.
 *
 * @param forest a trained forest
 * @param row the row's feature values (scaled as the forest was trained), length `forest.nFeatures`
 * @param tree index of the tree, 0 <= tree < nEstimators (default 0)
 * @returns every split on the path, the leaf size, and h(x) = depth + c(leaf size)
 * @throws RangeError for a bad tree index or row length
 */
export function isolationPath(forest: IsolationForest, row: ArrayLike<number>, tree = 0): IsolationPath {
  const f = forest.flat();
  if (!Number.isInteger(tree) || tree < 0 || tree >= f.treeStart.length - 1) {
    throw new RangeError(`isolationPath: tree must be an integer from 0 to ${f.treeStart.length - 2}, got ${tree}`);
  }
  if (row.length !== f.nFeatures) throw new RangeError(`isolationPath: the row has ${row.length} values, the forest expects ${f.nFeatures}`);
  const x = Float32Array.from(row); // the forest compares in float32, like scikit-learn
  const steps: IsolationStep[] = [];
  let node = f.treeStart[tree];
  while (f.feature[node] >= 0) {
    const feat = f.feature[node];
    const left = x[feat] <= f.threshold[node];
    steps.push({ depth: steps.length, feature: feat, threshold: f.threshold[node], value: x[feat], side: left ? 'left' : 'right' });
    node = left ? node + 1 : f.right[node];
  }
  return { tree, steps, leafRows: f.right[node], pathLength: f.leafPath[node] };
}

/**
 * E[h(x)]: each row's path length averaged over all trees, and c(psi), the
 * average path length of an unsuccessful search in a tree of psi rows, which
 * normalises it: s(x) = 2^(-E[h(x)] / c(psi)).
 *
 * @param forest a trained forest
 * @param X rows to measure (scaled as the forest was trained)
 * @returns mean path length per row, and c(psi)
 */
export function meanPathLengths(forest: IsolationForest, X: Matrix): { pathLengths: Float64Array; cPsi: number } {
  const sums = forest.pathLengthSums(X);
  const n = forest.nEstimators;
  return { pathLengths: sums.map((s) => s / n), cPsi: averagePathLength(forest.maxSamples) };
}
