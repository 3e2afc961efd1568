import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { PROJECT_ROOT } from '../core/paths';
import { datasetToCsv, parseDatasetCsv } from '../data/csv';
import { IsolationForest, type IsolationForestJSON } from '../model/forest';
import type { DetectionSummary } from '../eval/metrics';
import { validateParams, type ParamKey, type Params } from '../core/params';
import { PCAModel, StandardScaler, type PCAJSON, type StandardScalerJSON } from '../model/preprocess';
import type { Dataset } from '../data/simulate';

/**
 * The artifacts folder that links the notebooks: each notebook reads what the
 * earlier ones wrote and writes its own result, together with the parameters
 * that produced it. A missing file names the notebook that writes it.
 */

/** Environment variable that moves the artifacts folder (the notebook test uses a fresh temp folder). */
export const ARTIFACTS_ENV = 'ANOMALY_ARTIFACTS_DIR';

/** `<project>/artifacts`, wherever the kernel's working directory is. */
export function defaultArtifactsDir(): string {
  return resolve(PROJECT_ROOT, 'artifacts');
}

export function artifactsDir(): string {
  const fromEnv = process.env[ARTIFACTS_ENV];
  return fromEnv ? resolve(fromEnv) : defaultArtifactsDir();
}

/** Which notebook writes each artifact. */
export const PRODUCERS = {
  'params.json': '01_simulate_traffic.ipynb',
  'traffic.csv': '01_simulate_traffic.ipynb',
  'preprocess.json': '02_preprocess.ipynb',
  'forest.json': '03_train_isolation_forest.ipynb',
  'predictions.json': '04_predict.ipynb',
  'metrics.json': '05_evaluate.ipynb',
  'model.json': '07_save_model.ipynb',
  'stream-summary.json': '08_streaming.ipynb',
} as const;

export type ArtifactName = keyof typeof PRODUCERS;

const DATA_KEYS: ParamKey[] = ['seed', 'nNormal', 'nAnomalous', 'nFeatures', 'normalMean', 'normalStd', 'anomalyMean', 'anomalyStd'];
const PREPROCESS_KEYS: ParamKey[] = [...DATA_KEYS, 'pcaComponents'];

/** Parameters each stage depends on (each stage adds to the one before): an artifact can only be reused when these match. */
export const STAGE_KEYS: Record<'data' | 'preprocess' | 'forest', ParamKey[]> = {
  data: DATA_KEYS,
  preprocess: PREPROCESS_KEYS,
  forest: [...PREPROCESS_KEYS, 'nEstimators', 'maxSamples', 'contamination'],
};

export class MissingArtifactError extends Error {
  constructor(readonly path: string, readonly producer: string) {
    super(`${path} is missing: run ${producer} first (the notebooks build on each other, 01 to 08)`);
    this.name = 'MissingArtifactError';
  }
}

export class StaleArtifactError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StaleArtifactError';
  }
}

export interface PreprocessArtifact {
  params: Params;
  scaler: StandardScalerJSON;
  pca: PCAJSON;
}

export interface ForestArtifact {
  params: Params;
  forest: IsolationForestJSON;
  fitMs: number;
  comparison?: Record<string, unknown>[];
}

export interface PredictionsArtifact {
  params: Params;
  scores: number[];
  decision: number[];
  predictions: number[];
  threshold: number;
}

export interface MetricsArtifact {
  params: Params;
  metrics: DetectionSummary;
}

export class Workspace {
  constructor(readonly dir: string = artifactsDir()) {}

  path(name: string): string {
    return join(this.dir, name);
  }

  /** Path relative to the working directory, for messages and notebook output. */
  show(name: string): string {
    return relative(process.cwd(), this.path(name)) || name;
  }

  has(name: ArtifactName): boolean {
    return existsSync(this.path(name));
  }

