/**
 * Turning input lines into feature rows for the stream scorer: CSV (with or
 * without a header) or NDJSON (objects keyed by feature name, or arrays in
 * feature order). Every line ends as exactly one of: the header, a record, or
 * a reject with a reason; nothing is dropped silently.
 */

export type InputFormat = 'csv' | 'ndjson';

export type LineOutcome = { kind: 'header' } | { kind: 'record' } | { kind: 'reject'; reason: string };

const RECORD: LineOutcome = { kind: 'record' };

function inverse(columnOf: Int32Array, columns: number): Int32Array {
  const featureAt = new Int32Array(columns).fill(-1);
  columnOf.forEach((col, j) => (featureAt[col] = j));
  return featureAt;
}

/** Number(text), except that blank text is not a number (Number('  ') is 0). */
function strictNumber(text: string): number {
  return text.trim() === '' ? NaN : Number(text);
}

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k); // exact doubles up to 1e22
const TWO53 = 2 ** 53;

/**
 * Number(s.slice(start, end)) without creating the substring, for plain
 * decimals ("-12.345", "6e-3"). Exact: with at most 15 significant digits the
 * digits form an integer below 2^53 and 10^k (k <= 22) is exact, so one IEEE
 * multiplication or division gives the correctly rounded value, the same
 * double Number() returns (Clinger's fast path). Anything else (more digits,
 * spaces, hex, "Infinity", garbage) is handed to Number() itself; blank text is NaN.
 */
export function parseDecimal(s: string, start: number, end: number): number {
  if (start >= end) return NaN; // Number('') would be 0
  let i = start;
  let negative = false;
  let c = s.charCodeAt(i);
  if (c === 45 || c === 43) {
    negative = c === 45;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let significant = 0;
  let scale = 0;
  let seenDot = false;
  for (; i < end; i++) {
    c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits++;
      if (mantissa === 0 && c === 48) {
        if (seenDot) scale--;
        continue; // leading zeros add no significant digit
      }
      if (++significant > 15) return strictNumber(s.slice(start, end));
      mantissa = mantissa * 10 + (c - 48);
      if (seenDot) scale--;
    } else if (c === 46 && !seenDot) {
      seenDot = true;
    } else {
      break;
    }
  }
  if (digits === 0) return strictNumber(s.slice(start, end));
  if (i < end) {
    if (c !== 101 && c !== 69) return strictNumber(s.slice(start, end));
    i++;
    let expNegative = false;
    c = s.charCodeAt(i);
    if (c === 45 || c === 43) {
      expNegative = c === 45;
      i++;
    }
    let exp = 0;
    let expDigits = 0;
    for (; i < end; i++) {
      c = s.charCodeAt(i);
      if (c < 48 || c > 57 || expDigits > 4) return strictNumber(s.slice(start, end));
      exp = exp * 10 + (c - 48);
      expDigits++;
    }
    if (expDigits === 0) return strictNumber(s.slice(start, end));
    scale += expNegative ? -exp : exp;
  }
  if (mantissa >= TWO53 || scale < -22 || scale > 22) return strictNumber(s.slice(start, end));
  const v = scale < 0 ? mantissa / POW10[-scale] : mantissa * POW10[scale];
  return negative ? -v : v;
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
    if (this.seenFirst && this.fastCsv(line, out, offset)) return RECORD;
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
   * The common case without allocation: exactly the expected number of plain
   * decimal fields. Returns false (and writes nothing it keeps) when anything is
   * unusual, and the general path then parses the line and explains a reject.
   */
  private fastCsv(line: string, out: Float64Array, offset: number): boolean {
    const n = this.fieldCount;
    const map = this.columnOf;
    const d = this.featureNames.length;
    let start = 0;
    for (let k = 0; k < n; k++) {
      const last = k === n - 1;
      // the last field runs to the end of the line and must hold no further comma
      const end = last ? (line.indexOf(',', start) < 0 ? line.length : -1) : line.indexOf(',', start);
      if (end < 0) return false;
      const j = map ? (this.featureAt ??= inverse(map, n))[k] : k;
      if (j >= 0 && j < d) {
        const v = parseDecimal(line, start, end);
        if (!Number.isFinite(v)) return false;
        out[offset + j] = v;
      }
      start = end + 1;
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

function checkNumber(v: unknown, name: string): string | undefined {
  if (typeof v !== 'number') return `field ${name} is not a number: ${quote(JSON.stringify(v) ?? String(v))}`;
  if (!Number.isFinite(v)) return `field ${name} is not finite`;
  return undefined;
}

/**
 * Splits a byte stream into lines, with a bound on line length so that one
 * endless line cannot exhaust memory: the bytes of an over-long line are
 * skipped up to its newline and the line is reported once, as too long.
 */
export class LineSplitter {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private overflow = false;

  constructor(readonly maxLineBytes: number) {}

  /**
   * Feed a chunk; `onLine(text)` gets each complete line (without "\n" or a
   * trailing "\r"), `onTooLong()` each line over the bound.
   */
  push(chunk: Buffer, onLine: (line: string) => void, onTooLong: () => void): void {
    const first = chunk.indexOf(10);
    if (first < 0) {
      this.keep(chunk);
      return;
    }
    this.finish(chunk.subarray(0, first), onLine, onTooLong);
    const last = chunk.lastIndexOf(10);
    if (last > first) {
      // the complete lines in between: decoded once, then cut into (cheap, sliced) strings
      const text = chunk.toString('utf8', first + 1, last);
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        const end = nl < 0 ? text.length : nl;
        this.emit(text, start, end, onLine, onTooLong);
        if (nl < 0) break;
        start = nl + 1;
      }
    }
    if (last + 1 < chunk.length) this.keep(chunk.subarray(last + 1));
  }

  private emit(text: string, start: number, end: number, onLine: (line: string) => void, onTooLong: () => void): void {
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    const line = text.slice(start, end);
    // a UTF-8 character takes at most 3 bytes per UTF-16 unit: count bytes only when it may matter
    if (3 * line.length > this.maxLineBytes && Buffer.byteLength(line) > this.maxLineBytes) onTooLong();
    else onLine(line);
  }

  /** Flush what is left after the last chunk (a last line without a newline). */
  end(onLine: (line: string) => void, onTooLong: () => void): void {
    if (this.partialBytes > 0 || this.overflow) this.finish(Buffer.alloc(0), onLine, onTooLong);
  }

  /** bytes of an unfinished line held in memory */
  get pendingBytes(): number {
    return this.partialBytes;
  }

  private keep(piece: Buffer): void {
    if (this.overflow) return;
    if (this.partialBytes + piece.length > this.maxLineBytes) {
      this.overflow = true;
      this.partial = [];
      this.partialBytes = 0;
      return;
    }
    this.partial.push(Buffer.from(piece)); // copy: the chunk's memory is reused by the reader
    this.partialBytes += piece.length;
  }

  private finish(tail: Buffer, onLine: (line: string) => void, onTooLong: () => void): void {
    if (this.overflow || this.partialBytes + tail.length > this.maxLineBytes) {
      this.overflow = false;
      this.partial = [];
      this.partialBytes = 0;
      onTooLong();
      return;
    }
    let bytes = this.partialBytes > 0 ? Buffer.concat([...this.partial, tail]) : tail;
    this.partial = [];
    this.partialBytes = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, bytes.length - 1);
    onLine(bytes.toString('utf8'));
  }
}
