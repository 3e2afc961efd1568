/**
 * `npm start`: set up the Python side and the kernel, then execute notebooks
 * 01 onwards in order, headless, with the chosen parameters; write each executed
 * notebook (with outputs) and an HTML export, and print a one-screen summary.
 *
 *   npm start -- [--set key=value]... [--params FILE] [--data DIR] [--update-notebooks]
 */
import { copyFileSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { NSL_KDD_DIR_ENV } from '../data/nslkdd-files';
import { DEFAULT_PARAMS, PARAM_KEYS, validateParams, type LoadedParams, type ParamKey, type Params } from '../params/params';
import { detectionMetrics, recordedParams, RunRecorder, RUN_PARENT_ENV, type RunOutcome } from '../experiments/recorder';
import { MLFLOW_ENV } from '../experiments/mlflow';
import { recordedPath, trafficFileFingerprint } from '../experiments/provenance';
import type { RunRecord } from '../experiments/run-record';
import { RunNotFoundError, RunStore } from '../experiments/run-store';
import { ARTIFACTS_ENV, artifactsDir, PRODUCERS, type ArtifactName } from '../persist/workspace';
import { COMMON_OPTIONS, describeOverrides, MLFLOW_OPTION, paramsEnv, paramsFromArgs, parseOptions } from './args';
import { CliError, runCommand, UsageError, writeFailure } from './command';
import { describeFailure, executeNotebooks, NotebookExecutorError, notebookPaths } from './notebooks';
import { NOTEBOOKS, ROOT } from './project';
import { setup } from './setup';
import { formatCount } from '../core/count-text';

const USAGE = `usage: npm start -- [--set key=value]... [--params FILE] [--data DIR] [--notebooks LIST]
                    [--from-run ID] [--mlflow URL] [--update-notebooks]

Executes every notebook in notebooks/ headless with the tslab kernel (after creating .venv and
registering the kernel if needed) and writes, under artifacts/:
  notebooks/NN_*.ipynb  the executed notebooks, with outputs
  html/NN_*.html        an HTML export of each
  model.json, metrics.json, ...  what the notebooks produce
  runs/runs.ndjson      one record of this run appended (parameters and where each came from,
                        commit, data fingerprint, metrics, model checksum): see npm run runs

  --set key=value      override one parameter (repeatable), e.g. --set contamination=0.1
  --params FILE        a JSON file of parameter overrides
  --data DIR           where notebooks 09 and 10 read the NSL-KDD files (default data/nsl-kdd)
  --notebooks LIST     only these notebooks, by number: 01-08, or 01,05,07 (default: all); each
                       reads what the earlier ones wrote, so start from 01 on a clean folder
  --from-run ID        re-run with exactly the parameters (and notebooks, and --data) of a recorded
                       run (an id or a unique prefix, from npm run runs) and say whether its data
                       fingerprint and model checksum came out the same; not with --set, --params,
                       --data or --notebooks
  --mlflow URL         also log the run to this MLflow tracking server (default: $MLFLOW_TRACKING_URI);
                       an unreachable server costs a warning, the local record is still written
  --update-notebooks   copy the executed notebooks back into notebooks/ (default parameters only),
                       so the committed notebooks carry the outputs of a default run
Parameters are checked before anything runs; see README.md for the list.

Exit codes: 0 done, 2 bad usage or parameters (an unknown --from-run id too), 3 set-up failed
(Python, pip, kernel), 4 a notebook failed (the failing cell and its error are printed; the
executed notebook is kept), 5 the run log cannot be written, 1 unexpected failure (a bug; set
DEBUG=1 for the stack trace).`;

const fmtS = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

interface Summary {
  metrics?: { metrics: { nRows: number; nAnomalous: number; nFlagged: number; rocAuc: number; averagePrecision: number; precision: number; recall: number; f1: number } };
  model?: { checksum: string; threshold: number; forest: { nEstimators: number; maxSamples: number } };
  stream?: { totals: { batches: number; rows: number; anomalies: number; rowsPerSecond: number } };
}

function printSummary(params: Params, overrides: string, dir: string, runs: { notebook: string; seconds: number }[], setupMs: number, totalMs: number): void {
  const rel = (p: string) => relative(process.cwd(), p) || '.';
  const s: Summary = {
    metrics: readJson(join(dir, 'metrics.json')),
    model: readJson(join(dir, 'model.json')),
    stream: readJson(join(dir, 'stream-summary.json')),
  };
  const lines: string[] = [];
  const add = (k: string, v: string) => lines.push(`  ${k.padEnd(12)} ${v}`);
  lines.push('', `Network-traffic anomaly detection: ${runs.length} notebooks executed`);
  add('parameters', overrides);
  if (s.metrics) {
    const m = s.metrics.metrics;
    add('data', `${formatCount(m.nRows)} rows (${m.nAnomalous} anomalies), ${params.nFeatures} features, seed ${params.seed}`);
    add('evaluation', `ROC-AUC ${m.rocAuc.toFixed(6)}, AP ${m.averagePrecision.toFixed(6)}; anomaly class precision ${m.precision.toFixed(3)}, recall ${m.recall.toFixed(3)}, F1 ${m.f1.toFixed(3)}; ${m.nFlagged} flagged`);
  }
  if (s.model) {
    const size = statSync(join(dir, 'model.json')).size;
    add('model', `${s.model.forest.nEstimators} trees x ${s.model.forest.maxSamples} rows, threshold ${s.model.threshold.toFixed(6)}`);
    add('', `${rel(join(dir, 'model.json'))} (${(size / 1024).toFixed(0)} KB, ${s.model.checksum.slice(0, 23)}...)`);
  }
  if (s.stream) {
    const t = s.stream.totals;
    add('streaming', `${t.batches} batches, ${formatCount(t.rows)} rows scored, ${t.anomalies} flagged (${((100 * t.anomalies) / t.rows).toFixed(2)}%), ${formatCount(t.rowsPerSecond)} rows/s`);
  }
  add('notebooks', `${rel(join(dir, 'notebooks'))}/*.ipynb (with outputs), ${rel(join(dir, 'html'))}/*.html`);
  add('figures', `${rel(join(dir, 'figures'))}/*.svg, *.vl.json`);
  add('per notebook', runs.map((r) => `${r.notebook.slice(0, 2)} ${r.seconds.toFixed(1)}s`).join(' · '));
  add('time', `${fmtS(totalMs)} in all (set-up ${fmtS(setupMs)}, notebooks ${fmtS(totalMs - setupMs)}; the TypeScript build before it is not counted)`);
  console.log(lines.join('\n'));
}

/** Exit code when a notebook fails (or the executor does, or the run writes no model). */
export const EXIT_NOTEBOOK = 4;

const START_OPTIONS = {
  ...COMMON_OPTIONS,
  ...MLFLOW_OPTION,
  data: { type: 'string' },
  notebooks: { type: 'string' },
  'from-run': { type: 'string' },
  'update-notebooks': { type: 'boolean' },
} as const;

/**
 * The notebooks a `--notebooks` list names: numbers and ranges of numbers
 * (`01-08`, `1,5,7`, `09-`), matched against the two-digit prefix of each file.
 *
 * @throws UsageError for a malformed list or one that names no notebook
 */
export function selectNotebooks(spec: string, paths: readonly string[] = notebookPaths()): string[] {
  const numbers = new Set<number>();
  const max = 99;
  for (const part of spec.split(',').map((p) => p.trim())) {
    const m = /^(\d{1,2})(?:-(\d{1,2})?)?$/.exec(part);
    if (!m) throw new UsageError(`--notebooks takes numbers and ranges such as 01-08 or 01,05,07, got ${JSON.stringify(spec)}`);
    const from = Number(m[1]);
    const to = m[2] !== undefined ? Number(m[2]) : part.includes('-') ? max : from;
    if (to < from) throw new UsageError(`--notebooks range ${part} runs backwards`);
    for (let k = from; k <= to; k++) numbers.add(k);
  }
  const chosen = paths.filter((p) => numbers.has(Number(basename(p).slice(0, 2))));
  if (chosen.length === 0) throw new UsageError(`--notebooks ${JSON.stringify(spec)} names none of the notebooks (${paths.map((p) => basename(p).slice(0, 2)).join(', ')})`);
  return chosen;
}

/** The run's options as given, or taken over from the run named by --from-run. */
interface StartPlan {
  loaded: LoadedParams;
  dataDir?: string;
  notebooks?: string;
  fromRun?: RunRecord;
}

/**
 * Parameters, notebooks and data folder of a recorded run. Each parameter's
 * origin is `run <id>` where it differs from the default, so the notebooks
 * show exactly what the run changed.
 */
function planFromRun(id: string, store: RunStore): StartPlan {
  let run: RunRecord;
  try {
    run = store.find(id);
  } catch (e) {
    if (e instanceof RunNotFoundError) throw new UsageError(`--from-run: ${e.message}`);
    throw e;
  }
  const params = validateParams(run.params, `run ${run.id}`);
  const origin = Object.fromEntries(PARAM_KEYS.map((k) => [k, JSON.stringify(params[k]) === JSON.stringify(DEFAULT_PARAMS[k]) ? 'default' : `run ${run.id}`])) as Record<ParamKey, string>;
  let original: { data?: string; notebooks?: string } = {};
  if (run.command === 'start') {
    try {
      original = parseOptions(run.argv, START_OPTIONS, false).values;
    } catch {
      // a record from another version of the command: its parameters are what matter
    }
  }
  return { loaded: { params, origin }, dataDir: original.data, notebooks: original.notebooks, fromRun: run };
}

/**
 * What the run produced, read from the artifacts its notebooks wrote. A file
 * whose notebook was not among those run (`--notebooks 01-06` runs no 07) is
 * left over from an earlier run and is not this run's result: it is left out.
 */
function outcomeOf(dir: string, params: Params, ran: ReadonlySet<string>): RunOutcome {
  const mine = (name: ArtifactName) => ran.has(PRODUCERS[name]) && existsSync(join(dir, name));
  const metrics = mine('metrics.json') ? readJson<NonNullable<Summary['metrics']>>(join(dir, 'metrics.json')) : undefined;
  const model = mine('model.json') ? readJson<NonNullable<Summary['model']>>(join(dir, 'model.json')) : undefined;
  const traffic = join(dir, 'traffic.csv');
  const m = metrics?.metrics;
  return {
    metrics: m ? detectionMetrics(m) : {},
    data: mine('traffic.csv') ? trafficFileFingerprint(traffic, params.nNormal + params.nAnomalous, params.nFeatures) : null,
    model: model ? { path: recordedPath(join(dir, 'model.json')), checksum: model.checksum } : null,
    artifacts: model ? [join(dir, 'model.json')] : [],
  };
}

/** "the same (sha256:0123abcd...)" or "differs (was ..., now ...)" */
function sameness(was: string | undefined, now: string | undefined): string {
  const short = (c: string | undefined) => (c === undefined ? 'none' : `${c.slice(0, 19)}...`);
  return was === now ? `the same (${short(now)})` : `DIFFERS (was ${short(was)}, now ${short(now)})`;
}

/** `npm start` on `argv`; @returns the exit code (see USAGE) */
export async function main(argv: readonly string[]): Promise<number> {
  const started = Date.now() - Math.round(process.uptime() * 1000); // include node start-up
  const { values } = parseOptions(argv, START_OPTIONS);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const dir = artifactsDir();
  const store = new RunStore(dir);
  let plan: StartPlan;
  if (values['from-run'] !== undefined) {
    const clash = (['set', 'params', 'data', 'notebooks'] as const).find((k) => values[k] !== undefined);
    if (clash) throw new UsageError(`--from-run takes the run's own parameters, notebooks and data: not with --${clash}`);
    plan = planFromRun(values['from-run'], store);
  } else {
    plan = { loaded: paramsFromArgs({ sets: values.set ?? [], paramsFile: values.params }), dataDir: values.data, notebooks: values.notebooks };
  }
  const { loaded, dataDir } = plan;
  if (dataDir !== undefined && !(existsSync(dataDir) && statSync(dataDir).isDirectory())) throw new UsageError(`--data needs an existing directory, got ${JSON.stringify(dataDir)}`);
  const notebooks = plan.notebooks === undefined ? notebookPaths() : selectNotebooks(plan.notebooks);
  const updateNotebooks = values['update-notebooks'] ?? false;
  const overrides = describeOverrides(loaded);
  if (updateNotebooks && overrides !== 'defaults') {
    throw new UsageError(`--update-notebooks only with the default parameters (got ${overrides}): committed notebooks show the reference run`);
  }
  console.log(`parameters: ${overrides}${plan.fromRun ? ` (those of run ${plan.fromRun.id})` : ''}`);

  setup();
  const setupMs = Date.now() - started;

  const recorder = RunRecorder.start({
    command: 'start',
    label: plan.notebooks === undefined ? undefined : `notebooks ${plan.notebooks}`,
    argv: plan.fromRun ? [...argv, ...(plan.notebooks !== undefined ? ['--notebooks', plan.notebooks] : []), ...(dataDir !== undefined ? ['--data', dataDir] : [])] : [...argv],
    ...recordedParams(loaded),
    store,
    mlflow: values.mlflow,
  });
  const finish = async (outcome: RunOutcome) => {
    try {
      return await recorder.finish({ ...outcome, ...(plan.fromRun ? { reproduces: plan.fromRun.id } : {}) });
    } catch (e) {
      return writeFailure(e, 'the run log');
    }
  };

  const chosen = new Set(notebooks.map((p) => basename(p)));
  for (const [name, producer] of Object.entries(PRODUCERS)) if (chosen.has(producer)) rmSync(join(dir, name), { force: true });
  const outDir = join(dir, 'notebooks');
  const htmlDir = join(dir, 'html');
  let runs;
  try {
    runs = await executeNotebooks({
      notebooks,
      outDir,
      htmlDir,
      env: {
        ...paramsEnv(loaded),
        [ARTIFACTS_ENV]: dir,
        [RUN_PARENT_ENV]: recorder.id,
        ...(values.mlflow !== undefined ? { [MLFLOW_ENV]: values.mlflow } : {}),
        ...(dataDir !== undefined ? { [NSL_KDD_DIR_ENV]: resolve(dataDir) } : {}),
      },
      onResult: (r) => console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.notebook.padEnd(34)} ${r.seconds.toFixed(1)} s`),
    });
  } catch (e) {
    if (!(e instanceof NotebookExecutorError)) throw e;
    process.stderr.write(e.stderrTail.endsWith('\n') || e.stderrTail === '' ? e.stderrTail : `${e.stderrTail}\n`);
    await finish({ ...outcomeOf(dir, loaded.params, chosen), status: 'failed', error: e.message });
    throw new CliError(e.message, EXIT_NOTEBOOK);
  }
  const failed = runs.find((r) => !r.ok);
  if (failed) {
    console.error(`\n${describeFailure(failed)}`);
    await finish({ ...outcomeOf(dir, loaded.params, chosen), status: 'failed', error: `${failed.notebook} failed` });
    throw new CliError(`${failed.notebook} failed`, EXIT_NOTEBOOK);
  }
  if (runs.length !== notebooks.length) {
    await finish({ ...outcomeOf(dir, loaded.params, chosen), status: 'failed', error: `only ${runs.length} of ${notebooks.length} notebooks ran` });
    throw new CliError(`only ${runs.length} of ${notebooks.length} notebooks ran`, EXIT_NOTEBOOK);
  }
  if (updateNotebooks) {
    for (const r of runs) copyFileSync(r.output, join(NOTEBOOKS, basename(r.output)));
    console.log(`updated ${relative(ROOT, NOTEBOOKS)}/ with the executed notebooks`);
  }
  const modelPath = join(dir, 'model.json');
  const wantsModel = chosen.has(PRODUCERS['model.json']);
  const outcome = outcomeOf(dir, loaded.params, chosen);
  if (wantsModel && !existsSync(modelPath)) {
    await finish({ ...outcome, status: 'failed', error: 'no model.json written' });
    throw new CliError(`the notebooks ran but wrote no ${relative(process.cwd(), modelPath)}`, EXIT_NOTEBOOK);
  }
  const { record } = await finish(outcome);
  printSummary(loaded.params, overrides, dir, runs, setupMs, Date.now() - started);
  console.log(`  ${'run'.padEnd(12)} ${record.id} recorded in ${store.show()} (npm run runs; again: npm start -- --from-run ${record.id})`);
  if (plan.fromRun) {
    const was = plan.fromRun;
    const wasData = was.data?.kind === 'simulation' ? was.data.sha256 : undefined;
    const nowData = record.data?.kind === 'simulation' ? record.data.sha256 : undefined;
    console.log(`  ${'reproduces'.padEnd(12)} run ${was.id}: data fingerprint ${sameness(wasData, nowData)}; model checksum ${sameness(was.model?.checksum, record.model?.checksum)}`);
  }
  return 0;
}

if (require.main === module) runCommand('start', main, { help: 'npm start -- --help', forceExit: true });
