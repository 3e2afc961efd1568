/**
 * Baselines beside the isolation forest on real, labelled records: what a
 * one-line rule catches, and what a supervised model trained on the labels
 * catches, on the same split and at a threshold chosen the same way (on
 * held-out normal training records, never on the test file).
 */
import { rocAuc, ratesAtThreshold, thresholdAtFpr } from '../eval/metrics';
import type { Matrix } from '../core/matrix';
import type { FlowRecords } from '../data/flows';
import { LogisticRegression } from '../model/logistic-regression';
import { familyOrder, fitAndScoreTest, prepareRealTraffic, REAL_TRAFFIC_FOREST, validationSplit, type ForestSettings } from './real-traffic';

/** One detector's results on the test file. */
export interface DetectorResult {
  name: string;
  /** whether it learned from the attack labels */
  usesLabels: boolean;
  /** ranking quality of its score (null for a rule, which only says yes or no) */
  rocAuc: number | null;
  /** share of the held-out normal training records it flags (for a rule too: its false alarms before the test) */
  validationFpr: number;
  /** share of the test's normal records it flags */
  testFpr: number;
  /** share of the test's attacks it flags */
  detectionRate: number;
  perFamily: Record<string, number>;
  /** detection of the attack names the training file has, and of those it does not */
  known: number;
  novel: number;
  /** test records it flags */
  flagged: number;
}

export interface BaselineComparison {
  fprTarget: number;
  seed: number;
  /** normal records the forest is fitted on, held-out normal records, records the supervised model learns from */
  fitRecords: number;
  validationRecords: number;
  labelledRecords: number;
  /** test attacks whose name the training file has, and those it does not */
  knownAttacks: number;
  novelAttacks: number;
  detectors: DetectorResult[];
}

export interface BaselineOptions {
  /** forest seed (default 0) */
  seed?: number;
  forest?: ForestSettings;
  /** false-positive target on the held-out normal records (default 0.01) */
  fprTarget?: number;
  /** share of the normal training records held out (default 0.3) */
  validation?: number;
  /** the numeric feature of the rule "feature > 0" (default num_failed_logins) */
  ruleFeature?: string;
  /** the logistic regression's C (default 1, scikit-learn's default) */
  C?: number;
}

/**
 * Five detectors on one split: the isolation forest fitted on normal records;
 * the rule "`ruleFeature` > 0"; the rule "a service or flag the normal training
 * records never had"; the forest or either rule; and an L2 logistic regression
 * fitted on the labelled training records (everything but the held-out normal
 * ones). Both scored detectors take their threshold at `fprTarget` on the
 * held-out normal records, then score the test file once. Every detector uses
 * one-hot categories and log1p, fitted on its own training records.
 */
