/**
 * The evaluation protocol on real, labelled flow records (NSL-KDD): fit the
 * encoder, the scaler and the forest on the training file only, score the test
 * file once, and report ranking metrics, the classification at the threshold,
 * and detection rate per attack family at fixed false-positive rates. Shared by
 * `npm run evaluate`, `npm run bench:real`, notebook 09 and the tests.
 */
import { modelInput } from '../model/model-input';
import { createMatrix, type Matrix } from '../core/matrix';
import { DEFAULT_PARAMS, type Params } from '../params/params';
import { averagePrecision, labelsAtThreshold, precisionRecallFscoreSupport, ratesAtThreshold, rocAuc, summarizeDetection, thresholdAtFpr } from '../eval/metrics';
import { createRng } from '../core/rng';
import { ATTACK_FAMILIES, filterFlowRecords, type FlowRecords } from '../data/flows';
import { RecordEncoder, type CategoricalEncoding, type UnseenCategories } from '../model/encoder';
import { decisionFromScores, IsolationForest, predictFromDecision } from '../model/forest';
import { PCAModel, StandardScaler } from '../model/preprocess';
import { createBundle, type ModelBundle } from '../persist/bundle';

/** Which training records the forest sees: all of them, or only the normal ones (novelty detection). */
export type TrainOn = 'all' | 'normal';

export interface RealTrafficOptions {
  /** 'all' (default) or 'normal' */
  trainOn?: TrainOn;
  /** categorical encoding, 'onehot' (default) or 'ordinal' */
  encoding?: CategoricalEncoding;
  /** log1p on the schema's heavy-tailed counters (default false) */
  log1p?: boolean;
}

/** Encoded, scaled matrices of one protocol variant (everything fitted on the training rows). */
export interface PreparedTraffic {
  options: Required<RealTrafficOptions>;
  /** the records the encoder, scaler and forest are fitted on */
  train: FlowRecords;
  test: FlowRecords;
  encoder: RecordEncoder;
  scaler: StandardScaler;
  /** scaled encoded training rows */
  trainX: Matrix;
  /** scaled encoded test rows */
  testX: Matrix;
  /** test categories the training rows never had (mapped to "other") */
  unseen: UnseenCategories;
}

/**
 * Fit encoder and scaler on the training rows of the chosen variant and
 * transform both files.
 *
 * @param trainFile - all training records (labels only select the rows for trainOn 'normal')
 * @param test - the test records (only transformed)
 */
export function prepareRealTraffic(trainFile: FlowRecords, test: FlowRecords, options: RealTrafficOptions = {}): PreparedTraffic {
  const opts: Required<RealTrafficOptions> = { trainOn: options.trainOn ?? 'all', encoding: options.encoding ?? 'onehot', log1p: options.log1p ?? false };
  if (opts.trainOn !== 'all' && opts.trainOn !== 'normal') throw new RangeError(`trainOn must be "all" or "normal", got ${JSON.stringify(opts.trainOn)}`);
  const train = opts.trainOn === 'normal' ? filterFlowRecords(trainFile, (i) => trainFile.y[i] === 1) : trainFile;
  if (train.rows < 2) throw new RangeError(`${trainFile.source}: ${train.rows} ${opts.trainOn === 'normal' ? 'normal ' : ''}training records, need at least 2`);
  const encoder = RecordEncoder.fit(train, { encoding: opts.encoding, log1p: opts.log1p });
  const encodedTrain = encoder.transform(train).X;
  const scaler = StandardScaler.fit(encodedTrain);
  const { X: encodedTest, unseen } = encoder.transform(test);
  return { options: opts, train, test, encoder, scaler, trainX: scaler.transform(encodedTrain), testX: scaler.transform(encodedTest), unseen };
}

/** Forest settings of the protocol (the project's defaults: 100 trees, 256 rows per tree, contamination 0.05). */
export interface ForestSettings {
  nEstimators: number;
  maxSamples: Params['maxSamples'];
  contamination: Params['contamination'];
}

export const REAL_TRAFFIC_FOREST: Readonly<ForestSettings> = Object.freeze({
  nEstimators: DEFAULT_PARAMS.nEstimators,
  maxSamples: DEFAULT_PARAMS.maxSamples,
  contamination: DEFAULT_PARAMS.contamination,
});

