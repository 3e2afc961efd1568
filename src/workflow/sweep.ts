import { applyOverrides, type ParamKey, type Params } from '../params/params';
import { simulateTraffic, type Dataset } from '../data/simulate';
import { STAGE_KEYS } from '../persist/workspace';
import { runPipeline } from './pipeline';

/** One run of a sweep as the sweep chart draws it: the swept value and the anomaly-class metrics. */
export interface SweepRow {
  value: number | string;
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number;
  nFlagged: number;
}

export interface SweepResult extends SweepRow {
  averagePrecision: number;
  fitMs: number;
}

/**
 * Run the whole pipeline once per parameter set and collect the anomaly-class
 * metrics of each run. The data set is simulated once per distinct set of data
 * parameters, so runs that differ only in a model parameter share it.
 *
 * @param key the parameter the runs differ in (its value labels each row)
 * @param runs the parameters of each run, already validated
 * @param options.data the data set to use for every run (default: simulated from each run's parameters)
 * @param options.log called with one line per finished run (default: silent)
 * @param options.onRun called after each run with its parameters, its data set, its row and its wall time (the run log records each)
 * @returns one row per run: precision, recall, F1, ROC-AUC, average precision, rows flagged, fit time
 */
export function runSweep(
  key: string,
  runs: readonly Params[],
  options: { data?: Dataset; log?: (line: string) => void; onRun?: (params: Params, data: Dataset, row: SweepResult, ms: number) => void } = {},
): SweepResult[] {
  const cache = new Map<string, Dataset>();
  return runs.map((params) => {
    const t0 = performance.now();
    let dataset = options.data;
    if (!dataset) {
      const dataKey = JSON.stringify(STAGE_KEYS.data.map((k) => params[k]));
      if (!cache.has(dataKey)) cache.set(dataKey, simulateTraffic(params));
      dataset = cache.get(dataKey)!;
    }
    const r = runPipeline(params, dataset);
    const m = r.metrics;
    const value = params[key as ParamKey] as number | string;
    options.log?.(`  ${key}=${JSON.stringify(value)}: ROC-AUC ${m.rocAuc.toFixed(6)}, F1 ${m.f1.toFixed(4)}, ${m.nFlagged} flagged`);
    const row: SweepResult = {
      value,
      precision: m.precision,
      recall: m.recall,
      f1: m.f1,
      rocAuc: m.rocAuc,
      averagePrecision: m.averagePrecision,
      nFlagged: m.nFlagged,
      fitMs: Math.round(r.timingsMs.fit),
    };
    options.onRun?.(params, dataset, row, performance.now() - t0);
    return row;
  });
}

/**
 * Run the whole pipeline once per value of one parameter (the others from
 * `base`) and collect the anomaly-class metrics of each run: the data behind
 * a "what does this parameter do" chart (what `npm run sweep` does on the
 * command line).
 *
 * @param base the parameters of every run except `key`
 * @param key the parameter to vary
 * @param values its values; each is validated like any override (a typo stops the sweep before any run)
 * @param data the data set to use for every run (default: simulated from the parameters)
 * @returns one row per value: precision, recall, F1, ROC-AUC, average precision, rows flagged, fit time
 */
export function sweepParameter(base: Readonly<Params>, key: ParamKey, values: ReadonlyArray<Params[ParamKey]>, data?: Dataset): SweepResult[] {
  const runs = values.map((v) => applyOverrides(base, { [key]: v }, `sweep ${key}`));
  return runSweep(key, runs, { data });
}
