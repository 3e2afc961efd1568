/**
 * What a fitted forest can see: how often its trees split on each original
 * feature. An isolation tree splits only on a feature that varies within the
 * rows of its node, so a feature that is (almost) always 0 in the training
 * sample is (almost) never split on, and a record that is unusual only in that
 * feature is not isolated any faster than a normal one: a blind spot of the
 * method, not of the data. And the feature of each split is drawn at random
 * among the columns, so a categorical feature one-hot encoded into k columns
 * is drawn about k times as often as one numeric feature.
 */
import type { FlowRecords } from '../data/flows';
import type { IsolationForest } from '../model/forest';
import type { RecordEncoder } from '../model/encoder';
import type { FeatureGroup } from './contributions';
import { formatCount } from '../core/count-text';

/** An encoder's original features and the encoded columns each became. */
export function encoderFeatureGroups(encoder: RecordEncoder): FeatureGroup[] {
  return encoder.inputNames.map((name, j) => ({ name, columns: encoder.outputColumns(j) }));
}

/** How a forest uses one original feature. */
export interface FeatureUsage {
  name: string;
  /** encoded columns of the feature (1 for a numeric feature, one per category for a one-hot one) */
  columns: number;
  /** trees with at least one split on the feature */
  trees: number;
  /** `trees` / the forest's trees */
  treeShare: number;
  /** the forest's trees */
  forestTrees: number;
  /** splits on the feature, over all trees */
  splits: number;
  /** `splits` / all splits of the forest */
  splitShare: number;
}

/**
 * Per original feature: how many trees split on it at least once, and its share of all splits.
 *
 * @param groups the original features and their encoded columns (`originalFeatureGroups(model)`), in the order wanted
 */
export function featureUsage(forest: IsolationForest, groups: readonly FeatureGroup[]): FeatureUsage[] {
  const { treeStart, feature } = forest.flat();
  const nTrees = treeStart.length - 1;
  const owner = new Int32Array(forest.nFeatures).fill(-1);
  groups.forEach((g, k) => {
    for (const c of g.columns) owner[c] = k;
  });
  const trees = new Int32Array(groups.length);
  const splits = new Float64Array(groups.length);
  const seen = new Int32Array(groups.length).fill(-1);
  let allSplits = 0;
  for (let t = 0; t < nTrees; t++) {
    for (let node = treeStart[t]; node < treeStart[t + 1]; node++) {
      const f = feature[node];
      if (f < 0) continue; // a leaf
      allSplits++;
      const g = owner[f];
      if (g < 0) continue;
      splits[g]++;
      if (seen[g] !== t) {
        seen[g] = t;
        trees[g]++;
      }
    }
  }
  return groups.map((g, k) => ({ name: g.name, columns: g.columns.length, trees: trees[k], treeShare: trees[k] / nTrees, forestTrees: nTrees, splits: splits[k], splitShare: allSplits === 0 ? 0 : splits[k] / allSplits }));
}

/** One numeric feature's blind spot: how rarely it is non-zero where the forest learned, and where it is non-zero in the test records. */
export interface SparseFeatureRow {
  feature: string;
  /** training records (those the forest was fitted on) with a non-zero value, and their number */
  trainNonZero: number;
  trainRecords: number;
  /** expected non-zero rows in one tree's sample of `maxSamples` rows */
  perTreeSample: number;
  /** test records with a non-zero value, by label (normal or attack name), largest first; `detected`: how many of them score at or below the threshold (when given) */
  testNonZero: { label: string; records: number; of: number; detected?: number }[];
  usage: FeatureUsage;
}

/**
 * The sparse-feature table: for each numeric feature named, how many training
 * records have it non-zero (and so how many rows of one tree's sample do, on
 * average), which test records have it non-zero, and how many trees ever split on it.
 *
 * @param encoder the encoder the forest's inputs come from
 * @param train the records the forest was fitted on (e.g. the normal training records: `prepared.train`)
 * @param features numeric feature names of the schema
 * @throws RangeError for a name that is not a numeric feature
 */
