/**
 * The lines a scored record becomes, for every source and sink: one alert
 * format (AlertWriter) and one reject format (rejectLine). What the source
 * knows about a record's origin (a line number; a Redis entry id and index)
 * comes in through RecordOrigin, so no source writes these lines itself.
 */
import { OTHER_CATEGORY } from '../model/encoder';
import type { LoadedModel } from '../persist/bundle';

// String methods as module constants, called with .call: see the note in data/records.ts.
const charCodeAt = String.prototype.charCodeAt;
const encoder = new TextEncoder();
/** bytes per entry of the hundredths table: String(k / 100) for k < 100,000 is at most 6 characters ("999.99") */
const HUNDREDTH_SLOT = 8;

/** The record an alert shows: feature values by name (raw fields and category names for a model with an encoder). */
export function alertRecord(model: LoadedModel, values: Float64Array, offset: number): Record<string, number | string> {
  if (model.encoder) return model.encoder.decodeRow(values, offset);
  const record: Record<string, number> = {};
  model.featureNames.forEach((name, j) => (record[name] = values[offset + j]));
  return record;
}

interface RecordJsonPlan {
  /** '{"name":' then ',"name":' ... : the JSON text before each value */
  prefixes: string[];
  /** for each column: -1 numeric, else the categorical column's index in `quoted` */
  columnKind: Int32Array;
  /** first encoded column of each input column */
  offsets: Int32Array;
  /** per categorical column: JSON string of each category, then of "<other>" */
  quoted: string[][];
  onehot: boolean;
}

const plans = new WeakMap<LoadedModel, RecordJsonPlan>();

function planFor(model: LoadedModel): RecordJsonPlan {
  let plan = plans.get(model);
  if (plan) return plan;
  const names = model.encoder ? model.encoder.inputNames : model.featureNames;
  const quoted: string[][] = [];
  const columnKind = new Int32Array(names.length).fill(-1);
  model.encoder?.columns.forEach((c, j) => {
    if (c.kind === 'categorical') {
      columnKind[j] = quoted.length;
      quoted.push([...c.categories, OTHER_CATEGORY].map((v) => JSON.stringify(v)));
    }
  });
  plan = {
    prefixes: names.map((n, j) => `${j === 0 ? '{' : ','}${JSON.stringify(n)}:`),
    columnKind,
    offsets: model.encoder ? model.encoder.outputOffset : Int32Array.from(names, (_, j) => j),
    quoted,
    onehot: model.encoder?.encoding === 'onehot',
  };
  plans.set(model, plan);
  return plan;
}

/**
 * alertRecord as JSON text, byte for byte what JSON.stringify(alertRecord(...))
 * gives, built without an intermediate object (alerts can be a large share of
 * a fast stream).
 */
export function alertRecordJson(model: LoadedModel, values: Float64Array, offset: number): string {
  const plan = planFor(model);
  let out = '';
  for (let j = 0; j < plan.prefixes.length; j++) {
    const o = offset + plan.offsets[j];
    const q = plan.columnKind[j];
    if (q < 0) {
      out += plan.prefixes[j] + String(values[o]);
      continue;
    }
    const cats = plan.quoted[q];
    let code = cats.length - 1;
    if (!plan.onehot) code = values[o];
    else for (let m = 0; m < cats.length - 1; m++) if (values[o + m] === 1) code = m;
    out += plan.prefixes[j] + cats[code];
  }
  return `${out}}`;
}

/**
 * `size` bytes of memory that is not zeroed first (every byte that is read
 * was written: the lines are [0, pos)): a batch's alert lines take megabytes,
 * and zeroing them was a measurable share of writing them. A plain
 * Uint8Array over it, not a Buffer: AlertWriter.buf keeps one kind of array
 * (Buffer's accesses are slower there).
 */
function uninitialized(size: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(size);
  return new Uint8Array(b.buffer, b.byteOffset, size);
}

/** The parts of a scored batch an alert line shows (a ScoredBatch fits). */
export interface AlertBatch {
  id: number;
  scores: Float64Array;
  decision: Float64Array;
  /** rows to write, ascending */
  anomalies: Int32Array;
  /** rows x d values, as the parser wrote them */
  values: Float64Array;
}

