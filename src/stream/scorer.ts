import { availableParallelism } from 'node:os';
import { distFile } from '../core/paths';
import { WorkerPool } from '../core/worker-pool';
import type { AlertTails } from '../scoring/alert-lines';
import type { PipelineOptions, ScoringPipeline } from '../scoring/pipeline';

/**
 * Scores the micro-batches of a long stream in order, either on the calling
 * thread or on a worker thread, so that reading and parsing the next batch
 * overlaps with scoring this one (on 2 cores: about twice the throughput).
 * Both run ScoringPipeline.score (with the explanations when the pipeline
 * explains), so the numbers are the same; the worker one scales each batch
 * on the calling thread first (ScoringPipeline.scaledRows), which balances
 * the two threads' work.
 */

export interface ScoredBatch {
  /** sequence number, from 0 */
  id: number;
  rows: number;
  /** the batch's values (rows x d, row-major), as submitted */
  values: Float64Array;
  /** the caller's tag per row (input line numbers) */
  tags: Float64Array;
  scores: Float64Array;
  decision: Float64Array;
  /** row indices predicted anomalous, ascending */
  anomalies: Int32Array;
  /** the alert lines from the score on (AlertWriter.tails), explanations included */
  alerts: AlertTails;
  latencyMs: number;
}

export interface BatchScorer {
  /** queue a batch; `values` and `tags` must not be touched until it comes back in onScored */
  submit(values: Float64Array, tags: Float64Array, rows: number): void;
  /** batches submitted and not yet delivered */
  readonly inFlight: number;
  /** batches scored at the same time (worker threads; 1 on the calling thread) */
  readonly parallel: number;
  /** resolves once at most `n` batches are in flight */
  waitUntil(n: number): Promise<void>;
  close(): Promise<void>;
}

/** Scores on the calling thread, delivering each batch as it is submitted. */
export class InlineScorer implements BatchScorer {
  private next = 0;
  readonly inFlight = 0;
  readonly parallel = 1;

  constructor(
    private readonly pipeline: ScoringPipeline,
    private readonly onScored: (b: ScoredBatch) => void,
  ) {}

  submit(values: Float64Array, tags: Float64Array, rows: number): void {
    this.onScored({ id: this.next++, rows, values, tags, ...this.pipeline.score(values, rows) });
  }

  async waitUntil(): Promise<void> {}

  async close(): Promise<void> {}
}

/** One batch as sent to the scoring worker (its values are moved, not copied). */
export interface WorkerRequest {
  /** the batch's sequence number */
  id: number;
  /** the checksum of the bundle the caller loaded (and checked the key of): the worker refuses to score with another */
  checksum: string;
  rows: number;
  values: Float64Array;
  /** the batch's forest input (ScoringPipeline.scaledRows), computed by the caller; moved too */
  scaled: Float64Array;
}

/** The worker's result for one batch; `values` and `scaled` are the request's memory, moved back. */
export type WorkerReply = Pick<ScoredBatch, 'id' | 'scores' | 'decision' | 'anomalies' | 'alerts' | 'latencyMs' | 'values'> & { scaled: Float64Array };

/** What the scoring worker is started with (its `workerData`). */
export interface ScorerWorkerData {
  modelPath: string;
  /** the caller's pipeline options: drivers per alert (0 = none), alerts on unseen categories */
  options: PipelineOptions;
}

/** scoring workers that return no batch for this long while batches are out are terminated, and the stream stops with the error */
export const SCORER_JOB_TIMEOUT_MS = 120_000;

/** compiled worker entry (tests run src/, so point at dist/) */
export const SCORER_WORKER_FILE = distFile('stream/scorer-worker.js');

/**
 * Scores on one pool worker that loads the same bundle (and checks it has the
 * same checksum). Batches are delivered to onScored in submission order, one
 * at a time; a failure (the worker's or onScored's) stops delivery, rejects
 * every waiter and makes later submits throw it.
 */
