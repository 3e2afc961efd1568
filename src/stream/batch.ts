import type { LoadedModel } from '../persist/bundle';
import { predictFromDecision } from '../model/forest';
import { ScoringPipeline } from '../scoring/pipeline';
import { asMatrix, createMatrix, getRow, type Matrix } from '../core/matrix';
import type { Params } from '../params/params';
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

/**
 * Score one batch with a saved model, as the reference process_streaming_data
 * does (the notebooks' view of a batch, through the same ScoringPipeline as the
 * stream command, plus the PCA projection for plots): scale with the training scaler, project with the training PCA (for the
 * plot), and predict with the forest fitted on the scaled features. No refit.
 */
export function processBatch(model: LoadedModel, rows: BatchInput, options: { project?: boolean } = {}): BatchResult {
  const t0 = performance.now();
  const X = batchMatrix(rows, model.scaler.nFeatures);
  const pipeline = new ScoringPipeline(model);
  const scaled = pipeline.input(X);
  const { scores, decision } = pipeline.scoreInput(scaled);
  const predictions = predictFromDecision(decision);
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
