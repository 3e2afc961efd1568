/**
 * Charts of the traffic and of what the forest does to it: raw feature
 * histograms, PCA views (scatter, density with the forest's decisions, the
 * decision map), score and path-length histograms.
 */
import type { Matrix } from '../core/matrix';
import type { Dataset } from '../data/simulate';
import type { VegaLiteSpec } from './vega';
import { SCHEMA, COLORS, CONFIG, round, classOf, extent, classBins, classColor, classHistogramLayer } from './spec-parts';
import { formatCount } from '../core/count-text';

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
      ...classHistogramLayer({
        opacity: 0.65,
        xTitle: 'value',
        y: { field: 'share', type: 'quantitative', stack: null, title: 'share of class', axis: { format: '.0%' } },
        color: { ...classColor('traffic'), legend: { orient: 'top' } },
        tooltipFirst: [{ field: 'feature', type: 'nominal' }],
      }),
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
  const thinned = kept.length < ordinary.length ? `; ${formatCount(kept.length)} of ${formatCount(ordinary.length)} ordinary rows shown` : '';
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
        ...classHistogramLayer({
          opacity: 0.7,
          xTitle: 'score_samples (lower = more abnormal)',
          y: { field: 'count', type: 'quantitative', stack: null, title: 'rows (square-root scale)', scale: { type: 'sqrt' } },
          color: classColor('true label'),
        }),
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
      subtitle: `grey cells: ${formatCount(ordinary)} normal rows that passed (darker = more rows); points: every flagged or anomalous row (${points.length}), shape = true label`,
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
        ...classHistogramLayer({
          opacity: 0.75,
          xTitle: 'mean path length E[h(x)] (splits)',
          y: { field: 'share', type: 'quantitative', title: 'share of the class', stack: null, axis: { format: '.0%' } },
          color: classColor('true label'),
        }),
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
  const thinned = keptNormal.length < normal.length ? `; ${formatCount(keptNormal.length)} of ${formatCount(normal.length)} normal rows drawn, every anomaly` : '';
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
