/**
 * Notebook 03's side-by-side of this library's forest and the
 * `ml-isolation-forest` package, with the ablation that separates the causes:
 * the package differs from ours in several ways at once (every tree on all
 * rows; it splits one level deeper, to ceil(log2 n) + 1; its c(n) adds Euler's
 * constant once instead of twice; Math.random), so our forest is also grown on
 * all rows with its own height limit, c(n) and seeded streams. What lies
 * between that row and our default is subsampling alone; what remains between
 * it and the package is the depth, c(n) and the random numbers.
 */
import type { Matrix } from '../core/matrix';
import type { Params } from '../params/params';
import { summarizeDetection } from '../eval/metrics';
import { IsolationForest } from '../model/forest';
import { MlIsolationForestAdapter } from '../model/ml-forest-adapter';

export interface ForestComparisonRow {
  model: string;
  /** rows each tree is grown on, and the depth its leaves may reach */
  rowsPerTree: number;
  heightLimit: number;
  rocAuc: number;
  averagePrecision: number;
  /** anomalies flagged at the contamination threshold */
  anomalyRecall: number;
  fitMs: number;
  scoreMs: number;
  modelJsonBytes: number;
}

function timed<T>(f: () => T): [T, number] {
  const start = performance.now();
  const value = f();
  return [value, performance.now() - start];
}

/**
 * Score X with three forests, all with the parameters' trees, seed and
 * contamination: this library at `params.maxSamples`, this library with every
 * tree on all rows (maxSamples = X.rows), and ml-isolation-forest (all rows).
 *
 * @param ours - the forest already fitted at params.maxSamples and its fit time (not refitted)
 */
export function compareForests(X: Matrix, y: ArrayLike<number>, params: Params, ours: { forest: IsolationForest; fitMs: number }): ForestComparisonRow[] {
  const row = (model: string, rowsPerTree: number, heightLimit: number, scores: Float64Array, predictions: Int8Array, fitMs: number, scoreMs: number, modelJsonBytes: number): ForestComparisonRow => {
    const s = summarizeDetection(y, scores, predictions);
    return { model, rowsPerTree, heightLimit, rocAuc: s.rocAuc, averagePrecision: s.averagePrecision, anomalyRecall: s.recall, fitMs, scoreMs, modelJsonBytes };
  };
  const jsonBytes = (f: IsolationForest) => Buffer.byteLength(JSON.stringify(f.toJSON()));
  const [ourScores, ourScoreMs] = timed(() => ours.forest.scoreSamples(X));
  const [all, allFitMs] = timed(() => IsolationForest.fit(X, { ...params, maxSamples: X.rows }));
  const [allScores, allScoreMs] = timed(() => all.scoreSamples(X));
  const [ml, mlFitMs] = timed(() => MlIsolationForestAdapter.fit(X, params));
  const [mlScores, mlScoreMs] = timed(() => ml.scoreSamples(X));
  return [
    row('this library', ours.forest.maxSamples, ours.forest.maxDepth, ourScores, ours.forest.predict(X), ours.fitMs, ourScoreMs, jsonBytes(ours.forest)),
    row('this library, all rows per tree', all.maxSamples, all.maxDepth, allScores, all.predict(X), allFitMs, allScoreMs, jsonBytes(all)),
    // the package splits while depth <= ceil(log2 n), so its leaves reach one level deeper than ours
    row('ml-isolation-forest', X.rows, Math.ceil(Math.log2(X.rows)) + 1, mlScores, ml.predict(X), mlFitMs, mlScoreMs, ml.modelJsonBytes()),
  ];
}
