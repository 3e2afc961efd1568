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
 * The one alert format of every source: writes a batch's alert lines straight
 * into UTF-8 bytes, byte for byte what
 * `{<origin>"line":L,"batch":B,"timestamp":"T","score":S,"decision":D,"record":R[,"unseen":U][,"explain":E]}\n`
 * with R = alertRecordJson, U the columns whose category the model never saw
 * (shown as "<other>" in R; only when there is one) and E the explanation's JSON gives. Why bytes: on NSL-KDD about 40% of the lines
 * are alerts of ~940 bytes each, more output than input, and building them as
 * strings spent most of its time in string concatenation and UTF-8 encoding.
 * Integers are written digit by digit; other numbers as String(v) (the same
 * shortest round-trip text JSON uses).
 */
export class AlertWriter {
  private readonly plan: RecordJsonPlan;
  /** UTF-8 of plan.prefixes */
  private readonly prefixes: Uint8Array[];
  /** per categorical column: UTF-8 of each quoted category, then of "<other>" */
  private readonly quoted: Uint8Array[][];
  /** an upper bound on one alert's bytes, without the timestamp */
  private readonly maxBytes: number;
  private buf: Buffer = Buffer.alloc(0);
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
    this.prefixes = this.plan.prefixes.map((p) => Buffer.from(p, 'utf8'));
    this.quoted = this.plan.quoted.map((cats) => cats.map((c) => Buffer.from(c, 'utf8')));
    let max = 128 + 4 * 25; // the fixed keys and four numbers of up to 25 characters
    this.prefixes.forEach((p, j) => {
      const q = this.plan.columnKind[j];
      max += p.length + (q < 0 ? 25 : Math.max(...this.quoted[q].map((c) => c.length)));
    });
    this.unseenNames = this.plan.prefixes.map((_, j) => Buffer.from(JSON.stringify(model.encoder ? model.encoder.inputNames[j] : model.featureNames[j]), 'utf8'));
    // the "unseen" member at its longest: every categorical column named
    max += 12 + this.unseenNames.reduce((sum, n, j) => sum + (this.plan.columnKind[j] >= 0 ? n.length + 1 : 0), 0);
    this.maxBytes = max + 2;
  }

  /** UTF-8 of each input column's JSON name (for the "unseen" member) */
  private readonly unseenNames: Uint8Array[];

  /**
   * The batch's alert lines (one per row in `b.anomalies`) as UTF-8 bytes.
   *
   * @param b - the scored batch
   * @param timestamp - ISO text shown in each line (JSON-safe: no quotes or backslashes)
   * @param origin - each row's line number and the source's members before it
   * @param explain - per alert (in the order of `b.anomalies`), the JSON of its explanation, or none
   * @returns a new Buffer (the caller may hand it to a stream and forget it)
   */
  write(b: AlertBatch, timestamp: string, origin: RecordOrigin, explain?: readonly string[]): Buffer {
    const count = b.anomalies.length;
    // the text between the line number and the score is the same for the whole batch
    const middle = `,"batch":${b.id},"timestamp":"${timestamp}","score":`;
    const prefixes = new Array<string>(count);
    let variable = 0;
    for (let k = 0; k < count; k++) {
      prefixes[k] = origin.prefix(b.anomalies[k]);
      variable += Buffer.byteLength(prefixes[k]) + (explain ? Buffer.byteLength(explain[k]) + 11 : 0);
    }
    this.buf = Buffer.allocUnsafe(count * (this.maxBytes + middle.length) + variable);
    this.pos = 0;
    for (let k = 0; k < count; k++) {
      const i = b.anomalies[k];
      this.ascii('{');
      if (prefixes[k] !== '') this.text(prefixes[k]);
      this.ascii('"line":');
      this.number(origin.line(i));
      this.ascii(middle);
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
    }
    return this.buf.subarray(0, this.pos);
  }

  /** any text (UTF-8) */
  private text(s: string): void {
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  private record(values: Float64Array, offset: number): void {
    const plan = this.plan;
    const buf = this.buf;
    for (let j = 0; j < this.prefixes.length; j++) {
      this.bytes(this.prefixes[j]);
      const o = offset + plan.offsets[j];
      const q = plan.columnKind[j];
      if (q < 0) {
        this.number(values[o]);
        continue;
      }
      const cats = this.quoted[q];
      let code = cats.length - 1;
      if (!plan.onehot) code = values[o];
      else for (let m = 0; m < cats.length - 1; m++) if (values[o + m] === 1) code = m;
      this.bytes(cats[code]);
      if (code === cats.length - 1) this.unseen.push(j);
    }
    buf[this.pos++] = 125; // }
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
  private readonly hundredths: Array<Uint8Array | undefined> = [];

  /** String(v), as JSON shows a number */
  private number(v: number): void {
    if (v >= 0 && v < 1000) {
      const k = Math.round(v * 100);
      if (k / 100 === v) {
        const text = this.hundredths[k] ?? (this.hundredths[k] = Buffer.from(String(v), 'latin1'));
        this.bytes(text);
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
