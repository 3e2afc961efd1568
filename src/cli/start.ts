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
import type { Params } from '../core/params';
import { ARTIFACTS_ENV, artifactsDir, PRODUCERS } from '../persist/workspace';
import { COMMON_OPTIONS, describeOverrides, paramsEnv, paramsFromArgs, parseOptions } from './args';
import { CliError, runCommand, UsageError } from './command';
import { describeFailure, executeNotebooks, NotebookExecutorError, notebookPaths } from './notebooks';
import { NOTEBOOKS, ROOT } from './project';
import { setup } from './setup';

const USAGE = `usage: npm start -- [--set key=value]... [--params FILE] [--data DIR] [--update-notebooks]

Executes every notebook in notebooks/ headless with the tslab kernel (after creating .venv and
registering the kernel if needed) and writes, under artifacts/:
  notebooks/NN_*.ipynb  the executed notebooks, with outputs
  html/NN_*.html        an HTML export of each
  model.json, metrics.json, ...  what the notebooks produce

  --set key=value      override one parameter (repeatable), e.g. --set contamination=0.1
  --params FILE        a JSON file of parameter overrides
  --data DIR           where notebooks 09 and 10 read the NSL-KDD files (default data/nsl-kdd)
  --update-notebooks   copy the executed notebooks back into notebooks/ (default parameters only),
                       so the committed notebooks carry the outputs of a default run
Parameters are checked before anything runs; see README.md for the list.

Exit codes: 0 done, 2 bad usage or parameters, 3 set-up failed (Python, pip, kernel),
4 a notebook failed (the failing cell and its error are printed; the executed notebook
is kept), 1 unexpected failure (a bug; set DEBUG=1 for the stack trace).`;

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
    add('data', `${m.nRows.toLocaleString('en-US')} rows (${m.nAnomalous} anomalies), ${params.nFeatures} features, seed ${params.seed}`);
    add('evaluation', `ROC-AUC ${m.rocAuc.toFixed(6)}, AP ${m.averagePrecision.toFixed(6)}; anomaly class precision ${m.precision.toFixed(3)}, recall ${m.recall.toFixed(3)}, F1 ${m.f1.toFixed(3)}; ${m.nFlagged} flagged`);
  }
  if (s.model) {
    const size = statSync(join(dir, 'model.json')).size;
    add('model', `${s.model.forest.nEstimators} trees x ${s.model.forest.maxSamples} rows, threshold ${s.model.threshold.toFixed(6)}`);
    add('', `${rel(join(dir, 'model.json'))} (${(size / 1024).toFixed(0)} KB, ${s.model.checksum.slice(0, 23)}...)`);
  }
  if (s.stream) {
    const t = s.stream.totals;
    add('streaming', `${t.batches} batches, ${t.rows.toLocaleString('en-US')} rows scored, ${t.anomalies} flagged (${((100 * t.anomalies) / t.rows).toFixed(2)}%), ${Math.round(t.rowsPerSecond).toLocaleString('en-US')} rows/s`);
  }
  add('notebooks', `${rel(join(dir, 'notebooks'))}/*.ipynb (with outputs), ${rel(join(dir, 'html'))}/*.html`);
  add('figures', `${rel(join(dir, 'figures'))}/*.svg, *.vl.json`);
  add('per notebook', runs.map((r) => `${r.notebook.slice(0, 2)} ${r.seconds.toFixed(1)}s`).join(' · '));
  add('time', `${fmtS(totalMs)} in all (set-up ${fmtS(setupMs)}, notebooks ${fmtS(totalMs - setupMs)}; the TypeScript build before it is not counted)`);
  console.log(lines.join('\n'));
}

/** Exit code when a notebook fails (or the executor does, or the run writes no model). */
export const EXIT_NOTEBOOK = 4;

const START_OPTIONS = { ...COMMON_OPTIONS, data: { type: 'string' }, 'update-notebooks': { type: 'boolean' } } as const;

/** `npm start` on `argv`; @returns the exit code (see USAGE) */
export async function main(argv: readonly string[]): Promise<number> {
  const started = Date.now() - Math.round(process.uptime() * 1000); // include node start-up
  const { values } = parseOptions(argv, START_OPTIONS);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const dataDir = values.data;
  if (dataDir !== undefined && !(existsSync(dataDir) && statSync(dataDir).isDirectory())) throw new UsageError(`--data needs an existing directory, got ${JSON.stringify(dataDir)}`);
  const loaded = paramsFromArgs({ sets: values.set ?? [], paramsFile: values.params });
  const updateNotebooks = values['update-notebooks'] ?? false;
  const overrides = describeOverrides(loaded);
  if (updateNotebooks && overrides !== 'defaults') {
    throw new UsageError(`--update-notebooks only with the default parameters (got ${overrides}): committed notebooks show the reference run`);
  }
  console.log(`parameters: ${overrides}`);

  setup();
  const setupMs = Date.now() - started;

  const dir = artifactsDir();
  for (const name of Object.keys(PRODUCERS)) rmSync(join(dir, name), { force: true });
  const outDir = join(dir, 'notebooks');
  const htmlDir = join(dir, 'html');
  let runs;
  try {
    runs = await executeNotebooks({
      outDir,
      htmlDir,
      env: { ...paramsEnv(loaded), [ARTIFACTS_ENV]: dir, ...(dataDir !== undefined ? { [NSL_KDD_DIR_ENV]: resolve(dataDir) } : {}) },
      onResult: (r) => console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.notebook.padEnd(34)} ${r.seconds.toFixed(1)} s`),
    });
  } catch (e) {
    if (!(e instanceof NotebookExecutorError)) throw e;
    process.stderr.write(e.stderrTail.endsWith('\n') || e.stderrTail === '' ? e.stderrTail : `${e.stderrTail}\n`);
    throw new CliError(e.message, EXIT_NOTEBOOK);
  }
  const failed = runs.find((r) => !r.ok);
  const expected = notebookPaths().length;
  if (failed) {
    console.error(`\n${describeFailure(failed)}`);
    throw new CliError(`${failed.notebook} failed`, EXIT_NOTEBOOK);
  }
  if (runs.length !== expected) throw new CliError(`only ${runs.length} of ${expected} notebooks ran`, EXIT_NOTEBOOK);
  if (updateNotebooks) {
    for (const r of runs) copyFileSync(r.output, join(NOTEBOOKS, basename(r.output)));
    console.log(`updated ${relative(ROOT, NOTEBOOKS)}/ with the executed notebooks`);
  }
  printSummary(loaded.params, overrides, dir, runs, setupMs, Date.now() - started);
  if (!existsSync(join(dir, 'model.json'))) throw new CliError(`the notebooks ran but wrote no ${relative(process.cwd(), join(dir, 'model.json'))}`, EXIT_NOTEBOOK);
  return 0;
}

if (require.main === module) runCommand('start', main, { help: 'npm start -- --help', forceExit: true });
