import type { LoadedParams } from '../params/params';
import { LIBRARY_VERSION } from '../core/version';
import { MlflowClient, MlflowError, MLFLOW_ENV, type MlflowLogged } from './mlflow';
import { gitState } from './provenance';
import { RUN_FORMAT, RUN_VERSION, type DataFingerprint, type GitState, type ModelFingerprint, type RunCommand, type RunParamValue, type RunRecord, type RunStatus } from './run-record';
import { newRunId, RunStore } from './run-store';

/**
 * Environment variable that makes the runs a command starts children of
 * another run: `npm start` sets it to its own run's id for the notebooks it
 * executes, so their records name the start run as `parent`.
 */
export const RUN_PARENT_ENV = 'ANOMALY_RUN_PARENT';

export interface RunStartOptions {
  command: RunCommand;
  /** the notebook's name, the swept parameter, ... */
  label?: string;
  /** the command's arguments as given (default none) */
  argv?: readonly string[];
  /** every parameter, and where each came from */
  params: Record<string, RunParamValue>;
  origin: Record<string, string>;
  /** default: ANOMALY_RUN_PARENT */
  parent?: string;
  group?: string;
  /** the run log (default: the artifacts folder's) */
  store?: RunStore;
  /**
   * an MLflow tracking server to log the run to as well (default: MLFLOW_TRACKING_URI;
   * null: none, whatever the environment says)
   */
  mlflow?: string | null;
  /** where warnings go (default: one line on stderr) */
  warn?: (line: string) => void;
  /** start time (default: now) */
  start?: Date;
  /** the code's git state, when the caller read it once for several runs (default: read at finish; it costs two git commands) */
  git?: GitState | null;
}

/** What a run produced. */
export interface RunOutcome {
  metrics?: Record<string, number>;
  data?: DataFingerprint | null;
  model?: ModelFingerprint | null;
  status?: RunStatus;
  error?: string;
  /** files to upload to MLflow as the run's artifacts (the model bundle) */
  artifacts?: readonly string[];
  /** the run's wall time, when it was measured apart from the recorder (default: start to finish) */
  durationMs?: number;
  /** the id of the run this one re-ran (`npm start -- --from-run ID`) */
  reproduces?: string;
  /** parameters known only at the end (replace those given at the start, with their origins) */
  params?: Record<string, RunParamValue>;
  origin?: Record<string, string>;
}

/** What {@link RunRecorder.finish} wrote. */
export interface FinishedRun {
  record: RunRecord;
  /** the run on the MLflow server, when one was configured and took it */
  mlflow?: MlflowLogged;
}

/** {@link LoadedParams} as recorded parameters (every key, and its origin). */
export function recordedParams(loaded: LoadedParams): Pick<RunStartOptions, 'params' | 'origin'> {
  return { params: { ...loaded.params } as Record<string, RunParamValue>, origin: { ...loaded.origin } };
}

/**
 * The metrics of a detection summary under the names the run log uses
 * (`rocAuc`, `averagePrecision`, `precision`, `recall`, `f1`, `nFlagged`, ...).
 */
export function detectionMetrics(m: { rocAuc: number; averagePrecision: number; precision: number; recall: number; f1: number; nFlagged: number; nRows?: number; nAnomalous?: number }): Record<string, number> {
  const out: Record<string, number> = { rocAuc: m.rocAuc, averagePrecision: m.averagePrecision, precision: m.precision, recall: m.recall, f1: m.f1, nFlagged: m.nFlagged };
  if (m.nRows !== undefined) out.nRows = m.nRows;
  if (m.nAnomalous !== undefined) out.nAnomalous = m.nAnomalous;
  // a metric that is not a number (NaN: no positives) is left out, not written as null
  for (const [k, v] of Object.entries(out)) if (!Number.isFinite(v)) delete out[k];
  return out;
}

/**
 * One run being recorded: started when the command starts, finished (and
 * appended to the run log, then logged to MLflow if one is configured) when
 * it ends.
 *
 * The local record is always written first; an MLflow server that cannot be
 * reached or refuses the run costs a one-line warning, never the record or
 * the command.
 */
export class RunRecorder {
  readonly id: string;
  readonly started: Date;
  readonly store: RunStore;
  private readonly t0 = performance.now();
  private finished = false;

  private constructor(private readonly options: RunStartOptions) {
    this.started = options.start ?? new Date();
    this.id = newRunId(this.started);
    this.store = options.store ?? new RunStore();
  }

  /** Start recording a run (nothing is written until {@link finish}). */
  static start(options: RunStartOptions): RunRecorder {
    return new RunRecorder(options);
  }

  /** The MLflow server this run goes to, if any. */
  get mlflowUrl(): string | undefined {
    const url = this.options.mlflow === undefined ? process.env[MLFLOW_ENV] : this.options.mlflow;
    return url === null || url === undefined || url.trim() === '' ? undefined : url;
  }

  /**
   * Write the run's record and log it to MLflow when configured.
   *
   * @throws RunRecordError for a metric name or value the log does not take; an fs error when the log cannot be written;
   *   Error when the run was finished already (a record per run)
   */
  async finish(outcome: RunOutcome = {}): Promise<FinishedRun> {
    if (this.finished) throw new Error(`run ${this.id} is finished already: a run has one record`);
    this.finished = true;
    const o = this.options;
    const parent = o.parent ?? (process.env[RUN_PARENT_ENV] || undefined);
    const record: RunRecord = {
      format: RUN_FORMAT,
      version: RUN_VERSION,
      id: this.id,
      ...(parent ? { parent } : {}),
      ...(o.group ? { group: o.group } : {}),
      time: this.started.toISOString(),
      durationMs: outcome.durationMs ?? Math.round(performance.now() - this.t0),
      command: o.command,
      ...(o.label ? { label: o.label } : {}),
      argv: [...(o.argv ?? [])],
      git: o.git !== undefined ? o.git : gitState(),
      library: LIBRARY_VERSION,
      params: { ...(outcome.params ?? o.params) },
      origin: { ...(outcome.origin ?? o.origin) },
      data: outcome.data ?? null,
      metrics: { ...(outcome.metrics ?? {}) },
      model: outcome.model ?? null,
      status: outcome.status ?? 'ok',
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(outcome.reproduces ? { reproduces: outcome.reproduces } : {}),
    };
    this.store.append(record);
    const url = this.mlflowUrl;
    if (url === undefined) return { record };
    const warn = o.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
    try {
      const mlflow = await new MlflowClient(url).logRun(record, outcome.artifacts ?? []);
      return { record, mlflow };
    } catch (e) {
      if (!(e instanceof MlflowError)) throw e;
      warn(`runs: ${e.message}; run ${record.id} is recorded in ${this.store.show()} only`);
      return { record };
    }
  }
}
