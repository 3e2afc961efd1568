import { readFileSync } from 'node:fs';
import { checkRule, freezeRules, integerInterval, ParameterError, realInterval, showValue, type ParameterRules } from './constraints';
import { FOREST_PARAMETER_RULES, MAX_TRAINING_ROWS } from './forest-params';

/** The experiment parameters. Defaults reproduce the reference scikit-learn script. */
export interface Params {
  /** seed of every random draw (data, trees, stream batches) */
  seed: number;
  /** rows of normal traffic, N(normalMean, normalStd) */
  nNormal: number;
  /** rows of anomalous traffic, N(anomalyMean, anomalyStd) */
  nAnomalous: number;
  nFeatures: number;
  normalMean: number;
  normalStd: number;
  anomalyMean: number;
  anomalyStd: number;
  /** trees in the Isolation Forest */
  nEstimators: number;
  /** rows drawn per tree: 'auto' = min(256, n), an integer count, or a fraction of n */
  maxSamples: 'auto' | number;
  /** expected share of anomalies, sets the decision threshold; 'auto' = offset -0.5 */
  contamination: number | 'auto';
  /** PCA components kept (the plots use the first two) */
  pcaComponents: number;
  /** rows per simulated streaming batch */
  streamBatchSize: number;
  /** number of simulated streaming batches */
  streamBatches: number;
  /** share of anomalous rows injected into simulated streaming batches (reference: 0) */
  streamAnomalyShare: number;
}

export type ParamKey = keyof Params;

export const DEFAULT_PARAMS: Readonly<Params> = Object.freeze({
  seed: 42,
  nNormal: 10000,
  nAnomalous: 500,
  nFeatures: 5,
  normalMean: 0,
  normalStd: 1,
  anomalyMean: 5,
  anomalyStd: 2,
  nEstimators: 100,
  maxSamples: 'auto',
  contamination: 0.05,
  pcaComponents: 2,
  streamBatchSize: 500,
  streamBatches: 10,
  streamAnomalyShare: 0,
});

/** Environment variable holding a JSON object of overrides, e.g. '{"contamination":0.1}'. */
export const PARAMS_ENV = 'ANOMALY_PARAMS';
/** Environment variable naming a JSON file of overrides. */
export const PARAMS_FILE_ENV = 'ANOMALY_PARAMS_FILE';


/**
 * The rules of every experiment parameter. The forest's come from the model's
 * own table (params/forest-params), so the parser, fit and fromJSON accept
 * exactly the same values; the others describe the simulated data and stream.
 */
const RULES: ParameterRules<ParamKey> = {
  seed: { description: 'seed of every random draw', constraints: [integerInterval(0, Number.MAX_SAFE_INTEGER)] },
  nNormal: { description: 'rows of normal traffic', constraints: [integerInterval(1, MAX_TRAINING_ROWS)] },
  nAnomalous: { description: 'rows of anomalous traffic', constraints: [integerInterval(1, MAX_TRAINING_ROWS)] },
  nFeatures: { description: 'features per row', constraints: [integerInterval(2, 100)] },
  normalMean: { description: 'mean of normal traffic', constraints: [realInterval(null, null, 'neither')] },
  normalStd: { description: 'standard deviation of normal traffic', constraints: [realInterval(0, null, 'neither')] },
  anomalyMean: { description: 'mean of anomalous traffic', constraints: [realInterval(null, null, 'neither')] },
  anomalyStd: { description: 'standard deviation of anomalous traffic', constraints: [realInterval(0, null, 'neither')] },
  nEstimators: FOREST_PARAMETER_RULES.nEstimators,
  maxSamples: FOREST_PARAMETER_RULES.maxSamples,
  contamination: FOREST_PARAMETER_RULES.contamination,
  // Narrower than PCA_PARAMETER_RULES.nComponents (>= 1, at most the features):
  // the plots draw the first two components. test/params.test.ts checks that
  // every value allowed here is allowed by PCA's own rule.
  pcaComponents: { description: 'PCA components kept (plots use 2; at most nFeatures)', constraints: [integerInterval(2, 100)] },
  streamBatchSize: { description: 'rows per streaming batch', constraints: [integerInterval(1, 1_000_000)] },
  streamBatches: { description: 'streaming batches to simulate', constraints: [integerInterval(1, 100_000)] },
  streamAnomalyShare: { description: 'share of anomalies injected into streaming batches', constraints: [realInterval(0, 1, 'left')] },
};

/** The rule table of the experiment parameters (the forest's entries are the model's own). */
export const PARAM_RULES: ParameterRules<ParamKey> = freezeRules(RULES);

export const PARAM_KEYS = Object.keys(DEFAULT_PARAMS) as ParamKey[];

/** One-line description of every parameter, in declaration order (for tables and --help). */
export function describeParams(): { key: ParamKey; default: Params[ParamKey]; description: string }[] {
  return PARAM_KEYS.map((key) => ({ key, default: DEFAULT_PARAMS[key], description: RULES[key].description }));
}