/**
 * Detection at a fixed false-positive rate on the test's normal records: the
 * threshold flags at most round-down(fpr x normals) normal records (fewer when
 * scores tie at the threshold), and a record is flagged when its score is
 * strictly below it.
 *
 * @returns the score threshold, the false-positive rate reached and the
 *   detection rate (recall) overall and per family
 */
export function detectionAtFpr(scores: ArrayLike<number>, y: ArrayLike<number>, family: readonly string[], fpr: number): { threshold: number; fpr: number; detectionRate: number; perFamily: Record<string, number> } {
  if (!(fpr > 0 && fpr < 1)) throw new RangeError(`fpr must be in (0, 1), got ${fpr}`);
  const normal: number[] = [];
  for (let i = 0; i < y.length; i++) if (y[i] === 1) normal.push(scores[i]);
  if (normal.length === 0) throw new RangeError('detectionAtFpr: the test has no normal records');
  const threshold = thresholdAtFpr(normal, fpr);
  const rates = ratesAtThreshold(scores, y, family, threshold);
  const perFamily: Record<string, number> = {};
  for (const f of familyOrder(Object.keys(rates.perGroup))) perFamily[f] = rates.perGroup[f];
  return { threshold, fpr: rates.fpr, detectionRate: rates.detectionRate, perFamily };
}

/** DoS, Probe, R2L, U2R first, then any other family by name. */
export function familyOrder(families: Iterable<string>): string[] {
  const set = new Set(families);
  set.delete('normal');
  const known = ATTACK_FAMILIES.filter((f) => set.has(f));
  const rest = [...set].filter((f) => !(ATTACK_FAMILIES as readonly string[]).includes(f)).sort();
  return [...known, ...rest];
}

/** One seed's results on the test file. */
export interface SeedResult {
  seed: number;
  rocAuc: number;
  averagePrecision: number;
  /** of the attack class at the forest's threshold (training contamination quantile) */
  precision: number;
  recall: number;
  f1: number;
  /** test records flagged at the threshold */
  flagged: number;
  atFpr: Array<ReturnType<typeof detectionAtFpr> & { target: number }>;
  fitMs: number;
  scoreMs: number;
}

/** Mean, population standard deviation, extremes and every seed's value. */
export interface Spread {
  mean: number;
  std: number;
  min: number;
  max: number;
  perSeed: number[];
}

export function spread(values: readonly number[]): Spread {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  return { mean, std, min: Math.min(...values), max: Math.max(...values), perSeed: [...values] };
}

export interface RealTrafficEvaluation {
  options: Required<RealTrafficOptions>;
  forest: ForestSettings;
  seeds: number[];
  trainRecords: number;
  testRecords: number;
  testAttacks: number;
  /** test prevalence of attacks: the average precision of a random ranking */
  prevalence: number;
  encodedFeatures: number;
  unseen: UnseenCategories;
  rocAuc: Spread;
  averagePrecision: Spread;
  precision: Spread;
  recall: Spread;
  f1: Spread;
  /** per FPR target (e.g. "1%"): overall detection rate and per family */
  detection: Record<string, { fpr: Spread; detectionRate: Spread; perFamily: Record<string, Spread> }>;
  /** test records per attack family */
  familyCounts: Record<string, number>;
  perSeed: SeedResult[];
  timingsMs: { prepare: number; fit: number; score: number };
}

/**
 * Fit one forest on the prepared training rows and score the test rows.
 *
 * @returns the forest (threshold = its offset) and the test scores (scoreSamples: lower = more abnormal)
 */
export function fitAndScoreTest(prepared: PreparedTraffic, seed: number, forest: ForestSettings = REAL_TRAFFIC_FOREST): { forest: IsolationForest; trainScores: Float64Array; testScores: Float64Array; fitMs: number; scoreMs: number } {
  const t0 = performance.now();
  const fitted = IsolationForest.fitAndScore(prepared.trainX, { ...forest, seed });
  const t1 = performance.now();
  const testScores = fitted.forest.scoreSamples(prepared.testX);
  return { forest: fitted.forest, trainScores: fitted.scores, testScores, fitMs: t1 - t0, scoreMs: performance.now() - t1 };
}