export class WorkerScorer implements BatchScorer {
  private readonly pool: WorkerPool<WorkerRequest, WorkerReply>;
  private readonly checksum: string;
  /** scaled-row memory that came back with a reply, for the next batches */
  private readonly spare: Float64Array[] = [];
  private next = 0;
  /** submitted batches not yet delivered, in submission order; `reply` is set when the worker is done */
  private readonly queue: Array<{ id: number; tags: Float64Array; rows: number; reply?: WorkerReply }> = [];
  private waiters: Array<{ n: number; resolve: () => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;
  private readonly watchdog: NodeJS.Timeout;
  /** when a batch last came back (or the first one went out) */
  private lastProgress = performance.now();

  /**
   * @param modelPath - the bundle file the caller loaded
   * @param pipeline - the caller's pipeline on it: it scales each batch here (the reading thread, which
   *   has time to spare) before the batch goes out; the workers build the same one from `modelPath`
   *   and refuse a batch whose bundle checksum is not theirs
   * @param onScored - receives each scored batch, in submission order
   * @param workerFile - the worker entry (default: SCORER_WORKER_FILE)
   * @param parallel - worker threads; batches go to the least busy one and are still delivered in order (default 1)
   * @param stuckAfterMs - fail (and terminate the workers) when no batch came back for this long while some are out
   * @param pool - workers already started for this bundle and these options ({@link prestartScoringWorkers})
   */
  constructor(
    modelPath: string,
    private readonly pipeline: ScoringPipeline,
    private readonly onScored: (b: ScoredBatch) => void,
    workerFile: string = SCORER_WORKER_FILE,
    readonly parallel = 1,
    private readonly stuckAfterMs = SCORER_JOB_TIMEOUT_MS,
    pool?: WorkerPool<WorkerRequest, WorkerReply>,
  ) {
    this.checksum = pipeline.model.checksum;
    this.pool = pool ?? scorerPool(modelPath, pipelineOptions(pipeline), workerFile, parallel);
    // A batch takes milliseconds (seconds with --explain on a big one): workers that return nothing for
    // SCORER_JOB_TIMEOUT_MS while batches are out are stuck, and the stream fails loudly instead of hanging.
    // A watchdog on progress rather than the pool's jobTimeoutMs: that one posts a worker's jobs one at a
    // time, and the worker then idles while this thread parses (measured: 15-25% slower on 2 threads).
    this.watchdog = setInterval(() => {
      if (this.queue.length > 0 && performance.now() - this.lastProgress > this.stuckAfterMs) {
        this.fail(new Error(`scoring worker gave no result for ${this.stuckAfterMs} ms with ${this.queue.length} batches out (${workerFile}): terminated`));
        void this.pool.close();
      }
    }, Math.min(1000, this.stuckAfterMs));
    this.watchdog.unref();
  }

  get inFlight(): number {
    return this.queue.length;
  }

  submit(values: Float64Array, tags: Float64Array, rows: number): void {
    if (this.failure) throw this.failure;
    if (this.queue.length === 0) this.lastProgress = performance.now(); // the clock starts with the first batch out
    // scaled here, on the reading thread, which waits for the worker about a third of the time otherwise
    // (before the batch is queued: should it throw, nothing waits for a batch that never went out)
    const scaled = this.pipeline.scaledRows(values, rows, this.spare.pop());
    const id = this.next++;
    const entry: (typeof this.queue)[number] = { id, tags, rows };
    this.queue.push(entry);
    const req: WorkerRequest = { id, checksum: this.checksum, rows, values, scaled };
    // moved, not copied; they come back with the result
    this.pool.run(req, [values.buffer as ArrayBuffer, scaled.buffer as ArrayBuffer]).then(
      (reply) => {
        entry.reply = reply;
        this.spare.push(new Float64Array(reply.scaled.buffer)); // at most one per batch out
        this.lastProgress = performance.now();
        this.deliver();
      },
      (e: Error) => this.fail(new Error(`scoring worker failed on batch ${id}: ${e.message}`, { cause: e })),
    );
  }

  waitUntil(n: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.queue.length <= n) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ n, resolve, reject }));
  }

  async close(): Promise<void> {
    try {
      await this.waitUntil(0);
    } finally {
      clearInterval(this.watchdog);
      await this.pool.close();
    }
  }

  /** hand every finished batch at the head of the queue to onScored, in order */
  private deliver(): void {
    while (!this.failure && this.queue.length > 0 && this.queue[0].reply) {
      const { tags, rows, reply } = this.queue.shift()!;
      const m = reply!;
      try {
        this.onScored({ id: m.id, rows, tags, values: m.values, scores: m.scores, decision: m.decision, anomalies: m.anomalies, alerts: m.alerts, latencyMs: m.latencyMs });
      } catch (e) {
        this.fail(e as Error);
        return;
      }
    }
    this.waiters = this.waiters.filter((w) => {
      if (this.queue.length > w.n) return true;
      w.resolve();
      return false;
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiters) w.reject(this.failure);
    this.waiters = [];
  }
}

