/**
 * Labelled flow records (one network connection per line) with mixed numeric
 * and categorical features, and the built-in NSL-KDD schema. A malformed file
 * is an error naming the line, column and value: no record is skipped.
 */
import { createMatrix, type Matrix } from '../core/matrix';
import { readTextFile } from './textfile';

export type ColumnKind = 'numeric' | 'categorical';

export interface FlowColumn {
  name: string;
  kind: ColumnKind;
}

/** How the columns of a flow-record CSV are laid out and what its label means. */
export interface FlowSchema {
  /** short name shown in messages, e.g. "nsl-kdd" */
  name: string;
  /** the feature columns, in file order */
  features: readonly FlowColumn[];
  /** name of the label column, right after the features in a file without header */
  label: string;
  /** label text of normal records (every other label is an attack name) */
  normalLabel: string;
  /** optional columns after the label that are not features (NSL-KDD: difficulty), checked as numbers */
  trailing: readonly string[];
  /** attack name -> family; a name not listed gets family "unknown". Without a map, the family is the attack name. */
  families?: Readonly<Record<string, string>>;
  /** numeric columns that are heavy-tailed counters, log1p candidates */
  heavyTailed: readonly string[];
}

/** NSL-KDD feature names, in file order (the data set's documentation). */
export const NSL_KDD_FEATURES: readonly string[] = [
  'duration', 'protocol_type', 'service', 'flag', 'src_bytes', 'dst_bytes', 'land', 'wrong_fragment', 'urgent',
  'hot', 'num_failed_logins', 'logged_in', 'num_compromised', 'root_shell', 'su_attempted', 'num_root',
  'num_file_creations', 'num_shells', 'num_access_files', 'num_outbound_cmds', 'is_host_login', 'is_guest_login',
  'count', 'srv_count', 'serror_rate', 'srv_serror_rate', 'rerror_rate', 'srv_rerror_rate', 'same_srv_rate',
  'diff_srv_rate', 'srv_diff_host_rate', 'dst_host_count', 'dst_host_srv_count', 'dst_host_same_srv_rate',
  'dst_host_diff_srv_rate', 'dst_host_same_src_port_rate', 'dst_host_srv_diff_host_rate', 'dst_host_serror_rate',
  'dst_host_srv_serror_rate', 'dst_host_rerror_rate', 'dst_host_srv_rerror_rate',
];

const NSL_KDD_CATEGORICAL = new Set(['protocol_type', 'service', 'flag']);

/** The attack families, in the order tables show them. */
export const ATTACK_FAMILIES = ['DoS', 'Probe', 'R2L', 'U2R'] as const;

/**
 * The standard NSL-KDD mapping of attack names to families: the 22 names of the
 * training data, then the 17 that occur only in KDDTest+.
 */
export const NSL_KDD_FAMILIES: Readonly<Record<string, string>> = Object.freeze({
  // training (22)
  back: 'DoS', land: 'DoS', neptune: 'DoS', pod: 'DoS', smurf: 'DoS', teardrop: 'DoS',
  ipsweep: 'Probe', nmap: 'Probe', portsweep: 'Probe', satan: 'Probe',
  ftp_write: 'R2L', guess_passwd: 'R2L', imap: 'R2L', multihop: 'R2L', phf: 'R2L', spy: 'R2L', warezclient: 'R2L', warezmaster: 'R2L',
  buffer_overflow: 'U2R', loadmodule: 'U2R', perl: 'U2R', rootkit: 'U2R',
  // test only (17)
  apache2: 'DoS', mailbomb: 'DoS', processtable: 'DoS', udpstorm: 'DoS',
  mscan: 'Probe', saint: 'Probe',
  named: 'R2L', sendmail: 'R2L', snmpgetattack: 'R2L', snmpguess: 'R2L', worm: 'R2L', xlock: 'R2L', xsnoop: 'R2L',
  httptunnel: 'U2R', ps: 'U2R', sqlattack: 'U2R', xterm: 'U2R',
});

/** The NSL-KDD layout: 41 features (3 categorical), label, difficulty level. */
export const NSL_KDD_SCHEMA: FlowSchema = Object.freeze({
  name: 'nsl-kdd',
  features: NSL_KDD_FEATURES.map((name) => ({ name, kind: (NSL_KDD_CATEGORICAL.has(name) ? 'categorical' : 'numeric') as ColumnKind })),
  label: 'label',
  normalLabel: 'normal',
  trailing: ['difficulty'],
  families: NSL_KDD_FAMILIES,
  heavyTailed: [
    'duration', 'src_bytes', 'dst_bytes', 'wrong_fragment', 'urgent', 'hot', 'num_failed_logins', 'num_compromised',
    'num_root', 'num_file_creations', 'num_shells', 'num_access_files', 'num_outbound_cmds', 'count', 'srv_count',
    'dst_host_count', 'dst_host_srv_count',
  ],
});

