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
 * explains), so the numbers are the same.
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
  rows: number;
  values: Float64Array;
}

/** The worker's result for one batch; `values` is the request's memory, moved back. */
export type WorkerReply = Pick<ScoredBatch, 'id' | 'scores' | 'decision' | 'anomalies' | 'alerts' | 'latencyMs' | 'values'>;

/** What the scoring worker is started with (its `workerData`). */
export interface ScorerWorkerData {
  modelPath: string;
  checksum: string;
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
  private next = 0;
  /** submitted batches not yet delivered, in submission order; `reply` is set when the worker is done */
  private readonly queue: Array<{ id: number; tags: Float64Array; rows: number; reply?: WorkerReply }> = [];
  private waiters: Array<{ n: number; resolve: () => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;
  private readonly watchdog: NodeJS.Timeout;
  /** when a batch last came back (or the first one went out) */
  private lastProgress = performance.now();

  /**
   * @param modelPath - the bundle the caller loaded
   * @param checksum - its checksum: the worker refuses a bundle that changed since
   * @param options - the caller's pipeline options (drivers per alert: 0 = none; a number means `{ explain }`)
   * @param onScored - receives each scored batch, in submission order
   * @param workerFile - the worker entry (default: SCORER_WORKER_FILE)
   * @param parallel - worker threads; batches go to the least busy one and are still delivered in order (default 1)
   * @param stuckAfterMs - fail (and terminate the workers) when no batch came back for this long while some are out
   */
  constructor(
    modelPath: string,
    checksum: string,
    options: PipelineOptions | number,
    private readonly onScored: (b: ScoredBatch) => void,
    workerFile: string = SCORER_WORKER_FILE,
    readonly parallel = 1,
    private readonly stuckAfterMs = SCORER_JOB_TIMEOUT_MS,
  ) {
    const workerData: ScorerWorkerData = { modelPath, checksum, options: typeof options === 'number' ? { explain: options } : options };
    this.pool = new WorkerPool<WorkerRequest, WorkerReply>({ file: workerFile, maxWorkers: parallel, workerData });
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
    for (let k = 0; k < parallel; k++) this.pool.worker(k); // start now: the workers load the bundle while the first batch is read
  }

  get inFlight(): number {
    return this.queue.length;
  }

  submit(values: Float64Array, tags: Float64Array, rows: number): void {
    if (this.failure) throw this.failure;
    if (this.queue.length === 0) this.lastProgress = performance.now(); // the clock starts with the first batch out
    const id = this.next++;
    const entry: (typeof this.queue)[number] = { id, tags, rows };
    this.queue.push(entry);
    const req: WorkerRequest = { id, rows, values };
    // moved, not copied; it comes back with the result
    this.pool.run(req, [values.buffer as ArrayBuffer]).then(
      (reply) => {
        entry.reply = reply;
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

/**
 * Where batches are scored, for `--threads N` (threads in all, the reading one
 * included): N - 1 worker threads, or N when the pipeline explains (TreeSHAP
 * then costs far more than reading and parsing, and the reading thread mostly
 * waits); the calling thread alone for N = 1 or on a single core.
 *
 * @param pipeline - the caller's pipeline (the workers build the same one from `modelPath`)
 * @param modelPath - the bundle file the pipeline's model was loaded from
 */
export function createBatchScorer(pipeline: ScoringPipeline, modelPath: string, threads: number, onScored: (b: ScoredBatch) => void): BatchScorer {
  const cores = availableParallelism();
  if (threads <= 1 || cores <= 1) return new InlineScorer(pipeline, onScored);
  const workers = Math.max(1, Math.min(pipeline.explainK > 0 ? threads : threads - 1, cores));
  return new WorkerScorer(modelPath, pipeline.model.checksum, { explain: pipeline.explainK, unseenAlerts: pipeline.unseenAlerts }, onScored, SCORER_WORKER_FILE, workers);
}
