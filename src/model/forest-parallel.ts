import { availableParallelism } from 'node:os';
import { distFile } from '../core/paths';
import { WorkerPool, type PoolWorker } from '../core/worker-pool';
import { ForestKernel, type FlatForest } from './kernel/forest-kernel';
import { WORKER_MODEL_CACHE, type ScoreJob, type ScoreReply } from './forest-worker';

/**
 * Scoring on several cores: rows are split into contiguous ranges, the calling
 * thread scores the first range itself and pool workers the others, all
 * reading one SharedArrayBuffer copy of the input and writing their range of
 * one shared output. Every row's sum is computed exactly as on one thread, so
 * the result is identical whatever the number of threads, and concurrent
 * calls are independent: each has its own buffers and its own jobs.
 */

/** Below this many rows per thread, starting the extra threads costs more than it saves. */
export const MIN_ROWS_PER_THREAD = 50_000;

/** A pool of scoring workers (entry `dist/model/forest-worker.js`). */
export type ScoringPool = WorkerPool<ScoreJob, ScoreReply>;

/** Threads to use by default, the calling one included: every core. */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

/**
 * A new pool of scoring workers. The default pool (used when no `pool` is
 * given to scoreSamplesAsync/fitAsync) is made by this with no arguments.
 *
 * @param options.file - the worker entry (default: `dist/model/forest-worker.js`; the
 *   tests run `src/`, so this always points at the compiled form)
 * @param options.maxWorkers - worker threads at most (default: cores - 1, at least 1);
 *   a call uses at most maxWorkers + 1 threads, the caller's included
 */
export function createScoringPool(options: { file?: string; maxWorkers?: number } = {}): ScoringPool {
  return new WorkerPool<ScoreJob, ScoreReply>({
    file: options.file ?? distFile('model/forest-worker.js'),
    maxWorkers: options.maxWorkers ?? Math.max(1, defaultThreads() - 1),
  });
}

let sharedPool: ScoringPool | undefined;

/** The process-wide scoring pool, created on first use. */
export function scoringPool(): ScoringPool {
  sharedPool ??= createScoringPool();
  return sharedPool;
}

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

/**
 * Model ids each worker was last sent, least recently used first: the same
 * eviction as the worker's own cache, so the model is sent again only when the
 * worker no longer has it. If the two ever disagree the worker answers
 * 'needs-model' and the job is sent again with the model, so this is only an
 * optimisation, never a correctness matter. Keyed by worker handle: a
 * replacement worker starts with an empty list.
 */
const sentModels = new WeakMap<PoolWorker<ScoreJob, ScoreReply>, number[]>();

function noteSent(w: PoolWorker<ScoreJob, ScoreReply>, id: number): boolean {
  let ids = sentModels.get(w);
  if (!ids) sentModels.set(w, (ids = []));
  const at = ids.indexOf(id);
  const had = at >= 0;
  if (had) ids.splice(at, 1);
  else if (ids.length >= WORKER_MODEL_CACHE) ids.shift();
  ids.push(id);
  return had;
}

async function scoreRange(w: PoolWorker<ScoreJob, ScoreReply>, model: FlatForest, job: ScoreJob): Promise<void> {
  if (!noteSent(w, job.modelId)) job.model = model;
  if ((await w.run(job)) === 'scored') return;
  noteSent(w, job.modelId);
  const again = await w.run({ ...job, model });
  if (again !== 'scored') throw new Error(`scoring worker ${w.id} did not score rows ${job.from}..${job.to - 1} even with the model sent`);
}

/**
 * score_samples of all rows of a row-major float64 matrix (d columns), using up
 * to `threads` threads (the caller's included, at most pool.maxWorkers + 1, and
 * one per MIN_ROWS_PER_THREAD rows); norm = trees * c(psi).
 *
 * @returns the scores, a view on a SharedArrayBuffer when threads were used
 * @throws RangeError for a non-finite value (row and column named), whichever
 *   thread met it; Error naming the worker file if a worker died
 */
export async function parallelScores(model: FlatForest, kernel: ForestKernel, data: Float64Array, d: number, norm: number, threads: number, pool?: ScoringPool): Promise<Float64Array> {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  const n = data.length / d;
  const workers = pool ?? scoringPool(); // creating the pool starts no thread
  const parts = Math.max(1, Math.min(threads, workers.maxWorkers + 1, Math.floor(n / MIN_ROWS_PER_THREAD)));
  if (parts === 1) {
    const out = new Float64Array(n);
    kernel.scores(data, 0, n, out, norm);
    return out;
  }
  let input: SharedArrayBuffer;
  let inputView: Float64Array;
  if (data.buffer instanceof SharedArrayBuffer) {
    input = data.buffer;
    inputView = data;
  } else {
    input = new SharedArrayBuffer(data.byteLength);
    inputView = new Float64Array(input);
    inputView.set(data);
  }
  const output = new SharedArrayBuffer(n * 8);
  const outView = new Float64Array(output);
  const id = modelId(model);
  const bounds = Array.from({ length: parts + 1 }, (_, k) => Math.round((k * n) / parts));
  const jobs: Promise<void>[] = [];
  for (let k = 1; k < parts; k++) {
    const job: ScoreJob = { modelId: id, input, inputOffset: inputView.byteOffset, inputLength: inputView.length, output, from: bounds[k], to: bounds[k + 1], norm };
    jobs.push(scoreRange(workers.worker(k - 1), model, job));
  }
  // the calling thread takes the first range while the workers run; wait for
  // them even if this part fails, so no job is left writing into the output
  const mine = (async () => kernel.scores(inputView, bounds[0], bounds[1], outView, norm))();
  const results = await Promise.allSettled([mine, ...jobs]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return outView; // a view on the shared buffer: no second copy of n values
}

/**
 * Stop the default pool's worker threads (they are unref'd when idle, so this
 * is only needed to free them early). Later calls start fresh workers.
 */
export async function closeScoringWorkers(): Promise<void> {
  await sharedPool?.close();
}
