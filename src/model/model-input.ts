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

/** per (encoder, scaler): what logAndScale precomputes once */
interface LogScalePlan {
  /** 1 for each output column that gets log1p */
  isLog: Uint8Array;
  /** per column, what a 0 becomes: (0 - mean) / scale (signedLog1p(0) is 0) */
  atZero: Float64Array;
  /** the columns whose mean is 0: there a -0 scales to -0, not to atZero's +0, so they are always computed */
  meanZero: Int32Array;
}

const plans = new WeakMap<RecordEncoder, WeakMap<StandardScaler, LogScalePlan>>();

function planFor(encoder: RecordEncoder, scaler: StandardScaler): LogScalePlan {
  let byScaler = plans.get(encoder);
  if (!byScaler) plans.set(encoder, (byScaler = new WeakMap()));
  let plan = byScaler.get(scaler);
  if (!plan) {
    const d = encoder.outputWidth;
    const isLog = new Uint8Array(d);
    for (const o of encoder.logOutputs) isLog[o] = 1;
    const atZero = new Float64Array(d);
    const meanZero: number[] = [];
    for (let j = 0; j < d; j++) {
      atZero[j] = (0 - scaler.mean[j]) / scaler.scale[j];
      if (scaler.mean[j] === 0) meanZero.push(j);
    }
    plan = { isLog, atZero, meanZero: Int32Array.from(meanZero) };
    byScaler.set(scaler, plan);
  }
  return plan;
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
  const { isLog, atZero, meanZero } = planFor(encoder, scaler);
  // a caller's scratch when it is large enough (the stream's scorer reuses one: a fresh 4 MB per batch cost its zeroing and the collector)
  const out = into !== undefined && into.length >= n * d ? into.subarray(0, n * d) : new Float64Array(n * d);
  // Most values are 0 (one-hot columns, many counters), and a 0 scales to the same double every time:
  // each row starts as the row of scaled zeros (one copy) and only its other values are computed.
  for (let i = 0, k0 = 0; i < n; i++, k0 += d) {
    out.set(atZero, k0);
    for (let j = 0; j < d; j++) {
      let v = data[k0 + j];
      if (v === 0) continue;
      if (isLog[j] === 1) v = signedLog1p(v);
      if (v - v !== 0) return twoSteps(); // NaN or +-Infinity
      out[k0 + j] = (v - mean[j]) / scale[j];
    }
    // a -0 in a column of mean 0 (such as a counter that was always 0 in training) stays -0
    for (let m = 0; m < meanZero.length; m++) {
      const j = meanZero[m];
      if (data[k0 + j] === 0) out[k0 + j] = (data[k0 + j] - mean[j]) / scale[j];
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