export function sparseFeatureRows(
  forest: IsolationForest,
  encoder: RecordEncoder,
  train: FlowRecords,
  test: FlowRecords,
  features: readonly string[],
  /** the test records' scores and a threshold: count, per label, the non-zero records flagged (score < threshold, as everywhere) */
  detection?: { scores: ArrayLike<number>; threshold: number },
): SparseFeatureRow[] {
  const usage = new Map(featureUsage(forest, encoderFeatureGroups(encoder)).map((u) => [u.name, u]));
  const countByLabel = (r: FlowRecords, j: number, scores?: ArrayLike<number>, threshold = 0) => {
    const nonZero = new Map<string, number>();
    const total = new Map<string, number>();
    const detected = new Map<string, number>();
    for (let i = 0; i < r.rows; i++) {
      const label = r.attack[i];
      total.set(label, (total.get(label) ?? 0) + 1);
      if (r.numeric.data[i * r.numeric.cols + j] !== 0) {
        nonZero.set(label, (nonZero.get(label) ?? 0) + 1);
        if (scores && scores[i] < threshold) detected.set(label, (detected.get(label) ?? 0) + 1);
      }
    }
    return { nonZero, total, detected };
  };
  if (detection && detection.scores.length !== test.rows) throw new RangeError(`${detection.scores.length} scores for ${test.rows} test records`);
  return features.map((name) => {
    const j = train.numericNames.indexOf(name);
    const jt = test.numericNames.indexOf(name);
    if (j < 0 || jt < 0) throw new RangeError(`${name} is not a numeric feature of ${j < 0 ? train.source : test.source}`);
    const u = usage.get(name);
    if (!u) throw new RangeError(`${name} is not one of the forest's features`);
    const tr = countByLabel(train, j);
    const trainNonZero = [...tr.nonZero.values()].reduce((a, b) => a + b, 0);
    const te = countByLabel(test, jt, detection?.scores, detection?.threshold);
    const testNonZero = [...te.nonZero.entries()].map(([label, records]) => ({ label, records, of: te.total.get(label)!, ...(detection ? { detected: te.detected.get(label) ?? 0 } : {}) })).sort((a, b) => b.records - a.records || (a.label < b.label ? -1 : 1));
    return { feature: name, trainNonZero, trainRecords: train.rows, perTreeSample: (forest.maxSamples * trainNonZero) / train.rows, testNonZero, usage: u };
  });
}

/**
 * {@link sparseFeatureRows} as table rows: the feature, its non-zero records in
 * training and per tree sample, the trees that split on it, and the test labels
 * it is most often non-zero in (normal traffic always listed).
 *
 * @param labels how many attack labels to list per feature (default 2)
 */
export function sparseFeatureTable(rows: readonly SparseFeatureRow[], labels = 2): Record<string, string | number>[] {
  const describe = (t: SparseFeatureRow['testNonZero'][number]) => `${t.label} ${formatCount(t.records)} of ${formatCount(t.of)}${t.detected !== undefined ? ` (${formatCount(t.detected)} flagged)` : ''}`;
  return rows.map((r) => {
    const attacks = r.testNonZero.filter((t) => t.label !== 'normal').slice(0, labels);
    const normal = r.testNonZero.find((t) => t.label === 'normal');
    return {
      feature: r.feature,
      'non-zero in training': `${formatCount(r.trainNonZero)} of ${formatCount(r.trainRecords)}`,
      'per tree sample': r.perTreeSample.toFixed(2),
      'trees that split on it': `${r.usage.trees} of ${r.usage.forestTrees}`,
      'non-zero in test (attacks)': attacks.length > 0 ? attacks.map(describe).join('; ') : 'none',
      'non-zero in test (normal)': normal ? describe(normal) : 'none',
    };
  });
}

/** Test records whose category in a column is one the encoder never saw, and what they are. */
export interface UnseenCategoryRow {
  /** the column, or `any column` for the total */
  column: string;
  records: number;
  attacks: number;
  /** records flagged by the score (score < threshold), when scores were given */
  flagged?: number;
  /** attacks among the records the score did not flag (what an alert on the unseen category adds), when scores were given */
  missedAttacks?: number;
  /** the most common unseen values, largest first */
  values: { value: string; records: number }[];
}

