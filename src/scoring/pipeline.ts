/**
 * The one scoring pipeline: built from a loaded bundle, it is the only place
 * that turns parsed records into scores, alerts and explanations. Parser
 * (numeric or encoded, as the bundle says) → encoder's log1p and the scaler
 * (model/model-input) → forest → threshold → optional TreeSHAP drivers.
 * The notebooks, `evaluate`, the stream command in every mode and its scoring
 * worker all call it, so the same record gives the same score and the same
 * alert line whichever way it arrived.
 */
import { createMatrix, type Matrix } from '../core/matrix';
import type { FlowRecords } from '../data/flows';
import { EncodedRecordParser, RecordParser, type InputFormat } from '../data/records';
import { alertDriversJson } from '../explain/alerts';
import { decisionFromScores } from '../model/forest';
import { modelInput } from '../model/model-input';
import type { LoadedModel } from '../persist/bundle';
import { AlertWriter, type AlertTails } from './alert-lines';

/** The scores of one batch of rows. */
export interface ScoredRows {
  /** scoreSamples: lower is more abnormal */
  scores: Float64Array;
  /** scores - threshold: negative for anomalies */
  decision: Float64Array;
  /** row indices predicted anomalous (decision < 0), ascending */
  anomalies: Int32Array;
  /** the alert lines of the anomalous rows from the score on (with their explanations when asked for), see AlertWriter */
  alerts: AlertTails;
  /** wall time of scaling, scoring, explaining and rendering the alerts */
  latencyMs: number;
}

/** A line parser of either kind: both write `width` values per record into a caller's buffer. */
export type RecordLineParser = RecordParser | EncodedRecordParser;

/** Options of {@link ScoringPipeline}. */
export interface PipelineOptions {
  /** explain each alert by its K strongest original features (0 = no explanations; default 0) */
  explain?: number;
  /**
   * also alert on every record that carries a category the model never saw
   * (model with an encoder), whatever its score: the forest cannot see such a
   * value (notebook 09), so it is a reason of its own; the alert line names the
   * columns in `"unseen"`. Default false (the line still names them when the
   * record alerts by its score).
   */
  unseenAlerts?: boolean;
}

/**
 * Scores records with a loaded bundle; see the module comment.
 *
 * Rows are handed over as the parsers write them: `width` values per row,
 * the encoder's output with numeric columns raw for a model with an encoder
 * (log1p comes here), the raw features otherwise.
 */
export class ScoringPipeline {
  /** values per parsed record (the encoder's output width, or the feature count) */
  readonly width: number;
  /** share of records the model expects to flag: its contamination, or the training share for 'auto' */
  readonly expectedRate: number;
  /** drivers per alert (0 = none) */
  readonly explainK: number;
  /** alert on unseen categories too (see {@link PipelineOptions.unseenAlerts}) */
  readonly unseenAlerts: boolean;
  private writer: AlertWriter | undefined;
  private scratch = new Float64Array(0);

