/**
 * `npm run sweep -- key=v1,v2,...`: run the whole pipeline through the library
 * (no notebooks) once per value of one parameter and compare the results.
 *
 *   npm run sweep -- contamination=0.01,0.02,0.05,0.1 [--set key=value]... [--params FILE]
 *
 * Writes artifacts/sweep.json, sweep.csv, sweep.vl.json, sweep.svg and sweep.html.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { RUN_LOG } from '../experiments/run-store';
import { htmlTable, textTable, type TableRow } from '../notebook/tables';
import { applyOverrides, parseAssignments, ParameterError, type Params } from '../params/params';
import { runRecordedSweep } from '../experiments/record-sweep';
import { renderSvg } from '../notebook/vega';
import { sweepSpec } from '../notebook/evaluation-plots';
import type { SweepRow } from '../workflow/sweep';
import { Workspace } from '../persist/workspace';
import { COMMON_OPTIONS, describeOverrides, MLFLOW_OPTION, paramsFromArgs, parseOptions } from './args';
import { runCommand, UsageError, writeFailure } from './command';

const USAGE = `usage: npm run sweep -- key=v1,v2,... [--set key=value]... [--params FILE] [--mlflow URL]
  e.g. npm run sweep -- contamination=0.01,0.02,0.05,0.1

Runs the pipeline (no notebooks) once per value and writes artifacts/sweep.{json,csv,vl.json,svg,html}.
Each run is recorded in artifacts/runs/runs.ndjson (one group per sweep: npm run runs -- --group ID).

  --mlflow URL   also log each run to this MLflow tracking server (default: $MLFLOW_TRACKING_URI);
                 an unreachable server costs a warning, the local record is still written

Exit codes: 0 done, 2 bad usage or parameters (every value is checked before the first run),
5 the results cannot be written, 1 unexpected failure (a bug; set DEBUG=1 for the stack trace).`;

export interface SweepResult extends SweepRow {
  averagePrecision: number;
  fitMs: number;
}

/** Validate every value first, so a typo stops the sweep before any run. */
export function sweepPlan(base: Params, spec: string): { key: string; runs: Params[] } {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new ParameterError(`expected key=v1,v2,..., got ${JSON.stringify(spec)}`);
  const key = spec.slice(0, eq);
  const values = spec.slice(eq + 1).split(',').filter((v) => v.trim() !== '');
  if (values.length === 0) throw new ParameterError(`no values given for ${key}`);
  const runs = values.map((v) => applyOverrides(base, parseAssignments([`${key}=${v}`]), `sweep ${key}`));
  return { key, runs };
}

const fixed4 = (v: unknown) => (v as number).toFixed(4);

/** `npm run sweep` on `argv`; @returns the exit code (see USAGE) */
export async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, { ...COMMON_OPTIONS, ...MLFLOW_OPTION }, true);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`give exactly one key=v1,v2,... to sweep, got ${positionals.length}`);
  const loaded = paramsFromArgs({ sets: values.set ?? [], paramsFile: values.params });
  const plan = sweepPlan(loaded.params, positionals[0]);
  const ws = new Workspace();
  try {
    // a missing permission shows now, not after minutes of runs
    mkdirSync(ws.dir, { recursive: true });
    accessSync(ws.dir, constants.W_OK);
  } catch (e) {
    writeFailure(e, 'the sweep results');
  }
  console.log(`sweep over ${plan.key} (${plan.runs.length} runs; other parameters: ${describeOverrides(loaded)})`);
  let recorded;
  try {
    recorded = await runRecordedSweep(plan.key, plan.runs, { command: 'sweep', label: plan.key, argv: [...argv], origin: loaded.origin, mlflow: values.mlflow, log: (l) => console.log(l) });
  } catch (e) {
    writeFailure(e, 'the run log');
  }
  const rows = recorded.rows;
  const columns = [
    { key: 'value', title: plan.key },
    { key: 'precision', format: fixed4 },
    { key: 'recall', format: fixed4 },
    { key: 'f1', title: 'F1', format: fixed4 },
    { key: 'rocAuc', title: 'ROC-AUC', format: (v: unknown) => (v as number).toFixed(6) },
    { key: 'averagePrecision', title: 'avg precision', format: (v: unknown) => (v as number).toFixed(6) },
    { key: 'nFlagged', title: 'n flagged' },
    { key: 'fitMs', title: 'fit (ms)' },
  ];
  const tableRows = rows as unknown as TableRow[];
  const caption = `Sweep over ${plan.key} (anomaly class metrics)`;
  console.log(`\n${textTable(tableRows, { columns, caption })}`);
  const spec = sweepSpec(plan.key, rows);
  const svg = await renderSvg(spec);
  const csv = [columns.map((c) => c.key).join(','), ...rows.map((r) => columns.map((c) => String((r as unknown as TableRow)[c.key])).join(','))].join('\n');
  let written: string[];
  try {
    written = [
      ws.writeJson('sweep.json', { key: plan.key, base: loaded.params, rows }),
      ws.writeText('sweep.csv', `${csv}\n`),
      ws.writeJson('sweep.vl.json', spec),
      ws.writeText('sweep.svg', svg),
      ws.writeText('sweep.html', `<!doctype html><meta charset="utf-8"><title>${caption}</title>\n${htmlTable(tableRows, { columns, caption })}\n${svg}\n`),
    ];
  } catch (e) {
    writeFailure(e, 'the sweep results');
  }
  console.log(`\nwrote ${written.map((p) => relative(process.cwd(), p)).join(', ')}`);
  console.log(`recorded ${recorded.runs.length} runs (group ${recorded.group}) in ${relative(process.cwd(), join(ws.dir, RUN_LOG))}: npm run runs -- --group ${recorded.group}`);
  return 0;
}

if (require.main === module) runCommand('sweep', main, { help: 'npm run sweep -- --help', forceExit: true });