/**
 * Where the encoder's "other" slot is used: per categorical column, the test
 * records with a category the training records never had, how many of them
 * are attacks and how many the score flags. The slot is 0 in every training
 * row, so no tree splits on it: the score cannot use this signal.
 *
 * @param detection the test records' scores and a threshold (count the flagged ones)
 */
export function unseenCategoryRows(encoder: RecordEncoder, test: FlowRecords, detection?: { scores: ArrayLike<number>; threshold: number }): UnseenCategoryRow[] {
  const { X } = encoder.transform(test);
  const w = encoder.outputWidth;
  const categorical = encoder.columns.filter((c) => c.kind === 'categorical').map((c) => c.name);
  const tally = new Map<string, { records: number; attacks: number; flagged: number; missed: number; values: Map<string, number> }>();
  for (const name of [...categorical, 'any column']) tally.set(name, { records: 0, attacks: 0, flagged: 0, missed: 0, values: new Map() });
  const add = (name: string, i: number, value?: string) => {
    const t = tally.get(name)!;
    t.records++;
    if (test.y[i] === -1) t.attacks++;
    if (detection && detection.scores[i] < detection.threshold) t.flagged++;
    else if (detection && test.y[i] === -1) t.missed++;
    if (value !== undefined) t.values.set(value, (t.values.get(value) ?? 0) + 1);
  };
  for (let i = 0; i < test.rows; i++) {
    // the encoder's own test of the "other" slot, as the stream's alert lines use it
    const cols = encoder.unseenColumns(X.data, i * w);
    if (cols.length === 0) continue;
    for (const c of cols) add(c, i, test.categorical[test.categoricalNames.indexOf(c)][i]);
    add('any column', i);
  }
  return [...tally.entries()]
    .filter(([name, t]) => t.records > 0 || name === 'any column')
    .map(([column, t]) => ({
      column,
      records: t.records,
      attacks: t.attacks,
      ...(detection ? { flagged: t.flagged, missedAttacks: t.missed } : {}),
      values: [...t.values.entries()].map(([value, n]) => ({ value, records: n })).sort((x, y) => y.records - x.records || (x.value < y.value ? -1 : 1)),
    }));
}

/** {@link unseenCategoryRows} as table rows (the four most common unseen values of each column). */
export function unseenCategoryTable(rows: readonly UnseenCategoryRow[]): Record<string, string | number>[] {
  return rows.map((r) => ({
    column: r.column,
    'test records with an unseen category': formatCount(r.records),
    attacks: formatCount(r.attacks),
    ...(r.flagged !== undefined ? { 'flagged by the score': formatCount(r.flagged), 'attacks not flagged': formatCount(r.missedAttacks ?? 0) } : {}),
    'most common unseen values': r.values.length === 0 ? '' : `${r.values.slice(0, 4).map((v) => `${v.value} ${formatCount(v.records)}`).join(', ')}${r.values.length > 4 ? `, ... (${r.values.length} values)` : ''}`,
  }));
}

/**
 * {@link featureUsage} of the named features as table rows, with a last row for
 * the average numeric (one-column) feature of the forest, to compare with.
 */
export function featureUsageTable(usage: readonly FeatureUsage[], names: readonly string[]): Record<string, string | number>[] {
  const row = (u: Pick<FeatureUsage, 'name' | 'columns' | 'trees' | 'splits' | 'splitShare' | 'forestTrees'>) => ({
    feature: u.name,
    columns: u.columns,
    'trees that split on it': `${u.trees} of ${u.forestTrees}`,
    splits: u.splits,
    'share of all splits': `${(100 * u.splitShare).toFixed(2)}%`,
  });
  const picked = names.map((n) => {
    const u = usage.find((x) => x.name === n);
    if (!u) throw new RangeError(`${n} is not one of the forest's features`);
    return row(u);
  });
  const numeric = usage.filter((u) => u.columns === 1);
  const mean = (f: (u: FeatureUsage) => number) => numeric.reduce((a, u) => a + f(u), 0) / numeric.length;
  const avg = { name: `average of the ${numeric.length} one-column features`, columns: 1, trees: Math.round(mean((u) => u.trees)), splits: Math.round(mean((u) => u.splits)), splitShare: mean((u) => u.splitShare), forestTrees: usage[0]?.forestTrees ?? 0 };
  return [...picked, row(avg)];
}
