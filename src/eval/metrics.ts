import { formatFixed, pyFloatRepr, pyStr } from '../core/pyformat';

/**
 * Classification and ranking metrics with scikit-learn's definitions
 * (sklearn.metrics 1.2, zero_division=0), down to the order of floating-point
 * operations where it can change a printed digit.
 */

export type Label = number | string;

/**
 * numpy's pairwise summation (what np.sum / np.mean use along a contiguous
 * axis). Summing in the same order keeps averages bit-identical to numpy's.
 */
export function npSum(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = -0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    const r = [a[start], a[start + 1], a[start + 2], a[start + 3], a[start + 4], a[start + 5], a[start + 6], a[start + 7]];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let k = 0; k < 8; k++) r[k] += a[start + i + k];
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return npSum(a, start, n2) + npSum(a, start + n2, n - n2);
}

function checkLabels(y: ArrayLike<Label>, name: string): void {
  let kind: string | undefined;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    const k = typeof v;
    if (k !== 'number' && k !== 'string') throw new TypeError(`${name}[${i}] is ${String(v)}: labels must be numbers or strings`);
    if (k === 'number' && !Number.isFinite(v)) throw new TypeError(`${name}[${i}] is ${v}: numeric labels must be finite`);
    if (kind === undefined) kind = k;
    else if (k !== kind) throw new TypeError(`${name} mixes numbers and strings (${name}[${i}] is ${JSON.stringify(v)})`);
  }
}

function checkPair(yTrue: ArrayLike<Label>, yPred: ArrayLike<Label>): void {
  if (yTrue.length !== yPred.length) throw new RangeError(`yTrue has ${yTrue.length} labels but yPred has ${yPred.length}`);
  checkLabels(yTrue, 'yTrue');
  checkLabels(yPred, 'yPred');
  if (yTrue.length > 0 && typeof yTrue[0] !== typeof yPred[0]) throw new TypeError('yTrue and yPred mix numeric and string labels');
}

function compareLabels(a: Label, b: Label): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** sklearn.utils.multiclass.unique_labels: the sorted union of labels. */
export function uniqueLabels(...ys: ArrayLike<Label>[]): Label[] {
  const set = new Set<Label>();
  for (const y of ys) for (let i = 0; i < y.length; i++) set.add(y[i]);
  return [...set].sort(compareLabels);
}

export interface LabelOptions {
  /** the classes to report, in this order (default: sorted union of yTrue and yPred) */
  labels?: Label[];
}

export interface PerClassScores {
  labels: Label[];
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
  /**
   * scikit-learn returns supports as floats (printed "5.0") in the one
   * pathological case where no prediction at all is correct.
   */
  supportIsFloat: boolean;
}

interface Counts {
  labels: Label[];
  tp: number[];
  predSum: number[];
  trueSum: number[];
  anyCorrect: boolean;
}

function countPerLabel(yTrue: ArrayLike<Label>, yPred: ArrayLike<Label>, labels: Label[]): Counts {
  const index = new Map<Label, number>();
  labels.forEach((l, k) => index.set(l, k));
  const tp = new Array<number>(labels.length).fill(0);
  const predSum = tp.slice();
  const trueSum = tp.slice();
  let anyCorrect = false;
  for (let i = 0; i < yTrue.length; i++) {
    const t = index.get(yTrue[i]);
    const p = index.get(yPred[i]);
    if (yTrue[i] === yPred[i]) {
      anyCorrect = true;
      if (t !== undefined) tp[t]++;
    }
    if (t !== undefined) trueSum[t]++;
    if (p !== undefined) predSum[p]++;
  }
  return { labels, tp, predSum, trueSum, anyCorrect };
}

