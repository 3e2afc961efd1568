import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { jupyterEnv, NOTEBOOKS, ROOT, VENV_PYTHON } from './project';

/** The notebooks of the course, in the order they must run (every NN_*.ipynb in notebooks/, by number). */
export function notebookPaths(dir = NOTEBOOKS): string[] {
  return readdirSync(dir)
    .filter((f) => /^\d\d_.+\.ipynb$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

interface NbOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}

export interface NbCell {
  cell_type: string;
  source: string | string[];
  execution_count?: number | null;
  outputs?: NbOutput[];
}

export interface Notebook {
  cells: NbCell[];
  metadata: Record<string, unknown>;
}

export const joinText = (t: string | string[] | undefined): string => (Array.isArray(t) ? t.join('') : (t ?? ''));

export interface CellProblem {
  cell: number;
  source: string;
  problem: string;
}

/** Uncaught errors that tslab reports on stderr while the cell itself "succeeds". */
const UNCAUGHT = /^(UncaughtException|UnhandledPromiseRejection|Unhandled ?Rejection)/m;

/**
 * Everything that makes an executed notebook a failure: a code cell that was
 * not executed (no execution count, e.g. after a kernel crash), a reply that was
 * not "ok" (tslab reports type errors and exceptions that way, on stderr), an
 * error output, or an uncaught asynchronous error.
 */
export function checkExecutedNotebook(nb: Notebook, statuses?: ReadonlyArray<{ cell: number; status: string | null }>): CellProblem[] {
  const problems: CellProblem[] = [];
  const statusOf = new Map(statuses?.map((s) => [s.cell, s.status]));
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== 'code') return;
    const source = joinText(cell.source);
    if (source.trim() === '') return;
    const firstLine = source.split('\n')[0].slice(0, 100);
    const add = (problem: string) => problems.push({ cell: i, source: firstLine, problem });
    if (cell.execution_count == null) add('not executed (no execution count)');
    else if (statuses && statusOf.get(i) !== 'ok') add(`kernel replied ${JSON.stringify(statusOf.get(i) ?? null)}`);
    for (const o of cell.outputs ?? []) {
      if (o.output_type === 'error') add(`error output: ${o.ename}: ${o.evalue}`);
      if (o.output_type === 'stream' && o.name === 'stderr' && UNCAUGHT.test(joinText(o.text))) {
        add(`uncaught error: ${joinText(o.text).split('\n')[0]}`);
      }
    }
  });
  return problems;
}

/** Text the kernel printed in a cell (stdout and stderr), for error messages. */
export function cellText(cell: NbCell): string {
  return (cell.outputs ?? [])
    .filter((o) => o.output_type === 'stream')
    .map((o) => joinText(o.text))
    .join('');
}

export interface NotebookRun {
  notebook: string;
  ok: boolean;
  seconds: number;
  output: string;
  html: string | null;
  problems: CellProblem[];
  error?: { kind: string; message: string; cell?: number };
}

export interface ExecuteOptions {
  notebooks?: string[];
  /** where executed notebooks (with outputs) are written */
  outDir: string;
  /** where HTML exports are written (none when omitted) */
  htmlDir?: string;
  /** extra environment for the kernels (parameters, artifacts folder) */
  env?: Record<string, string>;
  timeoutSeconds?: number;
  onResult?: (run: NotebookRun) => void;
}

/** scripts/execute_notebooks.py itself failed (not a notebook): a one-line message, and the end of its stderr apart. */
export class NotebookExecutorError extends Error {
  constructor(
    message: string,
    /** the last part of the executor's stderr (a Python traceback, usually) */
    readonly stderrTail: string,
  ) {
    super(message);
    this.name = 'NotebookExecutorError';
  }
}

/**
 * Execute the notebooks in order through scripts/execute_notebooks.py (nbclient
 * with the tslab kernel), then check every executed notebook. Resolves with one
 * entry per notebook that ran; stops at the first failure.
 *
 * @throws NotebookExecutorError when the executor fails outside any notebook
 */
export async function executeNotebooks(options: ExecuteOptions): Promise<NotebookRun[]> {
  const notebooks = options.notebooks ?? notebookPaths();
  const args = [
    join(ROOT, 'scripts', 'execute_notebooks.py'),
    '--out-dir',
    options.outDir,
    '--timeout',
    String(options.timeoutSeconds ?? 600),
    ...(options.htmlDir ? ['--html-dir', options.htmlDir] : []),
    ...notebooks,
  ];
  const child = spawn(VENV_PYTHON, args, { env: jupyterEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
  });
  const runs: NotebookRun[] = [];
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    if (!line.startsWith('{')) continue;
    const r = JSON.parse(line) as Omit<NotebookRun, 'problems'> & { statuses: Array<{ cell: number; status: string | null }> };
    const nb = JSON.parse(readFileSync(r.output, 'utf8')) as Notebook;
    const problems = checkExecutedNotebook(nb, r.statuses);
    if (r.error && r.error.cell !== undefined) {
      const cell = nb.cells[r.error.cell];
      const printed = cell ? cellText(cell).trim() : '';
      if (printed) r.error.message = `${printed}\n${r.error.message}`;
    }
    const run: NotebookRun = {
      notebook: r.notebook,
      ok: r.ok && problems.length === 0,
      seconds: r.seconds,
      output: r.output,
      html: r.html,
      problems,
      error: r.error ?? undefined,
    };
    runs.push(run);
    options.onResult?.(run);
  }
  const code: number = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  if (code !== 0 && (runs.length === 0 || runs.every((r) => r.ok))) {
    throw new NotebookExecutorError(`the notebook executor (scripts/execute_notebooks.py) failed with exit code ${code}`, stderr.slice(-4000));
  }
  return runs;
}

/** Human-readable description of a failed run: notebook, cell, what went wrong. */
export function describeFailure(run: NotebookRun): string {
  const lines = [`${run.notebook} failed`];
  if (run.error) {
    lines.push(`  ${run.error.kind}${run.error.cell !== undefined ? ` in cell ${run.error.cell}` : ''}`);
  }
  for (const p of run.problems) lines.push(`  cell ${p.cell} (${p.source}): ${p.problem}`);
  if (run.error?.message) lines.push('', run.error.message.split('\n').slice(0, 30).join('\n'));
  lines.push('', `executed notebook with outputs: ${run.output}`);
  return lines.join('\n');
}