/** Metrics of one set of test scores (shared by our forest and scikit-learn's in bench:real). */
export function scoreMetrics(test: FlowRecords, scores: ArrayLike<number>, offset: number, fprTargets: readonly number[] = [0.01, 0.05]): Omit<SeedResult, 'seed' | 'fitMs' | 'scoreMs'> {
  const neg = Float64Array.from(scores, (s) => -s);
  const pred = labelsAtThreshold(scores, offset);
  const prf = precisionRecallFscoreSupport(test.y, pred, { labels: [-1] });
  return {
    rocAuc: rocAuc(test.y, neg, { posLabel: -1 }),
    averagePrecision: averagePrecision(test.y, neg, { posLabel: -1 }),
    precision: prf.precision[0],
    recall: prf.recall[0],
    f1: prf.f1[0],
    flagged: pred.reduce((a, p) => a + (p === -1 ? 1 : 0), 0),
    atFpr: fprTargets.map((target) => ({ target, ...detectionAtFpr(scores, test.y, test.family, target) })),
  };
}

/** "1%", "5%", "0.5%" */
export function fprKey(target: number): string {
  return `${+(100 * target).toFixed(4)}%`;
}

/**
 * Run the protocol over several seeds: prepare once (encoder and scaler do not
 * depend on the seed), then fit and score one forest per seed.
 *
 * @param seeds - forest seeds, e.g. [0, 1, 2, 3, 4]
 * @param fprTargets - false-positive rates on the test's normal records (default 1% and 5%)
 */
export function evaluateRealTraffic(
  trainFile: FlowRecords,
  test: FlowRecords,
  options: RealTrafficOptions & { seeds?: readonly number[]; fprTargets?: readonly number[]; forest?: ForestSettings } = {},
): RealTrafficEvaluation {
  const seeds = [...(options.seeds ?? [0, 1, 2, 3, 4])];
  if (seeds.length < 1) throw new RangeError('at least one seed is needed');
  const fprTargets = options.fprTargets ?? [0.01, 0.05];
  const forest = options.forest ?? REAL_TRAFFIC_FOREST;
  const t0 = performance.now();
  const prepared = prepareRealTraffic(trainFile, test, options);
  const prepareMs = performance.now() - t0;
  const perSeed: SeedResult[] = seeds.map((seed) => {
    const r = fitAndScoreTest(prepared, seed, forest);
    return { seed, ...scoreMetrics(test, r.testScores, r.forest.offset, fprTargets), fitMs: r.fitMs, scoreMs: r.scoreMs };
  });
  const pick = (f: (r: SeedResult) => number) => spread(perSeed.map(f));
  const detection: RealTrafficEvaluation['detection'] = {};
  fprTargets.forEach((target, t) => {
    const families = familyOrder(perSeed.flatMap((r) => Object.keys(r.atFpr[t].perFamily)));
    const perFamily: Record<string, Spread> = {};
    for (const f of families) perFamily[f] = pick((r) => r.atFpr[t].perFamily[f]);
    detection[fprKey(target)] = { fpr: pick((r) => r.atFpr[t].fpr), detectionRate: pick((r) => r.atFpr[t].detectionRate), perFamily };
  });
  const familyCounts: Record<string, number> = {};
  for (const f of familyOrder(test.family)) familyCounts[f] = 0;
  for (const f of test.family) if (f !== 'normal') familyCounts[f]++;
  const testAttacks = test.y.reduce((a, v) => a + (v === -1 ? 1 : 0), 0);
  return {
    options: prepared.options,
    forest: { ...forest },
    seeds,
    trainRecords: prepared.train.rows,
    testRecords: test.rows,
    testAttacks,
    prevalence: testAttacks / test.rows,
    encodedFeatures: prepared.encoder.outputWidth,
    unseen: prepared.unseen,
    rocAuc: pick((r) => r.rocAuc),
    averagePrecision: pick((r) => r.averagePrecision),
    precision: pick((r) => r.precision),
    recall: pick((r) => r.recall),
    f1: pick((r) => r.f1),
    detection,
    familyCounts,
    perSeed,
    timingsMs: { prepare: prepareMs, fit: perSeed.reduce((a, r) => a + r.fitMs, 0), score: perSeed.reduce((a, r) => a + r.scoreMs, 0) },
  };
}

