import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { displayBundle, type LiveDisplay, type MimeBundle } from './display';
import type { Matrix } from '../core/matrix';
import { averagePrecision, precisionRecallCurve, rocAuc, rocCurve, type ConfusionMatrix, type PrCurve, type RocCurve } from '../eval/metrics';
import type { Dataset } from '../data/simulate';
import type { TimelinePoint } from '../stream/batch';
import type { SweepRow } from '../workflow/sweep';

export type { SweepRow } from '../workflow/sweep';

/**
 * Vega-Lite charts for each step, built from typed arrays. Data are pre-binned
 * or thinned here so a chart stays small in the notebook (a few KB of JSON, not
 * 10,500 raw rows), and every chart has a title, axis titles and a legend.
 *
 * vega-lite 5 / vega 5 on purpose: version 6 is ESM-only with top-level await
 * and cannot be require()d by the CommonJS code the tslab kernel runs.
 */

/** A Vega-Lite v5 specification (plain JSON). */
export type VegaLiteSpec = vl.TopLevelSpec;

export const VEGALITE_MIME = 'application/vnd.vegalite.v5+json';
/** The Vega-Lite v5 schema every spec names (shared with the other chart modules of this folder). */
export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

export const COLORS = {
  normal: '#4c78a8',
  anomalous: '#e45756',
  passed: '#4c78a8',
  flagged: '#e45756',
  threshold: '#222222',
};

/** The look every chart shares. */
export const CONFIG = {
  view: { stroke: null },
  font: 'Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const, grid: true, gridOpacity: 0.4 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 15, subtitleFontSize: 12, subtitleColor: '#555555', anchor: 'start' as const, offset: 10 },
};

function round(v: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function classOf(label: number): 'normal' | 'anomalous' {
  return label === -1 ? 'anomalous' : 'normal';
}

/** Compile to Vega, collecting Vega-Lite's warnings instead of printing them. */
export function compileSpec(spec: VegaLiteSpec): { vega: vega.Spec; warnings: string[] } {
  const warnings: string[] = [];
  const logger = {
    level: () => logger,
    error: (...args: unknown[]) => {
      throw new Error(`Vega-Lite: ${args.join(' ')}`);
    },
    warn: (...args: unknown[]) => {
      warnings.push(args.join(' '));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  const compiled = vl.compile(spec, { logger: logger as unknown as NonNullable<Parameters<typeof vl.compile>[1]>['logger'] });
  return { vega: compiled.spec, warnings };
}

/**
 * Round the geometry in an SVG to 2 decimals (1/100 px): vega writes up to 15
 * digits per coordinate, which doubles the size of a scatter plot for nothing.
 * Only geometry attributes are touched, never text.
 */
export function compactSvg(svg: string): string {
  return svg.replace(/ (d|transform|x|y|x1|x2|y1|y2|width|height|viewBox)="([^"]*)"/g, (_m, name: string, value: string) => {
    const v = value.replace(/-?\d*\.\d{3,}/g, (num) => String(Math.round(Number(num) * 100) / 100));
    return ` ${name}="${v}"`;
  });
}

/** Render a spec to SVG in Node with vega's headless view (no browser, no canvas). */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  // The static picture drops the per-mark ARIA descriptions (a sentence per point, most of the
  // bytes of a scatter plot); the interactive Vega-Lite output keeps them.
  const staticSpec = { ...spec, config: { ...(spec as { config?: object }).config, aria: false } } as VegaLiteSpec;
  const { vega: compiled, warnings } = compileSpec(staticSpec);
  for (const w of warnings) console.warn(`Vega-Lite warning: ${w}`);
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return compactSvg(await view.toSVG());
  } finally {
    view.finalize();
  }
}

function titleText(spec: VegaLiteSpec): string {
  const t = (spec as { title?: string | { text?: string | string[] } }).title;
  if (typeof t === 'string') return t;
  if (t && t.text) return Array.isArray(t.text) ? t.text.join(' ') : t.text;
  return 'chart';
}

/**
 * A chart as one display bundle: Vega-Lite for JupyterLab (interactive, with
 * tooltips), SVG for static viewers, and a text line for consoles.
 */
export async function plotBundle(spec: VegaLiteSpec): Promise<MimeBundle> {
  return {
    [VEGALITE_MIME]: spec,
    'image/svg+xml': await renderSvg(spec),
    'text/plain': `[chart: ${titleText(spec)}]`,
  };
}

/** Show a chart in the notebook (or redraw a live display in place). */
export async function showPlot(spec: VegaLiteSpec, live?: LiveDisplay): Promise<void> {
  const bundle = await plotBundle(spec);
  if (live) live.show(bundle);
  else displayBundle(bundle);
}

function extent(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < lo) lo = values[i];
    if (values[i] > hi) hi = values[i];
  }
  return [lo, hi];
}

/**
 * Pre-binned histogram of each class over one shared range: one record per
 * non-empty bin, {class, start, end, count, share of the class}.
 */
function classBins(values: ArrayLike<number>, truth: ArrayLike<number>, lo: number, hi: number, bins: number, digits: number): Record<string, unknown>[] {
  const width = (hi - lo) / bins || 1;
  const counts = { normal: new Array<number>(bins).fill(0), anomalous: new Array<number>(bins).fill(0) };
  for (let i = 0; i < values.length; i++) {
    const k = Math.min(bins - 1, Math.max(0, Math.floor((values[i] - lo) / width)));
    counts[classOf(truth[i])][k]++;
  }
  const out: Record<string, unknown>[] = [];
  for (const cls of ['normal', 'anomalous'] as const) {
    const total = counts[cls].reduce((a, b) => a + b, 0);
    counts[cls].forEach((count, k) => {
      if (count > 0) out.push({ class: cls, start: round(lo + k * width, digits), end: round(lo + (k + 1) * width, digits), count, share: round(count / total, 5) });
    });
  }
  return out;
}

/** Colour by true class, the same two colours in every chart. */
function classColor(title: string, field = 'class'): Record<string, unknown> {
  return { field, type: 'nominal', title, scale: { domain: ['normal', 'anomalous'], range: [COLORS.normal, COLORS.anomalous] } };
}

