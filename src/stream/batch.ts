import type { LoadedModel } from '../persist/bundle';
import { decisionFromScores, predictFromDecision } from '../model/forest';
import { signedLog1p, type RecordEncoder } from '../model/encoder';
import { asMatrix, createMatrix, getRow, type Matrix } from '../core/matrix';
import type { Params } from '../core/params';
import { simulateBatch, type Dataset } from '../data/simulate';

/** A batch of rows: a Matrix, nested arrays, or a simulated Dataset (its X is scored). */
export type BatchInput = Matrix | ArrayLike<ArrayLike<number>> | Pick<Dataset, 'X'>;

function batchMatrix(input: BatchInput, cols: number): Matrix {
  if (typeof input === 'object' && input !== null && 'X' in input) return input.X;
  return asMatrix(input, cols);
}

export interface AnomalyRecord {
  /** row index within the batch */
  index: number;
  /** the row as it arrived (unscaled) */
  values: number[];
  score: number;
  decision: number;
}

export interface BatchStats {
  rows: number;
  anomalies: number;
  anomalyRate: number;
  meanScore: number;
  minScore: number;
  maxScore: number;
  /** wall time to scale, project and score this batch */
  latencyMs: number;
}

export interface BatchResult {
  /** -1 anomaly / 1 normal, one per row */
  predictions: Int8Array;
  /** scoreSamples: lower is more abnormal */
  scores: Float64Array;
  /** scores - threshold: negative for anomalies */
  decision: Float64Array;
  /** PCA projection of the scaled rows, for plotting the batch (empty with project: false) */
  projected: Matrix;
  anomalies: AnomalyRecord[];
  stats: BatchStats;
}

/** per encoder: 1 for each output column that gets log1p */
const logMasks = new WeakMap<RecordEncoder, Uint8Array>();

/**
 * scaler.transform(encoder.applyLog1p(X)) in one pass and one allocation
 * (the stream's hot path: the two steps each copied the whole batch). The
 * same operations in the same order, so the same doubles; a non-finite value
 * falls back to the two steps, which throw their usual error naming the column.
 */
function logAndScale(model: LoadedModel, X: Matrix): Matrix {
  const encoder = model.encoder as RecordEncoder;
  const { mean, scale } = model.scaler;
  const { rows: n, cols: d, data } = X;
  const twoSteps = () => model.scaler.transform(encoder.applyLog1p(X), encoder.outputNames);
  if (d !== mean.length || d !== encoder.outputWidth) return twoSteps();
  let isLog = logMasks.get(encoder);
  if (!isLog) {
    isLog = new Uint8Array(d);
    for (const o of encoder.logOutputs) isLog[o] = 1;
    logMasks.set(encoder, isLog);
  }
  // a 0 (most one-hot columns, many counters) scales to the same double every time: computed once per column.
  // Not when the mean is 0, where -0 and 0 would scale to different zeros.
  const atZero = new Float64Array(d);
  const zeroCached = new Uint8Array(d);
  for (let j = 0; j < d; j++) {
    atZero[j] = (0 - mean[j]) / scale[j];
    zeroCached[j] = mean[j] !== 0 ? 1 : 0;
  }
  const out = new Float64Array(n * d);
  for (let i = 0, k = 0; i < n; i++) {
    for (let j = 0; j < d; j++, k++) {
      let v = data[k];
      if (v === 0 && zeroCached[j] === 1) {
        out[k] = atZero[j]; // signedLog1p(0) is 0
        continue;
      }
      if (isLog[j] === 1) v = signedLog1p(v);
      if (v - v !== 0) return twoSteps(); // NaN or +-Infinity
      out[k] = (v - mean[j]) / scale[j];
    }
  }
  return createMatrix(n, d, out);
}

/**
 * The scoring core of processBatch: scale (after the encoder's log1p for a
 * model with an encoder, whose rows arrive encoded with numeric columns raw, as
 * EncodedRecordParser writes them), score with the forest, threshold.
 */
export function scoreRows(model: LoadedModel, X: Matrix): { scaled: Matrix; scores: Float64Array; decision: Float64Array; predictions: Int8Array } {
  const scaled = model.encoder ? logAndScale(model, X) : model.scaler.transform(X, model.featureNames);
  const scores = model.forest.scoreSamples(scaled);
  const decision = decisionFromScores(scores, model.threshold);
  return { scaled, scores, decision, predictions: predictFromDecision(decision) };
}

/**
 * Score one batch with a saved model, as the reference process_streaming_data
 * does: scale with the training scaler, project with the training PCA (for the
 * plot), and predict with the forest fitted on the scaled features. No refit.
 */