function divideOrZero(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

function fScore(p: number, r: number): number {
  const denom = p + r;
  return (2 * p * r) / (denom === 0 ? 1 : denom);
}

/** precision_recall_fscore_support(average=None, zero_division=0) */
export function precisionRecallFscoreSupport(
  yTrue: ArrayLike<Label>,
  yPred: ArrayLike<Label>,
  options: LabelOptions = {},
): PerClassScores {
  checkPair(yTrue, yPred);
  const labels = options.labels ?? uniqueLabels(yTrue, yPred);
  const c = countPerLabel(yTrue, yPred, labels);
  const precision = c.tp.map((tp, k) => divideOrZero(tp, c.predSum[k]));
  const recall = c.tp.map((tp, k) => divideOrZero(tp, c.trueSum[k]));
  const f1 = precision.map((p, k) => fScore(p, recall[k]));
  return { labels, precision, recall, f1, support: c.trueSum, supportIsFloat: !c.anyCorrect };
}

export interface AverageScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** precision_recall_fscore_support(average='micro' | 'macro' | 'weighted', zero_division=0) */
export function averageScores(
  yTrue: ArrayLike<Label>,
  yPred: ArrayLike<Label>,
  average: 'micro' | 'macro' | 'weighted',
  options: LabelOptions = {},
): AverageScores {
  const s = precisionRecallFscoreSupport(yTrue, yPred, options);
  const total = s.support.reduce((a, b) => a + b, 0);
  if (average === 'micro') {
    const c = countPerLabel(yTrue, yPred, s.labels);
    const tp = c.tp.reduce((a, b) => a + b, 0);
    const p = divideOrZero(tp, c.predSum.reduce((a, b) => a + b, 0));
    const r = divideOrZero(tp, total);
    return { precision: p, recall: r, f1: fScore(p, r), support: total };
  }
  if (average === 'macro') {
    const n = s.labels.length;
    return { precision: npSum(s.precision) / n, recall: npSum(s.recall) / n, f1: npSum(s.f1) / n, support: total };
  }
  if (total === 0) return { precision: 0, recall: 0, f1: 0, support: 0 };
  const weighted = (v: number[]) => npSum(v.map((x, k) => x * s.support[k])) / total;
  return { precision: weighted(s.precision), recall: weighted(s.recall), f1: weighted(s.f1), support: total };
}

export interface ReportOptions extends LabelOptions {
  /** digits after the decimal point (scikit-learn's default 2) */
  digits?: number;
  /** names printed for the labels (default: str(label)) */
  targetNames?: string[];
}

export interface ReportRow {
  name: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ReportData {
  classes: ReportRow[];
  /** present when the report prints an accuracy line (no label subset given) */
  accuracy?: number;
  /** present instead of accuracy when a label subset is given */
  microAvg?: ReportRow;
  macroAvg: ReportRow;
  weightedAvg: ReportRow;
  supportIsFloat: boolean;
}

/** The numbers classification_report prints, as data. */
export function classificationReportData(yTrue: ArrayLike<Label>, yPred: ArrayLike<Label>, options: ReportOptions = {}): ReportData {
  const s = precisionRecallFscoreSupport(yTrue, yPred, options);
  const names = options.targetNames ?? s.labels.map(pyStr);
  if (names.length !== s.labels.length) {
    throw new RangeError(`targetNames has ${names.length} names for ${s.labels.length} labels`);
  }
  const present = uniqueLabels(yTrue, yPred);
  const microIsAccuracy =
    options.labels === undefined ||
    (new Set(options.labels).size === present.length && present.every((l) => options.labels!.includes(l)));
  const row = (name: string, a: AverageScores): ReportRow => ({ name, ...a });
  const micro = averageScores(yTrue, yPred, 'micro', { labels: s.labels });
  return {
    classes: s.labels.map((_, k) => ({
      name: names[k],
      precision: s.precision[k],
      recall: s.recall[k],
      f1: s.f1[k],
      support: s.support[k],
    })),
    accuracy: microIsAccuracy ? micro.f1 : undefined,
    microAvg: microIsAccuracy ? undefined : row('micro avg', micro),
    macroAvg: row('macro avg', averageScores(yTrue, yPred, 'macro', { labels: s.labels })),
    weightedAvg: row('weighted avg', averageScores(yTrue, yPred, 'weighted', { labels: s.labels })),
    supportIsFloat: s.supportIsFloat,
  };
}

/**
 * sklearn.metrics.classification_report(y_true, y_pred, digits=digits,
 * zero_division=0) as text, character for character.
 */
export function classificationReport(yTrue: ArrayLike<Label>, yPred: ArrayLike<Label>, options: ReportOptions = {}): string {
  const digits = options.digits ?? 2;
  const data = classificationReportData(yTrue, yPred, options);
  const headers = ['precision', 'recall', 'f1-score', 'support'];
  const width = Math.max(...data.classes.map((c) => c.name.length), 'weighted avg'.length, digits);
  const num = (v: number) => ` ${formatFixed(v, digits).padStart(9)}`;
  const sup = (v: number) => ` ${(data.supportIsFloat ? pyFloatRepr(v) : String(v)).padStart(9)}\n`;
  const line = (r: ReportRow) => `${r.name.padStart(width)} ${num(r.precision)}${num(r.recall)}${num(r.f1)}${sup(r.support)}`;
  let report = `${''.padStart(width)} ${headers.map((h) => ` ${h.padStart(9)}`).join('')}\n\n`;
  for (const c of data.classes) report += line(c);
  report += '\n';
  if (data.accuracy !== undefined) {
    report += `${'accuracy'.padStart(width)} ${' '.repeat(10)}${' '.repeat(10)}${num(data.accuracy)}${sup(data.weightedAvg.support)}`;
  } else {
    report += line(data.microAvg!);
  }
  report += line(data.macroAvg);
  report += line(data.weightedAvg);
  return report;
}

export interface ConfusionMatrix {
  /** order of rows (true class) and columns (predicted class) */
  labels: Label[];
  /** matrix[i][j] = rows of true class labels[i] predicted as labels[j] */
  matrix: number[][];
}

/** sklearn.metrics.confusion_matrix; rows whose labels are not in `labels` are ignored. */
export function confusionMatrix(yTrue: ArrayLike<Label>, yPred: ArrayLike<Label>, options: LabelOptions = {}): ConfusionMatrix {
  checkPair(yTrue, yPred);
  const labels = options.labels ?? uniqueLabels(yTrue, yPred);
  const index = new Map<Label, number>();
  labels.forEach((l, k) => index.set(l, k));
  const matrix = labels.map(() => new Array<number>(labels.length).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = index.get(yTrue[i]);
    const p = index.get(yPred[i]);
    if (t !== undefined && p !== undefined) matrix[t][p]++;
  }
  return { labels, matrix };
}

export interface RankingOptions {
  /** the label of the positive class in yTrue (default 1) */
  posLabel?: Label;
}

export interface ClfCurve {
  /** false positives at or above each threshold */
  fps: Float64Array;
  /** true positives at or above each threshold */
  tps: Float64Array;
  /** distinct scores, decreasing */
  thresholds: Float64Array;
}

/**
 * sklearn.metrics._ranking._binary_clf_curve: counts at each distinct score,
 * highest first. Tied scores form one point, which is how ties earn half credit
 * in ROC-AUC and are grouped in average precision.
 */
export function binaryClfCurve(yTrue: ArrayLike<Label | boolean>, scores: ArrayLike<number>, options: RankingOptions = {}): ClfCurve {
  const n = yTrue.length;
  if (scores.length !== n) throw new RangeError(`yTrue has ${n} labels but scores has ${scores.length} values`);
  const pos = options.posLabel ?? 1;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(scores[i])) throw new RangeError(`scores[${i}] is ${scores[i]}: scores must be finite`);
  }
  // Sort the positives' and the negatives' scores separately (native numeric
  // sorts) and merge them from the top: each distinct score becomes one point
  // with the counts of both classes at or above it.
  let nPos = 0;
  for (let i = 0; i < n; i++) if (yTrue[i] === pos || yTrue[i] === true) nPos++;
  const posScores = new Float64Array(nPos);
  const negScores = new Float64Array(n - nPos);
  for (let i = 0, a = 0, b = 0; i < n; i++) {
    if (yTrue[i] === pos || yTrue[i] === true) posScores[a++] = scores[i];
    else negScores[b++] = scores[i];
  }
  posScores.sort();
  negScores.sort();
  const fps: number[] = [];
  const tps: number[] = [];
  const thresholds: number[] = [];
  let p = nPos - 1;
  let q = negScores.length - 1;
  let tp = 0;
  let fp = 0;
  while (p >= 0 || q >= 0) {
    const v = p < 0 ? negScores[q] : q < 0 ? posScores[p] : Math.max(posScores[p], negScores[q]);
    while (p >= 0 && posScores[p] === v) {
      tp++;
      p--;
    }
    while (q >= 0 && negScores[q] === v) {
      fp++;
      q--;
    }
    tps.push(tp);
    fps.push(fp);
    thresholds.push(v);
  }
  return { fps: Float64Array.from(fps), tps: Float64Array.from(tps), thresholds: Float64Array.from(thresholds) };
}