/** Histograms of every raw feature, normal vs anomalous, as the share of each class per bin. */
export function featureHistogramsSpec(data: Dataset, options: { bins?: number } = {}): VegaLiteSpec {
  const bins = options.bins ?? 30;
  const { X, y, featureNames } = data;
  const values: Record<string, unknown>[] = [];
  featureNames.forEach((feature, j) => {
    const column = new Float64Array(X.rows);
    for (let i = 0; i < X.rows; i++) column[i] = X.data[i * X.cols + j];
    const [lo, hi] = extent(column);
    for (const bin of classBins(column, y, lo, hi, bins, 4)) values.push({ feature, ...bin });
  });
  return {
    $schema: SCHEMA,
    title: { text: 'Raw features: normal vs anomalous traffic', subtitle: 'share of each class per bin (anomalies are 5% of rows, so counts would hide them)' },
    data: { values },
    facet: { field: 'feature', type: 'nominal', title: null, sort: featureNames },
    columns: Math.min(3, featureNames.length),
    spec: {
      width: 200,
      height: 130,
      mark: { type: 'bar', opacity: 0.65, binSpacing: 0 },
      encoding: {
        x: { field: 'start', type: 'quantitative', bin: { binned: true }, title: 'value' },
        x2: { field: 'end' },
        y: { field: 'share', type: 'quantitative', stack: null, title: 'share of class', axis: { format: '.0%' } },
        color: { ...classColor('traffic'), legend: { orient: 'top' } },
        tooltip: [
          { field: 'feature', type: 'nominal' },
          { field: 'class', type: 'nominal' },
          { field: 'start', type: 'quantitative', title: 'from' },
          { field: 'end', type: 'quantitative', title: 'to' },
          { field: 'count', type: 'quantitative', title: 'rows' },
        ],
      },
    },
    resolve: { scale: { x: 'independent' } },
    config: CONFIG,
  } as VegaLiteSpec;
}

export interface PcaScatterOptions {
  /** -1 / 1 predictions: colour by prediction, shape by truth */
  predictions?: ArrayLike<number>;
  /** explained variance ratio of PC1 and PC2, for the axis titles */
  varianceRatio?: ArrayLike<number>;
  /** at most this many ordinary rows (true normal, not flagged) are drawn; all others always are */
  maxOrdinary?: number;
  title?: string;
}

/**
 * The first two principal components. Every anomalous or flagged row is drawn;
 * ordinary rows are thinned evenly to keep the chart light, and the subtitle
 * says so.
 */
export function pcaScatterSpec(projected: Matrix, truth: ArrayLike<number>, options: PcaScatterOptions = {}): VegaLiteSpec {
  if (projected.cols < 2) throw new RangeError('pcaScatterSpec needs at least 2 components');
  const pred = options.predictions;
  const maxOrdinary = options.maxOrdinary ?? 1000;
  const ordinary: number[] = [];
  const special: number[] = [];
  for (let i = 0; i < projected.rows; i++) {
    if (truth[i] === -1 || (pred && pred[i] === -1)) special.push(i);
    else ordinary.push(i);
  }
  const step = Math.max(1, ordinary.length / maxOrdinary);
  const kept: number[] = [];
  for (let k = 0; Math.floor(k * step) < ordinary.length; k++) kept.push(ordinary[Math.floor(k * step)]);
  const point = (i: number) => {
    const row: Record<string, unknown> = {
      row: i,
      pc1: round(projected.data[i * projected.cols]),
      pc2: round(projected.data[i * projected.cols + 1]),
      truth: classOf(truth[i]),
    };
    if (pred) row.prediction = pred[i] === -1 ? 'flagged' : 'passed';
    return row;
  };
  const values = [...kept, ...special].map(point); // ordinary first so anomalies are drawn on top
  const pct = (k: number) => (options.varianceRatio ? ` (${(100 * options.varianceRatio[k]).toFixed(1)}% of variance)` : '');
  const thinned = kept.length < ordinary.length ? `; ${kept.length.toLocaleString('en-US')} of ${ordinary.length.toLocaleString('en-US')} ordinary rows shown` : '';
  const encoding: Record<string, unknown> = {
    x: { field: 'pc1', type: 'quantitative', title: `PC1${pct(0)}` },
    y: { field: 'pc2', type: 'quantitative', title: `PC2${pct(1)}` },
    tooltip: [
      { field: 'row', type: 'quantitative' },
      { field: 'truth', type: 'nominal', title: 'true label' },
      ...(pred ? [{ field: 'prediction', type: 'nominal' }] : []),
      { field: 'pc1', type: 'quantitative', format: '.3f' },
      { field: 'pc2', type: 'quantitative', format: '.3f' },
    ],
  };
  if (pred) {
    encoding.color = {
      field: 'prediction',
      type: 'nominal',
      title: 'prediction',
      scale: { domain: ['passed', 'flagged'], range: [COLORS.passed, COLORS.flagged] },
    };
    encoding.shape = {
      field: 'truth',
      type: 'nominal',
      title: 'true label',
      scale: { domain: ['normal', 'anomalous'], range: ['circle', 'triangle-up'] },
    };
  } else {
    encoding.color = classColor('true label', 'truth');
  }
  return {
    $schema: SCHEMA,
    title: {
      text: options.title ?? (pred ? 'PCA projection coloured by prediction' : 'PCA projection of the scaled traffic'),
      subtitle: `${pred ? 'shape = true label' : 'colour = true label'}${thinned}`,
    },
    width: 520,
    height: 360,
    data: { values },
    mark: { type: 'point', filled: true, size: 28, opacity: 0.7 },
    encoding,
    config: CONFIG,
  } as VegaLiteSpec;
}

