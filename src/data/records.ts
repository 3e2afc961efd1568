/**
 * Turning input lines into feature rows for the stream scorer: CSV (with or
 * without a header) or NDJSON (objects keyed by feature name, or arrays in
 * feature order). Every line ends as exactly one of: the header, a record, or
 * a reject with a reason; nothing is dropped silently.
 */

/**
 * What the encoded parser reads from a fitted encoder: its input columns, their
 * slots in the encoded row and the category codes. `model/encoder.ts`'s
 * RecordEncoder has this shape; the parser asks for the shape, not the class, so
 * that reading records does not depend on the layer that learns.
 */
export interface EncoderLayout {
  readonly encoding: 'onehot' | 'ordinal';
  readonly columns: ReadonlyArray<{ readonly name: string; readonly kind: 'numeric' } | { readonly name: string; readonly kind: 'categorical'; readonly categories: readonly string[] }>;
  readonly inputNames: string[];
  readonly outputWidth: number;
  readonly outputOffset: Int32Array;
  readonly codes: ReadonlyArray<ReadonlyMap<string, number> | undefined>;
}
import { parseDecimal, parseDecimalBytes, POW10 } from './decimal';

// String methods as module constants, called with .call (`charCodeAt.call(line, i)`): once any loaded
// code subclasses String (ioredis does), V8 in Node 20 no longer inlines `line.charCodeAt(i)`, and parsing
// ran 3x slower; a module-level const is inlined either way (DEVELOPERS.md, "Known facts").
const charCodeAt = String.prototype.charCodeAt;
const indexOf = String.prototype.indexOf;

export type InputFormat = 'csv' | 'ndjson';

export type LineOutcome = { kind: 'header' } | { kind: 'record' } | { kind: 'reject'; reason: string };

const RECORD: LineOutcome = { kind: 'record' };

function inverse(columnOf: Int32Array, columns: number): Int32Array {
  const featureAt = new Int32Array(columns).fill(-1);
  columnOf.forEach((col, j) => (featureAt[col] = j));
  return featureAt;
}

/**
 * A line's UTF-8 for the byte fast paths when it arrived as a string (a Redis
 * entry, a flow line, a caller's text): one scratch for every parser, as the
 * parsers run synchronously. Encoding is cheaper than the difference between
 * parsing characters and parsing bytes, so every line takes the one fast path.
 */
let textBytes = new Uint8Array(1 << 12);
const utf8 = new TextEncoder();

/** `line` encoded into textBytes (grown when needed); @returns its length in bytes */
function asBytes(line: string): number {
  if (3 * line.length > textBytes.length) textBytes = new Uint8Array(3 * line.length);
  return utf8.encodeInto(line, textBytes).written;
}

/** A problem with the input as a whole (e.g. a header without a model feature): stops the stream. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

function quote(s: string, max = 40): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}...` : s);
}

/**
 * Parses lines against the model's feature names. A record's values are written
 * into a caller's buffer (no per-row objects), so a batch is one typed array.
 */
export class RecordParser {
  /** for each model feature, its column in the CSV header (identity without a header) */
  private columnOf: Int32Array | undefined;
  private fieldCount: number;
  private seenFirst = false;
  private ndjsonExtraWarned = false;
  /** things worth telling the user once (extra columns, ignored keys) */
  readonly warnings: string[] = [];

  constructor(
    readonly featureNames: readonly string[],
    readonly format: InputFormat,
  ) {
    this.fieldCount = featureNames.length;
  }

  /** True once a CSV header has been recognised. */
  get hasHeader(): boolean {
    return this.columnOf !== undefined;
  }

