import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { writeFileAtomic } from './atomic-write';
import { LIBRARY_NAME, LIBRARY_VERSION } from '../core/version';
import { PROJECT_ROOT } from '../core/paths';
import { datasetToCsv, parseDatasetCsv } from '../data/csv';
import { IsolationForest, type IsolationForestJSON } from '../model/forest';
import type { DetectionSummary } from '../eval/metrics';
import { validateParams, type ParamKey, type Params } from '../params/params';
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

/**
 * A workspace file that exists but cannot be used: made with other parameters,
 * by another version of the library, or not in the expected shape. The message
 * names the file and the notebook to re-run.
 */
export class StaleArtifactError extends Error {
  constructor(
    message: string,
    /** the file, relative to the working directory (when known) */
    readonly file?: string,
    /** the notebook that writes it (when known) */
    readonly producer?: string,
  ) {
    super(message);
    this.name = 'StaleArtifactError';
  }
}

/** Marks a JSON file as one of the stage files that link the notebooks. */
export const STAGE_FORMAT = 'netflow-anomaly-stage';
/** Bump when a stage file's layout changes; older files are refused with "re-run notebook NN". */
export const STAGE_SCHEMA_VERSION = 1;

/** The JSON stage files, each written by one notebook and read by later ones. */
export type StageFile = 'params.json' | 'preprocess.json' | 'forest.json' | 'predictions.json' | 'metrics.json';

/** The fields every stage file starts with: what it is, which layout, who wrote it, and with which parameters. */
export interface StageHeader {
  format: typeof STAGE_FORMAT;
  /** the file's own name, so a file copied to another name is not read as something else */
  stage: StageFile;
  schemaVersion: number;
  library: { name: string; version: string };
  params: Params;
}

export interface ParamsArtifact extends StageHeader {}

export interface PreprocessArtifact extends StageHeader {
  scaler: StandardScalerJSON;
  pca: PCAJSON;
}

export interface ForestArtifact extends StageHeader {
  forest: IsolationForestJSON;
  fitMs: number;
  comparison?: Record<string, unknown>[];
}

export interface PredictionsArtifact extends StageHeader {
  scores: number[];
  decision: number[];
  predictions: number[];
  threshold: number;
}