function checkBothClasses(c: ClfCurve, what: string): void {
  const nPos = c.tps[c.tps.length - 1];
  const nNeg = c.fps[c.fps.length - 1];
  if (!(nPos > 0 && nNeg > 0)) {
    throw new RangeError(`${what} is not defined when yTrue holds only one class (${nPos} positive, ${nNeg} negative rows)`);
  }
}

export interface RocCurve {
  fpr: Float64Array;
  tpr: Float64Array;
  thresholds: Float64Array;
}

/** sklearn.metrics.roc_curve (drop_intermediate=True, first threshold = max score + 1 as in 1.2). */
export function rocCurve(
  yTrue: ArrayLike<Label | boolean>,
  scores: ArrayLike<number>,
  options: RankingOptions & { dropIntermediate?: boolean } = {},
): RocCurve {
  const c = binaryClfCurve(yTrue, scores, options);
  if (c.tps.length === 0) throw new RangeError('roc curve of an empty set');
  checkBothClasses(c, 'ROC');
  let keep: number[] = Array.from(c.fps.keys());
  if ((options.dropIntermediate ?? true) && c.fps.length > 2) {
    // keep the end points and every point where the curve bends
    keep = [0];
    for (let i = 1; i < c.fps.length - 1; i++) {
      const d2f = c.fps[i + 1] - 2 * c.fps[i] + c.fps[i - 1];
      const d2t = c.tps[i + 1] - 2 * c.tps[i] + c.tps[i - 1];
      if (d2f !== 0 || d2t !== 0) keep.push(i);
    }
    keep.push(c.fps.length - 1);
  }
  const m = keep.length + 1;
  const fpr = new Float64Array(m);
  const tpr = new Float64Array(m);
  const thresholds = new Float64Array(m);
  const nNeg = c.fps[c.fps.length - 1];
  const nPos = c.tps[c.tps.length - 1];
  thresholds[0] = c.thresholds[keep[0]] + 1;
  keep.forEach((k, i) => {
    fpr[i + 1] = c.fps[k] / nNeg;
    tpr[i + 1] = c.tps[k] / nPos;
    thresholds[i + 1] = c.thresholds[k];
  });
  return { fpr, tpr, thresholds };
}

