import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { distFile } from '../core/paths';
import { ForestKernel, type FlatForest } from './kernel/forest-kernel';
import type { ScoreJob } from './forest-worker';

/**
 * Scoring on several cores: rows are split into contiguous ranges, the calling
 * thread scores the first range itself and worker threads the others, all
 * reading one SharedArrayBuffer copy of the input and writing their range of
 * one shared output. Every row's sum is computed exactly as on one thread, so
 * the result is identical whatever the number of threads.
 */

/** Below this many rows per thread, starting the extra threads costs more than it saves. */
export const MIN_ROWS_PER_THREAD = 50_000;

/** compiled worker entry (the tests run src/, so always point at dist/) */
const WORKER_FILE = distFile('model/forest-worker.js');

interface PoolWorker {
  worker: Worker;
  modelId: number;
}

const pool: PoolWorker[] = [];
let nextModelId = 1;
const modelIds = new WeakMap<FlatForest, number>();

function modelId(model: FlatForest): number {
  let id = modelIds.get(model);
  if (id === undefined) {
    id = nextModelId++;
    modelIds.set(model, id);
  }
  return id;
}

function getWorker(k: number): PoolWorker {
  while (pool.length <= k) {
    const worker = new Worker(WORKER_FILE);
    worker.unref(); // an idle pool never keeps the process alive
    pool.push({ worker, modelId: 0 });
  }
  return pool[k];
}

function run(w: PoolWorker, job: ScoreJob): Promise<void> {
  return new Promise((resolveJob, reject) => {
    w.worker.ref(); // keep the process alive while a job is out
    const done = (fn: () => void) => {
      w.worker.off('message', onMessage);
      w.worker.off('error', onError);
      w.worker.unref();
      fn();
    };
    const onMessage = (m: { ok: boolean; error?: string }) => done(() => (m.ok ? resolveJob() : reject(new Error(`scoring worker failed: ${m.error}`))));
    const onError = (e: Error) => done(() => reject(e));
    w.worker.on('message', onMessage);
    w.worker.on('error', onError);
    w.worker.postMessage(job);
  });
}

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

/**
 * score_samples of all rows of a row-major float64 matrix (d columns), using up
 * to `threads` threads (the caller's included); norm = trees * c(psi).
 */
export async function parallelScores(model: FlatForest, kernel: ForestKernel, data: Float64Array, d: number, norm: number, threads: number): Promise<Float64Array> {
  const n = data.length / d;
  const parts = Math.max(1, Math.min(threads, Math.floor(n / MIN_ROWS_PER_THREAD)));
  if (parts === 1) {
    const out = new Float64Array(n);
    kernel.scores(data, 0, n, out, norm);
    return out;
  }
  const input = data.buffer instanceof SharedArrayBuffer ? (data.buffer as SharedArrayBuffer) : new SharedArrayBuffer(data.byteLength);
  const inputView = new Float64Array(input, 0, data.length);
  if (data.buffer !== input) inputView.set(data);
  const output = new SharedArrayBuffer(n * 8);
  const outView = new Float64Array(output);
  const id = modelId(model);
  const bounds = Array.from({ length: parts + 1 }, (_, k) => Math.round((k * n) / parts));
  const jobs: Promise<void>[] = [];
  for (let k = 1; k < parts; k++) {
    const w = getWorker(k - 1);
    const job: ScoreJob = { modelId: id, input, output, from: bounds[k], to: bounds[k + 1], norm };
    if (w.modelId !== id) {
      job.model = model;
      w.modelId = id;
    }
    jobs.push(run(w, job));
  }
  // the calling thread takes the first range while the workers run; wait for
  // them even if this part fails, so no job is left writing into the output
  const mine = (async () => kernel.scores(inputView, bounds[0], bounds[1], outView, norm))();
  const results = await Promise.allSettled([mine, ...jobs]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return outView; // a view on the shared buffer: no second copy of n values
}

/** Stop the worker threads (they are unref'd, so this is only needed to free them early). */
export async function closeScoringWorkers(): Promise<void> {
  await Promise.all(pool.splice(0).map((w) => w.worker.terminate()));
}
