import { readFileSync } from 'node:fs';
import { inKernel } from './display';
import {
  applyOverrides,
  DEFAULT_PARAMS,
  loadParams,
  PARAM_KEYS,
  type LoadedParams,
  type LoadParamsOptions,
  type ParamKey,
  type Params,
} from '../params/params';
import { paramsTable, showTable, textTable } from './tables';
import { PRODUCERS, Workspace, type ArtifactName } from '../persist/workspace';
import { recordedParams, RunRecorder } from '../experiments/recorder';
import { contentChecksum, datasetFingerprint, filesFingerprint, recordedPath } from '../experiments/provenance';
import { RunStore } from '../experiments/run-store';
import type { DataFingerprint, RunParamValue } from '../experiments/run-record';
import type { Dataset } from '../data/simulate';

/** What a notebook's run produced, for its record in the run log. */
export interface NotebookOutcome {
  /** the metrics, e.g. `detectionMetrics(summary)` */
  metrics: Record<string, number>;
  /** the data the results are about: a data set or input files (their fingerprint is recorded), or a fingerprint */
  data?: Dataset | DataFingerprint | readonly string[];
  /**
   * the parameters of this result when they are not the simulation's (NSL-KDD's
   * evaluation options, a capture's feature set): recorded instead of the
   * notebook's parameter table, each with the origin `notebook`
   */
  params?: Record<string, RunParamValue>;
  /** the model file the results come from (a bundle's own checksum is recorded, else the file's) */
  modelFile?: string;
}

/**
 * The notebook's entry in the run log. Nothing is written until
 * {@link NotebookRun.record} is called, so a notebook that computes no result
 * leaves no record; a notebook executed by `npm start` records its run as a
 * child of the start run.
 */
export class NotebookRun {
  private readonly recorder: RunRecorder;

  constructor(name: string, loaded: LoadedParams, ws: Workspace) {
    this.recorder = RunRecorder.start({ command: 'notebook', label: name, ...recordedParams(loaded), store: new RunStore(ws.dir) });
  }

  /** the run's id */
  get id(): string {
    return this.recorder.id;
  }

  /**
   * Append the run's record (and log it to MLflow when MLFLOW_TRACKING_URI is set) and say so in one line
   * (the record itself: `npm run runs -- --compare ID --json`, or {@link RunStore}).
   */
  async record(outcome: NotebookOutcome): Promise<void> {
    const d = outcome.data;
    const data = d === undefined ? null : Array.isArray(d) ? filesFingerprint(d as readonly string[]) : 'kind' in d ? (d as DataFingerprint) : datasetFingerprint(d as Dataset);
    let model = null;
    if (outcome.modelFile !== undefined) {
      const bytes = readFileSync(outcome.modelFile);
      let checksum: string | undefined;
      try {
        const parsed = JSON.parse(bytes.toString('utf8')) as { checksum?: unknown };
        if (typeof parsed.checksum === 'string' && parsed.checksum.startsWith('sha256:')) checksum = parsed.checksum;
      } catch {
        // not JSON: the file's own bytes identify it
      }
      model = { path: recordedPath(outcome.modelFile), checksum: checksum ?? contentChecksum(bytes) };
    }
    const own = outcome.params ? { params: { ...outcome.params }, origin: Object.fromEntries(Object.keys(outcome.params).map((k) => [k, 'notebook'])) } : {};
    const finished = await this.recorder.finish({ metrics: outcome.metrics, data, model, artifacts: outcome.modelFile ? [outcome.modelFile] : [], ...own });
    console.log(`recorded run ${finished.record.id} in ${this.recorder.store.show()}${finished.mlflow ? ` and in MLflow (run ${finished.mlflow.runId})` : ''}`);
  }
}

export interface NotebookContext {
  loaded: LoadedParams;
  params: Params;
  ws: Workspace;
  /** the parameters taken over from the run this notebook builds on (empty when none differ from the defaults) */
  adopted: Partial<Params>;
  /** this notebook's entry in the run log: `await run.record({ metrics })` writes it */
  run: NotebookRun;
}

