/**
 * Charts of an evaluation: ranking curves (ROC, precision-recall), the confusion
 * heatmap, parameter sweeps, variants and attack families compared, and the
 * waterfall of one explanation.
 */
import { averagePrecision, precisionRecallCurve, rocAuc, rocCurve, type ConfusionMatrix, type PrCurve, type RocCurve } from '../eval/metrics';
import type { SweepRow } from '../workflow/sweep';
import type { VegaLiteSpec } from './vega';
import { SCHEMA, COLORS, CONFIG, round, thin, labelName } from './spec-parts';
import { formatCount } from '../core/count-text';

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
    data: { values: rows.map((r) => ({ ...r, rate: round(r.rate, 4), label: `${r.family} (${formatCount(r.records)})` })) },
    width: { step: options.step ?? 26 },
    height: 240,
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'operatingPoint', type: 'nominal', title: null, axis: { labels: false, ticks: false }, sort: points },
      y: { field: 'rate', type: 'quantitative', title: 'detection rate', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
      column: { field: 'label', type: 'nominal', title: options.columnTitle ?? 'attack family (test records)', sort: families.map((f) => rows.find((r) => r.family === f) as FamilyDetectionRow).map((r) => `${r.family} (${formatCount(r.records)})`), header: { labelOrient: 'bottom', titleOrient: 'bottom' } },
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