/**
 * Where each record of a batch came from, as its alert and reject lines say:
 * every source gives the line number; a source with more to say (a Redis
 * entry id and the record's index in it) adds JSON members before it.
 */
export interface RecordOrigin {
  /** source line number of row i of the batch (1-based) */
  line(i: number): number;
  /** JSON members placed before "line", each followed by a comma (`"entry":"1-0","index":3,`); '' for none */
  prefix(i: number): string;
}

/** An alert line as parsed back (JSON.parse of one line AlertWriter wrote). */
export interface AlertLine {
  /** a broker source: the entry id and the record's index in it name the record across redeliveries */
  entry?: string;
  index?: number;
  stream?: string;
  consumer?: string;
  /** > 1: this entry was handed out before, an earlier alert for (entry, index) may exist */
  deliveries?: number;
  /** source line of the record */
  line: number;
  batch: number;
  timestamp: string;
  score: number;
  decision: number;
  record: Record<string, number | string>;
  explain?: Array<{ feature: string; value: number | string; contribution: number }>;
}

/**
 * One reject line: `{<origin members>"line":L,"reason":R,"text":T}` (text cut at 200 characters).
 *
 * @param prefix - the origin's JSON members before "line" ('' for a file or a pipe)
 */
export function rejectLine(prefix: string, line: number, reason: string, text: string): string {
  return `{${prefix}"line":${line},"reason":${JSON.stringify(reason)},"text":${JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}...` : text)}}\n`;
}

/**
 * The part of a batch's alert lines that does not depend on where a record
 * came from, rendered where the batch is scored (on the scoring worker when
 * there is one: it is most of the bytes and most of the time of writing an
 * alert, so the reading thread only puts the origin in front).
 */
export interface AlertTails {
  /** UTF-8: per alert, `,"score":S,"decision":D,"record":R[,"unseen":U][,"explain":E]}` and a newline */
  bytes: Uint8Array;
  /** alert k's text is bytes[k === 0 ? 0 : ends[k - 1], ends[k]) */
  ends: Int32Array;
}

/**
 * The one alert format of every source: writes a batch's alert lines straight
 * into UTF-8 bytes, byte for byte what
 * `{<origin>"line":L,"batch":B,"timestamp":"T","score":S,"decision":D,"record":R[,"unseen":U][,"explain":E]}\n`
 * with R = alertRecordJson, U the columns whose category the model never saw
 * (shown as "<other>" in R; only when there is one) and E the explanation's JSON gives. Why bytes: on NSL-KDD about 40% of the lines
 * are alerts of ~940 bytes each, more output than input, and building them as
 * strings spent most of its time in string concatenation and UTF-8 encoding.
 * Integers are written digit by digit; other numbers as String(v) (the same
 * shortest round-trip text JSON uses).
 *
 * Two steps, so that the costly one can run on the scoring thread:
 * {@link tails} (from the score on, known where the batch is scored) and
 * {@link lines} (the origin, line number, batch and timestamp in front, known
 * where the records were read). {@link write} does both.
 */
export class AlertWriter {
  private readonly plan: RecordJsonPlan;
  /** an upper bound on one alert tail's bytes, without its explanation */
  private readonly maxBytes: number;
  private buf: Uint8Array = new Uint8Array(0);
  /** over buf, for the 4-byte stores of record() */
  private view = new DataView(this.buf.buffer);
  private pos = 0;

  /**
   * @param model - the loaded bundle whose alerts are written
   * @param d - values per row in the batches (the scaler's width)
   */
  constructor(
    readonly model: LoadedModel,
    readonly d: number,
  ) {
    this.plan = planFor(model);
    // UTF-8 of each member's key, and per categorical column of each quoted category, then of "<other>"
    const prefixes = this.plan.prefixes.map((p) => Buffer.from(p, 'utf8'));
    const quoted = this.plan.quoted.map((cats) => cats.map((c) => Buffer.from(c, 'utf8')));
    let max = 64 + 2 * 25; // the fixed keys and two numbers of up to 25 characters
    prefixes.forEach((p, j) => {
      const q = this.plan.columnKind[j];
      max += p.length + (q < 0 ? 25 : Math.max(...quoted[q].map((c) => c.length)));
    });
    this.unseenNames = this.plan.prefixes.map((_, j) => Buffer.from(JSON.stringify(model.encoder ? model.encoder.inputNames[j] : model.featureNames[j]), 'utf8'));
    // the "unseen" member at its longest: every categorical column named
    max += 12 + this.unseenNames.reduce((sum, n, j) => sum + (this.plan.columnKind[j] >= 0 ? n.length + 1 : 0), 0);
    this.maxBytes = max + 2;
    // each piece starts on a 4-byte boundary, as little-endian words (see record())
    const flat = (parts: Uint8Array[]): [Uint32Array, Int32Array] => {
      const start = new Int32Array(parts.length + 1);
      parts.forEach((b, k) => (start[k + 1] = start[k] + ((b.length + 3) & ~3)));
      const bytes = new Uint8Array(start[parts.length]);
      parts.forEach((b, k) => bytes.set(b, start[k]));
      const bounds = new Int32Array(2 * parts.length);
      parts.forEach((b, k) => ((bounds[2 * k] = start[k]), (bounds[2 * k + 1] = start[k] + b.length)));
      return [new Uint32Array(bytes.buffer), bounds];
    };
    [this.keyWords, this.keyStart] = flat(prefixes);
    // per numeric column j and run length L (up to the next categorical column): the members j .. j + L - 1 all "0"
    const columns = this.plan.columnKind.length;
    this.zeroMaxRun = new Int32Array(columns);
    for (let j = columns - 1; j >= 0; j--) this.zeroMaxRun[j] = this.plan.columnKind[j] >= 0 ? 0 : 1 + (j + 1 < columns ? this.zeroMaxRun[j + 1] : 0);
    this.zeroBase = new Int32Array(columns);
    const pieces: Uint8Array[] = [];
    const zero = Buffer.from('0');
    for (let j = 0; j < columns; j++) {
      this.zeroBase[j] = pieces.length;
      for (let run = 1; run <= this.zeroMaxRun[j]; run++) pieces.push(Buffer.concat(prefixes.slice(j, j + run).flatMap((key) => [key, zero])));
    }
    [this.zeroWords, this.zeroBounds] = flat(pieces);
    [this.catWords, this.catStart] = flat(quoted.flat());
    this.catBase = new Int32Array(quoted.length + 1);
    quoted.forEach((c, q) => (this.catBase[q + 1] = this.catBase[q] + c.length));
  }

  /** the record's keys (plan.prefixes), each from a 4-byte boundary; key j is bytes [keyStart[2j], keyStart[2j + 1]) */
  private readonly keyWords: Uint32Array;
  private readonly keyStart: Int32Array;
  /** runs of zero members, likewise: column j with a run of L is entry zeroBase[j] + L - 1 (L <= zeroMaxRun[j]) */
  private readonly zeroWords: Uint32Array;
  private readonly zeroBounds: Int32Array;
  private readonly zeroBase: Int32Array;
  private readonly zeroMaxRun: Int32Array;
  /** every categorical column's quoted categories then "<other>", likewise; column q's code m is entry catBase[q] + m */
  private readonly catWords: Uint32Array;
  private readonly catStart: Int32Array;
  private readonly catBase: Int32Array;

  /** UTF-8 of each input column's JSON name (for the "unseen" member) */
  private readonly unseenNames: Uint8Array[];

  /**
   * The batch's alert lines (one per row in `b.anomalies`) as UTF-8 bytes: {@link lines} of {@link tails}.
   *
   * @param b - the scored batch
   * @param timestamp - ISO text shown in each line (JSON-safe: no quotes or backslashes)
   * @param origin - each row's line number and the source's members before it
   * @param explain - per alert (in the order of `b.anomalies`), the JSON of its explanation, or none
   * @returns a new Buffer (the caller may hand it to a stream and forget it)
   */
  write(b: AlertBatch, timestamp: string, origin: RecordOrigin, explain?: readonly string[]): Buffer {
    return this.lines(this.tails(b, explain), b, timestamp, origin);
  }

  /**
   * Each alert's text from the score to the newline.
   *
   * @param b - the scored batch (its id is not used)
   * @param explain - per alert (in the order of `b.anomalies`), the JSON of its explanation, or none
   * @returns bytes in a memory of their own (they can be moved to another thread)
   */
  tails(b: Omit<AlertBatch, 'id'>, explain?: readonly string[]): AlertTails {
    const count = b.anomalies.length;
    let size = count * this.maxBytes + 8; // + the last 4-byte store's overshoot
    if (explain) for (let k = 0; k < count; k++) size += Buffer.byteLength(explain[k]) + 11;
    this.setBuffer(uninitialized(size));
    const ends = new Int32Array(count);
    for (let k = 0; k < count; k++) {
      const i = b.anomalies[k];
      this.ascii(',"score":');
      this.number(b.scores[i]);
      this.ascii(',"decision":');
      this.number(b.decision[i]);
      this.ascii(',"record":');
      this.unseen.length = 0;
      this.record(b.values, i * this.d);
      if (this.unseen.length > 0) {
        // a category the model never saw: the forest cannot see it (it never splits on the "other" slot), so the line says so
        this.ascii(',"unseen":[');
        for (let u = 0; u < this.unseen.length; u++) {
          if (u > 0) this.ascii(',');
          this.bytes(this.unseenNames[this.unseen[u]]);
        }
        this.ascii(']');
      }
      if (explain) {
        this.ascii(',"explain":');
        this.text(explain[k]);
      }
      this.ascii('}\n');
      ends[k] = this.pos;
    }
    const bytes = this.buf.subarray(0, this.pos);
    this.setBuffer(new Uint8Array(0));
    return { bytes, ends };
  }

  /**
   * The alert lines: `{<origin>"line":L,"batch":B,"timestamp":"T"` in front of each tail.
   *
   * @param tails - {@link tails} of the batch
   * @param b - the batch's id and alert rows (in the order of the tails)
   * @param timestamp - ISO text shown in each line (JSON-safe: no quotes or backslashes)
   * @param origin - each row's line number and the source's members before it
   * @returns a new Buffer (the caller may hand it to a stream and forget it)
   */
  lines(tails: AlertTails, b: Pick<AlertBatch, 'id' | 'anomalies'>, timestamp: string, origin: RecordOrigin): Buffer {
    const count = b.anomalies.length;
    if (tails.ends.length !== count) throw new Error(`internal: ${tails.ends.length} alert tails for ${count} alerts`);
    const middle = `,"batch":${b.id},"timestamp":"${timestamp}"`;
    const prefixes = new Array<string>(count);
    let size = tails.bytes.length + count * (middle.length + 32) + 8;
    for (let k = 0; k < count; k++) {
      prefixes[k] = origin.prefix(b.anomalies[k]);
      if (prefixes[k] !== '') size += Buffer.byteLength(prefixes[k]);
    }
    const out = uninitialized(size);
    this.setBuffer(out);
    const { bytes, ends } = tails;
    for (let k = 0, start = 0; k < count; k++) {
      this.ascii('{');
      if (prefixes[k] !== '') this.text(prefixes[k]);
      this.ascii('"line":');
      this.number(origin.line(b.anomalies[k]));
      this.ascii(middle);
      out.set(bytes.subarray(start, ends[k]), this.pos);
      this.pos += ends[k] - start;
      start = ends[k];
    }
    const length = this.pos;
    this.setBuffer(new Uint8Array(0));
    return Buffer.from(out.buffer, 0, length);
  }

  /** write into `buf` from its start (and let the previous one go) */
  private setBuffer(buf: Uint8Array): void {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = 0;
  }

  /** any text (UTF-8) */
  private text(s: string): void {
    this.pos += encoder.encodeInto(s, this.buf.subarray(this.pos)).written;
  }

  /**
   * One record's JSON, into buf at pos. The hot loop of an alert (41 members
   * on NSL-KDD): every member's key, every run of zero members and every
   * category come from flat word tables ({@link words}; Uint8Array.set of
   * small pieces was most of its time), common numbers from the hundredths table.
   */
  private record(values: Float64Array, offset: number): void {
    const plan = this.plan;
    const offsets = plan.offsets;
    const kinds = plan.columnKind;
    const catBase = this.catBase;
    const maxRun = this.zeroMaxRun;
    const columns = kinds.length;
    for (let j = 0; j < columns; j++) {
      const o = offset + offsets[j];
      const q = kinds[j];
      if (q < 0 && values[o] === 0) {
        // zeros come in runs (most NSL-KDD counters and rates): the members of a run, keys and "0"s, are one precomputed piece
        let run = 1;
        while (run < maxRun[j] && values[offset + offsets[j + run]] === 0) run++;
        this.words(this.zeroWords, this.zeroBounds, this.zeroBase[j] + run - 1);
        j += run - 1;
        continue;
      }
      this.words(this.keyWords, this.keyStart, j);
      if (q < 0) {
        this.number(values[o]);
        continue;
      }
      const n = catBase[q + 1] - catBase[q] - 1; // known categories; the slot after them is "<other>"
      let code = n;
      if (!plan.onehot) code = values[o];
      else for (let m = 0; m < n; m++) if (values[o + m] === 1) code = m;
      this.words(this.catWords, this.catStart, catBase[q] + code);
      if (code === n) this.unseen.push(j);
    }
    this.buf[this.pos++] = 125; // }
  }

  /**
   * Piece k of a word table at pos, four bytes per store: the last store may
   * write up to 3 bytes past the piece, which the next write overwrites (the
   * buffers have room for it).
   */
  private words(table: Uint32Array, bounds: Int32Array, k: number): void {
    const start = bounds[2 * k];
    const end = bounds[2 * k + 1];
    const view = this.view;
    for (let w = start >> 2, e = (end + 3) >> 2, t = this.pos; w < e; w++, t += 4) view.setUint32(t, table[w], true);
    this.pos += end - start;
  }

  /** String(k / 100) into the hundredths table; @returns its length */
  private fillHundredth(k: number): number {
    const text = String(k / 100);
    const bytes = new Uint8Array(this.hundredthWords.buffer, k * HUNDREDTH_SLOT, HUNDREDTH_SLOT);
    for (let i = 0; i < text.length; i++) bytes[i] = charCodeAt.call(text, i);
    this.hundredthLength[k] = text.length;
    return text.length;
  }

  /** the categorical columns of the record just written whose category was unseen (the "other" slot) */
  private unseen: number[] = [];

  private bytes(src: Uint8Array): void {
    const n = src.length;
    if (n > 16) {
      // a memcpy beats the loop from about this length (a key like ',"dst_host_srv_rerror_rate":')
      this.buf.set(src, this.pos);
      this.pos += n;
      return;
    }
    const buf = this.buf;
    let p = this.pos;
    for (let k = 0; k < n; k++) buf[p++] = src[k];
    this.pos = p;
  }

  /** text known to be ASCII (keys, digits, an ISO timestamp) */
  private ascii(text: string): void {
    const buf = this.buf;
    let p = this.pos;
    for (let k = 0; k < text.length; k++) buf[p++] = charCodeAt.call(text, k);
    this.pos = p;
  }

  /**
   * String(v) of hundredths in [0, 1000) by k = 100 v, filled on first use.
   * Rates and small counts (NSL-KDD's 0.14, 0.5, 118) are most numbers in an
   * alert, and String() of a fraction is the slowest step. Exact: when
   * k / 100 === v the two are the same double, so they print the same.
   */
  private readonly hundredthWords = new Uint32Array((100_000 * HUNDREDTH_SLOT) / 4);
  /** 0 = not filled yet */
  private readonly hundredthLength = new Uint8Array(100_000);

  /** String(v), as JSON shows a number */
  private number(v: number): void {
    if (v >= 0 && v < 1000) {
      const k = Math.round(v * 100);
      if (k / 100 === v) {
        let len = this.hundredthLength[k];
        if (len === 0) len = this.fillHundredth(k);
        this.view.setUint32(this.pos, this.hundredthWords[2 * k], true);
        this.view.setUint32(this.pos + 4, this.hundredthWords[2 * k + 1], true);
        this.pos += len;
        return;
      }
    }
    if (Number.isInteger(v) && v < 1e15 && v > -1e15) {
      const buf = this.buf;
      if (v === 0) {
        buf[this.pos++] = 48; // also -0, which String() writes as "0"
        return;
      }
      if (v < 0) {
        buf[this.pos++] = 45;
        v = -v;
      }
      let digits = 1;
      for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
      let p = this.pos + digits;
      this.pos = p;
      while (v > 0) {
        const next = Math.floor(v / 10);
        buf[--p] = 48 + (v - next * 10);
        v = next;
      }
      return;
    }
    this.ascii(String(v));
  }
}
