/**
 * Turns mixed flow records (numeric and categorical columns) into the numeric
 * matrix a scaler and a forest take. Fitted on training data only: the
 * categories are the ones seen there, and a category first seen at scoring time
 * goes to an "other" slot and is counted, never dropped or guessed.
 */
import { createMatrix, type Matrix } from '../core/matrix';
import type { FlowRecords } from '../data/flows';

/** 'onehot': one 0/1 column per training category plus one for "other"; 'ordinal': one column of category codes. */
export type CategoricalEncoding = 'onehot' | 'ordinal';

/** Name of the extra slot unseen categories go to. */
export const OTHER_CATEGORY = '<other>';

export type EncodedColumnJSON = { name: string; kind: 'numeric'; log1p: boolean } | { name: string; kind: 'categorical'; categories: string[] };

export interface RecordEncoderJSON {
  kind: 'RecordEncoder';
  encoding: CategoricalEncoding;
  /** input columns in record order */
  columns: EncodedColumnJSON[];
}

export interface RecordEncoderOptions {
  /** categorical encoding (default 'onehot') */
  encoding?: CategoricalEncoding;
  /**
   * numeric columns to pass through sign(x) * log1p(|x|), which shrinks heavy
   * tails (byte counts spanning 0 to 10^9) so that random split points fall
   * among the bulk of the data rather than in the empty space of the tail.
   * true = the schema's heavyTailed columns; false (default) = none.
   */
  log1p?: boolean | readonly string[];
}

/** Categories seen at transform time that were not in the training data, per column. */
export interface UnseenCategories {
  /** records with at least one unseen category */
  records: number;
  /** column -> unseen value -> count */
  byColumn: Record<string, Record<string, number>>;
}

/**
 * Math.log1p of the integers below LOG1P_TABLE_SIZE: the log'd columns are
 * counters, mostly small (NSL-KDD: about 5 per record), and a lookup is
 * several times cheaper than the call. The same doubles: the table holds what
 * the call returns.
 */
const LOG1P_TABLE_SIZE = 1024;
const LOG1P_OF_INT = Float64Array.from({ length: LOG1P_TABLE_SIZE }, (_, v) => Math.log1p(v));

/** sign(x) * log1p(|x|): log1p for counters, and still defined (and monotone) for a negative value. */
export function signedLog1p(x: number): number {
  if (x > 0 && x < LOG1P_TABLE_SIZE && (x | 0) === x) return LOG1P_OF_INT[x]; // not 0: log1p(-0) is -0
  return x >= 0 ? Math.log1p(x) : -Math.log1p(-x);
}

/**
 * Encoder for mixed records: numeric columns copied (optionally log1p'd),
 * categorical columns one-hot or ordinal encoded, in record column order.
 * Scaling is a separate step (StandardScaler) after this one.
 */
export class RecordEncoder {
  /** for each input column, its first output column */
  readonly outputOffset: Int32Array;
  /** for each categorical input column (by input index), value -> code (0..k-1); undefined for numeric */
  readonly codes: ReadonlyArray<ReadonlyMap<string, number> | undefined>;
  /** output column names, e.g. "service=http", "service=<other>" (one-hot) or "service" (ordinal) */
  readonly outputNames: string[];
  /** output columns that get log1p (numeric columns with log1p: true) */
  readonly logOutputs: Int32Array;

  private constructor(
    readonly encoding: CategoricalEncoding,
    readonly columns: readonly EncodedColumnJSON[],
  ) {
    this.outputOffset = new Int32Array(columns.length);
    this.outputNames = [];
    this.codes = columns.map((c) => (c.kind === 'categorical' ? new Map(c.categories.map((v, k) => [v, k])) : undefined));
    columns.forEach((c, j) => {
      this.outputOffset[j] = this.outputNames.length;
      if (c.kind === 'numeric') this.outputNames.push(c.log1p ? `log1p(${c.name})` : c.name);
      else if (encoding === 'ordinal') this.outputNames.push(c.name);
      else this.outputNames.push(...c.categories.map((v) => `${c.name}=${v}`), `${c.name}=${OTHER_CATEGORY}`);
    });
    this.logOutputs = Int32Array.from(columns.flatMap((c, j) => (c.kind === 'numeric' && c.log1p ? [this.outputOffset[j]] : [])));
  }

  /** input column names, in record order */
  get inputNames(): string[] {
    return this.columns.map((c) => c.name);
  }

  /** number of output columns */
  get outputWidth(): number {
    return this.outputNames.length;
  }

