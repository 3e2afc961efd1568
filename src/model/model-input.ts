/**
 * The forest's input from a record: the one place where encode → log1p →
 * scale is written. Every path that scores or explains with a trained model
 * (the scoring pipeline, the stream's workers, the explanations) calls
 * {@link modelInput}, so a record gets the same doubles whichever way it came.
 */
import { createMatrix, type Matrix } from '../core/matrix';
import type { FlowRecords } from '../data/flows';
import { signedLog1p, type RecordEncoder } from './encoder';
import type { StandardScaler } from './preprocess';

/** What turns records into forest input: the scaler, after the encoder when the model has one. */
export interface InputTransform {
  scaler: StandardScaler;
  /** the columns the records carry: the encoder's inputs, or the scaler's features */
  featureNames: readonly string[];
  encoder?: RecordEncoder;
}

/** per encoder: 1 for each output column that gets log1p */
const logMasks = new WeakMap<RecordEncoder, Uint8Array>();

function logMask(encoder: RecordEncoder): Uint8Array {
  let isLog = logMasks.get(encoder);
  if (!isLog) {
    isLog = new Uint8Array(encoder.outputWidth);
    for (const o of encoder.logOutputs) isLog[o] = 1;
    logMasks.set(encoder, isLog);
  }
  return isLog;
}

/**
 * scaler.transform(encoder.applyLog1p(X)) in one pass and one allocation
 * (the stream's hot path: the two steps each copied the whole batch). The
 * same operations in the same order, so the same doubles; a non-finite value
 * falls back to the two steps, which throw their usual error naming the column.
 */
function logAndScale(encoder: RecordEncoder, scaler: StandardScaler, X: Matrix, into?: Float64Array): Matrix {
  const { mean, scale } = scaler;
  const { rows: n, cols: d, data } = X;
  const twoSteps = () => scaler.transform(encoder.applyLog1p(X), encoder.outputNames);
  if (d !== mean.length || d !== encoder.outputWidth) return twoSteps();
  const isLog = logMask(encoder);
  // a 0 (most one-hot columns, many counters) scales to the same double every time: computed once per column.
  // Not when the mean is 0, where -0 and 0 would scale to different zeros.
  const atZero = new Float64Array(d);
  const zeroCached = new Uint8Array(d);
  for (let j = 0; j < d; j++) {
    atZero[j] = (0 - mean[j]) / scale[j];
    zeroCached[j] = mean[j] !== 0 ? 1 : 0;
  }
  // a caller's scratch when it is large enough (the stream's scorer reuses one: a fresh 4 MB per batch cost its zeroing and the collector)
  const out = into !== undefined && into.length >= n * d ? into.subarray(0, n * d) : new Float64Array(n * d);
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
 * The scaled forest input of some records.
 *
 * @param model - scaler, feature names and (optionally) the encoder of a trained model
 * @param records - either flow records (a model with an encoder: encoded, log1p, scaled), or
 *   a matrix as the record parsers write it: the raw features of a model without an encoder,
 *   or the encoder's output with numeric columns still raw (before log1p)
 * @param into - optional memory for the result (used when the model has an encoder and it holds rows x width values); the result then shares it
 * @returns rows x the scaler's width, ready for `forest.scoreSamples` / `shapValues`
 * @throws RangeError when the records do not fit the model
 */
export function modelInput(model: InputTransform, records: FlowRecords | Matrix, into?: Float64Array): Matrix {
  const { encoder, scaler } = model;
  if ('numeric' in records) {
    if (!encoder) throw new RangeError(`${records.source} holds flow records, but the model has no encoder; pass a matrix of its ${model.featureNames.length} features`);
    return scaler.transform(encoder.transform(records).X); // transform applies log1p itself
  }
  const width = encoder ? encoder.outputWidth : scaler.nFeatures;
  if (records.cols !== width) throw new RangeError(`got ${records.cols} columns, the model takes ${width}${encoder ? ' (encoder output)' : ''}`);
  return encoder ? logAndScale(encoder, scaler, records, into) : scaler.transform(records, model.featureNames);
}
