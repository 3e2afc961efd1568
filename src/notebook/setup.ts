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
} from '../core/params';
import { paramsTable, showTable, textTable } from './tables';
import { PRODUCERS, Workspace, type ArtifactName } from '../persist/workspace';

export interface NotebookContext {
  loaded: LoadedParams;
  params: Params;
  ws: Workspace;
  /** the parameters taken over from the run this notebook builds on (empty when none differ from the defaults) */
  adopted: Partial<Params>;
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
  /** show the parameter table (default true; a notebook that uses none of the simulation's parameters passes false) */
  showParams?: boolean;
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
  const table = paramsTable(loaded, DEFAULT_PARAMS as unknown as Record<string, unknown>);
  if (options.showParams !== false) {
    if (inKernel()) showTable(table.rows, table);
    else console.log(textTable(table.rows, table));
  }
  console.log(`artifacts folder: ${ws.show('.')}`);
  return { loaded, params: loaded.params, ws, adopted };
}