  /**
   * The output columns input column j became, in order: one column for a
   * numeric or ordinal-encoded feature, the category columns plus the "other"
   * column for a one-hot feature. Explanations use it to sum a categorical
   * feature's one-hot contributions back into one number per original feature.
   *
   * @param j - input column index, 0..columns.length - 1
   * @throws RangeError when j is out of range
   */
  outputColumns(j: number): number[] {
    if (!Number.isInteger(j) || j < 0 || j >= this.columns.length) throw new RangeError(`RecordEncoder.outputColumns: input column ${j} out of range 0..${this.columns.length - 1}`);
    const end = j + 1 < this.columns.length ? this.outputOffset[j + 1] : this.outputWidth;
    return Array.from({ length: end - this.outputOffset[j] }, (_, m) => this.outputOffset[j] + m);
  }

  /**
   * Learn the categories (sorted, as scikit-learn's encoders order them) from
   * training records.
   *
   * @param records - training records only (never the test set)
   * @param options - encoding ('onehot' default | 'ordinal') and log1p (default false)
   */
  static fit(records: FlowRecords, options: RecordEncoderOptions = {}): RecordEncoder {
    const encoding = options.encoding ?? 'onehot';
    if (encoding !== 'onehot' && encoding !== 'ordinal') throw new RangeError(`encoding must be "onehot" or "ordinal", got ${JSON.stringify(encoding)}`);
    if (records.rows < 1) throw new RangeError(`RecordEncoder.fit: ${records.source} has no records`);
    const logCols = new Set(options.log1p === true ? records.schema.heavyTailed : options.log1p === false || options.log1p === undefined ? [] : options.log1p);
    for (const name of logCols) {
      if (!records.numericNames.includes(name)) throw new RangeError(`log1p column ${JSON.stringify(name)} is not a numeric column of ${records.source} (numeric: ${records.numericNames.join(', ')})`);
    }
    const columns: EncodedColumnJSON[] = records.schema.features.map((c) => {
      if (c.kind === 'numeric') return { name: c.name, kind: 'numeric', log1p: logCols.has(c.name) };
      const values = records.categorical[records.categoricalNames.indexOf(c.name)];
      const categories = [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return { name: c.name, kind: 'categorical', categories };
    });
    return new RecordEncoder(encoding, columns);
  }

  /**
   * Encode records into an n x outputWidth matrix.
   *
   * @returns the matrix and the unseen categories (mapped to the "other" slot: code k for ordinal)
   * @throws RangeError when the records' columns differ from the training columns
   */
  transform(records: FlowRecords): { X: Matrix; unseen: UnseenCategories } {
    const names = records.schema.features.map((c) => `${c.name}:${c.kind}`);
    const mine = this.columns.map((c) => `${c.name}:${c.kind}`);
    if (names.join(',') !== mine.join(',')) {
      throw new RangeError(`RecordEncoder.transform: ${records.source} has columns ${names.join(',')}; the encoder was fitted on ${mine.join(',')}`);
    }
    const n = records.rows;
    const w = this.outputWidth;
    const out = new Float64Array(n * w);
    const unseen: UnseenCategories = { records: 0, byColumn: {} };
    const flagged = new Uint8Array(n);
    const dn = records.numeric.cols;
    const num = records.numeric.data;
    let numericSlot = 0;
    let categoricalSlot = 0;
    this.columns.forEach((c, j) => {
      const o = this.outputOffset[j];
      if (c.kind === 'numeric') {
        const s = numericSlot++;
        for (let i = 0; i < n; i++) {
          const v = num[i * dn + s];
          out[i * w + o] = c.log1p ? signedLog1p(v) : v;
        }
        return;
      }
      const values = records.categorical[categoricalSlot++];
      const codes = this.codes[j] as ReadonlyMap<string, number>;
      const k = c.categories.length;
      for (let i = 0; i < n; i++) {
        let code = codes.get(values[i]);
        if (code === undefined) {
          code = k;
          const counts = (unseen.byColumn[c.name] ??= {});
          counts[values[i]] = (counts[values[i]] ?? 0) + 1;
          flagged[i] = 1;
        }
        if (this.encoding === 'ordinal') out[i * w + o] = code;
        else out[i * w + o + code] = 1;
      }
    });
    for (let i = 0; i < n; i++) unseen.records += flagged[i];
    return { X: createMatrix(n, w, out), unseen };
  }

  /**
   * The log1p step alone, on rows whose numeric columns are still raw (as the
   * stream's parser writes them, so that alerts can show the exact values).
   *
   * @returns a new matrix, or X itself when no column gets log1p
   */
  applyLog1p(X: Matrix): Matrix {
    if (this.logOutputs.length === 0) return X;
    const w = this.outputWidth;
    if (X.cols !== w) throw new RangeError(`RecordEncoder.applyLog1p: got ${X.cols} columns, the encoder outputs ${w}`);
    const out = Float64Array.from(X.data);
    const logs = this.logOutputs;
    for (let i = 0; i < X.rows; i++) for (let k = 0; k < logs.length; k++) out[i * w + logs[k]] = signedLog1p(out[i * w + logs[k]]);
    return createMatrix(X.rows, w, out);
  }

  /**
   * One encoded row (numeric columns raw, before log1p) back to a record keyed
   * by input column: numbers as they were, categories by name ("<other>" for a
   * category the training data did not have).
   */
  decodeRow(values: ArrayLike<number>, offset = 0): Record<string, number | string> {
    const record: Record<string, number | string> = {};
    this.columns.forEach((c, j) => {
      const o = offset + this.outputOffset[j];
      if (c.kind === 'numeric') {
        record[c.name] = values[o];
        return;
      }
      const k = c.categories.length;
      let code = k;
      if (this.encoding === 'ordinal') code = values[o];
      else for (let m = 0; m < k; m++) if (values[o + m] === 1) code = m;
      record[c.name] = code < k ? c.categories[code] : OTHER_CATEGORY;
    });
    return record;
  }

  /**
   * The categorical input columns whose value in one encoded row is a category
   * the training data did not have (the "other" slot), in column order. A
   * forest never splits on that slot (it is 0 in every training row), so such
   * a value is invisible to the score: the stream names it in the alert line,
   * and `--alert-unseen` makes it an alert of its own.
   */
  unseenColumns(values: ArrayLike<number>, offset = 0): string[] {
    const out: string[] = [];
    this.columns.forEach((c, j) => {
      if (c.kind !== 'categorical') return;
      const o = offset + this.outputOffset[j];
      const k = c.categories.length;
      if (this.encoding === 'ordinal' ? values[o] === k : values[o + k] === 1) out.push(c.name);
    });
    return out;
  }

  /** Per encoded row (rows x outputWidth, as {@link transform} or a stream parser writes them): 1 when any category is unseen. */
  unseenMask(values: ArrayLike<number>, rows: number): Uint8Array {
    const w = this.outputWidth;
    const slots: number[] = [];
    this.columns.forEach((c, j) => {
      if (c.kind === 'categorical') slots.push(this.outputOffset[j] + (this.encoding === 'ordinal' ? 0 : c.categories.length), c.categories.length);
    });
    const mask = new Uint8Array(rows);
    for (let i = 0; i < rows; i++) {
      for (let s = 0; s < slots.length; s += 2) {
        const v = values[i * w + slots[s]];
        if (this.encoding === 'ordinal' ? v === slots[s + 1] : v === 1) {
          mask[i] = 1;
          break;
        }
      }
    }
    return mask;
  }

  toJSON(): RecordEncoderJSON {
    return {
      kind: 'RecordEncoder',
      encoding: this.encoding,
      columns: this.columns.map((c) => (c.kind === 'numeric' ? { ...c } : { ...c, categories: [...c.categories] })),
    };
  }

  /** Rebuild from toJSON output, checking every field (a bundle may have been edited). */
  static fromJSON(json: RecordEncoderJSON): RecordEncoder {
    if (!json || json.kind !== 'RecordEncoder') throw new TypeError('not a RecordEncoder: kind must be "RecordEncoder"');
    if (json.encoding !== 'onehot' && json.encoding !== 'ordinal') throw new TypeError(`RecordEncoder.encoding must be "onehot" or "ordinal", got ${JSON.stringify(json.encoding)}`);
    if (!Array.isArray(json.columns) || json.columns.length < 1) throw new TypeError('RecordEncoder.columns must be a non-empty list');
    const seen = new Set<string>();
    json.columns.forEach((c, j) => {
      if (!c || typeof c.name !== 'string' || c.name === '') throw new TypeError(`RecordEncoder.columns[${j}].name must be a non-empty string`);
      if (seen.has(c.name)) throw new TypeError(`RecordEncoder.columns names ${JSON.stringify(c.name)} twice`);
      seen.add(c.name);
      if (c.kind === 'numeric') {
        if (typeof c.log1p !== 'boolean') throw new TypeError(`RecordEncoder.columns[${j}].log1p must be true or false`);
      } else if (c.kind === 'categorical') {
        if (!Array.isArray(c.categories) || !c.categories.every((v) => typeof v === 'string') || new Set(c.categories).size !== c.categories.length) {
          throw new TypeError(`RecordEncoder.columns[${j}].categories must be distinct strings`);
        }
      } else {
        throw new TypeError(`RecordEncoder.columns[${j}].kind must be "numeric" or "categorical"`);
      }
    });
    return new RecordEncoder(json.encoding, json.columns);
  }
}
