import { inKernel } from './display';
import { DEFAULT_PARAMS, loadParams, type LoadedParams, type LoadParamsOptions, type Params } from './params';
import { paramsRows, showTable, textTable } from './tables';
import { Workspace } from './workspace';

export interface NotebookContext {
  loaded: LoadedParams;
  params: Params;
  ws: Workspace;
}

/**
 * The first cell of every notebook: load the experiment parameters (defaults,
 * then ANOMALY_PARAMS_FILE / ANOMALY_PARAMS, then `options`), show them with
 * where each value came from, and open the artifacts folder.
 */
export function notebookSetup(options: LoadParamsOptions = {}): NotebookContext {
  const loaded = loadParams(options);
  const ws = new Workspace();
  const rows = paramsRows(loaded, DEFAULT_PARAMS as unknown as Record<string, unknown>);
  const caption = `Experiment parameters (artifacts in ${ws.show('.')})`;
  if (inKernel()) showTable(rows, { caption });
  else console.log(textTable(rows, { caption }));
  return { loaded, params: loaded.params, ws };
}