/** The family of an attack name under a schema ("normal" for the normal label). */
export function attackFamily(schema: FlowSchema, label: string): string {
  if (label === schema.normalLabel) return 'normal';
  if (!schema.families) return label;
  return Object.prototype.hasOwnProperty.call(schema.families, label) ? schema.families[label] : 'unknown';
}

/**
 * Flow records in columns: numeric features as one row-major matrix,
 * categorical features as text, and the label three ways.
 */
export interface FlowRecords {
  schema: FlowSchema;
  /** where the records came from (shown in messages) */
  source: string;
  rows: number;
  /** n x (number of numeric features), row-major, in schema order */
  numeric: Matrix;
  numericNames: string[];
  /** one array of n strings per categorical feature, in schema order */
  categorical: string[][];
  categoricalNames: string[];
  /** 1 normal, -1 attack */
  y: Int8Array;
  /** the label text: the normal label or the attack name */
  attack: string[];
  /** "normal", an attack family, or "unknown" for an attack name the schema does not know */
  family: string[];
}

/** A malformed flow-record file: names the source, line (1-based), column and value. */
export class FlowFormatError extends Error {
  constructor(
    readonly source: string,
    readonly line: number,
    readonly column: string | undefined,
    readonly value: string | undefined,
    reason: string,
  ) {
    super(`${source} line ${line}${column === undefined ? '' : `, column ${column}`}: ${reason}`);
    this.name = 'FlowFormatError';
  }
}