/** Histogram of anomaly scores by true class, with the decision threshold. */
export function scoreHistogramSpec(scores: ArrayLike<number>, truth: ArrayLike<number>, threshold: number, options: { bins?: number } = {}): VegaLiteSpec {
  const bins = options.bins ?? 50;
  const [lo0, hi0] = extent(scores);
  const lo = Math.min(lo0, threshold);
  const hi = Math.max(hi0, threshold);
  const values = classBins(scores, truth, lo, hi, bins, 5);
  return {
    $schema: SCHEMA,
    title: {
      text: 'Anomaly scores and the decision threshold',
      subtitle: `rows left of the line (score < ${threshold.toFixed(4)}) are flagged as anomalies`,
    },
    width: 520,
    height: 280,
    layer: [
      {
        data: { values },
        mark: { type: 'bar', opacity: 0.7, binSpacing: 0 },
        encoding: {
          x: { field: 'start', type: 'quantitative', bin: { binned: true }, title: 'score_samples (lower = more abnormal)' },
          x2: { field: 'end' },
          y: { field: 'count', type: 'quantitative', stack: null, title: 'rows (square-root scale)', scale: { type: 'sqrt' } },
          color: classColor('true label'),
          tooltip: [
            { field: 'class', type: 'nominal' },
            { field: 'start', type: 'quantitative', title: 'from' },
            { field: 'end', type: 'quantitative', title: 'to' },
            { field: 'count', type: 'quantitative', title: 'rows' },
          ],
        },
      },
      {
        data: { values: [{ threshold: round(threshold, 6), label: `threshold ${threshold.toFixed(4)}` }] },
        mark: { type: 'rule', color: COLORS.threshold, strokeDash: [6, 4], strokeWidth: 2 },
        encoding: { x: { field: 'threshold', type: 'quantitative' }, tooltip: [{ field: 'label', type: 'nominal' }] },
      },
      {
        data: { values: [{ threshold: round(threshold, 6), label: 'threshold' }] },
        mark: { type: 'text', align: 'left', dx: 4, dy: -4, baseline: 'top', fontSize: 11 },
        encoding: { x: { field: 'threshold', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
      },
    ],
    config: CONFIG,
  } as VegaLiteSpec;
}

/** Keep at most `max` points of a curve, evenly spaced, always with both ends. */
function thin<T>(points: T[], max: number): T[] {
  if (points.length <= max) return points;
  const step = (points.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, k) => points[Math.round(k * step)]);
}

/** ROC and precision-recall curves side by side, with their areas. */
export function rankingCurvesSpec(roc: RocCurve, rocAuc: number, pr: PrCurve, averagePrecision: number): VegaLiteSpec {
  const rocPoints = thin(Array.from(roc.fpr, (f, i) => ({ fpr: round(f, 5), tpr: round(roc.tpr[i], 5) })), 800);
  // pr runs from recall 1 down to 0; drop the thresholds below the first one that reaches full
  // recall (precision only falls there, recall cannot grow), as scikit-learn < 1.1 did
  let first = 0;
  while (first + 1 < pr.recall.length && pr.recall[first + 1] === 1) first++;
  const prPoints = thin(
    Array.from(pr.recall.subarray(first), (r, i) => ({ recall: round(r, 5), precision: round(pr.precision[first + i], 5) })),
    800,
  );
  const side = 260;
  /** a curve on the unit square, drawn in point order */
  const curve = (values: object[], x: string, y: string, xTitle: string, yTitle: string, interpolate: 'linear' | 'step-after') => ({
    data: { values },
    mark: { type: 'line', color: COLORS.anomalous, strokeWidth: 2, interpolate },
    encoding: {
      x: { field: x, type: 'quantitative', title: xTitle, scale: { domain: [0, 1] } },
      y: { field: y, type: 'quantitative', title: yTitle, scale: { domain: [0, 1] } },
      order: { field: x, type: 'quantitative' },
    },
  });
  return {
    $schema: SCHEMA,
    title: { text: 'How well do scores rank anomalies above normal traffic?', subtitle: 'positive class: anomaly (-1); ranking by -score' },
    hconcat: [
      {
        title: `ROC curve (AUC = ${rocAuc.toFixed(6)})`,
        width: side,
        height: side,
        layer: [
          {
            data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
            mark: { type: 'line', color: '#999999', strokeDash: [4, 4] },
            encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
          },
          curve(rocPoints, 'fpr', 'tpr', 'false positive rate', 'true positive rate (recall)', 'linear'),
        ],
      },
      {
        title: `Precision-recall (AP = ${averagePrecision.toFixed(6)})`,
        width: side,
        height: side,
        ...curve(prPoints, 'recall', 'precision', 'recall', 'precision', 'step-after'),
      },
    ],
    config: CONFIG,
  } as VegaLiteSpec;
}

/**
 * ROC and precision-recall curves for anomaly detection: the anomaly class (-1)
 * is positive and rows are ranked by -scoreSamples (most abnormal first).
 */
export function anomalyRankingSpec(yTrue: ArrayLike<number>, scoreSamples: ArrayLike<number>): VegaLiteSpec {
  const neg = Float64Array.from(scoreSamples, (s) => -s);
  const opts = { posLabel: -1 };
  return rankingCurvesSpec(rocCurve(yTrue, neg, opts), rocAuc(yTrue, neg, opts), precisionRecallCurve(yTrue, neg, opts), averagePrecision(yTrue, neg, opts));
}

function labelName(label: number | string): string {
  if (label === -1) return 'anomaly (-1)';
  if (label === 1) return 'normal (1)';
  return String(label);
}

/** The confusion matrix as a heatmap: colour = share of the true class, text = rows. */
export function confusionHeatmapSpec(cm: ConfusionMatrix): VegaLiteSpec {
  const names = cm.labels.map(labelName);
  const values: Record<string, unknown>[] = [];
  cm.matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, j) => values.push({ truth: names[i], predicted: names[j], count, share: total ? round(count / total, 5) : 0 }));
  });
  return {
    $schema: SCHEMA,
    title: { text: 'Confusion matrix', subtitle: 'rows: true class, columns: prediction; colour: share of the true class' },
    width: 260,
    height: 220,
    data: { values },
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: names, title: 'predicted class', axis: { labelAngle: 0, grid: false } },
      y: { field: 'truth', type: 'nominal', sort: names, title: 'true class', axis: { grid: false } },
    },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: { field: 'share', type: 'quantitative', title: 'share of row', scale: { scheme: 'blues', domain: [0, 1] }, legend: { format: '.0%' } },
          tooltip: [
            { field: 'truth', type: 'nominal', title: 'true class' },
            { field: 'predicted', type: 'nominal', title: 'predicted' },
            { field: 'count', type: 'quantitative', title: 'rows', format: ',' },
            { field: 'share', type: 'quantitative', format: '.2%' },
          ],
        },
      },
      {
        mark: { type: 'text', fontSize: 16, fontWeight: 'bold' },
        encoding: {
          text: { field: 'count', type: 'quantitative', format: ',' },
          color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: 'black' },
        },
      },
    ],
    config: CONFIG,
  } as VegaLiteSpec;
}

/** A reference rate drawn as a labelled dashed line in the streaming timeline. */
export interface TimelineBaseline {
  /** share of rows, in [0, 1] */
  rate: number;
  /** what the rate is, e.g. "false-alarm rate on normal training rows" (the line's label and the subtitle) */
  label: string;
}

