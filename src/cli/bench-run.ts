/**
 * One benchmark run of one contestant in a fresh process (so its peak memory is
 * its own), called by `npm run bench`. Prints one JSON line.
 *
 *   node dist/cli/bench-run.js ours|ours-1thread|ml --x X.f64 --y y.i8 --cols 5
 *
 * Exit codes: 0 done, 2 bad usage, 4 --x / --y unreadable or of mismatched sizes,
 * 1 unexpected failure (a bug; set DEBUG=1 for the stack trace).
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { IsolationForest, type AnomalyDetector } from '../model/forest';
import { createMatrix } from '../core/matrix';
import { summarizeDetection } from '../eval/metrics';
import { MlIsolationForestAdapter } from '../model/ml-forest-adapter';
import { integerOption, parseOptions } from './args';
import { CliError, runCommand, UsageError } from './command';

export interface RunResult {
  fitSeconds: number;
  scoreSeconds: number;
  peakMB: number;
  rocAuc: number;
  precision: number;
  recall: number;
  nFlagged: number;
  modelBytes: number | null;
  modelFormat: string;
  version: string;
}

/**
 * Read a raw float64 file straight into a SharedArrayBuffer: the one copy of the
 * data that the worker threads share (no second copy for them).
 */
function readShared(path: string): Float64Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const shared = new SharedArrayBuffer(size);
    const bytes = new Uint8Array(shared);
    for (let at = 0; at < size; ) at += readSync(fd, bytes, at, Math.min(1 << 24, size - at), at);
    return new Float64Array(shared);
  } finally {
    closeSync(fd);
  }
}

/** Exit code when --x or --y cannot be read. */
export const EXIT_INPUT = 4;

const CONTESTANTS = ['ours', 'ours-1thread', 'ml'] as const;

/** `bench-run` on `argv`; @returns the exit code: 0, 2 bad usage, 4 unreadable data, 1 a bug */
export async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, { x: { type: 'string' }, y: { type: 'string' }, cols: { type: 'string' } }, true);
  const contestant = positionals[0];
  if (positionals.length !== 1 || !(CONTESTANTS as readonly string[]).includes(contestant)) {
    throw new UsageError(`give one contestant (${CONTESTANTS.join(', ')}), got ${JSON.stringify(positionals.join(' '))}`);
  }
  if (!values.x || !values.y || !values.cols) throw new UsageError('--x X.f64, --y y.i8 and --cols N are required');
  const cols = integerOption('--cols', values.cols);
  const read = <T>(path: string, fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      throw new CliError(`cannot read ${path}: ${(e as Error).message}`, EXIT_INPUT);
    }
  };
  const data = read(values.x, () => readShared(values.x!));
  const y = read(values.y, () => Int8Array.from(readFileSync(values.y!)));
  if (data.length % cols !== 0 || y.length !== data.length / cols) {
    throw new CliError(`${values.x} holds ${data.length} values, not ${y.length} rows (${values.y}) x ${cols} columns`, EXIT_INPUT);
  }
  const X = createMatrix(data.length / cols, cols, data);
  const options = { nEstimators: 100, maxSamples: 'auto' as const, contamination: 0.05, seed: 42 };
  let model: AnomalyDetector;
  let scores: Float64Array;
  let modelBytes: number | null = null;
  const t0 = performance.now();
  let t1: number;
  if (contestant === 'ours' || contestant === 'ours-1thread') {
    const threaded = contestant === 'ours';
    const forest = threaded ? await IsolationForest.fitAsync(X, options) : IsolationForest.fit(X, options);
    t1 = performance.now();
    scores = threaded ? await forest.scoreSamplesAsync(X) : forest.scoreSamples(X);
    model = forest;
    modelBytes = Buffer.byteLength(JSON.stringify(forest.toJSON()));
  } else if (contestant === 'ml') {
    const adapter = MlIsolationForestAdapter.fit(X, options);
    t1 = performance.now();
    scores = adapter.scoreSamples(X);
    model = adapter;
    if (X.rows <= 100_000) modelBytes = adapter.modelJsonBytes(); // the JSON of the large model would not fit in a string
  } else {
    throw new Error(`unhandled contestant ${contestant}`); // CONTESTANTS and this chain disagree: a bug
  }
  const t2 = performance.now();
  const peakMB = process.resourceUsage().maxRSS / 1024; // fit + score, before the evaluation below
  const pred = new Int8Array(scores.length);
  for (let i = 0; i < scores.length; i++) pred[i] = scores[i] - model.offset < 0 ? -1 : 1;
  const s = summarizeDetection(y, scores, pred);
  const result: RunResult = {
    fitSeconds: (t1 - t0) / 1000,
    scoreSeconds: (t2 - t1) / 1000,
    peakMB,
    rocAuc: s.rocAuc,
    precision: s.precision,
    recall: s.recall,
    nFlagged: s.nFlagged,
    modelBytes,
    modelFormat: 'JSON',
    version: contestant === 'ml' ? 'ml-isolation-forest 0.1.0' : `node ${process.version}`,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return 0;
}

// forceExit: the worker pool of the threaded forest would keep the process alive
if (require.main === module) runCommand('bench-run', main, { forceExit: true });
