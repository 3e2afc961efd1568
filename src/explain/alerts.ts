/**
 * Explanations of alerts in the units an analyst reads: one contribution per
 * ORIGINAL feature of a loaded model (the one-hot columns of a categorical
 * feature summed through the encoder's output -> input column mapping), the
 * value as it was in the record ("http", 1032), and the k features that pushed
 * the record hardest towards "anomalous". Used by notebook 10 and by
 * `npm run stream -- --explain K`.
 */
import { createMatrix, type Matrix } from '../core/matrix';
import type { FlowRecords } from '../data/flows';
import { filterFlowRecords } from '../data/flows';
import type { RecordEncoder } from '../model/encoder';
import { averagePathLength, type IsolationForest } from '../model/forest';
import { modelInput } from '../model/model-input';
import type { StandardScaler } from '../model/preprocess';
import { groupContributions, toScoreUnits, topDrivers, type FeatureGroup } from './contributions';
import type { ShapExplanation } from '../model/treeshap';

/** The parts of a loaded model bundle an explanation needs (a `LoadedModel` fits). */
export interface ExplainableModel {
  forest: IsolationForest;
  scaler: StandardScaler;
  /** the record's columns: the encoder's input columns, or the scaler's features when there is no encoder */
  featureNames: readonly string[];
  encoder?: RecordEncoder;
}

/** A value as the analyst sees it in the record: a number, or a category name. */
export type RawValue = number | string;

/**
 * One group per original feature, in record order: the encoder's output
 * columns of each input column (one-hot columns together), or one column per
 * feature when the model has no encoder.
 *
 * @throws RangeError when featureNames do not match the encoder's inputs or the scaler's width
 */
export function originalFeatureGroups(model: ExplainableModel): FeatureGroup[] {
  const { encoder, featureNames } = model;
  if (encoder) {
    const names = encoder.inputNames;
    if (names.join(',') !== featureNames.join(',')) throw new RangeError(`explain: featureNames ${featureNames.join(',')} differ from the encoder's inputs ${names.join(',')}`);
    return names.map((name, j) => ({ name, columns: encoder.outputColumns(j) }));
  }
  if (featureNames.length !== model.scaler.nFeatures) throw new RangeError(`explain: ${featureNames.length} feature names for a scaler of ${model.scaler.nFeatures} features`);
  return featureNames.map((name, j) => ({ name, columns: [j] }));
}

/** Explanations of several records per original feature; see {@link explainRecords}. */
export interface RecordExplanations {
  /** original feature names, in record order */
  names: string[];
  /** mean path length over the training rows (E[f]); the start of every explanation */
  expectedValue: number;
  /** score_samples of a record whose mean path length is expectedValue: -2^(-expectedValue / c(psi)) */
  baseScore: number;
  /** c(psi) = c(maxSamples), the normaliser of the score */
  pathNormaliser: number;
  /** each record's mean path length f(x) = expectedValue + sum of its contributions */
  pathLengths: Float64Array;
  /** each record's score_samples value, -2^(-f(x) / c(psi)) */
  scores: Float64Array;
  /** rows x original features, path-length units (negative: towards "anomalous"); exact Shapley values summed per feature */
  values: Matrix;
  /** the same rescaled into score units (signs and ranking kept; baseScore + row sum = score); see toScoreUnits */
  scoreValues: Matrix;
  /** the explanation per encoded (model input) column, before grouping */
  encoded: ShapExplanation;
  /** the value of original feature j in record i, as it was in the record */
  rawValue(i: number, j: number): RawValue;
}

/**
 * Explain records per original feature with exact TreeSHAP.
 *
 * `records` is either
 * - flow records (a model with an encoder): encoded with the model's encoder;
 *   raw values come from the records, or
 * - a matrix of the columns before scaling: the raw features for a model
 *   without an encoder (the 5-feature reference), or the encoder's output
 *   BEFORE log1p for a model with one (as the stream's parser writes rows);
 *   raw values are read back from it (categories by name).
 *
 * @param model - a loaded bundle (forest, scaler, featureNames, optional encoder)
 * @param records - the records to explain
 * @param rows - explain only these row indices (default: all), in this order
 * @returns per-record explanations; row i of the result is `rows[i]` of the input
 * @throws RangeError when the records do not fit the model or a row index is out of range
 */
