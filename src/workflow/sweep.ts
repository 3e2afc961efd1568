import { applyOverrides, type ParamKey, type Params } from '../core/params';
import { simulateTraffic, type Dataset } from '../data/simulate';
import type { SweepRow } from '../notebook/plots';
import { STAGE_KEYS } from '../persist/workspace';
import { runPipeline } from './pipeline';

export interface SweepResult extends SweepRow {
  averagePrecision: number;
  fitMs: number;
}

/**
 * Run the whole pipeline once per value of one parameter (the others from
 * `base`) and collect the anomaly-class metrics of each run: the data behind
 * a "what does this parameter do" chart. The data set is simulated once per
 * distinct set of data parameters, so sweeping a model parameter reuses it.
 *
 * @param base the parameters of every run except `key`
 * @param key the parameter to vary
 * @param values its values; each is validated like any override (a typo stops the sweep before any run)
 * @param data the data set to use for every run (default: simulated from the parameters)
 * @returns one row per value: precision, recall, F1, ROC-AUC, average precision, rows flagged, fit time
 */
export function sweepParameter(base: Readonly<Params>, key: ParamKey, values: ReadonlyArray<Params[ParamKey]>, data?: Dataset): SweepResult[] {
  const runs = values.map((v) => applyOverrides(base, { [key]: v }, `sweep ${key}`));
  const cache = new Map<string, Dataset>();
  return runs.map((params) => {
    let dataset = data;
    if (!dataset) {
      const dataKey = JSON.stringify(STAGE_KEYS.data.map((k) => params[k]));
      if (!cache.has(dataKey)) cache.set(dataKey, simulateTraffic(params));
      dataset = cache.get(dataKey)!;
    }
    const r = runPipeline(params, dataset);
    const m = r.metrics;
    return {
      value: params[key] as number | string,
      precision: m.precision,
      recall: m.recall,
      f1: m.f1,
      rocAuc: m.rocAuc,
      averagePrecision: m.averagePrecision,
      nFlagged: m.nFlagged,
      fitMs: Math.round(r.timingsMs.fit),
    };
  });
}
