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

/** one flow as an NDJSON line (no newline), fields in {@link FLOW_FIELDS} order */
export function flowJsonLine(r: FlowRecord): string {
  const o: Record<string, number | string | null> = {};
  for (const f of FLOW_FIELDS) {
    const v = r[f];
    o[f] = v === undefined || (typeof v === 'number' && Number.isNaN(v)) ? null : v;
  }
  return JSON.stringify(o);
}