function quote(s: string, max = 40): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}...` : s);
}

export interface ParseFlowOptions {
  /** the layout (default NSL_KDD_SCHEMA) */
  schema?: FlowSchema;
  /** name shown in error messages (default "flow records") */
  source?: string;
}

/**
 * Parse flow-record CSV text. The first line is a header when it is exactly the
 * schema's column names (features, label, then optionally the trailing
 * columns); otherwise every line is a record with the features, the label and
 * optionally the trailing columns, all lines with the same number of fields.
 * Fields are trimmed; a "\r\n" line end is accepted. Blank lines at the end of
 * the file are ignored, a blank line elsewhere is an error.
 *
 * @returns the records, in file order
 * @throws FlowFormatError naming line, column and value for the first problem found
 */
export function parseFlowRecords(text: string, options: ParseFlowOptions = {}): FlowRecords {
  const schema = options.schema ?? NSL_KDD_SCHEMA;
  const source = options.source ?? 'flow records';
  const lines = text.split('\n');
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) throw new FlowFormatError(source, 1, undefined, undefined, 'empty file: no records');
  const names = [...schema.features.map((c) => c.name), schema.label, ...schema.trailing];
  const nf = schema.features.length;
  const minFields = nf + 1;
  const first = lines[0].replace(/\r$/, '').split(',').map((f) => f.trim());
  let start = 0;
  let fieldCount: number;
  if (first[0] === names[0] && Number.isNaN(Number(first[0]))) {
    // a header: the schema's names in schema order (a subset of the trailing columns may be left out at the end)
    if (first.length < minFields || first.some((f, j) => f !== names[j])) {
      const at = first.findIndex((f, j) => f !== names[j]);
      throw new FlowFormatError(
        source,
        1,
        undefined,
        undefined,
        `header does not match the ${schema.name} schema${at >= 0 ? `: column ${at + 1} is ${quote(first[at])}, expected ${quote(names[at])}` : `: it ends after ${first.length} columns, expected at least ${minFields} (${names.slice(first.length, minFields).join(', ')} missing)`}`,
      );
    }
    fieldCount = first.length;
    start = 1;
    if (lines.length === 1) throw new FlowFormatError(source, 1, undefined, undefined, 'header only: no records');
  } else {
    fieldCount = first.length;
    if (fieldCount < minFields || fieldCount > names.length) {
      throw new FlowFormatError(
        source,
        1,
        undefined,
        undefined,
        `expected ${minFields}${schema.trailing.length > 0 ? ` to ${names.length}` : ''} fields (${nf} features, ${schema.label}${schema.trailing.length > 0 ? `, optionally ${schema.trailing.join(', ')}` : ''}), got ${fieldCount}`,
      );
    }
  }

  const n = lines.length - start;
  const numericIdx: number[] = [];
  const categoricalIdx: number[] = [];
  schema.features.forEach((c, j) => (c.kind === 'numeric' ? numericIdx : categoricalIdx).push(j));
  const dn = numericIdx.length;
  const numeric = createMatrix(n, dn);
  const categorical = categoricalIdx.map(() => new Array<string>(n));
  const kindOf = new Int8Array(nf); // 0 numeric, 1 categorical
  const slotOf = new Int32Array(nf);
  numericIdx.forEach((j, k) => ((kindOf[j] = 0), (slotOf[j] = k)));
  categoricalIdx.forEach((j, k) => ((kindOf[j] = 1), (slotOf[j] = k)));
  const y = new Int8Array(n);
  const attack = new Array<string>(n);
  const family = new Array<string>(n);
  const familyCache = new Map<string, string>();
  const data = numeric.data;
  // labels are 1 / -1 when the normal label is a number (a generic CSV), else names
  const numericLabels = !Number.isNaN(Number(schema.normalLabel));

  for (let i = 0; i < n; i++) {
    const lineNo = start + i + 1;
    let line = lines[start + i];
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') throw new FlowFormatError(source, lineNo, undefined, undefined, 'empty line');
    const fields = line.split(',');
    if (fields.length !== fieldCount) {
      throw new FlowFormatError(source, lineNo, undefined, undefined, `expected ${fieldCount} fields${start === 1 ? ' (as in the header)' : ' (as on line 1)'}, got ${fields.length}`);
    }
    for (let j = 0; j < nf; j++) {
      const text = fields[j].trim();
      if (text === '') throw new FlowFormatError(source, lineNo, names[j], '', 'empty value');
      if (kindOf[j] === 0) {
        const v = Number(text);
        if (!Number.isFinite(v)) throw new FlowFormatError(source, lineNo, names[j], text, `${quote(text)} is not a finite number`);
        data[i * dn + slotOf[j]] = v;
      } else {
        categorical[slotOf[j]][i] = text;
      }
    }
    const label = fields[nf].trim();
    if (label === '') throw new FlowFormatError(source, lineNo, schema.label, '', 'empty label');
    if (numericLabels ? label !== '1' && label !== '-1' : !Number.isNaN(Number(label))) {
      throw new FlowFormatError(
        source,
        lineNo,
        schema.label,
        label,
        numericLabels ? `label ${quote(label)} is neither 1 (normal) nor -1 (attack)` : `label ${quote(label)} is a number: expected ${quote(schema.normalLabel)} or an attack name`,
      );
    }
    for (let j = nf + 1; j < fieldCount; j++) {
      const text = fields[j].trim();
      if (text === '' || !Number.isFinite(Number(text))) throw new FlowFormatError(source, lineNo, names[j], text, `${quote(text)} is not a finite number`);
    }
    attack[i] = label;
    y[i] = label === schema.normalLabel ? 1 : -1;
    let fam = familyCache.get(label);
    if (fam === undefined) familyCache.set(label, (fam = attackFamily(schema, label)));
    family[i] = fam;
  }
  return {
    schema,
    source,
    rows: n,
    numeric,
    numericNames: numericIdx.map((j) => names[j]),
    categorical,
    categoricalNames: categoricalIdx.map((j) => names[j]),
    y,
    attack,
    family,
  };
}

/**
 * Read a flow-record file, plain or gzip-compressed (see parseFlowRecords).
 *
 * @param path - CSV file, with or without header, optionally .gz
 * @param schema - the layout (default NSL_KDD_SCHEMA)
 * @throws FileReadError when the file cannot be read, FlowFormatError when it is malformed
 */
export function readFlowRecords(path: string, schema: FlowSchema = NSL_KDD_SCHEMA): FlowRecords {
  return parseFlowRecords(readTextFile(path), { schema, source: path });
}

/**
 * A schema for a generic labelled flow CSV with a header: the column named
 * `label` (default) is the label, every other column a feature. A column is
 * categorical when its value on the first record is not a number, so a later
 * non-number in a numeric column is an error, not a silent new category.
 *
 * @param text - the CSV text (header line first)
 * @param options.label - label column name (default "label")
 * @param options.normalLabel - label text of normal records (default "normal"; "1" is also accepted when labels are 1/-1)
 */
export function inferCsvSchema(text: string, options: { label?: string; normalLabel?: string; source?: string } = {}): FlowSchema {
  const source = options.source ?? 'CSV';
  const label = options.label ?? 'label';
  const lines = text.split('\n', 3).map((l) => l.replace(/\r$/, ''));
  if (lines[0] === undefined || lines[0].trim() === '') throw new FlowFormatError(source, 1, undefined, undefined, 'empty file: a header line is required with --format csv');
  const header = lines[0].split(',').map((h) => h.trim());
  const seen = new Set<string>();
  header.forEach((h, j) => {
    if (h === '') throw new FlowFormatError(source, 1, `${j + 1}`, '', 'header has an empty column name');
    if (seen.has(h)) throw new FlowFormatError(source, 1, h, h, `header names column ${quote(h)} twice`);
    seen.add(h);
  });
  const at = header.indexOf(label);
  if (at < 0) throw new FlowFormatError(source, 1, undefined, undefined, `header has no ${quote(label)} column (header: ${header.join(',')})`);
  if (at !== header.length - 1) throw new FlowFormatError(source, 1, label, label, `the ${quote(label)} column must be the last column`);
  if (header.length < 2) throw new FlowFormatError(source, 1, undefined, undefined, 'header needs at least one feature column before the label');
  if (lines[1] === undefined || lines[1].trim() === '') throw new FlowFormatError(source, 2, undefined, undefined, 'no records after the header');
  const first = lines[1].split(',').map((f) => f.trim());
  if (first.length !== header.length) throw new FlowFormatError(source, 2, undefined, undefined, `expected ${header.length} fields (as in the header), got ${first.length}`);
  const labelValue = first[at];
  const normalLabel = options.normalLabel ?? (labelValue === '1' || labelValue === '-1' ? '1' : 'normal');
  return {
    name: 'csv',
    features: header.slice(0, at).map((name, j) => ({ name, kind: first[j] !== '' && Number.isFinite(Number(first[j])) ? 'numeric' : 'categorical' })),
    label,
    normalLabel,
    trailing: [],
    heavyTailed: [],
  };
}

/** Read a generic labelled flow CSV with a header (schema from inferCsvSchema), plain or .gz. */
export function readCsvFlowRecords(path: string, options: { label?: string; normalLabel?: string } = {}): FlowRecords {
  const text = readTextFile(path);
  const schema = inferCsvSchema(text, { ...options, source: path });
  return parseFlowRecords(text, { schema, source: path });
}

/** Rows i with keep(i) true, as a new FlowRecords (e.g. the normal records only). */
export function filterFlowRecords(records: FlowRecords, keep: (i: number) => boolean): FlowRecords {
  const idx: number[] = [];
  for (let i = 0; i < records.rows; i++) if (keep(i)) idx.push(i);
  const dn = records.numeric.cols;
  const numeric = createMatrix(idx.length, dn);
  idx.forEach((i, r) => numeric.data.set(records.numeric.data.subarray(i * dn, (i + 1) * dn), r * dn));
  return {
    ...records,
    rows: idx.length,
    numeric,
    categorical: records.categorical.map((col) => idx.map((i) => col[i])),
    y: Int8Array.from(idx, (i) => records.y[i]),
    attack: idx.map((i) => records.attack[i]),
    family: idx.map((i) => records.family[i]),
  };
}

/** Count of records per value (e.g. per family or attack name), largest first, ties by name. */
export function countBy(values: readonly string[]): Array<{ value: string; count: number }> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m.entries()].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}

/**
 * One record as an object keyed by column name (features in file order, then
 * label and family), e.g. for a table of the first rows.
 *
 * @param columns - the feature columns to include (default: all)
 */
export function flowRecordRow(records: FlowRecords, i: number, columns?: readonly string[]): Record<string, number | string> {
  const row: Record<string, number | string> = {};
  const dn = records.numeric.cols;
  for (const c of records.schema.features) {
    if (columns && !columns.includes(c.name)) continue;
    const k = c.kind === 'numeric' ? records.numericNames.indexOf(c.name) : records.categoricalNames.indexOf(c.name);
    row[c.name] = c.kind === 'numeric' ? records.numeric.data[i * dn + k] : records.categorical[k][i];
  }
  row[records.schema.label] = records.attack[i];
  row.family = records.family[i];
  return row;
}

/** The values of one categorical column, by name. */
export function categoricalColumn(records: FlowRecords, name: string): string[] {
  const k = records.categoricalNames.indexOf(name);
  if (k < 0) throw new RangeError(`${records.source} has no categorical column ${JSON.stringify(name)} (categorical: ${records.categoricalNames.join(', ')})`);
  return records.categorical[k];
}