/** The training file split for choosing thresholds without the test set. */
export interface ValidationSplit {
  /** the normal training records the detector is fitted on */
  fit: FlowRecords;
  /** the held-out normal training records whose scores set the thresholds */
  validation: FlowRecords;
  /** every training record except the held-out ones: what a supervised model may learn from */
  labelled: FlowRecords;
}

/**
 * Hold out a seeded random share (default 0.3) of the normal training records.
 * NSL-KDD's records have no time order to split on, so the split is a shuffle;
 * it does not depend on any forest seed, so every detector compared on it sees
 * the same held-out records.
 */
export function validationSplit(trainFile: FlowRecords, fraction = 0.3): ValidationSplit {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`validation must be in (0, 1), got ${fraction}`);
  const normalRows: number[] = [];
  for (let i = 0; i < trainFile.rows; i++) if (trainFile.y[i] === 1) normalRows.push(i);
  const order = normalRows.map((_, k) => k);
  const rng = createRng(0, 'validation-split');
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nHeld = Math.round(fraction * normalRows.length);
  if (nHeld < 1 || normalRows.length - nHeld < 2) throw new RangeError(`${trainFile.source}: ${normalRows.length} normal training records are too few to fit and validate`);
  const held = new Uint8Array(trainFile.rows);
  for (let k = 0; k < nHeld; k++) held[normalRows[order[k]]] = 1;
  return {
    fit: filterFlowRecords(trainFile, (i) => trainFile.y[i] === 1 && held[i] === 0),
    validation: filterFlowRecords(trainFile, (i) => held[i] === 1),
    labelled: filterFlowRecords(trainFile, (i) => held[i] === 0),
  };
}

/** Detection at thresholds chosen on held-out normal training records, beside the test-chosen (oracle) reading. */
export interface ValidatedDetection {
  seeds: number[];
  /** normal training records the forests were fitted on, and those held out to set the threshold */
  fitRecords: number;
  validationRecords: number;
  /** per FPR target ("1%"): the rate reached on the validation records and on the test's normal records, detection overall and per family; `oracle`: detection when the threshold is set on the test's normal records instead */
  perTarget: Record<string, { validationFpr: Spread; testFpr: Spread; detectionRate: Spread; perFamily: Record<string, Spread>; oracleDetectionRate: Spread }>;
}

/**
 * Thresholds chosen without the test set. The normal training records are
 * split at random (seeded) into a part the encoder, scaler and forests are
 * fitted on and a held-out part (`validation`, default 0.3) whose scores set
 * the threshold at each false-positive target; the test file is then scored
 * once, and the false-positive rate it actually reaches is reported with the
 * detection rates. Beside it, the same forest's detection with the threshold
 * set on the test's normal records (what {@link evaluateRealTraffic} reports):
 * the difference is what choosing the threshold on the test set flatters.
 *
 * @param trainFile - the training file (only its normal records are used)
 */
export function validatedDetection(
  trainFile: FlowRecords,
  test: FlowRecords,
  options: Omit<RealTrafficOptions, 'trainOn'> & { validation?: number; seeds?: readonly number[]; fprTargets?: readonly number[]; forest?: ForestSettings } = {},
): ValidatedDetection {
  const seeds = [...(options.seeds ?? [0, 1, 2, 3, 4])];
  const targets = options.fprTargets ?? [0.01, 0.05];
  const { fit, validation } = validationSplit(trainFile, options.validation);
  const prepared = prepareRealTraffic(fit, test, { ...options, trainOn: 'all' });
  const validationX = prepared.scaler.transform(prepared.encoder.transform(validation).X);
  const rows = seeds.map((seed) => {
    const r = fitAndScoreTest(prepared, seed, options.forest ?? REAL_TRAFFIC_FOREST);
    const val = r.forest.scoreSamples(validationX);
    return targets.map((target) => {
      const threshold = thresholdAtFpr(val, target);
      let vfp = 0;
      for (const s of val) if (s < threshold) vfp++;
      const rates = ratesAtThreshold(r.testScores, test.y, test.family, threshold);
      const perFamily: Record<string, number> = {};
      for (const f of familyOrder(Object.keys(rates.perGroup))) perFamily[f] = rates.perGroup[f];
      const oracle = detectionAtFpr(r.testScores, test.y, test.family, target);
      return { validationFpr: vfp / val.length, testFpr: rates.fpr, detectionRate: rates.detectionRate, perFamily, oracleDetectionRate: oracle.detectionRate };
    });
  });
  const perTarget: ValidatedDetection['perTarget'] = {};
  targets.forEach((target, t) => {
    const pick = (f: (x: (typeof rows)[number][number]) => number) => spread(rows.map((r) => f(r[t])));
    const perFamily: Record<string, Spread> = {};
    for (const f of Object.keys(rows[0][t].perFamily)) perFamily[f] = pick((x) => x.perFamily[f]);
    perTarget[fprKey(target)] = { validationFpr: pick((x) => x.validationFpr), testFpr: pick((x) => x.testFpr), detectionRate: pick((x) => x.detectionRate), perFamily, oracleDetectionRate: pick((x) => x.oracleDetectionRate) };
  });
  return { seeds, fitRecords: fit.rows, validationRecords: validation.rows, perTarget };
}