export interface MetricsArtifact extends StageHeader {
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
    writeFileAtomic(p, text);
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
      throw new StaleArtifactError(`${this.show(name)} is not valid JSON (${(e as Error).message}): run ${PRODUCERS[name]} again`, this.show(name), PRODUCERS[name]);
    }
  }


  /** A StaleArtifactError `<file>: <problem>: run <notebook> again`. */
  private stale(name: StageFile, problem: string): StaleArtifactError {
    const file = this.show(name);
    return new StaleArtifactError(`${file}: ${problem}: run ${PRODUCERS[name]} again`, file, PRODUCERS[name]);
  }

  /**
   * Refuse inputs produced with other parameters than the current ones, naming
   * the keys that differ and the notebook to re-run.
   */
  checkParams(name: ArtifactName, recorded: unknown, current: Params, stage: keyof typeof STAGE_KEYS): void {
    let rec: Params;
    try {
      rec = validateParams(recorded, this.show(name));
    } catch (e) {
      throw new StaleArtifactError(`${(e as Error).message}: run ${PRODUCERS[name]} again`, this.show(name), PRODUCERS[name]);
    }
    const diffs = STAGE_KEYS[stage].filter((k) => JSON.stringify(rec[k]) !== JSON.stringify(current[k]));
    if (diffs.length > 0) {
      const list = diffs.map((k) => `${k}: ${JSON.stringify(rec[k])} there, ${JSON.stringify(current[k])} now`).join('; ');
      throw new StaleArtifactError(
        `${this.show(name)} was made with other parameters (${list}): run ${PRODUCERS[name]} again with the current parameters`,
        this.show(name),
        PRODUCERS[name],
      );
    }
  }

  /** Write a stage file: the header (marker, version, library, parameters), then the stage's own fields. */
  private writeStage<T extends StageHeader>(name: StageFile, params: Params, fields: Omit<T, keyof StageHeader>): void {
    const header: StageHeader = {
      format: STAGE_FORMAT,
      stage: name,
      schemaVersion: STAGE_SCHEMA_VERSION,
      library: { name: LIBRARY_NAME, version: LIBRARY_VERSION },
      params,
    };
    this.writeJson(name, { ...header, ...fields });
  }

  /**
   * Read a stage file and check its header: a JSON object with our marker, its
   * own stage name, this schema version and parameters that match the current
   * ones on the keys `stage` depends on. The stage's own fields are checked by
   * the caller (`check` turns what it throws into a StaleArtifactError).
   */
  private readStage<T extends StageHeader, R>(name: StageFile, current: Params, stage: keyof typeof STAGE_KEYS, check: (a: T) => R): R {
    const raw = this.readJson<unknown>(name as ArtifactName);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw this.stale(name, 'not a stage file (expected a JSON object)');
    const a = raw as Partial<StageHeader>;
    if (a.format !== STAGE_FORMAT) {
      throw this.stale(name, `not a stage file of this library (format ${JSON.stringify(a.format)}, expected "${STAGE_FORMAT}"; written by an older version?)`);
    }
    if (a.stage !== name) throw this.stale(name, `holds the stage ${JSON.stringify(a.stage)}, not ${name} (copied or renamed?)`);
    if (a.schemaVersion !== STAGE_SCHEMA_VERSION) {
      throw this.stale(name, `stage schema version ${JSON.stringify(a.schemaVersion)} is not supported; this library (${LIBRARY_VERSION}) reads version ${STAGE_SCHEMA_VERSION}`);
    }
    this.checkParams(name as ArtifactName, a.params, current, stage);
    try {
      return check(raw as T);
    } catch (e) {
      if (e instanceof StaleArtifactError || e instanceof MissingArtifactError) throw e;
      throw this.stale(name, (e as Error).message);
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
    // every stage file (params.json included) and the model bundle carry the run's parameters under `params`
    const recorded = (value as { params?: unknown } | null)?.params;
    return validateParams(recorded, this.show(name));
  }

  saveTraffic(params: Params, data: Dataset): void {
    this.writeStage<ParamsArtifact>('params.json', params, {});
    this.writeText('traffic.csv', datasetToCsv(data));
  }

  /** The simulated data, checked against the current parameters (row and feature counts included). */
  loadTraffic(current: Params): Dataset {
    this.readStage<ParamsArtifact, void>('params.json', current, 'data', () => undefined);
    const data = parseDatasetCsv(this.readText('traffic.csv'), this.show('traffic.csv'));
    const rows = current.nNormal + current.nAnomalous;
    if (data.X.rows !== rows || data.X.cols !== current.nFeatures) {
      throw new StaleArtifactError(
        `${this.show('traffic.csv')}: holds ${data.X.rows} rows x ${data.X.cols} features, the parameters give ${rows} x ${current.nFeatures}: run ${PRODUCERS['traffic.csv']} again`,
        this.show('traffic.csv'),
        PRODUCERS['traffic.csv'],
      );
    }
    return data;
  }

  savePreprocess(params: Params, scaler: StandardScaler, pca: PCAModel): void {
    this.writeStage<PreprocessArtifact>('preprocess.json', params, { scaler: scaler.toJSON(), pca: pca.toJSON() });
  }

  loadPreprocess(current: Params): { scaler: StandardScaler; pca: PCAModel } {
    return this.readStage<PreprocessArtifact, { scaler: StandardScaler; pca: PCAModel }>('preprocess.json', current, 'preprocess', (a) => {
      const scaler = StandardScaler.fromJSON(a.scaler);
      const pca = PCAModel.fromJSON(a.pca);
      const d = current.nFeatures;
      if (scaler.nFeatures !== d) throw new Error(`the scaler has ${scaler.nFeatures} features, nFeatures is ${d}`);
      if (pca.nFeatures !== d) throw new Error(`the PCA has ${pca.nFeatures} features, nFeatures is ${d}`);
      if (pca.nComponents !== current.pcaComponents) throw new Error(`the PCA has ${pca.nComponents} components, pcaComponents is ${current.pcaComponents}`);
      return { scaler, pca };
    });
  }

  saveForest(params: Params, forest: IsolationForest, fitMs: number, comparison?: Record<string, unknown>[]): void {
    this.writeStage<ForestArtifact>('forest.json', params, { forest: forest.toJSON(), fitMs, comparison });
  }

  loadForest(current: Params): IsolationForest {
    return this.readStage<ForestArtifact, IsolationForest>('forest.json', current, 'forest', (a) => {
      const forest = IsolationForest.fromJSON(a.forest);
      if (forest.nFeatures !== current.nFeatures) throw new Error(`the forest has ${forest.nFeatures} features, nFeatures is ${current.nFeatures}`);
      if (forest.nEstimators !== current.nEstimators) throw new Error(`the forest has ${forest.nEstimators} trees, nEstimators is ${current.nEstimators}`);
      if (forest.contamination !== current.contamination) {
        throw new Error(`the forest was fitted with contamination ${JSON.stringify(forest.contamination)}, the parameters say ${JSON.stringify(current.contamination)}`);
      }
      if (!(typeof a.fitMs === 'number' && Number.isFinite(a.fitMs) && a.fitMs >= 0)) throw new Error(`fitMs = ${JSON.stringify(a.fitMs)} is not a duration in ms`);
      return forest;
    });
  }

  savePredictions(params: Params, scores: Float64Array, decision: Float64Array, predictions: Int8Array, threshold: number): void {
    this.writeStage<PredictionsArtifact>('predictions.json', params, {
      threshold,
      scores: Array.from(scores),
      decision: Array.from(decision),
      predictions: Array.from(predictions),
    });
  }

  /**
   * Scores, decision values and predictions of the training rows. Besides the
   * shape (one finite number per row), the file must be self-consistent as the
   * library writes it: decision = score - threshold, prediction = -1 exactly
   * where decision < 0.
   */
  loadPredictions(current: Params): { scores: Float64Array; decision: Float64Array; predictions: Int8Array; threshold: number } {
    return this.readStage<PredictionsArtifact, { scores: Float64Array; decision: Float64Array; predictions: Int8Array; threshold: number }>(
      'predictions.json',
      current,
      'forest',
      (a) => {
        const n = current.nNormal + current.nAnomalous;
        if (!(typeof a.threshold === 'number' && Number.isFinite(a.threshold))) throw new Error(`threshold = ${JSON.stringify(a.threshold)} is not a finite number`);
        for (const key of ['scores', 'decision', 'predictions'] as const) {
          const v = a[key];
          if (!Array.isArray(v) || v.length !== n) throw new Error(`${key} must hold ${n} values (one per row), got ${Array.isArray(v) ? v.length : typeof v}`);
          const bad = v.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x));
          if (bad >= 0) throw new Error(`${key}[${bad}] = ${JSON.stringify(v[bad])} is not a finite number`);
        }
        for (let i = 0; i < n; i++) {
          const p = a.predictions[i];
          if (p !== 1 && p !== -1) throw new Error(`predictions[${i}] = ${p} is neither 1 nor -1`);
          // |1e-12| absorbs nothing the library does (it subtracts exactly) but allows another summation order
          if (Math.abs(a.decision[i] - (a.scores[i] - a.threshold)) > 1e-12) {
            throw new Error(`decision[${i}] = ${a.decision[i]} is not scores[${i}] - threshold = ${a.scores[i] - a.threshold}`);
          }
          if ((a.decision[i] < 0 ? -1 : 1) !== p) throw new Error(`predictions[${i}] = ${p} disagrees with decision[${i}] = ${a.decision[i]}`);
        }
        return {
          scores: Float64Array.from(a.scores),
          decision: Float64Array.from(a.decision),
          predictions: Int8Array.from(a.predictions),
          threshold: a.threshold,
        };
      },
    );
  }

  saveMetrics(params: Params, metrics: DetectionSummary): void {
    this.writeStage<MetricsArtifact>('metrics.json', params, { metrics });
  }

  loadMetrics(current: Params): DetectionSummary {
    return this.readStage<MetricsArtifact, DetectionSummary>('metrics.json', current, 'forest', (a) => {
      const m = a.metrics as Partial<DetectionSummary> | undefined;
      if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new Error('metrics is missing or not an object');
      const n = current.nNormal + current.nAnomalous;
      for (const key of ['nRows', 'nAnomalous', 'nFlagged'] as const) {
        const v = m[key];
        if (!(Number.isInteger(v) && (v as number) >= 0 && (v as number) <= n)) throw new Error(`metrics.${key} = ${JSON.stringify(v)} is not a row count from 0 to ${n}`);
      }
      if (m.nRows !== n) throw new Error(`metrics.nRows = ${m.nRows}, the parameters give ${n} rows`);
      for (const key of ['rocAuc', 'averagePrecision', 'precision', 'recall', 'f1', 'accuracy'] as const) {
        const v = m[key];
        // rounding can put a share one ulp past 1 (average precision 1.0000000000000002, as in scikit-learn)
        if (!(typeof v === 'number' && v >= 0 && v <= 1 + 1e-12)) throw new Error(`metrics.${key} = ${JSON.stringify(v)} is not a number in [0, 1]`);
      }
      const c = m.confusion;
      if (!c || !Array.isArray(c.labels) || !Array.isArray(c.matrix) || c.matrix.length !== c.labels.length) throw new Error('metrics.confusion is not a confusion matrix');
      if (typeof m.report !== 'string' || m.report === '') throw new Error('metrics.report is missing');
      return m as DetectionSummary;
    });
  }
}