/**
 * Streaming timeline: anomalies per batch and the anomaly rate per batch,
 * against `baseline` (preferred: a false-alarm rate measured on normal traffic)
 * or, when only `contamination` is given, the share of anomalies the model was
 * told to expect in its training set.
 */
export function batchTimelineSpec(
  points: readonly TimelinePoint[],
  options: { contamination?: number | 'auto'; totalBatches?: number; baseline?: TimelineBaseline } = {},
): VegaLiteSpec {
  const values = points.map((p) => ({ ...p, anomalyRate: round(p.anomalyRate, 5) }));
  const domain = [0, Math.max(options.totalBatches ?? 0, ...points.map((p) => p.batch + 1)) - 0.5];
  const x = { field: 'batch', type: 'quantitative' as const, title: 'batch', scale: { domain: [-0.5, domain[1]] }, axis: { tickMinStep: 1, format: 'd' } };
  const line: TimelineBaseline | undefined =
    options.baseline ??
    (typeof options.contamination === 'number' ? { rate: options.contamination, label: 'contamination (share of anomalies the model was told to expect)' } : undefined);
  const expected = line?.rate;
  const rateLayers: unknown[] = [
    {
      data: { values },
      mark: { type: 'line', point: { color: COLORS.anomalous }, color: COLORS.anomalous },
      encoding: {
        x,
        y: { field: 'anomalyRate', type: 'quantitative', title: 'anomaly rate', axis: { format: '.1%' } },
        tooltip: [
          { field: 'batch', type: 'quantitative' },
          { field: 'anomalyRate', type: 'quantitative', format: '.2%', title: 'rate' },
        ],
      },
    },
  ];
  if (expected !== undefined) {
    rateLayers.push({
      data: { values: [{ expected, label: `${line!.label}: ${(100 * expected).toFixed(2)}%` }] },
      layer: [
        {
          mark: { type: 'rule', strokeDash: [6, 4], color: COLORS.threshold },
          encoding: { y: { field: 'expected', type: 'quantitative' }, tooltip: [{ field: 'label', type: 'nominal' }] },
        },
        {
          // the label sits on the line, at the left edge, so the SVG says what the line is
          mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 4, dy: -2, fontSize: 10, color: COLORS.threshold },
          encoding: {
            x: { datum: -0.5, type: 'quantitative' },
            y: { field: 'expected', type: 'quantitative' },
            text: { field: 'label', type: 'nominal' },
          },
        },
      ],
    });
  }
  return {
    $schema: SCHEMA,
    title: {
      text: `Streaming: ${points.length} batch${points.length === 1 ? '' : 'es'} scored`,
      subtitle: line ? `dashed line: ${line.label}` : 'anomalies per batch',
    },
    vconcat: [
      {
        width: 480,
        height: 150,
        data: { values },
        // bars on a quantitative axis need an explicit width (a band width needs a band scale)
        mark: { type: 'bar', color: COLORS.anomalous, size: Math.max(2, Math.min(24, 360 / Math.max(1, domain[1] + 0.5))) },
        encoding: {
          x,
          y: { field: 'anomalies', type: 'quantitative', title: 'anomalies flagged' },
          tooltip: [
            { field: 'batch', type: 'quantitative' },
            { field: 'rows', type: 'quantitative' },
            { field: 'anomalies', type: 'quantitative' },
          ],
        },
      },
      { width: 480, height: 120, layer: rateLayers },
    ],
    config: CONFIG,
  } as VegaLiteSpec;
}

/** One bar segment of the failover chart: records a consumer finished, by delivery. */
export interface FailoverBar {
  consumer: string;
  delivery: 'first delivery' | 'redelivered (taken over)';
  records: number;
}

/**
 * Failover drill: per consumer, the records of the entries it finished (wrote
 * and acknowledged), split into first deliveries and entries it took over from
 * the killed consumer.
 *
 * @param bars - from `failoverBars(result)`
 * @param title - the chart title (e.g. "50,000 records, none missing")
 */
export function failoverSpec(bars: readonly FailoverBar[], title: string): VegaLiteSpec {
  return {
    $schema: SCHEMA,
    title: { text: title, subtitle: 'records in the entries each consumer finished (its ledger lines)' },
    width: 420,
    height: 30 * Math.max(2, new Set(bars.map((b) => b.consumer)).size),
    data: { values: bars.map((b) => ({ ...b })) },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'consumer', type: 'nominal', title: null, sort: null },
      x: { field: 'records', type: 'quantitative', title: 'records', stack: 'zero' },
      color: {
        field: 'delivery',
        type: 'nominal',
        title: null,
        scale: { domain: ['first delivery', 'redelivered (taken over)'], range: [COLORS.normal, COLORS.anomalous] },
        legend: { orient: 'bottom', labelLimit: 300 },
      },
      order: { field: 'delivery', sort: 'ascending' },
      tooltip: [
        { field: 'consumer', type: 'nominal' },
        { field: 'delivery', type: 'nominal' },
        { field: 'records', type: 'quantitative', format: ',' },
      ],
    },
    config: CONFIG,
  } as VegaLiteSpec;
}


const METRIC_NAMES = { precision: 'precision', recall: 'recall', f1: 'F1', rocAuc: 'ROC-AUC' } as const;

/** Metrics of the anomaly class against one swept parameter. */
export function sweepSpec(key: string, rows: readonly SweepRow[]): VegaLiteSpec {
  const values = rows.flatMap((r) =>
    (['precision', 'recall', 'f1', 'rocAuc'] as const).map((metric) => ({ value: r.value, metric: METRIC_NAMES[metric], score: round(r[metric], 5), nFlagged: r.nFlagged })),
  );
  const numeric = rows.every((r) => typeof r.value === 'number');
  return {
    $schema: SCHEMA,
    title: { text: `Sweep over ${key}`, subtitle: 'anomaly class (-1) metrics, one pipeline run per value' },
    width: 480,
    height: 280,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: numeric ? { field: 'value', type: 'quantitative', title: key } : { field: 'value', type: 'ordinal', title: key },
      y: { field: 'score', type: 'quantitative', title: 'score', scale: { zero: false } },
      color: { field: 'metric', type: 'nominal', title: 'metric' },
      tooltip: [
        { field: 'value', title: key },
        { field: 'metric', type: 'nominal' },
        { field: 'score', type: 'quantitative', format: '.4f' },
        { field: 'nFlagged', type: 'quantitative', title: 'rows flagged' },
      ],
    },
    config: CONFIG,
  } as VegaLiteSpec;
}