/**
 * Check a partial set of overrides and merge it onto `base`.
 * Unknown keys, wrong types and out-of-range values raise a ParameterError naming
 * the key, the value and where it came from.
 */
export function applyOverrides(base: Readonly<Params>, overrides: unknown, source: string): Params {
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new ParameterError(`Parameters from ${source} must be a JSON object, got ${showValue(overrides)}`, undefined, overrides, undefined, source);
  }
  const merged: Params = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in RULES)) {
      throw new ParameterError(
        `Unknown parameter "${key}" (value ${showValue(value)}) from ${source}; known parameters: ${PARAM_KEYS.join(', ')}`,
        key,
        value,
        undefined,
        source,
      );
    }
    const reason = checkRule(RULES[key as ParamKey], value);
    if (reason) {
      throw new ParameterError(`Invalid parameter ${key} = ${showValue(value)} from ${source}: ${reason}`, key, value, undefined, source);
    }
    (merged as unknown as Record<string, unknown>)[key] = value;
  }
  if (merged.pcaComponents > merged.nFeatures) {
    throw new ParameterError(
      `Invalid parameter pcaComponents = ${merged.pcaComponents} from ${source}: must not exceed nFeatures (${merged.nFeatures})`,
      'pcaComponents',
      merged.pcaComponents,
      undefined,
      source,
    );
  }
  return merged;
}

/** Validate a complete parameter object (e.g. one read back from an artifact). */
export function validateParams(candidate: unknown, source: string): Params {
  const p = applyOverrides(DEFAULT_PARAMS, candidate, source);
  for (const key of PARAM_KEYS) {
    if (!(key in (candidate as object))) {
      throw new ParameterError(`Missing parameter "${key}" in ${source}`, key, undefined, undefined, source);
    }
  }
  return p;
}

/**
 * Parse `key=value` assignments (command-line `--set`). Values are read as JSON
 * when they parse (numbers, true, "quoted"), otherwise kept as strings, so
 * `contamination=0.1` gives 0.1 and `contamination=auto` gives "auto".
 */
export function parseAssignments(assignments: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new ParameterError(`Expected key=value, got ${showValue(a)}`, undefined, a, undefined, '--set');
    const key = a.slice(0, eq).trim();
    const raw = a.slice(eq + 1).trim();
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // not JSON: keep the raw string ("auto")
    }
    out[key] = value;
  }
  return out;
}

export interface LoadedParams {
  params: Params;
  /** where each value came from: 'default', a file path, or the environment variable */
  origin: Record<ParamKey, string>;
}

export interface LoadParamsOptions {
  /** a JSON file of overrides (applied after the file named by ANOMALY_PARAMS_FILE) */
  file?: string;
  /** overrides given in code (applied last) */
  overrides?: Record<string, unknown>;
  /** how to name `overrides` in messages and origins (default "code") */
  overridesSource?: string;
  /** environment to read ANOMALY_PARAMS_FILE / ANOMALY_PARAMS from (default process.env) */
  env?: Record<string, string | undefined>;
}

function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ParameterError(`Cannot read parameters file ${path}: ${(e as Error).message}`, undefined, path, undefined, path);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ParameterError(`Parameters file ${path} is not valid JSON: ${(e as Error).message}`, undefined, path, undefined, path);
  }
}

/**
 * Defaults, then the file named by ANOMALY_PARAMS_FILE, then `options.file`,
 * then the JSON in ANOMALY_PARAMS, then `options.overrides`: later wins.
 */
export function loadParams(options: LoadParamsOptions = {}): LoadedParams {
  const env = options.env ?? process.env;
  let params: Params = { ...DEFAULT_PARAMS };
  const origin = Object.fromEntries(PARAM_KEYS.map((k) => [k, 'default'])) as Record<ParamKey, string>;
  const layer = (values: unknown, source: string) => {
    params = applyOverrides(params, values, source);
    for (const k of Object.keys(values as object)) origin[k as ParamKey] = source;
  };
  const envFile = env[PARAMS_FILE_ENV];
  if (envFile) layer(readJsonFile(envFile), `${PARAMS_FILE_ENV}=${envFile}`);
  if (options.file) layer(readJsonFile(options.file), options.file);
  const envJson = env[PARAMS_ENV];
  if (envJson && envJson.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(envJson);
    } catch (e) {
      throw new ParameterError(`${PARAMS_ENV} is not valid JSON (${(e as Error).message}): ${envJson}`, undefined, envJson, undefined, PARAMS_ENV);
    }
    layer(parsed, PARAMS_ENV);
  }
  if (options.overrides) layer(options.overrides, options.overridesSource ?? 'code');
  return { params, origin };
}

// The forest's and PCA's rule tables and the checking helpers, for users of the
// library (params/forest-params and params/constraints are not re-exported by index.ts).
export { resolveMaxSamples, FOREST_PARAMETER_RULES, validateForestOptions } from './forest-params';
export { PCA_PARAMETER_RULES } from './preprocess-params';
export { checkRule, describeRule, ParameterError, type ParameterRule, type ParameterRules } from './constraints';