  /** Write atomically: a reader never sees half a file. */
  writeText(name: string, text: string): string {
    const p = this.path(name);
    mkdirSync(dirname(p), { recursive: true });
    const tmp = `${p}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, p);
    return p;
  }

  writeJson(name: string, value: unknown): string {
    return this.writeText(name, `${JSON.stringify(value, null, 1)}\n`);
  }

  readText(name: ArtifactName): string {
    const p = this.path(name);
    if (!existsSync(p)) throw new MissingArtifactError(this.show(name), PRODUCERS[name]);
    return readFileSync(p, 'utf8');
  }

  readJson<T>(name: ArtifactName): T {
    const text = this.readText(name);
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new StaleArtifactError(`${this.show(name)} is not valid JSON (${(e as Error).message}): run ${PRODUCERS[name]} again`);
    }
  }

  /**
   * Refuse inputs produced with other parameters than the current ones, naming
   * the keys that differ and the notebook to re-run.
   */
  checkParams(name: ArtifactName, recorded: unknown, current: Params, stage: keyof typeof STAGE_KEYS): void {
    const rec = validateParams(recorded, this.show(name));
    const diffs = STAGE_KEYS[stage].filter((k) => JSON.stringify(rec[k]) !== JSON.stringify(current[k]));
    if (diffs.length > 0) {
      const list = diffs.map((k) => `${k}: ${JSON.stringify(rec[k])} there, ${JSON.stringify(current[k])} now`).join('; ');
      throw new StaleArtifactError(`${this.show(name)} was made with other parameters (${list}): run ${PRODUCERS[name]} again with the current parameters`);
    }
  }

  /**
   * The parameters recorded in an artifact (`params.json` itself, or the
   * `params` field of the others), validated; undefined when the file does not
   * exist. Lets a notebook adopt the parameters of the run it builds on.
   */
  recordedParams(name: ArtifactName): Params | undefined {
    if (!this.has(name)) return undefined;
    const value = this.readJson<unknown>(name);
    const recorded = name === 'params.json' ? value : (value as { params?: unknown } | null)?.params;
    return validateParams(recorded, this.show(name));
  }

  saveTraffic(params: Params, data: Dataset): void {
    this.writeJson('params.json', params);
    this.writeText('traffic.csv', datasetToCsv(data));
  }

  loadTraffic(current: Params): Dataset {
    this.checkParams('params.json', this.readJson('params.json'), current, 'data');
    return parseDatasetCsv(this.readText('traffic.csv'), this.show('traffic.csv'));
  }

  savePreprocess(params: Params, scaler: StandardScaler, pca: PCAModel): void {
    this.writeJson('preprocess.json', { params, scaler: scaler.toJSON(), pca: pca.toJSON() } satisfies PreprocessArtifact);
  }

  loadPreprocess(current: Params): { scaler: StandardScaler; pca: PCAModel } {
    const a = this.readJson<PreprocessArtifact>('preprocess.json');
    this.checkParams('preprocess.json', a.params, current, 'preprocess');
    return { scaler: StandardScaler.fromJSON(a.scaler), pca: PCAModel.fromJSON(a.pca) };
  }

  saveForest(params: Params, forest: IsolationForest, fitMs: number, comparison?: Record<string, unknown>[]): void {
    this.writeJson('forest.json', { params, forest: forest.toJSON(), fitMs, comparison } satisfies ForestArtifact);
  }

  loadForest(current: Params): IsolationForest {
    const a = this.readJson<ForestArtifact>('forest.json');
    this.checkParams('forest.json', a.params, current, 'forest');
    return IsolationForest.fromJSON(a.forest);
  }

  savePredictions(params: Params, scores: Float64Array, decision: Float64Array, predictions: Int8Array, threshold: number): void {
    this.writeJson('predictions.json', {
      params,
      threshold,
      scores: Array.from(scores),
      decision: Array.from(decision),
      predictions: Array.from(predictions),
    } satisfies PredictionsArtifact);
  }

  loadPredictions(current: Params): { scores: Float64Array; decision: Float64Array; predictions: Int8Array; threshold: number } {
    const a = this.readJson<PredictionsArtifact>('predictions.json');
    this.checkParams('predictions.json', a.params, current, 'forest');
    return {
      scores: Float64Array.from(a.scores),
      decision: Float64Array.from(a.decision),
      predictions: Int8Array.from(a.predictions),
      threshold: a.threshold,
    };
  }

  saveMetrics(params: Params, metrics: DetectionSummary): void {
    this.writeJson('metrics.json', { params, metrics } satisfies MetricsArtifact);
  }

  loadMetrics(current: Params): DetectionSummary {
    const a = this.readJson<MetricsArtifact>('metrics.json');
    this.checkParams('metrics.json', a.params, current, 'forest');
    return a.metrics;
  }
}
