/**
 * The tables of notebooks 09 and 10 (real, labelled traffic), built from the
 * library's results so that a notebook cell is one call: the counting, the
 * grouping and the selection live here, where the tests reach them.
 */
import { countBy, type FlowRecords } from '../data/flows';
import type { CategoryCount, FeatureRange, IdenticalRecords, NovelAttacks } from '../data/flow-stats';
import { baseRate } from '../eval/metrics';
import { alertDrivers, describeDriver, featureImportance, type FeatureImportance, type RecordExplanations } from '../explain/alerts';
import type { BaselineComparison, DetectorResult } from '../workflow/baselines';
import { familyOrder, type AttackDetectionRow, type PreprocessingChoice, type RealTrafficEvaluation, type ScalingEffect, type ValidatedDetection } from '../workflow/real-traffic';
import type { FamilyDetectionRow } from './evaluation-plots';
import type { TableRow } from './tables';
import { formatCount } from '../core/count-text';

const pct = (x: number, digits = 1) => (Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(digits)}%`);

/** Records per class (normal, then the attack families) in both files, with their shares. */
export function classCountRows(train: FlowRecords, test: FlowRecords): TableRow[] {
  const tally = (r: FlowRecords) => new Map(countBy(r.family).map((c) => [c.value, c.count] as const));
  const tr = tally(train);
  const te = tally(test);
  return ['normal', ...familyOrder([...train.family, ...test.family])].map((f) => ({
    class: f,
    train: tr.get(f) ?? 0,
    'train share': pct((tr.get(f) ?? 0) / train.rows, 2),
    test: te.get(f) ?? 0,
    'test share': pct((te.get(f) ?? 0) / test.rows, 2),
  }));
}

/** The novel attack names as one sentence and their list. */
export function novelAttackLines(novel: NovelAttacks): string {
  return `${novel.names.length} attack names occur only in the test file: ${formatCount(novel.records)} records, ${pct(novel.records / novel.attacks)} of the test attacks\n${novel.names.map((c) => `${c.value} ${c.count}`).join(', ')}`;
}

/** {@link categoryCounts} as table rows; `limit` keeps the most common. */
export function categoryCountRows(counts: readonly CategoryCount[], column: string, limit = counts.length): TableRow[] {
  return counts.slice(0, limit).map((c) => ({ [column]: c.value, train: c.train, test: c.test }));
}

/** "N in the training file, M in the test file, K of them never seen in training" */
export function categorySummary(counts: readonly CategoryCount[], plural: string): string {
  const inTest = counts.filter((c) => c.test > 0);
  return `${plural}: ${counts.filter((c) => c.train > 0).length} in the training file, ${inTest.length} in the test file, ${inTest.filter((c) => c.train === 0).length} of them never seen in training`;
}

/** Detection per family at each FPR target of an evaluation (mean ± std over its seeds). */
export function familyDetectionRows(e: RealTrafficEvaluation): TableRow[] {
  return Object.entries(e.familyCounts).map(([family, n]) => {
    const row: TableRow = { family, 'test records': n };
    for (const [k, d] of Object.entries(e.detection)) row[`detected at ${k} FPR`] = `${pct(d.perFamily[family].mean)} ± ${pct(d.perFamily[family].std)}`;
    return row;
  });
}

/** The same as the points of {@link familyDetectionSpec}'s chart. */
export function familyDetectionPoints(e: RealTrafficEvaluation): FamilyDetectionRow[] {
  return Object.entries(e.familyCounts).flatMap(([family, records]) => Object.entries(e.detection).map(([k, d]) => ({ family, operatingPoint: `${k} FPR`, rate: d.perFamily[family].mean, records })));
}

/** {@link detectionByAttack} as table rows (`limit` largest names). */
export function attackDetectionRows(rows: readonly AttackDetectionRow[], operatingPoint: string, limit = rows.length): TableRow[] {
  return rows.slice(0, limit).map((r) => ({ attack: r.attack, family: r.family, 'test records': r.records, [`detected at ${operatingPoint}`]: pct(r.detected), 'most common service': r.service, 'most common flag': r.flag }));
}

/** {@link preprocessingGrid} as table rows: choices, then ROC-AUC with its range over seeds, average precision and detection at the first FPR target. */
export function preprocessingRows(grid: readonly PreprocessingChoice[]): TableRow[] {
  return grid.map(({ trainOn, encoding, log1p, evaluation: e }) => {
    const [k, d] = Object.entries(e.detection)[0];
    return {
      'trained on': trainOn, encoding, log1p: log1p ? 'yes' : 'no', features: e.encodedFeatures,
      'ROC-AUC': e.rocAuc.mean, 'min-max': `${e.rocAuc.min.toFixed(3)}-${e.rocAuc.max.toFixed(3)}`,
      'average precision': e.averagePrecision.mean, [`detected at ${k} FPR`]: d.detectionRate.mean,
    };
  });
}

/** {@link featureRanges} as table rows. */
export function featureRangeRows(ranges: readonly FeatureRange[]): TableRow[] {
  return ranges.map((r) => ({ records: r.set, rows: r.records, min: r.min, max: r.max, 'label at the max': r.maxLabel, 'non-zero': r.nonZero, 'median of the non-zero': r.medianNonZero }));
}

/** {@link identicalAcrossLabels} as table rows. */
export function identicalRows(rows: readonly IdenticalRecords[]): TableRow[] {
  return rows.map((r) => ({ attack: r.label, 'test records': r.records, [`identical to a ${r.other} test record`]: r.identical }));
}

/** {@link scalingEffect} as printed lines. */
export function scalingEffectLines(s: ScalingEffect): string {
  const pca = (label: string, c: ScalingEffect['pcaScaled']) => `PCA, ${label.padEnd(8)}: PC1 explains ${pct(c.varianceRatio)} of the variance; largest loadings ${c.loadings.map((l) => `${l.feature} (${l.loading.toFixed(3)})`).join(', ')}`;
  return [
    `isolation forest, scaled:   ROC-AUC ${s.scaledRocAuc.toFixed(6)}`,
    `isolation forest, unscaled: ROC-AUC ${s.unscaledRocAuc.toFixed(6)}; ${s.scoresThatDiffer} of ${s.testRecords} test scores differ, largest difference ${s.largestDifference.toExponential(2)}`,
    pca('unscaled', s.pcaUnscaled),
    pca('scaled', s.pcaScaled),
  ].join('\n');
}

/**
 * Thresholds set on held-out normal training records, per target: the rate
 * reached on them and on the test's normal records, detection overall and per
 * family, and beside it the detection of the same forests with the threshold set
 * on the test's normal records (means over the seeds; the test rate with its spread).
 */
export function validatedDetectionRows(v: ValidatedDetection): TableRow[] {
  return Object.entries(v.perTarget).map(([target, d]) => {
    const row: TableRow = {
      target,
      'FPR on held-out normal': pct(d.validationFpr.mean, 2),
      'FPR on test normal': `${pct(d.testFpr.mean, 2)} ± ${(100 * d.testFpr.std).toFixed(2)}`,
      detected: pct(d.detectionRate.mean),
    };
    for (const [family, s] of Object.entries(d.perFamily)) row[family] = pct(s.mean);
    row['detected, threshold set on the test'] = pct(d.oracleDetectionRate.mean);
    return row;
  });
}

/** {@link baselineComparison} as table rows, one per detector. */
export function baselineRows(b: BaselineComparison): TableRow[] {
  return b.detectors.map((d) => {
    const row: TableRow = {
      detector: d.name,
      labels: d.usesLabels ? 'yes' : 'no',
      'ROC-AUC': d.rocAuc === null ? '' : d.rocAuc.toFixed(3),
      'FPR held-out': pct(d.validationFpr, 2),
      'FPR test': pct(d.testFpr, 2),
      detected: pct(d.detectionRate),
    };
    for (const [family, rate] of Object.entries(d.perFamily)) row[family] = pct(rate);
    row['known names'] = pct(d.known);
    row['novel names'] = pct(d.novel);
    return row;
  });
}

/**
 * The base-rate view of detectors: each one's measured detection rate (TPR)
 * and false-positive rate carried to other prevalences at a stated traffic
 * volume: alerts a day, how many of them are attacks, and the precision.
 */
export function baseRateRows(detectors: ReadonlyArray<Pick<DetectorResult, 'name' | 'detectionRate' | 'testFpr'>>, prevalences: readonly number[], recordsPerDay: number): TableRow[] {
  return detectors.flatMap((d) =>
    prevalences.map((p) => {
      const r = baseRate(d.detectionRate, d.testFpr, p, recordsPerDay);
      return {
        detector: d.name,
        'attack share': pct(p),
        'attacks a day': formatCount(r.attacksPerDay),
        'alerts a day': formatCount(r.alertsPerDay),
        'caught attacks': formatCount(r.caughtPerDay),
        'false alarms': formatCount(r.falseAlarmsPerDay),
        precision: pct(r.precision),
      };
    }),
  );
}

/** {@link featureImportance} over all alerts as table rows (the `limit` strongest). */
export function featureImportanceRows(why: RecordExplanations, limit = 10): TableRow[] {
  return featureImportance(why).slice(0, limit).map((r) => ({ feature: r.feature, 'mean contribution': r.meanContribution.toFixed(3), 'in top 3 of': `${pct(r.topShare)} of alerts` }));
}

/**
 * The most anomalous alerts of one kind (attacks, or any), each with its three
 * strongest drivers.
 *
 * @param alertRows - the explained alerts' record indices, in the explanations' row order
 * @param scores - every record's score
 */
export function topAlertRows(why: RecordExplanations, alertRows: readonly number[], records: FlowRecords, scores: ArrayLike<number>, options: { attacksOnly?: boolean; limit?: number } = {}): TableRow[] {
  const picked: Array<{ i: number; k: number }> = [];
  for (let k = 0; k < alertRows.length && picked.length < (options.limit ?? 10); k++) {
    if (!options.attacksOnly || records.y[alertRows[k]] === -1) picked.push({ i: alertRows[k], k });
  }
  return picked.map(({ i, k }) => {
    const [d1, d2, d3] = alertDrivers(why, k, 3);
    return { record: i, attack: records.attack[i], family: records.family[i], score: scores[i].toFixed(4), '1st driver': describeDriver(d1), '2nd driver': describeDriver(d2), '3rd driver': describeDriver(d3) };
  });
}

/**
 * Per group of alerts (the false alarms, then each attack family): its size and
 * the three features with the most negative mean contribution.
 *
 * @param alertRows - the explained alerts' record indices, in the explanations' row order
 */
export function alertGroupRows(why: RecordExplanations, alertRows: readonly number[], records: FlowRecords): TableRow[] {
  const families = alertRows.map((i) => records.family[i]);
  const groups = ['normal', ...familyOrder(families)];
  const show = (r: FeatureImportance | undefined) => (r ? `${r.feature} (${r.meanContribution.toFixed(2)}; top 3 in ${(100 * r.topShare).toFixed(0)}%)` : '');
  return groups.map((fam) => {
    const rows: number[] = [];
    families.forEach((f, k) => {
      if (f === fam) rows.push(k);
    });
    const [a, b, c] = rows.length === 0 ? [] : featureImportance(why, { rows });
    return { alerts: fam === 'normal' ? 'normal (false alarms)' : fam, count: rows.length, '1st feature': show(a), '2nd feature': show(b), '3rd feature': show(c) };
  });
}