export function baselineComparison(trainFile: FlowRecords, test: FlowRecords, options: BaselineOptions = {}): BaselineComparison {
  const seed = options.seed ?? 0;
  const fprTarget = options.fprTarget ?? 0.01;
  const ruleFeature = options.ruleFeature ?? 'num_failed_logins';
  const j = test.numericNames.indexOf(ruleFeature);
  if (j < 0) throw new RangeError(`${ruleFeature} is not a numeric feature of ${test.source}`);
  const split = validationSplit(trainFile, options.validation);
  const knownNames = new Set(trainFile.attack);
  const novelty = test.attack.map((a, i) => (test.y[i] === 1 ? 'normal' : knownNames.has(a) ? 'known' : 'novel'));
  const attacksBy = (kind: string) => novelty.reduce((n, v) => n + (v === kind ? 1 : 0), 0);

  // a flag per test record -> its rates (flagged = score 0 below the threshold 0.5)
  const result = (name: string, usesLabels: boolean, flags: Uint8Array, extra: Pick<DetectorResult, 'rocAuc' | 'validationFpr'>): DetectorResult => {
    const asScores = Float64Array.from(flags, (f) => (f ? 0 : 1));
    const rates = ratesAtThreshold(asScores, test.y, test.family, 0.5);
    const byNovelty = ratesAtThreshold(asScores, test.y, novelty, 0.5).perGroup;
    const perFamily: Record<string, number> = {};
    for (const f of familyOrder(Object.keys(rates.perGroup))) perFamily[f] = rates.perGroup[f];
    return { name, usesLabels, ...extra, testFpr: rates.fpr, detectionRate: rates.detectionRate, perFamily, known: byNovelty.known ?? NaN, novel: byNovelty.novel ?? NaN, flagged: flags.reduce((a, f) => a + f, 0) };
  };
  // a score (lower = more anomalous) with its threshold set on the held-out normal records' scores
  const share = (flags: Uint8Array) => flags.reduce((a, f) => a + f, 0) / flags.length;
  const thresholded = (testScores: Float64Array, validationScores: Float64Array) => {
    const threshold = thresholdAtFpr(validationScores, fprTarget);
    const validationFlags = Uint8Array.from(validationScores, (s) => (s < threshold ? 1 : 0));
    return {
      flags: Uint8Array.from(testScores, (s) => (s < threshold ? 1 : 0)),
      validationFlags,
      validationFpr: share(validationFlags),
      rocAuc: rocAuc(test.y, Float64Array.from(testScores, (s) => -s), { posLabel: -1 }),
    };
  };

  const prepared = prepareRealTraffic(split.fit, test, { trainOn: 'all', encoding: 'onehot', log1p: true });
  const forestRun = fitAndScoreTest(prepared, seed, options.forest ?? REAL_TRAFFIC_FOREST);
  const encodedValidation = prepared.encoder.transform(split.validation).X;
  const forest = thresholded(forestRun.testScores, forestRun.forest.scoreSamples(prepared.scaler.transform(encodedValidation)));
  const ruleOf = (r: FlowRecords) => Uint8Array.from({ length: r.rows }, (_, i) => (r.numeric.data[i * r.numeric.cols + j] > 0 ? 1 : 0));
  const rule = ruleOf(test);
  const ruleValidation = ruleOf(split.validation);
  const unseen = prepared.encoder.unseenMask(prepared.encoder.transform(test).X.data, test.rows);
  const unseenValidation = prepared.encoder.unseenMask(encodedValidation.data, split.validation.rows);
  const either = Uint8Array.from(forest.flags, (f, i) => f | rule[i] | unseen[i]);
  const eitherValidation = Uint8Array.from(forest.validationFlags, (f, i) => f | ruleValidation[i] | unseenValidation[i]);

  const supervised = prepareRealTraffic(split.labelled, test, { trainOn: 'all', encoding: 'onehot', log1p: true });
  const target = Uint8Array.from(split.labelled.y, (v) => (v === -1 ? 1 : 0));
  const model = LogisticRegression.fit(supervised.trainX, target, { C: options.C ?? 1 });
  const negProbability = (X: Matrix) => model.predictProbability(X).map((p) => -p);
  const lr = thresholded(negProbability(supervised.testX), negProbability(supervised.scaler.transform(supervised.encoder.transform(split.validation).X)));

  return {
    fprTarget,
    seed,
    fitRecords: split.fit.rows,
    validationRecords: split.validation.rows,
    labelledRecords: split.labelled.rows,
    knownAttacks: attacksBy('known'),
    novelAttacks: attacksBy('novel'),
    detectors: [
      result('isolation forest (normal records)', false, forest.flags, { rocAuc: forest.rocAuc, validationFpr: forest.validationFpr }),
      result(`rule: ${ruleFeature} > 0`, false, rule, { rocAuc: null, validationFpr: share(ruleValidation) }),
      result('rule: service or flag unseen in normal training', false, unseen, { rocAuc: null, validationFpr: share(unseenValidation) }),
      result('forest or either rule', false, either, { rocAuc: null, validationFpr: share(eitherValidation) }),
      result('logistic regression (labelled records)', true, lr.flags, { rocAuc: lr.rocAuc, validationFpr: lr.validationFpr }),
    ],
  };
}