export function explainRecords(model: ExplainableModel, records: FlowRecords | Matrix, rows?: readonly number[]): RecordExplanations {
  const groups = originalFeatureGroups(model);
  const n = records.rows;
  if (rows) {
    for (const r of rows) if (!Number.isInteger(r) || r < 0 || r >= n) throw new RangeError(`explainRecords: row ${r} out of range 0..${n - 1}`);
  }
  let input: Matrix;
  let rawValue: (i: number, j: number) => RawValue;
  if ('numeric' in records) {
    const { encoder } = model;
    if (!encoder) throw new RangeError(`explainRecords: ${records.source} holds flow records, but the model has no encoder; pass a matrix of its ${model.featureNames.length} features`);
    const subset = rows ? filterFlowRecords(records, selector(rows, n)) : records;
    // filterFlowRecords keeps file order: map the requested order onto it
    const position = rows ? orderIn(rows) : undefined;
    input = modelInput(model, subset);
    if (position) input = pickRows(input, position);
    const kinds = encoder.columns.map((c) => (c.kind === 'numeric' ? subset.numericNames.indexOf(c.name) : subset.categoricalNames.indexOf(c.name)));
    const dn = subset.numeric.cols;
    rawValue = (i, j) => {
      const r = position ? position[i] : i;
      return encoder.columns[j].kind === 'numeric' ? subset.numeric.data[r * dn + kinds[j]] : subset.categorical[kinds[j]][r];
    };
  } else {
    const width = model.encoder ? model.encoder.outputWidth : model.scaler.nFeatures;
    if (records.cols !== width) throw new RangeError(`explainRecords: got ${records.cols} columns, the model takes ${width}${model.encoder ? ' (encoder output)' : ''}`);
    const raw = rows ? pickRows(records, rows) : records;
    const { encoder } = model;
    input = modelInput(model, raw);
    if (encoder) {
      const decoded = new Map<number, Record<string, RawValue>>();
      const names = encoder.inputNames;
      rawValue = (i, j) => {
        let rec = decoded.get(i);
        if (!rec) decoded.set(i, (rec = encoder.decodeRow(raw.data, i * raw.cols)));
        return rec[names[j]];
      };
    } else {
      rawValue = (i, j) => raw.data[i * raw.cols + j];
    }
  }
  const encoded = model.forest.shapValues(input);
  const grouped = groupContributions(encoded.values, groups);
  const inScore = toScoreUnits({ expectedValue: encoded.expectedValue, values: grouped.values }, model.forest.maxSamples);
  const m = grouped.values.cols;
  const pathLengths = new Float64Array(grouped.values.rows);
  for (let i = 0; i < pathLengths.length; i++) {
    let f = encoded.expectedValue;
    for (let j = 0; j < m; j++) f += grouped.values.data[i * m + j];
    pathLengths[i] = f;
  }
  return {
    names: grouped.names,
    expectedValue: encoded.expectedValue,
    baseScore: inScore.baseScore,
    pathNormaliser: averagePathLength(model.forest.maxSamples),
    pathLengths,
    scores: inScore.scores,
    values: grouped.values,
    scoreValues: inScore.values,
    encoded,
    rawValue,
  };
}

function selector(rows: readonly number[], n: number): (i: number) => boolean {
  const keep = new Uint8Array(n);
  for (const r of rows) keep[r] = 1;
  return (i) => keep[i] === 1;
}

/** For rows in request order, their position among the distinct rows sorted ascending (what filterFlowRecords returns). */
function orderIn(rows: readonly number[]): number[] {
  const sorted = [...new Set(rows)].sort((a, b) => a - b);
  const at = new Map(sorted.map((r, k) => [r, k]));
  return rows.map((r) => at.get(r) as number);
}

function pickRows(X: Matrix, rows: readonly number[]): Matrix {
  const d = X.cols;
  const out = new Float64Array(rows.length * d);
  rows.forEach((r, i) => out.set(X.data.subarray(r * d, r * d + d), i * d));
  return createMatrix(rows.length, d, out);
}

/** One feature's part in an alert: what the analyst sees in an alert line or a table. */
export interface AlertDriver {
  /** original feature name, e.g. "service" */
  feature: string;
  /** its value in the record, e.g. "http" or 1032 */
  value: RawValue;
  /** contribution in the units asked for (negative: towards "anomalous") */
  contribution: number;
}

/** Units of a contribution: 'path' = mean path length (exact Shapley values), 'score' = score_samples units (rescaled). */
export type ContributionUnits = 'path' | 'score';

/**
 * The k original features that pushed record i hardest towards "anomalous"
 * (most negative contribution first; ties by record column order).
 *
 * @param explanations - output of {@link explainRecords}
 * @param i - row of the explanations
 * @param k - how many drivers (positive integer; fewer when there are fewer features)
 * @param units - 'path' (default) or 'score'
 */
export function alertDrivers(explanations: RecordExplanations, i: number, k: number, units: ContributionUnits = 'path'): AlertDriver[] {
  if (units !== 'path' && units !== 'score') throw new RangeError(`alertDrivers: units must be "path" or "score", got ${JSON.stringify(units)}`);
  const values = units === 'score' ? explanations.scoreValues : explanations.values;
  return topDrivers(values, i, k, { names: explanations.names }).map((d) => ({ feature: d.name, value: explanations.rawValue(i, d.feature), contribution: d.contribution }));
}

/** One record's explanation: its score and its strongest drivers. */
export interface AlertExplanation {
  /** row index in the input records */
  row: number;
  score: number;
  /** mean path length f(x) */
  pathLength: number;
  drivers: AlertDriver[];
}

