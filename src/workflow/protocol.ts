import { selectRows } from '../core/matrix';
import type { Params } from '../params/params';
import { createRng } from '../core/rng';
import type { Dataset } from '../data/simulate';
import { summarizeDetection, type DetectionSummary } from '../eval/metrics';
import { IsolationForest } from '../model/forest';
import { StandardScaler } from '../model/preprocess';

/**
 * Evaluation protocols. The reference script fits and scores the same rows
 * (outlier detection, in-sample). An honest estimate scores rows the model
 * never saw (a held-out split), and novelty detection trains on normal rows
 * only, as a team with a clean capture of its own traffic would.
 */
export interface ProtocolOptions {
  /** share of the rows held out for testing, stratified by class: 0 = the reference (train and test on all rows), else in (0, 1) (default 0) */
  holdout?: number;
  /** which training rows the scaler and the forest see: 'all' (outlier detection, default) or 'normal' (novelty detection) */
  trainOn?: 'all' | 'normal';
}

export interface ProtocolResult {
  /** e.g. "held out 30%, trained on normal rows" */
  protocol: string;
  trainRows: number;
  trainAnomalies: number;
  testRows: number;
  testAnomalies: number;
  /** metrics on the test rows */
  metrics: DetectionSummary;
}

/**
 * Split (seeded by `params.seed`, stratified so both parts keep the anomaly
 * share), fit the scaler and the forest on the training part only, and
 * evaluate on the test part.
 *
 * @param data the labelled data set (-1 anomaly / 1 normal)
 * @param params forest parameters (nEstimators, maxSamples, contamination, seed)
 * @param options holdout (default 0) and trainOn (default 'all')
 * @returns row counts of both parts and the metrics on the test part
 * @throws RangeError for a holdout outside [0, 1) or a split that leaves a part without rows
 */
export function evaluateProtocol(data: Dataset, params: Params, options: ProtocolOptions = {}): ProtocolResult {
  const holdout = options.holdout ?? 0;
  const trainOn = options.trainOn ?? 'all';
  if (!(holdout >= 0 && holdout < 1)) throw new RangeError(`holdout must be in [0, 1), got ${holdout}`);
  if (trainOn !== 'all' && trainOn !== 'normal') throw new RangeError(`trainOn must be "all" or "normal", got ${JSON.stringify(trainOn)}`);
  const n = data.y.length;
  let train: number[] = [];
  let test: number[] = [];
  if (holdout === 0) {
    train = Array.from({ length: n }, (_, i) => i);
    test = train;
  } else {
    const rng = createRng(params.seed, 'holdout');
    for (const label of [1, -1]) {
      const rows: number[] = [];
      for (let i = 0; i < n; i++) if (data.y[i] === label) rows.push(i);
      // Fisher-Yates, then the first share goes to the test part
      for (let i = rows.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [rows[i], rows[j]] = [rows[j], rows[i]];
      }
      const k = Math.round(holdout * rows.length);
      test.push(...rows.slice(0, k));
      train.push(...rows.slice(k));
    }
    train.sort((a, b) => a - b);
    test.sort((a, b) => a - b);
  }
  if (trainOn === 'normal') train = train.filter((i) => data.y[i] === 1);
  if (train.length < 2 || test.length === 0) throw new RangeError(`the split leaves ${train.length} training and ${test.length} test rows`);
  const Xtrain = selectRows(data.X, train);
  const scaler = StandardScaler.fit(Xtrain);
  const forest = IsolationForest.fit(scaler.transform(Xtrain), params);
  const Xtest = scaler.transform(selectRows(data.X, test));
  const yTest = Int8Array.from(test, (i) => data.y[i]);
  const metrics = summarizeDetection(yTest, forest.scoreSamples(Xtest), forest.predict(Xtest));
  const what = holdout === 0 ? 'in-sample (the reference): scored on the training rows' : `held out ${Math.round(100 * holdout)}%`;
  return {
    protocol: `${what}, trained on ${trainOn === 'all' ? 'all rows' : 'normal rows only'}`,
    trainRows: train.length,
    trainAnomalies: train.filter((i) => data.y[i] === -1).length,
    testRows: test.length,
    testAnomalies: yTest.filter((v) => v === -1).length,
    metrics,
  };
}

/** Protocol results as table rows (what was trained and tested, and the anomaly-class metrics). */
export function protocolRows(results: readonly ProtocolResult[]): Record<string, unknown>[] {
  return results.map((r) => ({
    protocol: r.protocol,
    'train rows (anomalies)': `${r.trainRows} (${r.trainAnomalies})`,
    'test rows (anomalies)': `${r.testRows} (${r.testAnomalies})`,
    flagged: r.metrics.nFlagged,
    'false alarms': r.metrics.confusion.matrix[r.metrics.confusion.labels.indexOf(1)][r.metrics.confusion.labels.indexOf(-1)],
    precision: r.metrics.precision,
    recall: r.metrics.recall,
    'ROC-AUC': r.metrics.rocAuc,
  }));
}