/** Write a chart as `<base>.vl.json` (Vega-Lite) and `<base>.svg`; returns both paths. */
export async function saveFigure(base: string, spec: VegaLiteSpec): Promise<{ spec: string; svg: string }> {
  mkdirSync(dirname(base), { recursive: true });
  const paths = { spec: `${base}.vl.json`, svg: `${base}.svg` };
  writeFileSync(paths.spec, `${JSON.stringify(spec, null, 1)}\n`);
  writeFileSync(paths.svg, await renderSvg(spec));
  return paths;
}

export interface PcaDensityOptions {
  /** explained variance ratio of PC1 and PC2, for the axis titles */
  varianceRatio?: ArrayLike<number>;
  /** bins per axis of the density layer (default 40) */
  bins?: number;
  title?: string;
}

/**
 * The PCA plane with every row accounted for: ordinary rows (true normal, not
 * flagged) as a density layer (row counts in a grid, so none is dropped and
 * their true weight shows), and every flagged or anomalous row as a point on
 * top, coloured by prediction and shaped by the truth. Unlike a thinned scatter,
 * the eye is not misled about how many normal rows surround a false alarm.
 */
export function pcaPredictionDensitySpec(projected: Matrix, truth: ArrayLike<number>, predictions: ArrayLike<number>, options: PcaDensityOptions = {}): VegaLiteSpec {
  if (projected.cols < 2) throw new RangeError('pcaPredictionDensitySpec needs at least 2 components');
  const bins = options.bins ?? 40;
  const k = projected.cols;
  const pc1 = Float64Array.from({ length: projected.rows }, (_, i) => projected.data[i * k]);
  const pc2 = Float64Array.from({ length: projected.rows }, (_, i) => projected.data[i * k + 1]);
  const [x0, x1] = extent(pc1);
  const [y0, y1] = extent(pc2);
  const wx = (x1 - x0) / bins || 1;
  const wy = (y1 - y0) / bins || 1;
  const counts = new Map<number, number>();
  const points: Record<string, unknown>[] = [];
  let ordinary = 0;
  for (let i = 0; i < projected.rows; i++) {
    if (truth[i] === -1 || predictions[i] === -1) {
      points.push({
        row: i,
        pc1: round(pc1[i]),
        pc2: round(pc2[i]),
        truth: classOf(truth[i]),
        prediction: predictions[i] === -1 ? 'flagged' : 'passed',
      });
      continue;
    }
    ordinary++;
    const bx = Math.min(bins - 1, Math.floor((pc1[i] - x0) / wx));
    const by = Math.min(bins - 1, Math.floor((pc2[i] - y0) / wy));
    counts.set(bx * bins + by, (counts.get(bx * bins + by) ?? 0) + 1);
  }
  const cells = [...counts].map(([key, n]) => {
    const bx = Math.floor(key / bins);
    const by = key % bins;
    return { x: round(x0 + bx * wx), x2: round(x0 + (bx + 1) * wx), y: round(y0 + by * wy), y2: round(y0 + (by + 1) * wy), rows: n };
  });
  const pct = (j: number) => (options.varianceRatio ? ` (${(100 * options.varianceRatio[j]).toFixed(1)}% of variance)` : '');
  return {
    $schema: SCHEMA,
    title: {
      text: options.title ?? 'PCA projection: every row, by prediction',
      subtitle: `grey cells: ${ordinary.toLocaleString('en-US')} normal rows that passed (darker = more rows); points: every flagged or anomalous row (${points.length}), shape = true label`,
    },
    width: 520,
    height: 360,
    layer: [
      {
        data: { values: cells },
        mark: { type: 'rect' },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: `PC1${pct(0)}` },
          x2: { field: 'x2' },
          y: { field: 'y', type: 'quantitative', title: `PC2${pct(1)}` },
          y2: { field: 'y2' },
          color: { field: 'rows', type: 'quantitative', title: 'normal rows passed per cell', scale: { scheme: 'greys', type: 'log' } },
          tooltip: [{ field: 'rows', type: 'quantitative', title: 'normal rows in cell' }],
        },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 34, opacity: 0.85, stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x: { field: 'pc1', type: 'quantitative' },
          y: { field: 'pc2', type: 'quantitative' },
          fill: { field: 'prediction', type: 'nominal', title: 'prediction', scale: { domain: ['passed', 'flagged'], range: [COLORS.passed, COLORS.flagged] } },
          shape: { field: 'truth', type: 'nominal', title: 'true label', scale: { domain: ['normal', 'anomalous'], range: ['circle', 'triangle-up'] } },
          tooltip: [
            { field: 'row', type: 'quantitative' },
            { field: 'truth', type: 'nominal', title: 'true label' },
            { field: 'prediction', type: 'nominal' },
            { field: 'pc1', type: 'quantitative', format: '.3f' },
            { field: 'pc2', type: 'quantitative', format: '.3f' },
          ],
        },
      },
    ],
    resolve: { scale: { color: 'independent' } },
    config: CONFIG,
  } as VegaLiteSpec;
}

/**
 * Distribution of the mean path length E[h(x)] per true class, with c(psi),
 * the path length that gives s(x) = 0.5: anomalies are isolated in fewer
 * splits, so their histogram sits to the left.
 *
 * @param pathLengths E[h(x)] per row (see meanPathLengths)
 * @param truth labels, -1 anomaly / 1 normal
 * @param cPsi the average path length c(psi), drawn as a dashed line
 */
export function pathLengthHistogramSpec(pathLengths: ArrayLike<number>, truth: ArrayLike<number>, cPsi: number, options: { bins?: number } = {}): VegaLiteSpec {
  const bins = options.bins ?? 40;
  const [lo0, hi0] = extent(pathLengths);
  const lo = Math.min(lo0, cPsi);
  const hi = Math.max(hi0, cPsi);
  const values = classBins(pathLengths, truth, lo, hi, bins, 3);
  return {
    $schema: SCHEMA,
    title: { text: 'How many splits isolate a row?', subtitle: `mean path length over all trees, per true class; dashed: c(ψ) = ${cPsi.toFixed(2)}, where s(x) = 0.5` },
    width: 520,
    height: 240,
    layer: [
      {
        data: { values },
        mark: { type: 'bar', opacity: 0.75, binSpacing: 0 },
        encoding: {
          x: { field: 'start', type: 'quantitative', bin: { binned: true }, title: 'mean path length E[h(x)] (splits)' },
          x2: { field: 'end' },
          y: { field: 'share', type: 'quantitative', title: 'share of the class', stack: null, axis: { format: '.0%' } },
          color: classColor('true label'),
          tooltip: [
            { field: 'class', type: 'nominal' },
            { field: 'start', type: 'quantitative', title: 'from' },
            { field: 'end', type: 'quantitative', title: 'to' },
            { field: 'count', type: 'quantitative', title: 'rows' },
          ],
        },
      },
      {
        data: { values: [{ c: cPsi }] },
        mark: { type: 'rule', color: COLORS.threshold, strokeDash: [6, 4], strokeWidth: 2 },
        encoding: { x: { field: 'c', type: 'quantitative' } },
      },
    ],
    config: CONFIG,
  } as VegaLiteSpec;
}