  /**
   * Parse one line (without its newline) into out[offset .. offset + d).
   * Throws InputError only for a CSV header that cannot work with the model.
   */
  parse(line: string, out: Float64Array, offset: number): LineOutcome {
    if (this.format === 'ndjson') {
      if (line.trim() === '') return { kind: 'reject', reason: 'empty line' };
      return this.parseJson(line, out, offset);
    }
    if (this.seenFirst) {
      const n = asBytes(line); // first: it may replace textBytes
      if (this.parseBytes(textBytes, 0, n, out, offset)) return RECORD;
    }
    if (line.trim() === '') return { kind: 'reject', reason: 'empty line' };
    const fields = line.split(',');
    if (!this.seenFirst) {
      this.seenFirst = true;
      // A header names at least one model feature, or has no numeric field at
      // all; a damaged first data row ("1,2,abc,4,5") is a reject, not a header.
      const names = fields.map((f) => f.trim());
      if (names.some((n) => this.featureNames.includes(n)) || !names.some((n) => n !== '' && Number.isFinite(Number(n)))) {
        this.readHeader(names);
        return { kind: 'header' };
      }
    }
    if (fields.length !== this.fieldCount) {
      return { kind: 'reject', reason: `expected ${this.fieldCount} fields${this.hasHeader ? ' (as in the header)' : ''}, got ${fields.length}` };
    }
    const d = this.featureNames.length;
    for (let j = 0; j < d; j++) {
      const text = fields[this.columnOf ? this.columnOf[j] : j];
      const v = Number(text);
      const name = this.featureNames[j];
      if (text.trim() === '') return { kind: 'reject', reason: `field ${name} is empty` };
      if (Number.isNaN(v)) return { kind: 'reject', reason: `field ${name} is not a number: ${quote(text.trim())}` };
      if (!Number.isFinite(v)) return { kind: 'reject', reason: `field ${name} is not finite: ${quote(text.trim())}` };
      out[offset + j] = v;
    }
    return { kind: 'record' };
  }

  /**
   * The line bytes[start, end) as a record, when it is a plain one: exactly
   * the expected number of plain decimal CSV fields, after the first line (the
   * header decision). Writes its values and returns true; returns false for
   * anything else, and the caller then hands the line's text to {@link parse},
   * which decides (a record with the same values, a reject with its reason).
   */
  parseBytes(bytes: Uint8Array, start: number, end: number, out: Float64Array, offset: number): boolean {
    if (this.format !== 'csv' || !this.seenFirst) return false;
    const n = this.fieldCount;
    const map = this.columnOf;
    const d = this.featureNames.length;
    const featureAt = map ? (this.featureAt ??= inverse(map, n)) : undefined;
    let pos = start;
    for (let k = 0; k < n; k++) {
      let comma = pos;
      while (comma < end && bytes[comma] !== 44) comma++;
      // every field but the last ends at a comma; the last one at the end of the line
      if (k < n - 1 ? comma === end : comma !== end) return false;
      const j = featureAt ? featureAt[k] : k;
      if (j >= 0 && j < d) {
        const v = parseDecimalBytes(bytes, pos, comma);
        if (v - v !== 0) return false; // NaN: not a plain decimal
        out[offset + j] = v;
      }
      pos = comma + 1;
    }
    return true;
  }

  /** for each CSV column, the model feature it feeds (-1 for an ignored column) */
  private featureAt: Int32Array | undefined;

  private readHeader(names: string[]): void {
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n)) throw new InputError(`CSV header names column ${quote(n)} twice`);
      seen.add(n);
    }
    const missing = this.featureNames.filter((f) => !seen.has(f));
    if (missing.length > 0) {
      throw new InputError(`CSV header lacks the model's feature${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (header: ${names.join(',')}; the model needs ${this.featureNames.join(',')})`);
    }
    const extra = names.filter((n) => !this.featureNames.includes(n));
    if (extra.length > 0) this.warnings.push(`CSV columns not used by the model, ignored: ${extra.join(', ')}`);
    this.columnOf = Int32Array.from(this.featureNames, (f) => names.indexOf(f));
    this.fieldCount = names.length;
  }

  private parseJson(line: string, out: Float64Array, offset: number): LineOutcome {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      return { kind: 'reject', reason: `invalid JSON: ${(e as Error).message}` };
    }
    const d = this.featureNames.length;
    if (Array.isArray(value)) {
      if (value.length !== d) return { kind: 'reject', reason: `expected an array of ${d} numbers, got ${value.length} values` };
      for (let j = 0; j < d; j++) {
        const reason = checkNumber(value[j], this.featureNames[j]);
        if (reason) return { kind: 'reject', reason };
        out[offset + j] = value[j] as number;
      }
      return { kind: 'record' };
    }
    if (typeof value !== 'object' || value === null) {
      return { kind: 'reject', reason: `expected a JSON object keyed by feature name or an array, got ${quote(line.trim())}` };
    }
    const obj = value as Record<string, unknown>;
    for (let j = 0; j < d; j++) {
      const name = this.featureNames[j];
      if (!(name in obj)) return { kind: 'reject', reason: `missing feature ${name}` };
      const reason = checkNumber(obj[name], name);
      if (reason) return { kind: 'reject', reason };
      out[offset + j] = obj[name] as number;
    }
    if (!this.ndjsonExtraWarned) {
      const extra = Object.keys(obj).filter((k) => !this.featureNames.includes(k));
      if (extra.length > 0) {
        this.ndjsonExtraWarned = true;
        this.warnings.push(`JSON keys not used by the model, ignored: ${extra.join(', ')}`);
      }
    }
    return { kind: 'record' };
  }
}