/**
 * A model bundle the stream command can use: the encoder (raw records in), the
 * scaler, a PCA(2) of the scaled training rows, and one forest.
 *
 * The bundle's params keep the project's simulation defaults for the keys that
 * describe simulated data (they are not used for real records); nFeatures is the
 * number of raw record features, seed and forest settings are the ones used.
 *
 * @param trainFile - the whole training file: its metrics are stored as trainingMetrics
 */
export function realTrafficBundle(prepared: PreparedTraffic, trainFile: FlowRecords, seed: number, forestSettings: ForestSettings = REAL_TRAFFIC_FOREST, createdAt?: Date): ModelBundle {
  const { forest } = fitAndScoreTest({ ...prepared, testX: createMatrix(0, prepared.trainX.cols) }, seed, forestSettings);
  const params: Params = { ...DEFAULT_PARAMS, ...forestSettings, seed, nFeatures: prepared.encoder.columns.length };
  const fileScores = forest.scoreSamples(modelInput({ encoder: prepared.encoder, scaler: prepared.scaler, featureNames: prepared.encoder.inputNames }, trainFile));
  const metrics = summarizeDetection(trainFile.y, fileScores, predictFromDecision(decisionFromScores(fileScores, forest.offset)));
  return createBundle(
    {
      params,
      featureNames: prepared.encoder.inputNames,
      scaler: prepared.scaler,
      pca: PCAModel.fit(prepared.trainX, params.pcaComponents),
      forest,
      trainingMetrics: metrics,
      encoder: prepared.encoder,
    },
    createdAt,
  );
}

/** One attack name's share of records flagged, with its most common service and flag (what the connection looked like). */
export interface AttackDetectionRow {
  attack: string;
  family: string;
  records: number;
  /** share of its records with score < threshold */
  detected: number;
  service: string;
  flag: string;
}

/**
 * Detection per attack name at a score threshold (e.g. detectionAtFpr's), largest names first.
 *
 * @param families - only these families (default: all attacks)
 */
export function detectionByAttack(test: FlowRecords, scores: ArrayLike<number>, threshold: number, families?: readonly string[]): AttackDetectionRow[] {
  const service = test.categorical[test.categoricalNames.indexOf('service')];
  const flag = test.categorical[test.categoricalNames.indexOf('flag')];
  const acc = new Map<string, { family: string; records: number; hit: number; services: Map<string, number>; flags: Map<string, number> }>();
  for (let i = 0; i < test.rows; i++) {
    if (test.y[i] !== -1 || (families && !families.includes(test.family[i]))) continue;
    let a = acc.get(test.attack[i]);
    if (!a) acc.set(test.attack[i], (a = { family: test.family[i], records: 0, hit: 0, services: new Map(), flags: new Map() }));
    a.records++;
    if (scores[i] < threshold) a.hit++;
    if (service) a.services.set(service[i], (a.services.get(service[i]) ?? 0) + 1);
    if (flag) a.flags.set(flag[i], (a.flags.get(flag[i]) ?? 0) + 1);
  }
  const top = (m: Map<string, number>) => [...m.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))[0]?.[0] ?? '';
  return [...acc.entries()]
    .map(([attack, a]) => ({ attack, family: a.family, records: a.records, detected: a.hit / a.records, service: top(a.services), flag: top(a.flags) }))
    .sort((x, y) => y.records - x.records || (x.attack < y.attack ? -1 : 1));
}

