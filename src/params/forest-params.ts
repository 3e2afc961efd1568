/**
 * The Isolation Forest's parameter rules: one table that `IsolationForest.fit`,
 * `IsolationForest.fromJSON` (and so every bundle and workspace file) and the
 * experiment parameter parser (`params/params`) all check against, so a model that
 * fits can always be saved and loaded back, and a value refused on load is
 * refused by fit first. Mirrors scikit-learn's
 * `IsolationForest._parameter_constraints` where JavaScript allows (see README,
 * "Differences from scikit-learn").
 */
import {
  checkRule,
  freezeRules,
  integerInterval,
  NON_EMPTY_STRING,
  ParameterError,
  realInterval,
  showValue,
  stringOptions,
  validateParameters,
  type ParameterRule,
  type ParameterRules,
} from './constraints';

/** The largest training set the parameters describe (rows); also caps an integer maxSamples. */
export const MAX_TRAINING_ROWS = 10_000_000;
/** More trees than this adds nothing measurable and only costs memory. */
export const MAX_ESTIMATORS = 10_000;
/**
 * Fewest rows a tree may be grown on, as in scikit-learn: a one-row tree is a
 * single leaf, and scikit-learn then scores every row -0.5 (c(1) = 0, and it
 * sets the 0/0 path ratio to 1). Only a fraction can ask for it, see MIN_MAX_SAMPLES_COUNT.
 */
export const MIN_ROWS_PER_TREE = 1;
/**
 * Smallest row count maxSamples may give as an integer: 1 and 1.0 are the
 * same JavaScript number, and scikit-learn reads the int 1 as one row per
 * tree but the float 1.0 as every row, so 1 is refused as ambiguous.
 */
export const MIN_MAX_SAMPLES_COUNT = 2;

/** The options of IsolationForest.fit (the same names as in IsolationForestOptions). */
export type ForestParameterKey = 'nEstimators' | 'maxSamples' | 'contamination' | 'seed';

/**
 * The rule table. scikit-learn: n_estimators int >= 1; max_samples "auto", int
 * >= 1 or float in (0, 1]; contamination "auto" or float in (0, 0.5];
 * random_state int in [0, 2^32 - 1]. Here a count must be >= 2 and a fraction
 * < 1, because 1 and 1.0 are the same JavaScript number (scikit-learn reads
 * the int 1 as one row per tree and the float 1.0 as every row); one row per
 * tree is still reachable with a fraction (0.5 of 2 rows, as in scikit-learn's
 * test_iforest grid).
 */
export const FOREST_PARAMETER_RULES: ParameterRules<ForestParameterKey> = freezeRules({
  nEstimators: {
    description: 'trees in the Isolation Forest',
    constraints: [integerInterval(1, MAX_ESTIMATORS)],
  },
  maxSamples: {
    description: "rows drawn per tree: 'auto' = min(256, n), a row count (capped at n), or a fraction of n",
    constraints: [stringOptions('auto'), integerInterval(MIN_MAX_SAMPLES_COUNT, MAX_TRAINING_ROWS), realInterval(0, 1, 'neither')],
  },
  contamination: {
    description: "expected share of anomalies, sets the decision threshold; 'auto' = offset -0.5",
    constraints: [stringOptions('auto'), realInterval(0, 0.5, 'right')],
  },
  seed: {
    description: 'seed of the trees\' random draws',
    constraints: [integerInterval(0, Number.MAX_SAFE_INTEGER), NON_EMPTY_STRING],
  },
});

/**
 * The rule of the fitted row count per tree (scikit-learn's `max_samples_`),
 * which is what a saved forest stores as `maxSamples`: a whole count, 1
 * included (what a small fraction fits).
 */
export const FITTED_MAX_SAMPLES_RULE: ParameterRule = freezeRules({
  maxSamples: { description: 'rows drawn per tree (psi), as fitted', constraints: [integerInterval(MIN_ROWS_PER_TREE, MAX_TRAINING_ROWS)] },
}).maxSamples;

/**
 * Check fit options against FOREST_PARAMETER_RULES.
 * @param options - the options object as given (possibly from untyped code)
 * @param owner - how messages name the caller, e.g. "IsolationForest.fit"
 * @throws ParameterError naming the parameter, the value and every allowed form
 */
export function validateForestOptions(options: unknown, owner = 'IsolationForest.fit'): void {
  validateParameters(FOREST_PARAMETER_RULES, options, owner);
}

/**
 * Resolve maxSamples to a row count for a training set of n rows, as
 * scikit-learn does: 'auto' = min(256, n), a count is capped at n, a fraction
 * gives floor(fraction * n).
 * @param maxSamples - 'auto', an integer count, or a fraction in (0, 1)
 * @param n - training rows
 * @returns psi, the rows drawn per tree (may be 0 for a small fraction: see checkRowsPerTree)
 */
export function resolveMaxSamples(maxSamples: 'auto' | number, n: number): number {
  if (maxSamples === 'auto') return Math.min(256, n);
  if (Number.isInteger(maxSamples)) return Math.min(maxSamples, n);
  return Math.floor(maxSamples * n);
}

/**
 * Resolve maxSamples (resolveMaxSamples) and refuse a fraction that gives no
 * row per tree (floor(fraction * n) = 0; scikit-learn refuses it too, with a
 * message about sample weights). One row per tree is accepted as in
 * scikit-learn: every tree is a single leaf and every score -0.5.
 * @returns psi, at least MIN_ROWS_PER_TREE
 * @throws ParameterError naming maxSamples, its value, n and the rows it gives
 */
export function checkRowsPerTree(maxSamples: 'auto' | number, n: number, owner = 'IsolationForest.fit'): number {
  const psi = resolveMaxSamples(maxSamples, n);
  if (psi < MIN_ROWS_PER_TREE) {
    const how = typeof maxSamples === 'number' && !Number.isInteger(maxSamples) ? `floor(${maxSamples} * ${n}) = ${psi}` : `${psi}`;
    throw new ParameterError(
      `${owner}: maxSamples = ${showValue(maxSamples)} gives ${how} rows per tree for ${n} training rows; a tree needs at least ${MIN_ROWS_PER_TREE} (use a larger fraction, a count, or "auto")`,
      'maxSamples',
      maxSamples,
      `at least ${MIN_ROWS_PER_TREE} row per tree`,
    );
  }
  return psi;
}

/**
 * What is wrong with the parameter fields of a saved forest (IsolationForestJSON),
 * or undefined: nEstimators, contamination and seed by the same rules as fit,
 * maxSamples as the fitted whole count (FITTED_MAX_SAMPLES_RULE).
 */
export function savedForestProblem(json: Record<ForestParameterKey, unknown>): string | undefined {
  const rules = { ...FOREST_PARAMETER_RULES, maxSamples: FITTED_MAX_SAMPLES_RULE };
  for (const key of Object.keys(rules) as ForestParameterKey[]) {
    const reason = checkRule(rules[key], json[key]);
    if (reason) return `${key} = ${showValue(json[key])} is not allowed; ${reason}`;
  }
  return undefined;
}

/** The tree height limit ceil(log2 psi) for psi rows per tree (at least 1): scikit-learn's rule, which fit applies and a saved forest must match. */
export function heightLimit(psi: number): number {
  return Math.max(1, Math.ceil(Math.log2(Math.max(psi, 2))));
}
