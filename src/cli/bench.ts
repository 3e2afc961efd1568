/**
 * `npm run bench`: our Isolation Forest against the ml-isolation-forest package
 * and scikit-learn, side by side in one run, on the reference distributions at
 * 10,500 and 1,050,000 rows (standardized). Every run is a fresh process, so
 * its peak memory is its own; each figure is the median of --runs runs.
 *
 *   npm run bench -- [--runs 3] [--sizes small,large] [--ml-timeout 180]
 *
 * Prints a table with ratios against scikit-learn and writes artifacts/bench.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { DEFAULT_PARAMS } from '../params/params';
import { StandardScaler } from '../model/preprocess';
import { simulateTraffic } from '../data/simulate';
import { textTable, type TableRow } from '../notebook/tables';
import { Workspace } from '../persist/workspace';
import type { RunResult } from './bench-run';
import { ROOT, run, VENV_PYTHON } from './project';
import { ensureVenv } from './setup';
import { integerOption, numberOption, parseOptions } from './args';
import { runCommand, UsageError, writeFailure } from './command';
import { formatCount } from '../core/count-text';

const SIZES = {
  small: { nNormal: 10_000, nAnomalous: 500 },
  large: { nNormal: 1_000_000, nAnomalous: 50_000 },
} as const;
type SizeName = keyof typeof SIZES;

const CONTESTANTS = {
  ours: 'this library (all cores)',
  'ours-1thread': 'this library (1 thread)',
  ml: 'ml-isolation-forest 0.1.0',
  sklearn: 'scikit-learn (n_jobs=-1)',
} as const;
type Contestant = keyof typeof CONTESTANTS;

interface Outcome {
  contestant: Contestant;
  size: SizeName;
  rows: number;
  runs: RunResult[];
  median?: RunResult;
  /** why there is no (complete) figure */
  note?: string;
}

const USAGE = `usage: npm run bench -- [--runs N] [--sizes small,large] [--ml-timeout SECONDS]

Our Isolation Forest against ml-isolation-forest and scikit-learn (installed into .venv
on first use), at 10,500 and 1,050,000 rows; every run in a fresh process.

  --runs N              runs per contestant and size; figures are medians (default 3)
  --sizes LIST          small, large or both (default small,large)
  --ml-timeout SECONDS  stop an ml-isolation-forest run after this long (default 180)

A contestant that cannot run (no Python, a timeout, a crash) gets a note in the table.
Exit codes: 0 done, 2 bad usage, 5 artifacts/bench.json cannot be written, 1 unexpected
failure (a bug; set DEBUG=1 for the stack trace).`;

const BENCH_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  runs: { type: 'string' },
  sizes: { type: 'string' },
  'ml-timeout': { type: 'string' },
} as const;

/** The options of `npm run bench`, or 'help'; @throws UsageError */
export function parseBenchArgs(argv: readonly string[]): { runs: number; sizes: SizeName[]; mlTimeout: number } | 'help' {
  const { values } = parseOptions(argv, BENCH_OPTIONS);
  if (values.help) return 'help';
  const runs = integerOption('--runs', values.runs ?? '3');
  const sizes = (values.sizes ?? 'small,large').split(',');
  for (const s of sizes) if (!(s in SIZES)) throw new UsageError(`--sizes: unknown size ${JSON.stringify(s)} (small, large)`);
  const mlTimeout = numberOption('--ml-timeout', values['ml-timeout'] ?? '180', 0);
  return { runs, sizes: sizes as SizeName[], mlTimeout };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function medianRun(runs: RunResult[]): RunResult {
  const pick = (k: keyof RunResult) => median(runs.map((r) => r[k] as number));
  return {
    ...runs[0],
    fitSeconds: pick('fitSeconds'),
    scoreSeconds: pick('scoreSeconds'),
    peakMB: pick('peakMB'),
    rocAuc: pick('rocAuc'),
    precision: pick('precision'),
    recall: pick('recall'),
    nFlagged: pick('nFlagged'),
  };
}

/** scikit-learn in the project's .venv; installs it there on first use. Returns a reason when unavailable. */
function prepareSklearn(): string | undefined {
  try {
    ensureVenv();
  } catch (e) {
    return `no Python for scikit-learn (${(e as Error).message.split('\n')[0]})`;
  }
  const check = spawnSync(VENV_PYTHON, ['-c', 'import sklearn, numpy'], { encoding: 'utf8' });
  if (check.status !== 0) {
    console.log('bench: installing scikit-learn into .venv (requirements-bench.txt)');
    try {
      run(VENV_PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', join(ROOT, 'requirements-bench.txt')]);
    } catch (e) {
      return `could not install scikit-learn: ${(e as Error).message}`;
    }
  }
  return undefined;
}

function runOnce(contestant: Contestant, files: { x: string; y: string }, timeoutSeconds: number): RunResult | string {
  const common = ['--x', files.x, '--y', files.y, '--cols', String(DEFAULT_PARAMS.nFeatures)];
  const [cmd, argv] =
    contestant === 'sklearn'
      ? [VENV_PYTHON, [join(ROOT, 'scripts', 'bench_sklearn.py'), ...common]]
      : [process.execPath, ['--max-old-space-size=16384', join(__dirname, 'bench-run.js'), contestant, ...common]];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: timeoutSeconds * 1000, maxBuffer: 1 << 24 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') return `did not finish within ${timeoutSeconds} s (stopped)`;
  if (r.status !== 0) {
    const why = (r.stderr || '').trim().split('\n').slice(-3).join(' | ') || `exit ${r.status ?? r.signal}`;
    return `failed: ${why.slice(0, 300)}`;
  }
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as RunResult;
  } catch {
    return `failed: printed no result (last line: ${JSON.stringify(line.slice(0, 200))})`;
  }
}

const fmt = (v: number | undefined, digits: number) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));

