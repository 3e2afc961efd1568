/**
 * One benchmark run of one contestant in a fresh process (so its peak memory is
 * its own), called by `npm run bench`. Prints one JSON line.
 *
 *   node dist/cli/bench-run.js ours|ours-1thread|ml --x X.f64 --y y.i8 --cols 5
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { IsolationForest, type AnomalyDetector } from '../model/forest';
import { createMatrix } from '../core/matrix';
import { summarizeDetection } from '../eval/metrics';
import { MlIsolationForestAdapter } from '../model/ml-forest-adapter';

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

function arg(name: string): string {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`missing ${name}`);
  return process.argv[i + 1];
}

async function main(): Promise<void> {
  const contestant = process.argv[2];
  const cols = Number(arg('--cols'));
  const data = readShared(arg('--x'));
  const y = Int8Array.from(readFileSync(arg('--y')));
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
    throw new Error(`unknown contestant ${contestant}`);
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
  process.exit(0);
}

main().catch((e) => {
  console.error((e as Error).stack ?? e);
  process.exit(1);
});