/**
 * A lookup table for a column's categories: codes[h & mask] is the code of the
 * category whose characters hash to h (31-multiplier string hash), -1 for
 * none. The mask is the smallest power of two minus one (at least 4 slots per
 * category, up to 2^16) under which no two categories share a slot; a slot
 * that still has two maps to -1, and the slow path (a Map on the text)
 * decides. A hit is confirmed by comparing the characters, so another value
 * in the same slot is never taken for the category.
 */
function categoryTable(categories: readonly string[]): { mask: number; codes: Int32Array } {
  const hashes = categories.map((c) => {
    let h = 0;
    for (let i = 0; i < c.length; i++) h = (Math.imul(h, 31) + c.charCodeAt(i)) | 0;
    return h;
  });
  let size = 4;
  while (size < 4 * categories.length) size *= 2;
  for (; ; size *= 2) {
    const mask = size - 1;
    const codes = new Int32Array(size).fill(-1);
    const used = new Uint8Array(size);
    let collide = false;
    hashes.forEach((h, k) => {
      const slot = h & mask;
      if (used[slot] === 1) {
        codes[slot] = -1;
        collide = true;
      } else {
        used[slot] = 1;
        codes[slot] = k;
      }
    });
    if (!collide || size >= 1 << 16) return { mask, codes };
  }
}

/** bytes[start, end) of ASCII as a string */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** At most this many distinct unseen categories are named in warnings; all are counted in `unseen`. */
const MAX_UNSEEN_WARNINGS = 20;

/**
 * Parses raw mixed records (numeric fields and categories as text, e.g. an
 * NSL-KDD line) for a model with an encoder, writing the encoded row
 * (one-hot or ordinal categories; numeric fields raw, log1p comes at scoring)
 * into the caller's buffer. CSV: the encoder's input columns in order,
 * optionally followed by up to two ignored fields (NSL-KDD's label and
 * difficulty), with or without a header; or under a header that names the
 * encoder's columns in any order among other columns (each line is then
 * rearranged, the other columns ignored); NDJSON: objects keyed by column name.
 * A category the training data did not have goes to the "other" slot, is
 * counted in `unseen` and named once in `warnings`.
 */
export class EncodedRecordParser {
  readonly warnings: string[] = [];
  /** column -> unseen category -> records */
  readonly unseen: Record<string, Record<string, number>> = {};
  private seenFirst = false;
  private header = false;
  private unseenNamed = 0;
  private readonly nIn: number;
  private readonly width: number;
  private readonly isCategorical: Uint8Array;
  private readonly offsets: Int32Array;
  private readonly codes: ReadonlyArray<ReadonlyMap<string, number> | undefined>;
  private readonly nCategories: Int32Array;
  private readonly onehot: boolean;
  private readonly names: string[];

  constructor(
    readonly encoder: EncoderLayout,
    readonly format: InputFormat,
  ) {
    this.names = encoder.inputNames;
    this.nIn = this.names.length;
    this.width = encoder.outputWidth;
    this.isCategorical = Uint8Array.from(encoder.columns, (c) => (c.kind === 'categorical' ? 1 : 0));
    this.offsets = encoder.outputOffset;
    this.codes = encoder.codes;
    this.nCategories = Int32Array.from(encoder.columns, (c) => (c.kind === 'categorical' ? c.categories.length : 0));
    this.onehot = encoder.encoding === 'onehot';
    this.categoryNames = encoder.columns.map((c) => (c.kind === 'categorical' ? c.categories : []));
    this.tables = this.categoryNames.map((cats) => categoryTable(cats));
    this.unseenColumn = new Int32Array(this.nIn);
    this.unseenAt = new Int32Array(2 * this.nIn);
  }