/** One cell of the preprocessing grid: its choices and the five-seed evaluation. */
export interface PreprocessingChoice {
  trainOn: TrainOn;
  encoding: CategoricalEncoding;
  log1p: boolean;
  evaluation: RealTrafficEvaluation;
}

/**
 * Every combination of training records (normal, all), categorical encoding
 * (one-hot, ordinal) and log1p (yes, no), each evaluated over the same seeds
 * with the encoder and scaler fitted on its own training records: which
 * preprocessing choice moves the test metrics, and by how much against the
 * spread over seeds.
 */
export function preprocessingGrid(trainFile: FlowRecords, test: FlowRecords, options: { seeds?: readonly number[]; fprTargets?: readonly number[]; forest?: ForestSettings } = {}): PreprocessingChoice[] {
  const out: PreprocessingChoice[] = [];
  for (const trainOn of ['normal', 'all'] as const) {
    for (const encoding of ['onehot', 'ordinal'] as const) {
      for (const log1p of [true, false]) out.push({ trainOn, encoding, log1p, evaluation: evaluateRealTraffic(trainFile, test, { ...options, trainOn, encoding, log1p }) });
    }
  }
  return out;
}

/** The largest PCA loadings of the first component. */
export interface FirstComponent {
  /** share of the variance PC1 explains */
  varianceRatio: number;
  /** the k features with the largest |loading|, largest first */
  loadings: Array<{ feature: string; loading: number }>;
}

/** What per-feature scaling changes: nothing for the forest, everything for PCA. */
export interface ScalingEffect {
  /** ROC-AUC of the same forest (same seed) on the scaled and on the unscaled encoded features */
  scaledRocAuc: number;
  unscaledRocAuc: number;
  /** test scores that differ between the two, and the largest difference */
  scoresThatDiffer: number;
  largestDifference: number;
  testRecords: number;
  pcaUnscaled: FirstComponent;
  pcaScaled: FirstComponent;
}

function firstComponent(X: Matrix, names: readonly string[], k: number): FirstComponent {
  const p = PCAModel.fit(X, 2);
  const loadings = Array.from(p.components.data.subarray(0, p.nFeatures));
  const order = loadings.map((_, j) => j).sort((a, b) => Math.abs(loadings[b]) - Math.abs(loadings[a]) || a - b);
  return { varianceRatio: p.explainedVarianceRatio[0], loadings: order.slice(0, k).map((j) => ({ feature: names[j], loading: loadings[j] })) };
}

/**
 * Fit the same forest (same seed) on a variant's encoded features before and
 * after StandardScaler, score the test file with both, and fit PCA(2) on both:
 * a per-feature shift and stretch moves every split point with its feature, so
 * the forest's scores do not change, while PCA's components follow the variance.
 *
 * @param k - loadings to report per PCA (default 3)
 */
export function scalingEffect(prepared: PreparedTraffic, seed: number, forest: ForestSettings = REAL_TRAFFIC_FOREST, k = 3): ScalingEffect {
  const rawTrain = prepared.encoder.transform(prepared.train).X;
  const rawTest = prepared.encoder.transform(prepared.test).X;
  const scaled = fitAndScoreTest(prepared, seed, forest).testScores;
  const unscaled = IsolationForest.fit(rawTrain, { ...forest, seed }).scoreSamples(rawTest);
  let differ = 0;
  let largest = 0;
  for (let i = 0; i < scaled.length; i++) {
    const d = Math.abs(scaled[i] - unscaled[i]);
    if (d > 0) differ++;
    largest = Math.max(largest, d);
  }
  const auc = (s: Float64Array) => rocAuc(prepared.test.y, Float64Array.from(s, (v) => -v), { posLabel: -1 });
  const names = prepared.encoder.outputNames;
  return {
    scaledRocAuc: auc(scaled),
    unscaledRocAuc: auc(unscaled),
    scoresThatDiffer: differ,
    largestDifference: largest,
    testRecords: scaled.length,
    pcaUnscaled: firstComponent(rawTrain, names, k),
    pcaScaled: firstComponent(prepared.trainX, names, k),
  };
}