function sizeLabel(bytes: number | null | undefined, format: string | undefined): string {
  if (bytes === null || bytes === undefined) return '-';
  const v = bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`;
  return format && format !== 'JSON' ? `${v} (${format})` : v;
}

/** `npm run bench` on `argv`; @returns the exit code (see USAGE) */
export async function main(argv: readonly string[]): Promise<number> {
  const opts = parseBenchArgs(argv);
  if (opts === 'help') {
    console.log(USAGE);
    return 0;
  }
  const started = Date.now();
  const sklearnMissing = prepareSklearn();
  if (sklearnMissing) console.log(`bench: scikit-learn skipped: ${sklearnMissing}`);
  const work = mkdtempSync(join(tmpdir(), 'netflow-bench-'));
  const outcomes: Outcome[] = [];
  try {
    for (const size of opts.sizes) {
      const params = { ...DEFAULT_PARAMS, ...SIZES[size] };
      const data = simulateTraffic(params);
      const Xs = StandardScaler.fit(data.X).transform(data.X);
      const files = { x: join(work, `${size}.f64`), y: join(work, `${size}.i8`) };
      writeFileSync(files.x, Buffer.from(Xs.data.buffer, Xs.data.byteOffset, Xs.data.byteLength));
      writeFileSync(files.y, Buffer.from(data.y.buffer, data.y.byteOffset, data.y.byteLength));
      console.log(`\n${size}: ${formatCount(Xs.rows)} rows x ${Xs.cols} features (standardized), ${opts.runs} runs each`);
      for (const contestant of Object.keys(CONTESTANTS) as Contestant[]) {
        const outcome: Outcome = { contestant, size, rows: Xs.rows, runs: [] };
        outcomes.push(outcome);
        if (contestant === 'sklearn' && sklearnMissing) {
          outcome.note = `skipped: ${sklearnMissing}`;
          continue;
        }
        const timeout = contestant === 'ml' ? opts.mlTimeout : 1800;
        for (let k = 0; k < opts.runs; k++) {
          const r = runOnce(contestant, files, timeout);
          if (typeof r === 'string') {
            outcome.note = r;
            break;
          }
          outcome.runs.push(r);
          console.log(`  ${CONTESTANTS[contestant].padEnd(27)} run ${k + 1}: fit ${r.fitSeconds.toFixed(3)} s, score ${r.scoreSeconds.toFixed(3)} s, peak ${r.peakMB.toFixed(0)} MiB, ROC-AUC ${r.rocAuc.toFixed(6)}`);
          // one run of a contestant that needs minutes is enough to place it
          if (r.fitSeconds + r.scoreSeconds > 60 && k === 0 && opts.runs > 1) {
            outcome.note = 'one run only (over a minute per run)';
            break;
          }
        }
        if (outcome.note) console.log(`  ${CONTESTANTS[contestant].padEnd(27)} ${outcome.note}`);
        if (outcome.runs.length > 0) outcome.median = medianRun(outcome.runs);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const rows: TableRow[] = outcomes.map((o) => {
    const m = o.median;
    const ref = outcomes.find((x) => x.size === o.size && x.contestant === 'sklearn')?.median;
    const total = m ? m.fitSeconds + m.scoreSeconds : undefined;
    const refTotal = ref ? ref.fitSeconds + ref.scoreSeconds : undefined;
    return {
      size: o.size,
      contestant: CONTESTANTS[o.contestant],
      'fit s': fmt(m?.fitSeconds, 3),
      'score s': fmt(m?.scoreSeconds, 3),
      'fit+score s': fmt(total, 3),
      'x sklearn time': total !== undefined && refTotal !== undefined ? fmt(total / refTotal, 3) : '-',
      'score rows/s': m ? formatCount(o.rows / m.scoreSeconds) : '-',
      'peak MiB': fmt(m?.peakMB, 0),
      'ROC-AUC': fmt(m?.rocAuc, 6),
      precision: fmt(m?.precision, 4),
      recall: fmt(m?.recall, 4),
      model: sizeLabel(m?.modelBytes, m?.modelFormat),
      note: o.note ?? '',
    };
  });
  console.log(`\n${textTable(rows, { caption: 'Isolation Forest, 100 trees, contamination 0.05 (medians; fit includes scoring the training set for the offset)' })}`);
  for (const size of opts.sizes) {
    const get = (c: Contestant) => outcomes.find((o) => o.size === size && o.contestant === c)?.median;
    const ours = get('ours');
    const ref = get('sklearn');
    if (ours && ref) {
      const speed = (ref.fitSeconds + ref.scoreSeconds) / (ours.fitSeconds + ours.scoreSeconds);
      console.log(`${size}: this library is ${speed.toFixed(1)}x faster than scikit-learn (fit + score), ROC-AUC difference ${(ours.rocAuc - ref.rocAuc).toExponential(2)}`);
    }
    const one = get('ours-1thread');
    if (ours && one) console.log(`${size}: scoring on all cores vs 1 thread: ${(one.scoreSeconds / ours.scoreSeconds).toFixed(2)}x`);
  }
  let path: string;
  try {
    path = new Workspace().writeJson('bench.json', {
      date: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
      settings: { nEstimators: 100, contamination: 0.05, maxSamples: 'auto', runs: opts.runs, mlTimeoutSeconds: opts.mlTimeout },
      outcomes,
    });
  } catch (e) {
    writeFailure(e, 'the benchmark results');
  }
  console.log(`\nwrote ${relative(process.cwd(), path)} (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
  return 0;
}

if (require.main === module) runCommand('bench', main, { help: 'npm run bench -- --help', forceExit: true });