  /** per categorical column: table of category codes indexed by a hash of the characters (see categoryTable) */
  private readonly tables: Array<{ mask: number; codes: Int32Array }>;
  private readonly categoryNames: ReadonlyArray<readonly string[]>;

  /** True once a CSV header has been recognised. */
  get hasHeader(): boolean {
    return this.header;
  }

  /** Parse one line (without its newline) into out[offset .. offset + encoder.outputWidth). */
  parse(line: string, out: Float64Array, offset: number): LineOutcome {
    if (this.format === 'ndjson') return this.parseJson(line, out, offset);
    if (!this.seenFirst) {
      this.seenFirst = true;
      const first = line.split(',').map((f) => f.trim());
      if (first[0] === this.names[0] && Number.isNaN(Number(first[0]))) {
        const at = this.names.findIndex((n, j) => first[j] !== n);
        if (at < 0) {
          if (first.length > this.nIn + 2) throw new InputError(`CSV header has ${first.length} columns; the model reads ${this.nIn} plus at most 2 ignored ones`);
          this.header = true;
          return { kind: 'header' };
        }
      }
      // a header that names the model's columns in another order, among others (flow
      // lines carry every flow field): lines are rearranged into the model's order
      if (this.names.some((n) => first.includes(n)) && !first.some((f) => f !== '' && Number.isFinite(Number(f)))) {
        const missing = this.names.filter((n) => !first.includes(n));
        if (missing.length > 0) {
          const named = missing.slice(0, 5).map((n) => quote(n)).join(', ');
          throw new InputError(`CSV header lacks ${missing.length} of the model's ${this.nIn} columns: ${named}${missing.length > 5 ? `, and ${missing.length - 5} more` : ''}`);
        }
        const seen = new Set<string>();
        for (const n of first) {
          if (seen.has(n)) throw new InputError(`CSV header names column ${quote(n)} twice`);
          seen.add(n);
        }
        this.pick = Int32Array.from(this.names, (n) => first.indexOf(n));
        this.headerFields = first.length;
        this.header = true;
        return { kind: 'header' };
      }
    }
    if (this.pick !== undefined) {
      const fields = line.split(',');
      if (fields.length !== this.headerFields) return { kind: 'reject', reason: `expected ${this.headerFields} fields (as in the header), got ${fields.length}` };
      let picked = fields[this.pick[0]];
      for (let j = 1; j < this.pick.length; j++) picked += `,${fields[this.pick[j]]}`;
      line = picked;
    }
    const n = asBytes(line); // first: it may replace textBytes
    if (this.plainBytes(textBytes, 0, n, out, offset)) return RECORD;
    return this.slowCsv(line, out, offset);
  }

  /**
   * The line bytes[start, end) as a record, when it is a plain one: CSV in the
   * model's column order (no rearranging header), plain decimals, ASCII
   * categories the model knows, at most two ignored fields after them; only
   * after the first line (the header decision). Writes the encoded values and
   * returns true; returns false for anything else, and the caller then hands
   * the line's text to {@link parse}, which decides (the same values, an
   * unseen category counted, or a reject with its reason).
   */
  parseBytes(bytes: Uint8Array, start: number, end: number, out: Float64Array, offset: number): boolean {
    if (this.format !== 'csv' || !this.seenFirst || this.pick !== undefined) return false;
    return this.plainBytes(bytes, start, end, out, offset);
  }