/** sklearn.metrics.auc: trapezoidal area under a monotonic curve (np.trapz). */
export function auc(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (n < 2 || y.length !== n) throw new RangeError(`auc needs at least 2 points and equal lengths (got ${n} and ${y.length})`);
  let direction = 1;
  let anyDecrease = false;
  let anyIncrease = false;
  for (let i = 1; i < n; i++) {
    if (x[i] < x[i - 1]) anyDecrease = true;
    if (x[i] > x[i - 1]) anyIncrease = true;
  }
  if (anyDecrease) {
    if (anyIncrease) throw new RangeError('auc: x is neither increasing nor decreasing');
    direction = -1;
  }
  const parts = new Float64Array(n - 1);
  for (let i = 0; i < n - 1; i++) parts[i] = ((x[i + 1] - x[i]) * (y[i + 1] + y[i])) / 2;
  return direction * npSum(parts);
}

/** sklearn.metrics.roc_auc_score for a binary target. */
export function rocAuc(yTrue: ArrayLike<Label | boolean>, scores: ArrayLike<number>, options: RankingOptions = {}): number {
  const { fpr, tpr } = rocCurve(yTrue, scores, options);
  return auc(fpr, tpr);
}

export interface PrCurve {
  /** decreasing recall order, ending with precision 1 at recall 0 */
  precision: Float64Array;
  recall: Float64Array;
  thresholds: Float64Array;
}

/** sklearn.metrics.precision_recall_curve */
export function precisionRecallCurve(yTrue: ArrayLike<Label | boolean>, scores: ArrayLike<number>, options: RankingOptions = {}): PrCurve {
  const c = binaryClfCurve(yTrue, scores, options);
  const m = c.tps.length;
  if (m === 0) throw new RangeError('precision-recall curve of an empty set');
  const nPos = c.tps[m - 1];
  if (!(nPos > 0)) throw new RangeError('precision-recall curve is not defined when yTrue holds no positive row');
  const precision = new Float64Array(m + 1);
  const recall = new Float64Array(m + 1);
  const thresholds = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const src = m - 1 - k; // reversed so recall decreases
    const predicted = c.tps[src] + c.fps[src];
    precision[k] = predicted === 0 ? 0 : c.tps[src] / predicted;
    recall[k] = c.tps[src] / nPos;
    thresholds[k] = c.thresholds[src];
  }
  precision[m] = 1;
  recall[m] = 0;
  return { precision, recall, thresholds };
}

