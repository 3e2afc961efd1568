import { applyOverrides, type LoadedParams, type ParamKey, type Params } from '../params/params';
import type { Dataset } from '../data/simulate';
import { runSweep, type SweepResult } from '../workflow/sweep';
import { datasetFingerprint, gitState } from './provenance';
import { detectionMetrics, RunRecorder, type RunStartOptions } from './recorder';
import type { DataFingerprint, RunParamValue, RunRecord } from './run-record';
import { newRunId } from './run-store';

/** A sweep whose runs are in the run log. */
export interface RecordedSweep {
  key: string;
  /** one row per value, as {@link runSweep} gives them */
  rows: SweepResult[];
  /** the record of each run, in the order of the values */
  runs: RunRecord[];
  /** the group id the runs share (`npm run runs -- --group ID` lists them) */
  group: string;
}

export interface RecordSweepOptions extends Pick<RunStartOptions, 'command' | 'label' | 'argv' | 'store' | 'mlflow' | 'warn' | 'parent'> {
  /** where each parameter of the base came from (the swept one is recorded as coming from the sweep) */
  origin: Record<string, string>;
  /** the data set of every run (default: simulated from each run's parameters) */
  data?: Dataset;
  /** one line per finished run */
  log?: (line: string) => void;
}

/**
 * Run the pipeline once per parameter set, as {@link runSweep} does, and
 * record each run in the run log (one group), with its data fingerprint and
 * metrics.
 *
 * @param key the parameter the runs differ in
 * @param runs the parameters of each run, already validated
 */
export async function runRecordedSweep(key: string, runs: readonly Params[], options: RecordSweepOptions): Promise<RecordedSweep> {
  const group = newRunId();
  const fingerprints = new WeakMap<Dataset, DataFingerprint>();
  const done: { params: Params; data: DataFingerprint; row: SweepResult; ms: number; start: Date }[] = [];
  const rows = runSweep(key, runs, {
    data: options.data,
    log: options.log,
    onRun: (params, data, row, ms) => {
      if (!fingerprints.has(data)) fingerprints.set(data, datasetFingerprint(data));
      done.push({ params, data: fingerprints.get(data)!, row, ms, start: new Date(Date.now() - ms) });
    },
  });
  const records: RunRecord[] = [];
  const git = gitState(); // one tree for the whole sweep
  for (const d of done) {
    const recorder = RunRecorder.start({
      command: options.command,
      label: options.label ?? key,
      argv: options.argv,
      params: { ...d.params } as Record<string, RunParamValue>,
      origin: { ...options.origin, [key]: `sweep ${key}` },
      group,
      parent: options.parent,
      store: options.store,
      mlflow: options.mlflow,
      warn: options.warn,
      start: d.start,
      git,
    });
    const { record } = await recorder.finish({ metrics: detectionMetrics(d.row), data: d.data, durationMs: Math.round(d.ms) });
    records.push(record);
  }
  return { key, rows, runs: records, group };
}

/**
 * The notebook's sweep: run the pipeline once per value of one parameter (the
 * others from `loaded`), record each run in the run log, and return the rows
 * for a sweep chart with the records for a run table.
 *
 * @param loaded the notebook's parameters and their origins (`notebookSetup`'s `loaded`)
 * @param key the parameter to vary
 * @param values its values; each is validated like any override
 * @param options.label what recorded the runs, e.g. the notebook's name
 * @param options.data the data set of every run (default: simulated from the parameters)
 */
export async function sweepAndRecord(
  loaded: LoadedParams,
  key: ParamKey,
  values: ReadonlyArray<Params[ParamKey]>,
  options: { label?: string; data?: Dataset; store?: RecordSweepOptions['store']; mlflow?: string | null } = {},
): Promise<RecordedSweep> {
  const runs = values.map((v) => applyOverrides(loaded.params, { [key]: v }, `sweep ${key}`));
  return runRecordedSweep(key, runs, { command: 'notebook', label: options.label ?? `sweep ${key}`, origin: loaded.origin, data: options.data, store: options.store, mlflow: options.mlflow });
}