  /**
   * The plain record in bytes[start, end), in the model's column order: one
   * pass, unsigned plain decimals of at most 15 digits (exact: see
   * parseDecimal) and ASCII categories, known or not (an unseen one goes to
   * the "other" slot and is counted as slowCsv counts it, once the whole line
   * is accepted). Returns false when anything is unusual; slowCsv then parses
   * the line's text and explains a reject. {@link parse} runs it on a line's
   * UTF-8 (after rearranging it for a header in another order),
   * {@link parseBytes} on the bytes read.
   */
  private plainBytes(bytes: Uint8Array, start: number, end: number, out: Float64Array, offset: number): boolean {
    // locals, not fields: V8 reloads a field after each call in the loop
    const n = this.nIn;
    const offsets = this.offsets;
    const isCategorical = this.isCategorical;
    const tables = this.tables;
    const categoryNames = this.categoryNames;
    const nCategories = this.nCategories;
    const onehot = this.onehot;
    out.fill(0, offset, offset + this.width);
    let pos = start;
    let unseen = 0;
    for (let j = 0; j < n; j++) {
      const o = offset + offsets[j];
      let end_ = pos;
      if (isCategorical[j] === 1) {
        // hash the bytes up to the comma, then confirm the match (ASCII only: other text goes through parse)
        let h = 0;
        for (; end_ < end; end_++) {
          const ch = bytes[end_];
          if (ch === 44) break;
          if (ch > 127) return false;
          h = (Math.imul(h, 31) + ch) | 0;
        }
        if (end_ === end && j < n - 1) return false;
        const table = tables[j];
        let code = table.codes[h & table.mask];
        if (code >= 0) {
          const name = categoryNames[j][code];
          if (name.length !== end_ - pos) code = -1;
          else for (let k = 0; k < name.length; k++) if (charCodeAt.call(name, k) !== bytes[pos + k]) code = -1;
        }
        if (code < 0) {
          // unseen (about 8% of KDDTest+ lines against a model trained on normal records): the "other" slot, counted
          // below. Not an empty field or one with spaces around it: slowCsv rejects the one and trims the other
          if (end_ === pos || bytes[pos] <= 32 || bytes[end_ - 1] <= 32) return false;
          code = nCategories[j];
          this.unseenAt[2 * unseen] = pos;
          this.unseenAt[2 * unseen + 1] = end_;
          this.unseenColumn[unseen++] = j;
        }
        if (onehot) out[o + code] = 1;
        else out[o] = code;
        pos = end_ + 1;
        continue;
      }
      // "0," and "0.00," are half of NSL-KDD's fields: the slot is already 0 (+0, as the loop below makes them)
      if (bytes[pos] === 48 && pos + 1 < end) {
        const next = bytes[pos + 1];
        if (next === 44) {
          pos += 2;
          continue;
        }
        if (next === 46 && pos + 4 < end && bytes[pos + 2] === 48 && bytes[pos + 3] === 48 && bytes[pos + 4] === 44) {
          pos += 5;
          continue;
        }
      }
      let m = 0;
      let digits = 0;
      let scale = 0;
      let c = 0;
      while (end_ < end && (c = bytes[end_]) >= 48 && c <= 57) {
        m = m * 10 + (c - 48);
        digits++;
        end_++;
      }
      if (end_ < end && c === 46) {
        end_++;
        while (end_ < end && (c = bytes[end_]) >= 48 && c <= 57) {
          m = m * 10 + (c - 48);
          digits++;
          scale++;
          end_++;
        }
      }
      if (digits === 0 || digits > 15 || scale > 22) return false;
      if (end_ < end ? bytes[end_] !== 44 : j < n - 1) return false;
      out[o] = scale === 0 ? m : m / POW10[scale];
      pos = end_ + 1;
    }
    if (pos <= end) {
      // up to two ignored fields after the model's columns
      let commas = 0;
      for (let i = pos; i < end; i++) if (bytes[i] === 44 && ++commas > 1) return false;
    }
    for (let u = 0; u < unseen; u++) this.countUnseen(this.names[this.unseenColumn[u]], latin1(bytes, this.unseenAt[2 * u], this.unseenAt[2 * u + 1]));
    return true;
  }

  /** the unseen categories of the line plainBytes is on: column, and [start, end) in its bytes */
  private readonly unseenColumn: Int32Array;
  private readonly unseenAt: Int32Array;

  /** for a header in another order: the header column of each model column */
  private pick: Int32Array | undefined;
  private headerFields = 0;

