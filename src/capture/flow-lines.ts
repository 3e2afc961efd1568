/**
 * Flow records as text lines: CSV under the {@link FLOW_FIELDS} header, or NDJSON with
 * the same names. This is how flows leave the capture folder (`npm run flows`, the
 * stream command's capture source, the Redis publisher), so the one record parser of
 * the scoring pipeline reads them like any other record line and a model picks its
 * features by name. Numbers are written in their shortest round-trip form, so a line
 * read back gives the same doubles; a field a source does not know (NaN) is an empty
 * CSV cell and a JSON null.
 */
import { FLOW_FIELDS, type FlowRecord } from './flow-record';

/** the CSV header line of flow lines */
export const FLOW_CSV_HEADER = FLOW_FIELDS.join(',');

function cell(v: number | string | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'number') return Number.isNaN(v) ? '' : String(v);
  return v;
}

/**
 * One flow as a CSV line (no newline): under {@link FLOW_CSV_HEADER}, or only the given
 * fields in their order (the stream command sends a model exactly its input columns).
 */
export function flowCsvLine(r: FlowRecord, fields: readonly string[] = FLOW_FIELDS): string {
  let s = cell(r[fields[0]!]);
  for (let i = 1; i < fields.length; i++) s += `,${cell(r[fields[i]!])}`;
  return s;
}

/** `"name":` for each field, the comma before all but the first: the constant part of every JSON line */
const JSON_KEYS = FLOW_FIELDS.map((f, i) => `${i === 0 ? '{' : ','}${JSON.stringify(f)}:`);

/**
 * One flow as an NDJSON line (no newline), fields in {@link FLOW_FIELDS} order; the
 * same text as JSON.stringify of the record with NaN as null, built without an
 * intermediate object (it is the hot path of `npm run flows`).
 */
export function flowJsonLine(r: FlowRecord): string {
  let s = '';
  for (let i = 0; i < FLOW_FIELDS.length; i++) {
    const v = r[FLOW_FIELDS[i]!];
    s += JSON_KEYS[i];
    if (typeof v === 'number') s += Number.isFinite(v) ? String(v) : 'null';
    else s += v === undefined ? 'null' : JSON.stringify(v);
  }
  return `${s}}`;
}
