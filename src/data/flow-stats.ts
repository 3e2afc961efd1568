/**
 * Facts about labelled flow records that bound what any detector can do with
 * them: the range a numeric feature spans in a set of records (what an
 * isolation tree's split points are drawn from), and records of one label that
 * are identical, feature for feature, to records of another (label noise: no
 * detector can tell them apart).
 */
import { categoricalColumn, countBy, type FlowRecords } from './flows';

/** One numeric feature in one set of records. */
export interface FeatureRange {
  set: string;
  records: number;
  min: number;
  max: number;
  /** the label (normal or attack name) of a record holding the maximum */
  maxLabel: string;
  /** records with a non-zero value, and the median of those values */
  nonZero: number;
  medianNonZero: number;
}

/**
 * The range of one numeric feature in each of several record sets.
 *
 * @throws RangeError for a name that is not a numeric feature of a set
 */
export function featureRanges(feature: string, sets: ReadonlyArray<{ name: string; records: FlowRecords }>): FeatureRange[] {
  return sets.map(({ name, records }) => {
    const j = records.numericNames.indexOf(feature);
    if (j < 0) throw new RangeError(`${feature} is not a numeric feature of ${records.source}`);
    const w = records.numeric.cols;
    let min = Infinity;
    let max = -Infinity;
    let maxLabel = '';
    const nonZero: number[] = [];
    for (let i = 0; i < records.rows; i++) {
      const v = records.numeric.data[i * w + j];
      if (v < min) min = v;
      if (v > max) {
        max = v;
        maxLabel = records.attack[i];
      }
      if (v !== 0) nonZero.push(v);
    }
    nonZero.sort((a, b) => a - b);
    const mid = nonZero.length >> 1;
    const medianNonZero = nonZero.length === 0 ? NaN : nonZero.length % 2 === 1 ? nonZero[mid] : (nonZero[mid - 1] + nonZero[mid]) / 2;
    return { set: name, records: records.rows, min, max, maxLabel, nonZero: nonZero.length, medianNonZero };
  });
}

/** Records of one label identical on every feature to at least one record of another. */
export interface IdenticalRecords {
  label: string;
  records: number;
  /** how many of them equal, on every feature (numeric and text), some record labelled `other` */
  identical: number;
  other: string;
}

/**
 * For each label asked, how many of its records are identical on every
 * feature to a record labelled `other` (default `normal`) in the same records.
 */
export function identicalAcrossLabels(records: FlowRecords, labels: readonly string[], other = 'normal'): IdenticalRecords[] {
  const w = records.numeric.cols;
  const key = (i: number) => {
    let k = '';
    for (let j = 0; j < w; j++) k += `${records.numeric.data[i * w + j]},`;
    for (const col of records.categorical) k += `${col[i]},`;
    return k;
  };
  const otherKeys = new Set<string>();
  for (let i = 0; i < records.rows; i++) if (records.attack[i] === other) otherKeys.add(key(i));
  return labels.map((label) => {
    let n = 0;
    let identical = 0;
    for (let i = 0; i < records.rows; i++) {
      if (records.attack[i] !== label) continue;
      n++;
      if (otherKeys.has(key(i))) identical++;
    }
    return { label, records: n, identical, other };
  });
}

/** One category of a text column: its records in two sets (training, test). */
export interface CategoryCount {
  value: string;
  train: number;
  test: number;
}

/**
 * How often each value of a categorical column occurs in a training and a test
 * set, most common in training first (then the values only the test has, most
 * common first): which categories an encoder fitted on the training set knows.
 */
export function categoryCounts(train: FlowRecords, test: FlowRecords, column: string): CategoryCount[] {
  const count = (r: FlowRecords) => new Map(countBy(categoricalColumn(r, column)).map((c) => [c.value, c.count] as const));
  const tr = count(train);
  const te = count(test);
  const values = [...new Set([...tr.keys(), ...te.keys()])];
  return values
    .map((value) => ({ value, train: tr.get(value) ?? 0, test: te.get(value) ?? 0 }))
    .sort((a, b) => b.train - a.train || b.test - a.test || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}

/** Attack names of a test set that its training set never has. */
export interface NovelAttacks {
  /** each name with its test records, most records first */
  names: Array<{ value: string; count: number }>;
  /** test records with such a name */
  records: number;
  /** all attack records of the test set */
  attacks: number;
}

export function novelAttacks(train: FlowRecords, test: FlowRecords): NovelAttacks {
  const known = new Set(train.attack);
  const attackNames = test.attack.filter((_, i) => test.y[i] === -1);
  const names = countBy(attackNames.filter((a) => !known.has(a)));
  return { names, records: names.reduce((s, c) => s + c.count, 0), attacks: attackNames.length };
}