export function processBatch(model: LoadedModel, rows: BatchInput, options: { project?: boolean } = {}): BatchResult {
  const t0 = performance.now();
  const X = batchMatrix(rows, model.scaler.nFeatures);
  const { scaled, scores, decision, predictions } = scoreRows(model, X);
  // the projection only serves plots; a command-line stream skips it
  const projected = options.project === false ? createMatrix(0, model.pca.nComponents) : model.pca.transform(scaled);
  const anomalies: AnomalyRecord[] = [];
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < X.rows; i++) {
    const s = scores[i];
    sum += s;
    if (s < min) min = s;
    if (s > max) max = s;
    if (predictions[i] === -1) anomalies.push({ index: i, values: Array.from(getRow(X, i)), score: s, decision: decision[i] });
  }
  const n = X.rows;
  return {
    predictions,
    scores,
    decision,
    projected,
    anomalies,
    stats: {
      rows: n,
      anomalies: anomalies.length,
      anomalyRate: n === 0 ? 0 : anomalies.length / n,
      meanScore: n === 0 ? NaN : sum / n,
      minScore: min,
      maxScore: max,
      latencyMs: performance.now() - t0,
    },
  };
}

export interface StreamTotals {
  batches: number;
  rows: number;
  anomalies: number;
  anomalyRate: number;
  /** time since the stream started, including time spent waiting for batches */
  elapsedMs: number;
  /** time spent scoring only */
  scoringMs: number;
  /** rows scored per second of scoring time */
  rowsPerSecond: number;
}

export interface StreamUpdate {
  batchIndex: number;
  result: BatchResult;
  totals: StreamTotals;
}

/**
 * Score batches as they arrive and yield each batch's result with running
 * totals. Works on any (async) iterable of batches: a generator of simulated
 * traffic, a file read in chunks, a socket.
 */
export async function* processStream(
  model: LoadedModel,
  batches: AsyncIterable<BatchInput> | Iterable<BatchInput>,
): AsyncGenerator<StreamUpdate> {
  const start = performance.now();
  const totals: StreamTotals = { batches: 0, rows: 0, anomalies: 0, anomalyRate: 0, elapsedMs: 0, scoringMs: 0, rowsPerSecond: 0 };
  let batchIndex = 0;
  for await (const batch of batches) {
    const result = processBatch(model, batch);
    totals.batches++;
    totals.rows += result.stats.rows;
    totals.anomalies += result.stats.anomalies;
    totals.anomalyRate = totals.rows === 0 ? 0 : totals.anomalies / totals.rows;
    totals.scoringMs += result.stats.latencyMs;
    totals.elapsedMs = performance.now() - start;
    totals.rowsPerSecond = totals.scoringMs > 0 ? (totals.rows * 1000) / totals.scoringMs : 0;
    yield { batchIndex, result, totals: { ...totals } };
    batchIndex++;
  }
}

/** One point of the streaming timeline chart. */
export interface TimelinePoint {
  batch: number;
  rows: number;
  anomalies: number;
  anomalyRate: number;
}

export function timelinePoint(update: StreamUpdate): TimelinePoint {
  const s = update.result.stats;
  return { batch: update.batchIndex, rows: s.rows, anomalies: s.anomalies, anomalyRate: s.anomalyRate };
}

/** The flagged rows of a batch as flat records (batch, row, one field per feature, score, decision), for tables. */
export function anomalyRecords(update: StreamUpdate, featureNames: readonly string[]): Record<string, number>[] {
  return update.result.anomalies.map((a) => {
    const record: Record<string, number> = { batch: update.batchIndex, row: a.index };
    featureNames.forEach((name, j) => (record[name] = a.values[j]));
    record.score = a.score;
    record.decision = a.decision;
    return record;
  });
}

export interface SimulatedStreamOptions {
  /** number of batches (default params.streamBatches) */
  batches?: number;
  /** pause before each batch, to mimic traffic arriving over time (default 0) */
  delayMs?: number;
  /** rows per batch (default params.streamBatchSize) */
  size?: number;
  /** share of anomalous rows per batch (default params.streamAnomalyShare) */
  anomalyShare?: number;
}

/** Simulated traffic arriving over time: batch k is simulateBatch(params, k). */
export async function* simulatedStream(params: Params, options: SimulatedStreamOptions = {}): AsyncGenerator<Dataset> {
  const count = options.batches ?? params.streamBatches;
  for (let k = 0; k < count; k++) {
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    yield simulateBatch(params, k, { size: options.size, anomalyShare: options.anomalyShare });
  }
}
