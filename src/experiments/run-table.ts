import type { RunRecord } from './run-record';

/**
 * Runs as tables: which runs to show, which of their parameters differ, and
 * the rows of the run table and of a side-by-side comparison. Plain rows (a
 * column name to a cell); the command line prints them as text, a notebook as
 * HTML.
 */

/** The metrics shown in the run table, in this order, when the runs have them. */
export const MAIN_METRICS = ['rocAuc', 'averagePrecision', 'precision', 'recall', 'f1', 'nFlagged'] as const;

export interface RunFilter {
  /** also child runs (the notebooks a `npm start` executed); default: only runs without a parent */
  all?: boolean;
  /** only this command's runs */
  command?: RunRecord['command'];
  /** only the runs of this group (a sweep), or whose parent is this id */
  group?: string;
  /** only runs on this kind of data: `simulation` (the simulated traffic) or `files` (NSL-KDD, captures, CSV) */
  dataKind?: 'simulation' | 'files';
  /** at most this many, newest first (default: all) */
  limit?: number;
}

/** Newest first (by start time, then id), filtered. */
export function selectRuns(runs: readonly RunRecord[], filter: RunFilter = {}): RunRecord[] {
  let out = runs.filter((r) => {
    if (filter.group !== undefined) return r.group === filter.group || r.parent === filter.group;
    if (!filter.all && r.parent !== undefined) return false;
    return true;
  });
  if (filter.command) out = out.filter((r) => r.command === filter.command);
  if (filter.dataKind) out = out.filter((r) => r.data?.kind === filter.dataKind);
  out = [...out].sort((a, b) => (a.time === b.time ? (a.id < b.id ? 1 : -1) : a.time < b.time ? 1 : -1));
  return filter.limit === undefined ? out : out.slice(0, filter.limit);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Parameter names whose value is not the same in every run (absent counts as a value), in first-seen order. */
export function differingParams(runs: readonly RunRecord[]): string[] {
  const keys: string[] = [];
  for (const r of runs) for (const k of Object.keys(r.params)) if (!keys.includes(k)) keys.push(k);
  return keys.filter((k) => runs.some((r) => !same(r.params[k], runs[0].params[k])));
}

/** A cell: a string or a number (numbers keep their digits; the renderer formats). */
export type RunCell = string | number;
export type RunRow = Record<string, RunCell>;

/** `2026-12-02 01:37:43` (UTC) */
export const runTime = (r: RunRecord) => `${r.time.slice(0, 10)} ${r.time.slice(11, 19)}`;
/** `start`, `sweep contamination`, `notebook 05_evaluate` */
export const runWhat = (r: RunRecord) => (r.label ? `${r.command} ${r.label}` : r.command);
const shortChecksum = (c: string) => c.replace(/^sha256:/, '').slice(0, 12);
const cell = (v: unknown): RunCell => (v === undefined ? '' : typeof v === 'number' ? v : v === null ? 'null' : String(v));

/**
 * The run table: one row per run with its id, time, command, status, the
 * parameters that differ between the runs shown, the main metrics the runs
 * have, and the model's checksum (first 12 hex digits).
 *
 * @param metrics the metric columns (default: {@link MAIN_METRICS} present in any run)
 */
export function runTableRows(runs: readonly RunRecord[], metrics?: readonly string[]): { rows: RunRow[]; params: string[]; metrics: string[] } {
  const params = differingParams(runs);
  const shown = metrics ? [...metrics] : MAIN_METRICS.filter((m) => runs.some((r) => r.metrics[m] !== undefined));
  const rows = runs.map((r) => {
    const row: RunRow = { run: r.id, time: runTime(r), command: runWhat(r), status: r.status };
    for (const p of params) row[p] = cell(r.params[p]);
    for (const m of shown) row[m] = cell(r.metrics[m]);
    row.model = r.model ? shortChecksum(r.model.checksum) : '';
    return row;
  });
  return { rows, params, metrics: shown };
}

/** One line of a comparison: what is compared, its value in each run (by run id), whether they differ. */
export interface ComparisonRow {
  field: string;
  values: RunCell[];
  differs: boolean;
}

function dataCell(r: RunRecord): string {
  const d = r.data;
  if (!d) return '';
  if (d.kind === 'simulation') return `simulation ${d.rows}x${d.features} ${shortChecksum(d.sha256)}`;
  return d.files.map((f) => `${f.path} ${shortChecksum(f.sha256)}`).join('; ');
}

/**
 * Runs side by side: the command, commit, data fingerprint, every parameter,
 * every metric and the model checksum, one column per run, each line marked
 * when its values differ.
 *
 * @param onlyDifferences keep only the lines that differ (default false)
 */
export function compareRuns(runs: readonly RunRecord[], onlyDifferences = false): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const add = (field: string, values: RunCell[]) => {
    const differs = values.some((v) => v !== values[0]);
    if (!onlyDifferences || differs) rows.push({ field, values, differs });
  };
  add('time', runs.map(runTime));
  add('command', runs.map(runWhat));
  add('status', runs.map((r) => r.status));
  if (runs.some((r) => r.error !== undefined)) add('error', runs.map((r) => r.error ?? ''));
  if (runs.some((r) => r.reproduces !== undefined)) add('reproduces', runs.map((r) => r.reproduces ?? ''));
  add('commit', runs.map((r) => (r.git ? `${r.git.commit.slice(0, 10)}${r.git.dirty ? ' (dirty)' : ''}` : 'n/a')));
  add('data', runs.map(dataCell));
  const params: string[] = [];
  for (const r of runs) for (const k of Object.keys(r.params)) if (!params.includes(k)) params.push(k);
  for (const p of params) add(`param ${p}`, runs.map((r) => cell(r.params[p])));
  const metrics: string[] = [];
  for (const r of runs) for (const k of Object.keys(r.metrics)) if (!metrics.includes(k)) metrics.push(k);
  for (const m of metrics) add(`metric ${m}`, runs.map((r) => cell(r.metrics[m])));
  add('model', runs.map((r) => (r.model ? shortChecksum(r.model.checksum) : '')));
  add('duration (s)', runs.map((r) => Number((r.durationMs / 1000).toFixed(1))));
  return rows;
}