export interface DecisionMapOptions {
  /** axis titles (default PC1, PC2) */
  xTitle?: string;
  yTitle?: string;
  title?: string;
  /** subtitle: say which model the map shows */
  subtitle?: string;
  /** at most this many normal rows are drawn, thinned evenly (default 1000; every anomaly is drawn); the subtitle says so */
  maxNormal?: number;
}

/**
 * scikit-learn's "path length decision boundary" picture: the decision
 * function of a two-feature forest as a heatmap over the plane (blue = normal
 * side, red = flagged side), the boundary where it crosses 0 as a black line,
 * and the rows on top (shape and colour = true label).
 *
 * @param grid the decision function on a grid (see decisionGrid)
 * @param boundary the level-0 segments of that grid (see contourSegments)
 * @param points the rows, two columns in the grid's coordinates
 * @param truth labels, -1 anomaly / 1 normal
 */
export function decisionMapSpec(
  grid: { xs: ArrayLike<number>; ys: ArrayLike<number>; values: ArrayLike<number> },
  boundary: ReadonlyArray<{ x: number; y: number; x2: number; y2: number }>,
  points: Matrix,
  truth: ArrayLike<number>,
  options: DecisionMapOptions = {},
): VegaLiteSpec {
  const nx = grid.xs.length;
  const ny = grid.ys.length;
  const half = (a: ArrayLike<number>, k: number) => (k + 1 < a.length ? (a[k + 1] - a[k]) / 2 : (a[k] - a[k - 1]) / 2);
  const cells: Record<string, number>[] = [];
  let maxAbs = 0;
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const v = grid.values[j * nx + i];
      maxAbs = Math.max(maxAbs, Math.abs(v));
      const hx = half(grid.xs, i);
      const hy = half(grid.ys, j);
      cells.push({ x: round(grid.xs[i] - hx), x2: round(grid.xs[i] + hx), y: round(grid.ys[j] - hy), y2: round(grid.ys[j] + hy), decision: round(v, 4) });
    }
  }
  const normal: number[] = [];
  const anomalous: number[] = [];
  for (let i = 0; i < points.rows; i++) (truth[i] === -1 ? anomalous : normal).push(i);
  const maxNormal = options.maxNormal ?? 1000;
  const step = Math.max(1, normal.length / maxNormal);
  const keptNormal: number[] = [];
  for (let k = 0; Math.floor(k * step) < normal.length; k++) keptNormal.push(normal[Math.floor(k * step)]);
  // normal rows first, so anomalies are drawn on top
  const pts = [...keptNormal, ...anomalous].map((i) => ({ row: i, x: round(points.data[i * points.cols], 3), y: round(points.data[i * points.cols + 1], 3), truth: classOf(truth[i]) }));
  const thinned = keptNormal.length < normal.length ? `; ${keptNormal.length.toLocaleString('en-US')} of ${normal.length.toLocaleString('en-US')} normal rows drawn, every anomaly` : '';
  const xTitle = options.xTitle ?? 'PC1';
  const yTitle = options.yTitle ?? 'PC2';
  return {
    $schema: SCHEMA,
    title: { text: options.title ?? 'Decision function over the plane', subtitle: `${options.subtitle ?? 'colour: decision function (red = flagged side); black line: decision boundary'}${thinned}` },
    width: 520,
    height: 380,
    layer: [
      {
        data: { values: cells },
        mark: { type: 'rect' },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: xTitle, scale: { nice: false, zero: false } },
          x2: { field: 'x2' },
          y: { field: 'y', type: 'quantitative', title: yTitle, scale: { nice: false, zero: false } },
          y2: { field: 'y2' },
          color: {
            field: 'decision',
            type: 'quantitative',
            title: 'decision function',
            scale: { scheme: 'redblue', domain: [-maxAbs, maxAbs], domainMid: 0 },
          },
          tooltip: [{ field: 'decision', type: 'quantitative', format: '.4f' }],
        },
      },
      {
        data: { values: pts },
        mark: { type: 'point', filled: true, size: 14, opacity: 0.6, stroke: 'white', strokeWidth: 0.3 },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          y: { field: 'y', type: 'quantitative' },
          shape: { field: 'truth', type: 'nominal', title: 'true label', scale: { domain: ['normal', 'anomalous'], range: ['circle', 'triangle-up'] } },
          fill: { field: 'truth', type: 'nominal', title: 'true label', scale: { domain: ['normal', 'anomalous'], range: ['#ffffff', '#222222'] } },
          tooltip: [
            { field: 'row', type: 'quantitative' },
            { field: 'truth', type: 'nominal', title: 'true label' },
          ],
        },
      },
      {
        data: { values: boundary.map((s) => ({ x: round(s.x), y: round(s.y), x2: round(s.x2), y2: round(s.y2) })) },
        mark: { type: 'rule', color: '#000000', strokeWidth: 2 },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, x2: { field: 'x2' }, y2: { field: 'y2' } },
      },
    ],
    resolve: { scale: { color: 'independent' } },
    config: CONFIG,
  } as VegaLiteSpec;
}

/** One detector's test scores for variantRankingSpec. */
export interface RankedVariant {
  name: string;
  /** scoreSamples on the test rows (lower = more abnormal) */
  scores: ArrayLike<number>;
}

/**
 * ROC and precision-recall curves of several detectors on the same test rows,
 * one colour per detector, with the chance diagonal on the ROC side and the
 * prevalence baseline (the precision of flagging at random) on the PR side.
 * The anomaly class (-1) is positive; rows are ranked by -score.
 */