  /**
   * @param model - a loaded bundle (`loadBundle`, with the key check already done)
   * @param options - see {@link PipelineOptions}
   * @throws RangeError for an explain count that is not a non-negative integer
   */
  constructor(
    readonly model: LoadedModel,
    options: PipelineOptions = {},
  ) {
    const k = options.explain ?? 0;
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`explain must be a non-negative integer, got ${k}`);
    this.explainK = k;
    this.unseenAlerts = options.unseenAlerts === true && model.encoder !== undefined;
    this.width = model.scaler.nFeatures;
    const c = model.params.contamination;
    this.expectedRate = typeof c === 'number' ? c : model.bundle.trainingMetrics.nFlagged / model.bundle.trainingMetrics.nRows;
  }

  /** A new line parser for this model (one per input: a CSV parser remembers its header). */
  parser(format: InputFormat): RecordLineParser {
    const m = this.model;
    return m.encoder ? new EncodedRecordParser(m.encoder, format) : new RecordParser(m.featureNames, format);
  }

  /** The column names a headerless CSV line carries, in order (what a publisher's header would say). */
  get inputNames(): readonly string[] {
    return this.model.encoder ? this.model.encoder.inputNames : this.model.featureNames;
  }

  /** The scaled forest input of parsed rows (rows x width), or of flow records / a matrix (see modelInput). */
  input(records: FlowRecords | Matrix): Matrix {
    return modelInput(this.model, records);
  }

  /**
   * Score `rows` parsed records: scale, forest, threshold, the drivers of
   * every anomalous row when the pipeline explains, and the alert lines' text
   * from the score on (the stream puts each record's origin in front).
   *
   * @param values - at least rows x width values, row-major, as a parser wrote them
   * @param scaled - their {@link scaledRows}, when the caller computed them (else computed here)
   */
  score(values: Float64Array, rows: number, scaled?: Float64Array): ScoredRows {
    const t0 = performance.now();
    const n = rows * this.width;
    const X = createMatrix(rows, this.width, values.subarray(0, n));
    let input: Matrix;
    if (scaled !== undefined) {
      if (scaled.length < n) throw new RangeError(`${scaled.length} scaled values for ${rows} rows of ${this.width}`);
      input = createMatrix(rows, this.width, scaled.subarray(0, n));
    } else {
      // the scaled rows are only this call's: one scratch for every batch
      if (this.scratch.length < n) this.scratch = new Float64Array(n);
      input = modelInput(this.model, X, this.scratch);
    }
    const scored = this.scoreInput(input);
    const { scores, decision } = scored;
    const anomalies = this.unseenAlerts ? withUnseen(scored.anomalies, this.model.encoder!.unseenMask(X.data, rows)) : scored.anomalies;
    const explain = this.explainK > 0 ? alertDriversJson(this.model, X.data, this.width, anomalies, this.explainK) : undefined;
    const alerts = this.alertWriter.tails({ scores, decision, anomalies, values: X.data }, explain);
    return { scores, decision, anomalies, alerts, latencyMs: performance.now() - t0 };
  }

  /**
   * The forest's input of `rows` parsed records (what {@link score} computes
   * first), for a caller that scales on one thread and scores on another.
   *
   * @param values - at least rows x width values, row-major, as a parser wrote them
   * @param into - memory for the result when it holds rows x width values (the result then shares it)
   * @returns rows x width scaled values
   */
  scaledRows(values: Float64Array, rows: number, into?: Float64Array): Float64Array {
    const n = rows * this.width;
    return modelInput(this.model, createMatrix(rows, this.width, values.subarray(0, n)), into).data;
  }

  /** Forest and threshold on rows that are already the forest's input (see {@link input}). */
  scoreInput(scaled: Matrix): Pick<ScoredRows, 'scores' | 'decision' | 'anomalies'> {
    const scores = this.model.forest.scoreSamples(scaled);
    const decision = decisionFromScores(scores, this.model.threshold);
    const n = scaled.rows;
    let count = 0;
    for (let i = 0; i < n; i++) if (decision[i] < 0) count++;
    const anomalies = new Int32Array(count);
    for (let i = 0, k = 0; i < n; i++) if (decision[i] < 0) anomalies[k++] = i;
    return { scores, decision, anomalies };
  }

  /** score_samples of flow records or of a matrix (see modelInput); lower is more abnormal. */
  scoreRecords(records: FlowRecords | Matrix): Float64Array {
    return this.model.forest.scoreSamples(this.input(records));
  }

  /** The writer of this model's alert lines (the one alert format). */
  get alertWriter(): AlertWriter {
    this.writer ??= new AlertWriter(this.model, this.width);
    return this.writer;
  }
}

/** The alert rows (ascending) with every row of `mask` added. */
function withUnseen(anomalies: Int32Array, mask: Uint8Array): Int32Array {
  let extra = 0;
  for (const i of anomalies) if (mask[i] === 1) extra--;
  for (let i = 0; i < mask.length; i++) extra += mask[i];
  if (extra === 0) return anomalies;
  const isAlert = new Uint8Array(mask.length);
  for (const i of anomalies) isAlert[i] = 1;
  const out = new Int32Array(anomalies.length + extra);
  for (let i = 0, k = 0; i < mask.length; i++) if (isAlert[i] === 1 || mask[i] === 1) out[k++] = i;
  return out;
}

/**
 * score_samples of records with a loaded model: encoder (when there is one),
 * scaler, forest, as the stream does. Lower is more abnormal; a record is an
 * alert when its score is below `model.threshold`.
 *
 * @param records - flow records (model with an encoder) or a matrix (see `explainRecords`)
 */
export function scoreRecords(model: LoadedModel, records: FlowRecords | Matrix): Float64Array {
  return new ScoringPipeline(model).scoreRecords(records);
}