/** the scoring workers' pool: each worker loads the bundle at `modelPath` when it starts */
function scorerPool(modelPath: string, options: PipelineOptions, workerFile: string, parallel: number): WorkerPool<WorkerRequest, WorkerReply> {
  const workerData: ScorerWorkerData = { modelPath, options };
  const pool = new WorkerPool<WorkerRequest, WorkerReply>({ file: workerFile, maxWorkers: parallel, workerData });
  for (let k = 0; k < parallel; k++) pool.worker(k); // start now: the workers load the bundle while the first batch is read
  return pool;
}

/**
 * Scoring worker threads for `--threads N` (threads in all, the reading one
 * included): N - 1, or N when the pipeline explains (TreeSHAP then costs far
 * more than reading and parsing, and the reading thread mostly waits); none
 * (the calling thread alone) for N = 1 or on a single core.
 */
export function scoringWorkers(threads: number, explain: number): number {
  const cores = availableParallelism();
  if (threads <= 1 || cores <= 1) return 0;
  return Math.max(1, Math.min(explain > 0 ? threads : threads - 1, cores));
}

/** workers started by prestartScoringWorkers and not yet taken by createBatchScorer */
let prestarted: { key: string; pool: WorkerPool<WorkerRequest, WorkerReply> } | undefined;

/** the options a worker builds its pipeline with: the caller's pipeline's */
const pipelineOptions = (p: ScoringPipeline): PipelineOptions => ({ explain: p.explainK, unseenAlerts: p.unseenAlerts });

const prestartKey = (modelPath: string, options: PipelineOptions, workers: number) =>
  JSON.stringify([modelPath, options.explain ?? 0, options.unseenAlerts === true, workers]);

/**
 * Start the scoring workers of a coming {@link createBatchScorer} call now,
 * before the caller loads and checks the bundle itself: a worker thread takes
 * about a tenth of a second to boot and load it, which then overlaps with the
 * caller's own start instead of delaying the first batch. Safe because every
 * batch carries the checksum of the bundle the caller loaded, and a worker
 * scores nothing with another one. Workers not taken (the command failed
 * first) are idle and unref'd: they do not keep the process alive.
 *
 * @param modelPath - the bundle file the caller will load
 * @param options - the pipeline options it will use
 * @param threads - the `--threads` it will pass to createBatchScorer
 */
export function prestartScoringWorkers(modelPath: string, options: PipelineOptions, threads: number): void {
  const workers = scoringWorkers(threads, options.explain ?? 0);
  if (workers === 0 || prestarted) return;
  const opts: PipelineOptions = { explain: options.explain ?? 0, unseenAlerts: options.unseenAlerts === true };
  prestarted = { key: prestartKey(modelPath, opts, workers), pool: scorerPool(modelPath, opts, SCORER_WORKER_FILE, workers) };
}

/**
 * Where batches are scored, for `--threads N` ({@link scoringWorkers}): on
 * worker threads (the ones {@link prestartScoringWorkers} started, when it was
 * called for the same bundle and options), or on the calling thread.
 *
 * @param pipeline - the caller's pipeline (the workers build the same one from `modelPath`)
 * @param modelPath - the bundle file the pipeline's model was loaded from
 */
export function createBatchScorer(pipeline: ScoringPipeline, modelPath: string, threads: number, onScored: (b: ScoredBatch) => void): BatchScorer {
  const workers = scoringWorkers(threads, pipeline.explainK);
  if (workers === 0) return new InlineScorer(pipeline, onScored);
  let pool: WorkerPool<WorkerRequest, WorkerReply> | undefined;
  if (prestarted?.key === prestartKey(modelPath, pipelineOptions(pipeline), workers)) pool = prestarted.pool;
  else if (prestarted) void prestarted.pool.close(); // started for something else: not used
  prestarted = undefined;
  return new WorkerScorer(modelPath, pipeline, onScored, SCORER_WORKER_FILE, workers, SCORER_JOB_TIMEOUT_MS, pool);
}