/** sklearn.metrics.average_precision_score: sum over thresholds of (R_n - R_{n-1}) P_n. */
export function averagePrecision(yTrue: ArrayLike<Label | boolean>, scores: ArrayLike<number>, options: RankingOptions = {}): number {
  const { precision, recall } = precisionRecallCurve(yTrue, scores, options);
  const parts = new Float64Array(recall.length - 1);
  for (let i = 0; i < parts.length; i++) parts[i] = (recall[i + 1] - recall[i]) * precision[i];
  return -npSum(parts);
}

/** The numbers that describe how well a detector separated anomalies (-1) from normal rows (1). */
export interface DetectionSummary {
  nRows: number;
  /** rows labelled -1 in the ground truth */
  nAnomalous: number;
  /** rows predicted -1 */
  nFlagged: number;
  /** ROC-AUC of -score (higher = more abnormal) for the anomaly class */
  rocAuc: number;
  averagePrecision: number;
  /** precision, recall and F1 of the anomaly class (-1) */
  precision: number;
  recall: number;
  f1: number;
  accuracy: number;
  confusion: ConfusionMatrix;
  /** classification_report text (digits as asked) */
  report: string;
}

/**
 * Evaluate anomaly predictions: the anomaly class (-1) is the positive class and
 * -scoreSamples ranks rows from most to least abnormal.
 */
export function summarizeDetection(
  yTrue: ArrayLike<number>,
  scoreSamples: ArrayLike<number>,
  predictions: ArrayLike<number>,
  options: { digits?: number } = {},
): DetectionSummary {
  const y = Array.from(yTrue);
  const pred = Array.from(predictions);
  const negScores = Float64Array.from(scoreSamples, (s) => -s);
  const labels = [-1, 1];
  const perClass = precisionRecallFscoreSupport(y, pred, { labels });
  return {
    nRows: y.length,
    nAnomalous: y.filter((v) => v === -1).length,
    nFlagged: pred.filter((v) => v === -1).length,
    rocAuc: rocAuc(y, negScores, { posLabel: -1 }),
    averagePrecision: averagePrecision(y, negScores, { posLabel: -1 }),
    precision: perClass.precision[0],
    recall: perClass.recall[0],
    f1: perClass.f1[0],
    accuracy: averageScores(y, pred, 'micro', { labels }).f1,
    confusion: confusionMatrix(y, pred, { labels }),
    report: classificationReport(y, pred, { digits: options.digits ?? 2 }),
  };
}

/**
 * Share of normal rows flagged as anomalies (false-positive rate of the anomaly
 * class) read from a confusion matrix with labels -1 (anomaly) and 1 (normal).
 * Measured on normal traffic, this is the alarm rate a stream of purely normal
 * traffic should show: the baseline to compare a stream's anomaly rate with.
 *
 * @param cm confusion matrix whose labels include `normalLabel` and `anomalyLabel`
 * @param normalLabel label of normal rows (default 1)
 * @param anomalyLabel label of anomalies (default -1)
 * @returns false alarms / normal rows, in [0, 1]
 * @throws RangeError when a label is missing or there are no normal rows
 */
export function falseAlarmRate(cm: ConfusionMatrix, normalLabel: Label = 1, anomalyLabel: Label = -1): number {
  const n = cm.labels.indexOf(normalLabel);
  const a = cm.labels.indexOf(anomalyLabel);
  if (n < 0 || a < 0) throw new RangeError(`falseAlarmRate: the confusion matrix has labels ${JSON.stringify(cm.labels)}, not ${normalLabel} and ${anomalyLabel}`);
  const normals = cm.matrix[n].reduce((s, v) => s + v, 0);
  if (normals === 0) throw new RangeError('falseAlarmRate: the confusion matrix has no normal rows');
  return cm.matrix[n][a] / normals;
}

/**
 * The score threshold that flags at most floor(fpr x n) of `scores` (a record
 * is flagged when its score is strictly below it; fewer when scores tie): the
 * operating point "this false-positive rate on these normal records".
 *
 * @param scores - scores of normal records only (lower is more abnormal)
 * @throws RangeError for an fpr outside (0, 1) or no scores
 */
export function thresholdAtFpr(scores: ArrayLike<number>, fpr: number): number {
  if (!(fpr > 0 && fpr < 1)) throw new RangeError(`fpr must be in (0, 1), got ${fpr}`);
  const sorted = Float64Array.from(scores).sort();
  if (sorted.length === 0) throw new RangeError('thresholdAtFpr: no scores');
  return sorted[Math.floor(fpr * sorted.length)]!;
}

