import { createMatrix, selectRows, type Matrix } from '../core/matrix';
import type { Params } from '../params/params';
import { createRng, sampleWithoutReplacement, type Rng } from '../core/rng';

/** Label of a normal row, as in the reference script. */
export const NORMAL = 1;
/** Label of an anomalous row, as in the reference script (and scikit-learn's predict). */
export const ANOMALY = -1;

export interface Dataset {
  X: Matrix;
  /** 1 = normal, -1 = anomaly */
  y: Int8Array;
  featureNames: string[];
}

/** The reference names the feature columns f1..fN (see the seed fixture's header). */
export function featureNames(nFeatures: number): string[] {
  return Array.from({ length: nFeatures }, (_, j) => `f${j + 1}`);
}

function fillGaussian(out: Float64Array, from: number, to: number, mean: number, sd: number, rng: Rng): void {
  for (let k = from; k < to; k++) out[k] = mean + sd * rng.normal();
}

type DistributionParams = Pick<Params, 'nFeatures' | 'normalMean' | 'normalStd' | 'anomalyMean' | 'anomalyStd'>;

/**
 * The reference data set: nNormal rows of N(normalMean, normalStd) followed by
 * nAnomalous rows of N(anomalyMean, anomalyStd), every feature independent.
 * Rows are in that order (normal first), like the reference script.
 */
export function simulateTraffic(params: DistributionParams & Pick<Params, 'seed' | 'nNormal' | 'nAnomalous'>): Dataset {
  const d = params.nFeatures;
  const n = params.nNormal + params.nAnomalous;
  const X = createMatrix(n, d);
  const rng = createRng(params.seed, 'traffic');
  fillGaussian(X.data, 0, params.nNormal * d, params.normalMean, params.normalStd, rng);
  fillGaussian(X.data, params.nNormal * d, n * d, params.anomalyMean, params.anomalyStd, rng);
  const y = new Int8Array(n).fill(NORMAL);
  y.fill(ANOMALY, params.nNormal);
  return { X, y, featureNames: featureNames(d) };
}

export interface BatchOptions {
  /** rows in the batch (default params.streamBatchSize) */
  size?: number;
  /** share of anomalous rows mixed in (default params.streamAnomalyShare) */
  anomalyShare?: number;
}

/**
 * A fresh batch of traffic for streaming: normal rows with an optional share of
 * anomalous rows at random positions. Batch k of a seed is always the same batch,
 * and independent of the training data and of every other batch.
 */
export function simulateBatch(
  params: DistributionParams & Pick<Params, 'seed' | 'streamBatchSize' | 'streamAnomalyShare'>,
  batchIndex: number,
  options: BatchOptions = {},
): Dataset {
  const size = options.size ?? params.streamBatchSize;
  const share = options.anomalyShare ?? params.streamAnomalyShare;
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`batch size must be a non-negative integer, got ${size}`);
  if (!(share >= 0 && share <= 1)) throw new RangeError(`anomalyShare must be in [0, 1], got ${share}`);
  const d = params.nFeatures;
  const rng = createRng(params.seed, `stream/${batchIndex}`);
  const nAnomalous = Math.round(size * share);
  const y = new Int8Array(size).fill(NORMAL);
  for (const i of sampleWithoutReplacement(size, nAnomalous, rng)) y[i] = ANOMALY;
  const X = createMatrix(size, d);
  for (let i = 0; i < size; i++) {
    const anomalous = y[i] === ANOMALY;
    fillGaussian(
      X.data,
      i * d,
      (i + 1) * d,
      anomalous ? params.anomalyMean : params.normalMean,
      anomalous ? params.anomalyStd : params.normalStd,
      rng,
    );
  }
  return { X, y, featureNames: featureNames(d) };
}

/** The rows of one class (1 normal, -1 anomaly) as a matrix. */
export function rowsOfClass(data: Pick<Dataset, 'X' | 'y'>, label: number): Matrix {
  const idx: number[] = [];
  for (let i = 0; i < data.y.length; i++) if (data.y[i] === label) idx.push(i);
  return selectRows(data.X, idx);
}
