import { compareRuns, runTableRows, selectRuns, type RunFilter } from '../experiments/run-table';
import type { RunRecord } from '../experiments/run-record';
import { RunStore } from '../experiments/run-store';
import { DEFAULT_PARAMS } from '../params/params';
import { CONFIG, SCHEMA } from './spec-parts';
import type { VegaLiteSpec } from './vega';
import { showTable, type Column, type TableRow } from './tables';

/**
 * The run log in a notebook and on the command line: the run table, a
 * side-by-side comparison, and a chart of a metric against a parameter
 * across runs.
 */

/** Counts (`nFlagged`, `nRows`, ...) as integers; six decimals for the ranking metrics, four for the other rates. */
function metricFormat(key: string): (v: unknown) => string {
  const count = /^n[A-Z]/.test(key);
  const digits = key === 'rocAuc' || key === 'averagePrecision' ? 6 : 4;
  return (v) => (typeof v === 'number' ? (count && Number.isInteger(v) ? String(v) : v.toFixed(digits)) : String(v ?? ''));
}

const plain = (v: unknown) => String(v ?? '');

/** A table ready for `textTable` / `htmlTable` / `showTable`. */
export interface RunTable {
  rows: TableRow[];
  columns: Column[];
  caption: string;
  emptyText: string;
}

/**
 * The run table of the given runs: id, time (UTC), command, status, the
 * parameters that differ between them, the main metrics, the model checksum.
 *
 * @param runs newest first, as {@link selectRuns} gives them
 * @param where the log's path, for the caption
 */
export function runTable(runs: readonly RunRecord[], where: string, metrics?: readonly string[]): RunTable {
  const t = runTableRows(runs, metrics);
  const columns: Column[] = [
    { key: 'run' },
    { key: 'time', title: 'time (UTC)' },
    { key: 'command' },
    { key: 'status' },
    ...t.params.map((p) => ({ key: p, format: plain })),
    ...t.metrics.map((m) => ({ key: m, format: metricFormat(m) })),
    { key: 'model' },
  ];
  const differ = t.params.length === 0 ? 'no parameter differs' : `parameters that differ: ${t.params.join(', ')}`;
  return {
    rows: t.rows,
    columns,
    caption: `${runs.length} run${runs.length === 1 ? '' : 's'} in ${where}, newest first (${differ})`,
    emptyText: `no runs recorded in ${where} yet`,
  };
}

/** Runs side by side: one column per run, `≠` on the lines whose values differ. */
export function comparisonTable(runs: readonly RunRecord[], onlyDifferences = false): RunTable {
  const rows = compareRuns(runs, onlyDifferences).map((c) => {
    const row: TableRow = { ' ': c.differs ? '≠' : '', field: c.field };
    c.values.forEach((v, i) => (row[runs[i].id] = v));
    return row;
  });
  const columns: Column[] = [{ key: ' ' }, { key: 'field' }, ...runs.map((r) => ({ key: r.id, format: plain }))];
  const n = rows.filter((r) => r[' '] === '≠').length;
  return { rows, columns, caption: `${runs.length} runs side by side (≠: ${n} line${n === 1 ? '' : 's'} differ)`, emptyText: 'no differences' };
}

/**
 * The recorded runs, newest first, filtered (default: every run, children included).
 *
 * @param store the run log (default: the artifacts folder's)
 */
export function recordedRuns(filter: RunFilter = { all: true }, store: RunStore = new RunStore()): RunRecord[] {
  return selectRuns(store.read().runs, filter);
}

export interface ShowRunsOptions extends RunFilter {
  /** the run log (default: the artifacts folder's) */
  store?: RunStore;
  /** metric columns (default: the main metrics the runs have) */
  metrics?: readonly string[];
}

/** Show the run table in the notebook (newest first); {@link recordedRuns} gives the records themselves. */
export function showRuns(options: ShowRunsOptions = {}): void {
  const store = options.store ?? new RunStore();
  const t = runTable(recordedRuns(options, store), store.show(), options.metrics);
  showTable(t.rows, t);
}

/** Show runs side by side (by id or id prefix, as `npm run runs -- --compare` takes them). @throws RunNotFoundError */
export function showRunComparison(ids: readonly string[], options: { store?: RunStore; onlyDifferences?: boolean } = {}): void {
  const store = options.store ?? new RunStore();
  const runs = ids.map((id) => store.find(id));
  const t = comparisonTable(runs, options.onlyDifferences);
  showTable(t.rows, t);
}

/**
 * A metric against a parameter across runs: one point per run, a line per
 * group (the values of one sweep), so re-runs at the same value show as
 * separate points. Runs without the parameter or the metric are left out, and
 * so are the runs of sweeps over another parameter.
 *
 * @param runs the runs to draw (e.g. {@link selectRuns} of the log)
 * @param param the parameter on the x axis
 * @param metric the metric on the y axis (e.g. `f1`, `rocAuc`)
 */
export function runsChartSpec(runs: readonly RunRecord[], param: string, metric: string): VegaLiteSpec {
  const values = runs
    .filter((r) => typeof r.params[param] === 'number' && typeof r.metrics[metric] === 'number')
    // a sweep over another parameter holds this one fixed: its runs belong to another chart
    .filter((r) => r.group === undefined || r.origin[param] === `sweep ${param}`)
    .map((r) => ({ run: r.id, value: r.params[param] as number, metric: r.metrics[metric], series: r.group ? seriesName(r, param) : 'single runs' }));
  return {
    $schema: SCHEMA,
    title: { text: `${metric} against ${param}, across ${values.length} recorded runs`, subtitle: 'one point per recorded run; the runs of one sweep are joined by a line' },
    width: 480,
    height: 280,
    data: { values },
    layer: [
      { mark: { type: 'line' }, transform: [{ filter: "datum.series !== 'single runs'" }], encoding: { x: { field: 'value', type: 'quantitative' }, y: { field: 'metric', type: 'quantitative' }, color: { field: 'series', type: 'nominal' } } },
      {
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          x: { field: 'value', type: 'quantitative', title: param },
          y: { field: 'metric', type: 'quantitative', title: metric, scale: { zero: false } },
          color: { field: 'series', type: 'nominal', title: 'runs', legend: { labelLimit: 360 } },
          tooltip: [{ field: 'run', type: 'nominal' }, { field: 'value', type: 'quantitative', title: param }, { field: 'metric', type: 'quantitative', title: metric, format: '.6f' }],
        },
      },
    ],
    config: CONFIG,
  } as VegaLiteSpec;
}

/** A sweep's line in the legend: the parameters it ran with that are not the defaults (the swept one aside), and its group. */
function seriesName(r: RunRecord, swept: string): string {
  const changed = Object.entries(r.params)
    .filter(([k, v]) => k !== swept && k in DEFAULT_PARAMS && JSON.stringify(v) !== JSON.stringify(DEFAULT_PARAMS[k as keyof typeof DEFAULT_PARAMS]))
    .map(([k, v]) => `${k}=${String(v)}`);
  return `${changed.length > 0 ? changed.join(', ') : 'defaults'} (sweep ${r.group!.slice(-6)})`;
}