export function variantRankingSpec(yTrue: ArrayLike<number>, variants: readonly RankedVariant[]): VegaLiteSpec {
  const opts = { posLabel: -1 };
  let positives = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === -1) positives++;
  const prevalence = positives / yTrue.length;
  const rocValues: object[] = [];
  const prValues: object[] = [];
  const names: string[] = [];
  for (const v of variants) {
    const neg = Float64Array.from(v.scores, (s) => -s);
    const roc = rocCurve(yTrue, neg, opts);
    const pr = precisionRecallCurve(yTrue, neg, opts);
    const name = `${v.name} (AUC ${rocAuc(yTrue, neg, opts).toFixed(3)}, AP ${averagePrecision(yTrue, neg, opts).toFixed(3)})`;
    names.push(name);
    thin(Array.from(roc.fpr, (f, i) => ({ fpr: round(f, 5), tpr: round(roc.tpr[i], 5) })), 300).forEach((p) => rocValues.push({ ...p, detector: name }));
    thin(Array.from(pr.recall, (r, i) => ({ recall: round(r, 5), precision: round(pr.precision[i], 5) })), 300).forEach((p) => prValues.push({ ...p, detector: name }));
  }
  const palette = ['#e45756', '#4c78a8', '#54a24b', '#f58518', '#b279a2'];
  const color = { field: 'detector', type: 'nominal', title: null, scale: { domain: names, range: palette.slice(0, names.length) }, legend: { orient: 'bottom', direction: 'vertical' } };
  const side = 280;
  const line = (values: object[], x: string, y: string, xTitle: string, yTitle: string, interpolate: string) => ({
    data: { values },
    mark: { type: 'line', strokeWidth: 2, interpolate },
    encoding: {
      x: { field: x, type: 'quantitative', title: xTitle, scale: { domain: [0, 1] } },
      y: { field: y, type: 'quantitative', title: yTitle, scale: { domain: [0, 1] } },
      order: { field: x, type: 'quantitative' },
      color,
    },
  });
  const dashed = (values: object[], text: string) => [
    { data: { values }, mark: { type: 'line', color: '#999999', strokeDash: [4, 4] }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } },
    {
      data: { values: [values[values.length - 1]] },
      mark: { type: 'text', align: 'right', dy: -6, fontSize: 10, color: '#777777', text },
      encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
    },
  ];
  return {
    $schema: SCHEMA,
    title: { text: 'Ranking attacks above normal traffic: two training choices', subtitle: 'positive class: attack (-1); ranking by -score on the test set' },
    hconcat: [
      { title: 'ROC', width: side, height: side, layer: [...dashed([{ x: 0, y: 0 }, { x: 1, y: 1 }], 'chance'), line(rocValues, 'fpr', 'tpr', 'false positive rate', 'true positive rate (recall)', 'linear')] },
      {
        title: 'Precision-recall',
        width: side,
        height: side,
        layer: [...dashed([{ x: 0, y: round(prevalence, 5) }, { x: 1, y: round(prevalence, 5) }], `prevalence ${prevalence.toFixed(3)}`), line(prValues, 'recall', 'precision', 'recall', 'precision', 'step-after')],
      },
    ],
    config: CONFIG,
  } as VegaLiteSpec;
}

/** One bar of familyDetectionSpec: the share of a family's test records flagged at a false-positive rate. */
export interface FamilyDetectionRow {
  family: string;
  /** label of the operating point, e.g. "1% FPR" */
  operatingPoint: string;
  /** detection rate in [0, 1] */
  rate: number;
  /** test records of the family */
  records: number;
}

/** Detection rate per attack family, bars grouped by family, one colour per operating point. */
export function familyDetectionSpec(rows: readonly FamilyDetectionRow[], options: { title?: string; subtitle?: string; columnTitle?: string; step?: number; legendTitle?: string } = {}): VegaLiteSpec {
  const families = [...new Set(rows.map((r) => r.family))];
  const points = [...new Set(rows.map((r) => r.operatingPoint))];
  return {
    $schema: SCHEMA,
    title: { text: options.title ?? 'Which attacks does the detector find?', subtitle: options.subtitle ?? 'share of each family\'s test records flagged' },
    data: { values: rows.map((r) => ({ ...r, rate: round(r.rate, 4), label: `${r.family} (${r.records.toLocaleString('en-US')})` })) },
    width: { step: options.step ?? 26 },
    height: 240,
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'operatingPoint', type: 'nominal', title: null, axis: { labels: false, ticks: false }, sort: points },
      y: { field: 'rate', type: 'quantitative', title: 'detection rate', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
      column: { field: 'label', type: 'nominal', title: options.columnTitle ?? 'attack family (test records)', sort: families.map((f) => rows.find((r) => r.family === f) as FamilyDetectionRow).map((r) => `${r.family} (${r.records.toLocaleString('en-US')})`), header: { labelOrient: 'bottom', titleOrient: 'bottom' } },
      color: { field: 'operatingPoint', type: 'nominal', title: options.legendTitle ?? 'operating point', sort: points, scale: { range: ['#4c78a8', '#e45756', '#54a24b', '#f58518'] } },
      tooltip: [
        { field: 'family', type: 'nominal' },
        { field: 'operatingPoint', type: 'nominal' },
        { field: 'rate', type: 'quantitative', format: '.1%' },
      ],
    },
    config: CONFIG,
  } as VegaLiteSpec;
}

/** One bar of explanationWaterfallSpec: a feature (with its value, e.g. "service = http") and its contribution. */
export interface WaterfallStep {
  label: string;
  /** contribution to the mean path length (negative: towards "anomalous") */
  contribution: number;
}

/**
 * Waterfall of one record's explanation: starting from the expected mean path
 * length E[f] over the training rows, each feature's contribution moves the
 * path length left (shorter paths: towards "anomalous", red) or right (towards
 * "normal", blue), ending at the record's own mean path length f(x). The
 * `maxSteps` features with the largest |contribution| get a bar each, most
 * negative first; the others are summed into one bar, so the bars always add
 * up to f(x) - E[f].
 *
 * @param steps - every original feature's contribution (path-length units)
 * @param options.expectedValue - E[f], where the waterfall starts
 * @param options.maxSteps - bars before "other features" (default 8)
 */