export interface NotebookSetupOptions extends LoadParamsOptions {
  /**
   * The artifact this notebook builds on (e.g. `'params.json'` for 02,
   * `'forest.json'` for 04, `'model.json'` for 08). When it exists, every
   * parameter the user did not set (no environment variable, no file, no
   * `overrides`) takes the value recorded in it, so an override made in an
   * earlier notebook flows through the lab without editing the later ones.
   * Default: none (the notebook starts a run, like 01).
   */
  buildsOn?: ArtifactName;
  /** the artifacts folder (default: `new Workspace()`, i.e. ANOMALY_ARTIFACTS_DIR or `<project>/artifacts`) */
  workspace?: Workspace;
  /** show the parameter table (default true); a list of keys shows only those (a notebook on real data uses the forest's settings, not the simulation's); false shows none */
  showParams?: boolean | readonly ParamKey[];
  /** the notebook's name in the run log (default `notebook`), e.g. `05_evaluate` */
  name?: string;
}

/**
 * Layer the parameters recorded in `buildsOn` under the user's own: defaults,
 * then the recorded run, then ANOMALY_PARAMS_FILE / `file` / ANOMALY_PARAMS /
 * `overrides` (later wins). Only keys whose value came from the defaults are
 * replaced, and only where the run used another value, so the origin of each
 * value stays exact. A missing artifact adopts nothing (the notebook's own
 * load then names the notebook to run first); an unreadable one throws the
 * workspace's error naming the file.
 */
export function resolveNotebookParams(options: NotebookSetupOptions = {}, ws = options.workspace ?? new Workspace()): { loaded: LoadedParams; adopted: Partial<Params> } {
  const own = loadParams(options);
  const adopted: Partial<Params> = {};
  if (!options.buildsOn) return { loaded: own, adopted };
  const recorded = ws.recordedParams(options.buildsOn);
  if (!recorded) return { loaded: own, adopted };
  const source = `${ws.show(options.buildsOn)} (the run of ${PRODUCERS[options.buildsOn]})`;
  const origin = { ...own.origin };
  for (const key of PARAM_KEYS) {
    if (own.origin[key] !== 'default') continue;
    if (JSON.stringify(recorded[key]) === JSON.stringify(DEFAULT_PARAMS[key])) continue;
    (adopted as Record<ParamKey, unknown>)[key] = recorded[key];
    origin[key] = source;
  }
  // re-check the combination (e.g. pcaComponents <= nFeatures when each came from a different place)
  const params = applyOverrides(own.params, adopted, source);
  return { loaded: { params, origin }, adopted };
}

/**
 * The first cell of every notebook: load the experiment parameters (defaults,
 * the run this notebook builds on, then ANOMALY_PARAMS_FILE / ANOMALY_PARAMS,
 * then `options.overrides`), show them with where each changed value came from,
 * and open the artifacts folder.
 *
 * @param options.buildsOn the artifact whose recorded parameters are adopted (see {@link NotebookSetupOptions})
 * @param options.overrides parameters set in the notebook itself (applied last)
 * @returns the parameters, where each came from, what was adopted, and the workspace
 */
export function notebookSetup(options: NotebookSetupOptions = {}): NotebookContext {
  const ws = options.workspace ?? new Workspace();
  const { loaded, adopted } = resolveNotebookParams(options, ws);
  const table = paramsTable(loaded, DEFAULT_PARAMS as unknown as Record<string, unknown>, 3, Array.isArray(options.showParams) ? options.showParams : undefined);
  if (options.showParams !== false) {
    if (inKernel()) showTable(table.rows, table);
    else console.log(textTable(table.rows, table));
  }
  console.log(`artifacts folder: ${ws.show('.')}`);
  return { loaded, params: loaded.params, ws, adopted, run: new NotebookRun(options.name ?? 'notebook', loaded, ws) };
}
