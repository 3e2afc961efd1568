import { displayBundle, htmlBundle, type LiveDisplay } from './display';
import { percentile, type IsolationForest } from '../model/forest';
import { isolationPath, meanPathLengths } from '../model/isolation';
import { fromRows } from '../core/matrix';
import type { Matrix } from '../core/matrix';
import type { ConfusionMatrix, ReportData } from '../eval/metrics';
import type { LoadedParams } from '../params/params';
import type { ForestComparisonRow } from '../workflow/forest-comparison';

/**
 * Small HTML tables for notebook output. JupyterLab styles plain <table>
 * markup itself, so no CSS is shipped; every table has a plain-text twin for
 * consoles and for the text of executed notebooks.
 */

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export interface Column {
  key: string;
  title?: string;
  /** format a cell (default: integers as is, other numbers with `digits` decimals) */
  format?: (value: unknown) => string;
}

export interface TableOptions {
  columns?: Array<string | Column>;
  caption?: string;
  /** decimals for non-integer numbers (default 4) */
  digits?: number;
  /** shown in place of the body when there are no rows (give `columns` so the header still shows) */
  emptyText?: string;
}

export type TableRow = Record<string, unknown>;

function formatCell(v: unknown, digits: number): string {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    if (!Number.isFinite(v)) return String(v);
    const text = v.toFixed(digits);
    // -1e-17 after scaling is zero to the eye: no "-0.0000"
    return /^-0\.?0*$/.test(text) ? text.slice(1) : text;
  }
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map((x) => formatCell(x, digits)).join(', ');
  return String(v);
}

function resolveColumns(rows: readonly TableRow[], options: TableOptions): Column[] {
  const cols = options.columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return cols.map((c) => (typeof c === 'string' ? { key: c } : c));
}