export function explanationWaterfallSpec(
  steps: readonly WaterfallStep[],
  options: { expectedValue: number; maxSteps?: number; title?: string; subtitle?: string },
): VegaLiteSpec {
  const maxSteps = options.maxSteps ?? 8;
  if (!Number.isInteger(maxSteps) || maxSteps < 1) throw new RangeError(`explanationWaterfallSpec: maxSteps must be a positive integer, got ${maxSteps}`);
  const byMagnitude = steps.map((s, k) => ({ ...s, k })).sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || a.k - b.k);
  const shown = byMagnitude.slice(0, maxSteps).sort((a, b) => a.contribution - b.contribution || a.k - b.k);
  const rest = byMagnitude.slice(maxSteps);
  const bars: WaterfallStep[] = shown.map(({ label, contribution }) => ({ label, contribution }));
  if (rest.length > 0) bars.push({ label: `${rest.length} other feature${rest.length === 1 ? '' : 's'}`, contribution: rest.reduce((s, r) => s + r.contribution, 0) });
  let at = options.expectedValue;
  const values = bars.map((b, order) => {
    const start = at;
    at += b.contribution;
    return {
      order,
      label: b.label,
      start: round(start, 6),
      end: round(at, 6),
      contribution: round(b.contribution, 4),
      text: `${b.contribution >= 0 ? '+' : ''}${b.contribution.toFixed(2)}`,
      direction: b.contribution < 0 ? 'towards anomalous' : 'towards normal',
    };
  });
  const finalValue = at;
  const labels = values.map((v) => v.label);
  const marks = [
    { label: `E[f] = ${options.expectedValue.toFixed(2)}`, x: round(options.expectedValue, 6) },
    { label: `f(x) = ${finalValue.toFixed(2)}`, x: round(finalValue, 6) },
  ];
  return {
    $schema: SCHEMA,
    title: { text: options.title ?? 'Why this record was flagged', subtitle: options.subtitle ?? 'contributions to the mean path length (exact TreeSHAP); shorter paths mean more anomalous' },
    width: 420,
    height: { step: 22 },
    layer: [
      {
        data: { values },
        mark: { type: 'bar', height: { band: 0.7 } },
        encoding: {
          y: { field: 'label', type: 'nominal', sort: labels, title: null, axis: { labelLimit: 320 } },
          x: { field: 'start', type: 'quantitative', title: 'mean path length', scale: { zero: false } },
          x2: { field: 'end' },
          color: { field: 'direction', type: 'nominal', title: null, scale: { domain: ['towards anomalous', 'towards normal'], range: [COLORS.anomalous, COLORS.normal] }, legend: { orient: 'bottom' } },
          tooltip: [
            { field: 'label', type: 'nominal', title: 'feature' },
            { field: 'contribution', type: 'quantitative', format: '+.3f' },
            { field: 'end', type: 'quantitative', title: 'path length after', format: '.3f' },
          ],
        },
      },
      {
        data: { values },
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 10, color: '#333333' },
        encoding: { y: { field: 'label', type: 'nominal', sort: labels, title: null, axis: { labelLimit: 320 } }, x: { field: 'max', type: 'quantitative' }, text: { field: 'text', type: 'nominal' } },
        transform: [{ calculate: 'max(datum.start, datum.end)', as: 'max' }],
      },
      {
        data: { values: marks },
        mark: { type: 'rule', color: COLORS.threshold, strokeDash: [4, 3] },
        encoding: { x: { field: 'x', type: 'quantitative' } },
      },
      {
        data: { values: marks },
        mark: { type: 'text', baseline: 'bottom', dy: -4, fontSize: 10, color: '#333333', y: 0 },
        encoding: { x: { field: 'x', type: 'quantitative' }, text: { field: 'label', type: 'nominal' } },
      },
    ],
    config: CONFIG,
  } as VegaLiteSpec;
}

/** one shaded episode of {@link flowTimelineSpec} */
export interface TimelineEpisode {
  episode: string;
  startMs: number;
  endMs: number;
}

/**
 * Flows per second over a capture, stacked by label (normal, or the episode a flow
 * belongs to), with each attack episode's recorded time window shaded behind the bars.
 * Time is in seconds since the capture's first flow.
 *
 * @param firstSeenMs - each flow's first packet time (ms since the epoch)
 * @param labels - each flow's label ("normal" or an episode name)
 */
export function flowTimelineSpec(firstSeenMs: ArrayLike<number>, labels: readonly string[], episodes: readonly TimelineEpisode[], options: { title?: string } = {}): VegaLiteSpec {
  if (firstSeenMs.length !== labels.length) throw new RangeError(`flowTimelineSpec: ${firstSeenMs.length} times but ${labels.length} labels`);
  let t0 = Infinity;
  for (let i = 0; i < firstSeenMs.length; i++) t0 = Math.min(t0, firstSeenMs[i]!);
  const counts = new Map<string, number>();
  for (let i = 0; i < firstSeenMs.length; i++) {
    const key = `${Math.floor((firstSeenMs[i]! - t0) / 1000)}|${labels[i]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const bars = [...counts].map(([k, n]) => {
    const [second, label] = k.split('|');
    return { second: Number(second), label, flows: n };
  });
  const order = ['normal', ...episodes.map((e) => e.episode).filter((e, i, a) => a.indexOf(e) === i)];
  const shades = episodes.map((e) => ({ episode: e.episode, start: round((e.startMs - t0) / 1000, 2), end: round((e.endMs - t0) / 1000, 2) }));
  return {
    $schema: SCHEMA,
    title: { text: options.title ?? 'Flows per second', subtitle: 'stacked by label on a symlog axis (the top of a bar is the total); shaded: each attack episode\'s recorded window' },
    width: 640,
    height: 220,
    layer: [
      {
        data: { values: shades },
        mark: { type: 'rect', opacity: 0.15, color: '#888' },
        encoding: { x: { field: 'start', type: 'quantitative', scale: { domainMin: 0, nice: false } }, x2: { field: 'end' }, tooltip: [{ field: 'episode', type: 'nominal' }, { field: 'start', type: 'quantitative', title: 'from s' }, { field: 'end', type: 'quantitative', title: 'to s' }] },
      },
      {
        data: { values: bars },
        mark: { type: 'bar', width: 2 },
        encoding: {
          x: { field: 'second', type: 'quantitative', title: 'seconds since the first flow', scale: { domainMin: 0, nice: false } },
          y: { field: 'flows', type: 'quantitative', aggregate: 'sum', title: 'flows starting per second', scale: { type: 'symlog' } },
          color: { field: 'label', type: 'nominal', title: 'label', sort: order, scale: { domain: order } },
          order: { field: 'label', sort: 'ascending' },
          tooltip: [{ field: 'second', type: 'quantitative' }, { field: 'label', type: 'nominal' }, { field: 'flows', type: 'quantitative' }],
        },
      },
    ],
    config: CONFIG,
  } as VegaLiteSpec;
}