/**
 * Per-alert explanations: for each requested row, its score and its k
 * strongest original features.
 *
 * @param model - a loaded bundle
 * @param records - flow records, or a matrix (see {@link explainRecords})
 * @param rows - the alerts' row indices
 * @param options.k - drivers per alert (default 3)
 * @param options.units - 'path' (default) or 'score'
 */
export function explainAlerts(model: ExplainableModel, records: FlowRecords | Matrix, rows: readonly number[], options: { k?: number; units?: ContributionUnits } = {}): AlertExplanation[] {
  const e = explainRecords(model, records, rows);
  return rows.map((row, i) => ({ row, score: e.scores[i], pathLength: e.pathLengths[i], drivers: alertDrivers(e, i, options.k ?? 3, options.units ?? 'path') }));
}

/** How much one feature mattered over a set of explained records; see {@link featureImportance}. */
export interface FeatureImportance {
  feature: string;
  /** mean contribution over the records (path-length units; negative: towards "anomalous") */
  meanContribution: number;
  /** share of the records in which the feature is among the `top` strongest drivers */
  topShare: number;
}

/**
 * Which features drive a set of alerts: mean contribution per original
 * feature and how often it is among the `top` drivers, sorted by mean
 * contribution (most negative first).
 *
 * @param explanations - output of {@link explainRecords}
 * @param options.rows - rows of the explanations to include (default: all)
 * @param options.top - the "among the strongest" cut for topShare (default 3)
 */
export function featureImportance(explanations: RecordExplanations, options: { rows?: readonly number[]; top?: number } = {}): FeatureImportance[] {
  const { values, names } = explanations;
  const rows = options.rows ?? Array.from({ length: values.rows }, (_, i) => i);
  const top = options.top ?? 3;
  if (rows.length === 0) throw new RangeError('featureImportance: no rows to summarise');
  const m = values.cols;
  const sum = new Float64Array(m);
  const inTop = new Float64Array(m);
  for (const i of rows) {
    if (!Number.isInteger(i) || i < 0 || i >= values.rows) throw new RangeError(`featureImportance: row ${i} out of range 0..${values.rows - 1}`);
    for (let j = 0; j < m; j++) sum[j] += values.data[i * m + j];
    for (const d of topDrivers(values, i, top)) inTop[d.feature]++;
  }
  return names
    .map((feature, j) => ({ feature, meanContribution: sum[j] / rows.length, topShare: inTop[j] / rows.length, j }))
    .sort((a, b) => a.meanContribution - b.meanContribution || a.j - b.j)
    .map(({ feature, meanContribution, topShare }) => ({ feature, meanContribution, topShare }));
}

/**
 * The `"explain"` field of stream alert lines: for the given rows of a batch
 * buffer (the parser's rows: encoder output before log1p, or raw features),
 * a JSON array of the k strongest drivers, e.g.
 * `[{"feature":"src_bytes","value":1032,"contribution":-1.8}]`, contributions
 * in path-length units. All rows are explained in one call (the SHAP tables
 * are built once per model and reused).
 *
 * @param model - the stream's loaded bundle
 * @param values - row-major buffer of `width` columns per row
 * @param width - columns per row (the encoder's output width, or the feature count)
 * @param rows - the alert rows of the buffer
 * @param k - drivers per alert (positive integer)
 * @returns one JSON text per row, in the order of `rows`
 */
export function alertDriversJson(model: ExplainableModel, values: Float64Array, width: number, rows: ArrayLike<number>, k: number): string[] {
  if (rows.length === 0) return [];
  const buffer = createMatrix(Math.floor(values.length / width), width, values.length % width === 0 ? values : values.subarray(0, values.length - (values.length % width)));
  const e = explainRecords(model, buffer, Array.from(rows));
  return Array.from({ length: rows.length }, (_, i) => JSON.stringify(alertDrivers(e, i, k)));
}

/** A raw value for display: categories as they are, integers in full, other numbers with up to 3 significant decimals. */
export function formatRawValue(value: RawValue): string {
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(3)));
}

/** "feature = value (contribution)", e.g. `service = private (-1.42)`, for tables. */
export function describeDriver(driver: AlertDriver, digits = 2): string {
  return `${driver.feature} = ${formatRawValue(driver.value)} (${driver.contribution >= 0 ? '+' : ''}${driver.contribution.toFixed(digits)})`;
}

/**
 * Every original feature of row i as `{ label: "feature = value", contribution }`
 * (path-length units), in record order: the input of explanationWaterfallSpec.
 */
export function explanationSteps(explanations: RecordExplanations, i: number): Array<{ label: string; contribution: number }> {
  const m = explanations.values.cols;
  if (!Number.isInteger(i) || i < 0 || i >= explanations.values.rows) throw new RangeError(`explanationSteps: row ${i} out of range 0..${explanations.values.rows - 1}`);
  return explanations.names.map((name, j) => ({ label: `${name} = ${formatRawValue(explanations.rawValue(i, j))}`, contribution: explanations.values.data[i * m + j] }));
}
