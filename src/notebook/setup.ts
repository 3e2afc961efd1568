import { inKernel } from './display';
import { DEFAULT_PARAMS, loadParams, type LoadedParams, type LoadParamsOptions, type Params } from '../core/params';
import { paramsTable, showTable, textTable } from './tables';
import { Workspace } from '../persist/workspace';

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
  const table = paramsTable(loaded, DEFAULT_PARAMS as unknown as Record<string, unknown>);
  if (inKernel()) showTable(table.rows, table);
  else console.log(textTable(table.rows, table));
  console.log(`artifacts folder: ${ws.show('.')}`);
  return { loaded, params: loaded.params, ws };
}