  private slowCsv(line: string, out: Float64Array, offset: number): LineOutcome {
    if (line.trim() === '') return { kind: 'reject', reason: 'empty line' };
    out.fill(0, offset, offset + this.width);
    const n = this.nIn;
    let start = 0;
    for (let j = 0; j < n; j++) {
      let end = indexOf.call(line, ',', start);
      if (end < 0) {
        if (j < n - 1) return { kind: 'reject', reason: `expected ${n} to ${n + 2} fields, got ${j + 1}` };
        end = line.length;
      }
      const o = offset + this.offsets[j];
      if (this.isCategorical[j] === 0) {
        const v = parseDecimal(line, start, end);
        if (!Number.isFinite(v)) {
          const text = line.slice(start, end).trim();
          if (text === '') return { kind: 'reject', reason: `field ${this.names[j]} is empty` };
          const again = Number(text); // parseDecimal does not trim: " 12" is still a number
          if (!Number.isFinite(again)) return { kind: 'reject', reason: `field ${this.names[j]} is not a finite number: ${quote(text)}` };
          out[o] = again;
        } else {
          out[o] = v;
        }
      } else {
        let text = line.slice(start, end);
        let code = (this.codes[j] as ReadonlyMap<string, number>).get(text);
        if (code === undefined) {
          text = text.trim();
          if (text === '') return { kind: 'reject', reason: `field ${this.names[j]} is empty` };
          code = (this.codes[j] as ReadonlyMap<string, number>).get(text);
          if (code === undefined) {
            code = this.nCategories[j];
            this.countUnseen(this.names[j], text);
          }
        }
        if (this.onehot) out[o + code] = 1;
        else out[o] = code;
      }
      start = end + 1;
    }
    if (start <= line.length) {
      // fields after the model's columns: at most two (label, difficulty), ignored
      let extra = 1;
      for (let k = indexOf.call(line, ',', start); k >= 0; k = indexOf.call(line, ',', k + 1)) extra++;
      if (extra > 2) return { kind: 'reject', reason: `expected ${n} to ${n + 2} fields, got ${n + extra}` };
    }
    return RECORD;
  }

  private countUnseen(column: string, value: string): void {
    const counts = (this.unseen[column] ??= {});
    if (counts[value] === undefined) {
      counts[value] = 0;
      if (this.unseenNamed < MAX_UNSEEN_WARNINGS) {
        this.warnings.push(`${column} ${quote(value)} was not in the training data: scored as "other"${++this.unseenNamed === MAX_UNSEEN_WARNINGS ? ' (further unseen categories are counted, not named)' : ''}`);
      }
    }
    counts[value]++;
  }

  private parseJson(line: string, out: Float64Array, offset: number): LineOutcome {
    if (line.trim() === '') return { kind: 'reject', reason: 'empty line' };
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      return { kind: 'reject', reason: `invalid JSON: ${(e as Error).message}` };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { kind: 'reject', reason: `expected a JSON object keyed by column name, got ${quote(line.trim())}` };
    }
    const obj = value as Record<string, unknown>;
    out.fill(0, offset, offset + this.width);
    for (let j = 0; j < this.nIn; j++) {
      const name = this.names[j];
      if (!(name in obj)) return { kind: 'reject', reason: `missing feature ${name}` };
      const v = obj[name];
      const o = offset + this.offsets[j];
      if (this.isCategorical[j] === 0) {
        const reason = checkNumber(v, name);
        if (reason) return { kind: 'reject', reason };
        out[o] = v as number;
      } else {
        if (typeof v !== 'string' || v === '') return { kind: 'reject', reason: `field ${name} must be a non-empty string, got ${quote(JSON.stringify(v) ?? String(v))}` };
        let code = (this.codes[j] as ReadonlyMap<string, number>).get(v);
        if (code === undefined) {
          code = this.nCategories[j];
          this.countUnseen(name, v);
        }
        if (this.onehot) out[o + code] = 1;
        else out[o] = code;
      }
    }
    return RECORD;
  }
}

function checkNumber(v: unknown, name: string): string | undefined {
  if (typeof v !== 'number') return `field ${name} is not a number: ${quote(JSON.stringify(v) ?? String(v))}`;
  if (!Number.isFinite(v)) return `field ${name} is not finite`;
  return undefined;
}