/**
 * What a score threshold does to labelled records: the share of normal records
 * (label 1) flagged, the share of the others flagged, and that share per group
 * of the others (their family, their episode), groups in order of first
 * appearance. A record is flagged when its score is strictly below the threshold.
 *
 * @param groups - each record's group (read for the non-normal records only)
 * @returns `fpr` (NaN without normal records), `detectionRate` (NaN without others), `perGroup`
 */
export function ratesAtThreshold(scores: ArrayLike<number>, y: ArrayLike<number>, groups: readonly string[], threshold: number): { fpr: number; detectionRate: number; perGroup: Record<string, number> } {
  let normals = 0;
  let fp = 0;
  let tp = 0;
  const hit: Record<string, number> = {};
  const total: Record<string, number> = {};
  for (let i = 0; i < y.length; i++) {
    const flagged = scores[i] < threshold;
    if (y[i] === 1) {
      normals++;
      if (flagged) fp++;
      continue;
    }
    const g = groups[i];
    total[g] = (total[g] ?? 0) + 1;
    if (flagged) {
      tp++;
      hit[g] = (hit[g] ?? 0) + 1;
    }
  }
  const attacks = y.length - normals;
  const perGroup: Record<string, number> = {};
  for (const g of Object.keys(total)) perGroup[g] = (hit[g] ?? 0) / total[g];
  return { fpr: normals === 0 ? NaN : fp / normals, detectionRate: attacks === 0 ? NaN : tp / attacks, perGroup };
}

/** What a detector's rates mean for an operator at one prevalence and traffic volume. */
export interface BaseRate {
  /** share of the records that are attacks */
  prevalence: number;
  /** records per day the rates are applied to */
  recordsPerDay: number;
  attacksPerDay: number;
  /** alerts per day: caught attacks plus false alarms */
  alertsPerDay: number;
  caughtPerDay: number;
  falseAlarmsPerDay: number;
  /** share of the alerts that are attacks (NaN when nothing is flagged) */
  precision: number;
}

/**
 * The base-rate view: a detection rate (TPR) and a false-positive rate measured
 * on labelled data carried to another prevalence. Precision depends on the
 * prevalence, the two rates do not (as long as the attacks and the normal
 * traffic look like the measured ones), so precision at a test file's 57%
 * attacks says little about a network where 1 connection in 1,000 is one:
 * precision = TPR p / (TPR p + FPR (1 - p)).
 */
export function baseRate(tpr: number, fpr: number, prevalence: number, recordsPerDay: number): BaseRate {
  if (!(tpr >= 0 && tpr <= 1)) throw new RangeError(`tpr must be in [0, 1], got ${tpr}`);
  if (!(fpr >= 0 && fpr <= 1)) throw new RangeError(`fpr must be in [0, 1], got ${fpr}`);
  if (!(prevalence > 0 && prevalence < 1)) throw new RangeError(`prevalence must be in (0, 1), got ${prevalence}`);
  if (!(recordsPerDay > 0 && Number.isFinite(recordsPerDay))) throw new RangeError(`recordsPerDay must be a positive number, got ${recordsPerDay}`);
  const attacksPerDay = prevalence * recordsPerDay;
  const caughtPerDay = tpr * attacksPerDay;
  const falseAlarmsPerDay = fpr * (recordsPerDay - attacksPerDay);
  const alertsPerDay = caughtPerDay + falseAlarmsPerDay;
  return { prevalence, recordsPerDay, attacksPerDay, alertsPerDay, caughtPerDay, falseAlarmsPerDay, precision: alertsPerDay === 0 ? NaN : caughtPerDay / alertsPerDay };
}

/** The rows whose score is below the threshold (the alerts), most anomalous first (ties by row). */
export function rowsBelow(scores: ArrayLike<number>, threshold: number): number[] {
  const rows: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i] < threshold) rows.push(i);
  return rows.sort((a, b) => scores[a] - scores[b] || a - b);
}

/** scikit-learn's labels at a threshold: -1 (flagged) where the score is below it, else 1. */
export function labelsAtThreshold(scores: ArrayLike<number>, threshold: number): Int8Array {
  const out = new Int8Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = scores[i] < threshold ? -1 : 1;
  return out;
}