/** Rows of objects as an HTML table; numbers right-aligned. */
export function htmlTable(rows: readonly TableRow[], options: TableOptions = {}): string {
  const digits = options.digits ?? 4;
  const cols = resolveColumns(rows, options);
  const head = cols.map((c) => `<th>${escapeHtml(c.title ?? c.key)}</th>`).join('');
  const body = rows
    .map((r) => {
      const cells = cols.map((c) => {
        const v = r[c.key];
        const text = c.format ? c.format(v) : formatCell(v, digits);
        const align = typeof v === 'number' ? ' style="text-align:right"' : '';
        return `<td${align}>${escapeHtml(text)}</td>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('\n');
  const empty = rows.length === 0 ? `<tr><td colspan="${Math.max(1, cols.length)}"><i>${escapeHtml(options.emptyText ?? 'no rows')}</i></td></tr>` : '';
  const caption = options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : '';
  return `<table>${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}${empty}\n</tbody></table>`;
}

/** The same table as aligned plain text. */
export function textTable(rows: readonly TableRow[], options: TableOptions = {}): string {
  const digits = options.digits ?? 4;
  const cols = resolveColumns(rows, options);
  const cells = rows.map((r) => cols.map((c) => (c.format ? c.format(r[c.key]) : formatCell(r[c.key], digits))));
  const titles = cols.map((c) => c.title ?? c.key);
  const widths = titles.map((t, j) => Math.max(t.length, ...cells.map((row) => row[j].length)));
  const line = (values: string[]) => values.map((v, j) => v.padStart(widths[j])).join('  ');
  const out = [line(titles), ...cells.map(line)];
  if (rows.length === 0) out.push(`(${options.emptyText ?? 'no rows'})`);
  return `${options.caption ? `${options.caption}\n` : ''}${out.join('\n')}`;
}

/** Show rows as a table in the notebook (or redraw a live display). */
export function showTable(rows: readonly TableRow[], options: TableOptions = {}, live?: LiveDisplay): void {
  const bundle = htmlBundle(htmlTable(rows, options), textTable(rows, options));
  if (live) live.show(bundle);
  else displayBundle(bundle);
}

/** Rows of a matrix as table rows keyed by feature name (optionally selected rows and extra columns). */
export function matrixRows(X: Matrix, names: readonly string[], indices?: ArrayLike<number>, extra?: (i: number) => TableRow): TableRow[] {
  const idx = indices ?? Array.from({ length: X.rows }, (_, i) => i);
  return Array.from(idx, (i) => {
    const row: TableRow = { row: i };
    names.forEach((n, j) => (row[n] = X.data[i * X.cols + j]));
    return { ...row, ...(extra ? extra(i) : {}) };
  });
}

/**
 * Per-feature summary statistics like pandas' describe(): count, mean,
 * standard deviation (ddof = 1, as pandas), min, quartiles (linear), max.
 * Computed in float64 (danfojs' describe works in float32).
 */
export function describeColumns(X: Matrix, names: readonly string[]): TableRow[] {
  const stats = ['count', 'mean', 'std', 'min', '25%', '50%', '75%', 'max'];
  const columns = names.map((_, j) => {
    const col = new Float64Array(X.rows);
    for (let i = 0; i < X.rows; i++) col[i] = X.data[i * X.cols + j];
    let sum = 0;
    for (const v of col) sum += v;
    const mean = sum / X.rows;
    let ss = 0;
    for (const v of col) ss += (v - mean) ** 2;
    const sorted = col.sort();
    return {
      count: X.rows,
      mean,
      std: X.rows > 1 ? Math.sqrt(ss / (X.rows - 1)) : NaN,
      min: sorted[0],
      '25%': percentile(sorted, 25),
      '50%': percentile(sorted, 50),
      '75%': percentile(sorted, 75),
      max: sorted[sorted.length - 1],
    } as Record<string, number>;
  });
  return stats.map((s) => {
    const row: TableRow = { statistic: s };
    names.forEach((n, j) => (row[n] = columns[j][s]));
    return row;
  });
}

/**
 * The experiment parameters as a compact grid (`columns` parameter/value pairs
 * per row). A value that is not the default is marked with * and the caption
 * says where it came from. `keys` shows only those parameters (a notebook that
 * uses a few of them, e.g. the forest's settings on real data).
 */
export function paramsTable(loaded: LoadedParams, defaults: Record<string, unknown>, columns = 3, keys?: readonly string[]): { rows: TableRow[]; columns: Column[]; caption: string } {
  const entries = Object.entries(loaded.params).filter(([k]) => !keys || keys.includes(k));
  const changed = entries.filter(([k]) => loaded.origin[k as keyof LoadedParams['origin']] !== 'default');
  const rows: TableRow[] = [];
  for (let i = 0; i < entries.length; i += columns) {
    const row: TableRow = {};
    entries.slice(i, i + columns).forEach(([key, value], j) => {
      const mark = loaded.origin[key as keyof LoadedParams['origin']] !== 'default' ? ` * (default ${JSON.stringify(defaults[key])})` : '';
      row[`p${j}`] = key;
      row[`v${j}`] = `${JSON.stringify(value)}${mark}`;
    });
    rows.push(row);
  }
  const cols: Column[] = [];
  for (let j = 0; j < columns; j++) cols.push({ key: `p${j}`, title: 'parameter' }, { key: `v${j}`, title: 'value' });
  const sources = [...new Set(changed.map(([k]) => loaded.origin[k as keyof LoadedParams['origin']]))];
  const what = keys ? 'Experiment parameters used here' : 'Experiment parameters';
  const caption = changed.length === 0 ? `${what} (all defaults${keys ? '' : ': the reference script'})` : `${what} (* set by ${sources.join(', ')})`;
  return { rows, columns: cols, caption };
}

/** classification_report as table rows: one per class, then accuracy and the averages. */
export function reportRows(report: ReportData): TableRow[] {
  const row = (r: ReportData['macroAvg']): TableRow => ({ '': r.name, precision: r.precision, recall: r.recall, 'f1-score': r.f1, support: r.support });
  const rows = report.classes.map(row);
  if (report.accuracy !== undefined) rows.push({ '': 'accuracy', precision: '', recall: '', 'f1-score': report.accuracy, support: report.weightedAvg.support });
  else if (report.microAvg) rows.push(row(report.microAvg));
  rows.push(row(report.macroAvg), row(report.weightedAvg));
  return rows;
}

/** A confusion matrix as table rows: one row per true class. */
export function confusionRows(cm: ConfusionMatrix): TableRow[] {
  const name = (l: number | string) => (l === -1 ? 'anomaly (-1)' : l === 1 ? 'normal (1)' : String(l));
  return cm.matrix.map((row, i) => {
    const out: TableRow = { 'true \\ predicted': name(cm.labels[i]) };
    cm.labels.forEach((l, j) => (out[name(l)] = row[j]));
    out.total = row.reduce((a, b) => a + b, 0);
    return out;
  });
}

/** A danfojs DataFrame (or anything with columns and values) as table rows. */
export function dataFrameRows(df: { columns: string[]; values: unknown[] }, index?: ArrayLike<number | string>): TableRow[] {
  return df.values.map((vals, i) => {
    const row: TableRow = index ? { '': index[i] } : {};
    const arr = Array.isArray(vals) ? vals : [vals];
    df.columns.forEach((c, j) => (row[c] = arr[j]));
    return row;
  });
}

/**
 * The anomaly score s(x) = 2^(-E[h(x)]/c(psi)) of the isolation-forest paper
 * (= -scoreSamples) summarised per true class, with the threshold in the same
 * units, so a text about "how high anomalies score" can quote real numbers.
 *
 * @param scoreSamples scikit-learn's score_samples (-s(x), lower = more abnormal)
 * @param truth labels, -1 anomaly / 1 normal
 * @param offset the decision threshold on scoreSamples (shown as -offset)
 * @returns one row per class: rows, min, 5%, median, 95%, max of s(x), and the threshold
 */
export function scoreRangeRows(scoreSamples: ArrayLike<number>, truth: ArrayLike<number>, offset: number): TableRow[] {
  return [1, -1].map((label) => {
    const s: number[] = [];
    for (let i = 0; i < truth.length; i++) if (truth[i] === label) s.push(-scoreSamples[i]);
    return {
      class: label === -1 ? 'anomaly (-1)' : 'normal (1)',
      rows: s.length,
      'min s(x)': s.length ? percentile(s, 0) : NaN,
      '5%': s.length ? percentile(s, 5) : NaN,
      median: s.length ? percentile(s, 50) : NaN,
      '95%': s.length ? percentile(s, 95) : NaN,
      'max s(x)': s.length ? percentile(s, 100) : NaN,
      threshold: -offset,
    };
  });
}

/**
 * Where the false alarms (normal rows flagged -1) lie in a full PCA projection:
 * their distance from the centre in the plotted plane (the first `planeComponents`
 * components) and in the remaining components, each with its percentile among
 * all normal rows. A false alarm in the core of the plotted plane but at the
 * edge of the other components is unusual in directions the picture cannot show.
 *
 * @param projected PCA projection with more than `planeComponents` columns
 * @param truth labels, -1 anomaly / 1 normal
 * @param predictions -1 flagged / 1 passed
 * @param planeComponents components of the plotted plane (default 2)
 * @returns one row per false alarm, in row order
 */
export function falseAlarmPlacementRows(projected: Matrix, truth: ArrayLike<number>, predictions: ArrayLike<number>, planeComponents = 2): TableRow[] {
  const k = projected.cols;
  if (k <= planeComponents) throw new RangeError(`falseAlarmPlacementRows needs more than ${planeComponents} components, got ${k}`);
  const radius = (i: number, from: number, to: number) => {
    let s = 0;
    for (let j = from; j < to; j++) s += projected.data[i * k + j] ** 2;
    return Math.sqrt(s);
  };
  const inPlane: number[] = [];
  const beyond: number[] = [];
  for (let i = 0; i < truth.length; i++) {
    if (truth[i] !== 1) continue;
    inPlane.push(radius(i, 0, planeComponents));
    beyond.push(radius(i, planeComponents, k));
  }
  inPlane.sort((a, b) => a - b);
  beyond.sort((a, b) => a - b);
  // share of normal rows at or below v, as a percentage
  const rank = (sorted: number[], v: number) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] <= v) lo = mid + 1;
      else hi = mid;
    }
    return (100 * lo) / sorted.length;
  };
  const plane = `PC1-PC${planeComponents}`;
  const rest = `PC${planeComponents + 1}-PC${k}`;
  const rows: TableRow[] = [];
  for (let i = 0; i < truth.length; i++) {
    if (truth[i] !== 1 || predictions[i] !== -1) continue;
    const a = radius(i, 0, planeComponents);
    const b = radius(i, planeComponents, k);
    rows.push({
      row: i,
      [`distance in ${plane}`]: a,
      [`percentile (${plane})`]: Math.round(rank(inPlane, a)),
      [`distance in ${rest}`]: b,
      [`percentile (${rest})`]: Math.round(rank(beyond, b)),
    });
  }
  return rows;
}

/**
 * One tree's splits on several rows side by side (the isolation-forest paper's
 * figure 1 as a table): for each depth, the feature, the random threshold and
 * where each row went, until it reached its leaf.
 *
 * @param paths one isolation path per row, all from the same tree (see isolationPath)
 * @param names a column title per row (e.g. "normal row 0")
 * @param featureNames names of the features
 * @returns one row per depth, then a row with each leaf's size and the path length h(x)
 */
export function isolationPathRows(
  paths: ReadonlyArray<{ steps: ReadonlyArray<{ feature: number; threshold: number; value: number; side: string }>; leafRows: number; pathLength: number }>,
  names: readonly string[],
  featureNames: readonly string[],
): TableRow[] {
  const depth = Math.max(...paths.map((p) => p.steps.length));
  const rows: TableRow[] = [];
  for (let d = 0; d < depth; d++) {
    const row: TableRow = { split: d + 1 };
    paths.forEach((p, k) => {
      const s = p.steps[d];
      row[names[k]] = s ? `${featureNames[s.feature]} = ${s.value.toFixed(2)} ${s.side === 'left' ? '<=' : '>'} ${s.threshold.toFixed(2)}` : '(isolated)';
    });
    rows.push(row);
  }
  const leaf: TableRow = { split: 'leaf' };
  const h: TableRow = { split: 'h(x)' };
  paths.forEach((p, k) => {
    leaf[names[k]] = p.leafRows === 1 ? 'isolated: alone in its leaf' : `not isolated: shares its leaf with ${p.leafRows - 1} other sample rows`;
    h[names[k]] = `${p.steps.length} splits${p.leafRows > 1 ? ` + c(${p.leafRows})` : ''} = ${p.pathLength.toFixed(2)}`;
  });
  rows.push(leaf, h);
  return rows;
}

/**
 * Path length h(x) of a few rows in each of the first `nTrees` trees, then the
 * mean over all trees: one tree is one random draw, the score averages them.
 *
 * @param forest a trained forest
 * @param rows the rows (scaled as the forest was trained)
 * @param names a column title per row
 * @param nTrees how many trees to list (default 10, at most the forest's)
 */
export function treePathRows(forest: IsolationForest, rows: ReadonlyArray<ArrayLike<number>>, names: readonly string[], nTrees = 10): TableRow[] {
  const out: TableRow[] = [];
  for (let t = 0; t < Math.min(nTrees, forest.nEstimators); t++) {
    const row: TableRow = { tree: t };
    rows.forEach((x, k) => (row[names[k]] = isolationPath(forest, x, t).pathLength));
    out.push(row);
  }
  const { pathLengths } = meanPathLengths(forest, fromRows(rows, forest.nFeatures));
  const mean: TableRow = { tree: `mean of all ${forest.nEstimators}` };
  rows.forEach((_, k) => (mean[names[k]] = pathLengths[k]));
  out.push(mean);
  return out;
}

/** {@link compareForests} as table rows (times in ms, model size in KB). */
export function forestComparisonRows(rows: readonly ForestComparisonRow[]): TableRow[] {
  return rows.map((r) => ({
    model: r.model,
    'rows per tree': r.rowsPerTree,
    'height limit': r.heightLimit,
    'ROC-AUC': r.rocAuc,
    'avg precision': r.averagePrecision,
    'anomaly recall': r.anomalyRecall,
    'fit (ms)': Math.round(r.fitMs),
    'score (ms)': Math.round(r.scoreMs),
    'model JSON (KB)': Math.round(r.modelJsonBytes / 1024),
  }));
}
