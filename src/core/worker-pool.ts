import { basename, isAbsolute } from 'node:path';
import { parentPort, Worker, type Transferable } from 'node:worker_threads';

/**
 * A pool of worker threads running one compiled entry file, shared by every
 * caller in the process (forest scoring, the stream's scorer).
 *
 * Why a job protocol: several callers may have jobs out on the same worker at
 * once (two overlapping `scoreSamplesAsync` calls, say). Every request carries
 * a job id and every reply names it, so a caller's promise settles on its own
 * reply only, never on another job's. And why the bookkeeping of deaths: a
 * worker that fails to start, throws outside a job or exits takes its jobs with
 * it; each of those jobs is rejected with an error naming the worker file and
 * the cause, the worker leaves the pool, and the next job spawns a fresh one.
 * No job can wait on a worker that is gone.
 *
 * And why the optional job timeout (`jobTimeoutMs`): a worker stuck in a job
 * (an endless loop, a promise that never settles) would otherwise hold its
 * job and every job behind it forever. With a timeout the pool terminates it,
 * rejects that job with a {@link JobTimeoutError}, and hands the jobs that
 * were waiting behind it, never sent, to a fresh worker in the same slot.
 *
 * Worker side: the entry file calls {@link serveJobs} with its handler.
 */

/** The message a pool sends to a worker. */
export interface JobRequest<Req> {
  jobId: number;
  payload: Req;
}

/** The message a worker sends back: exactly one per request, naming its job. */
export type JobReply<Res> = { jobId: number; ok: true; result: Res } | { jobId: number; ok: false; error: { name: string; message: string; stack?: string } };

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /**
   * Absolute path of the worker's compiled entry file (`distFile(...)` from
   * `core/paths`: workers always run the JavaScript in `dist/`).
   */
  file: string;
  /** Most workers alive at once, >= 1 (default 1). Slots are filled on demand. */
  maxWorkers?: number;
  /** Passed to every worker as `workerData` (structured-cloned at each spawn). Default: undefined. */
  workerData?: unknown;
  /**
   * Longest a job may run, in milliseconds, before its worker is terminated
   * and the job rejected with a {@link JobTimeoutError}; a number in
   * (0, 2,147,483,647] (setTimeout's limit). Default: undefined, no timeout,
   * as before this option existed: the pool's callers (forest scoring of any
   * number of rows, the stream's scorer) have no bound that fits every
   * machine, and a default that kills legitimate work would be worse than a
   * limit the caller chooses.
   *
   * With a timeout each worker is given one job at a time and the others wait
   * in the pool, in the order sent to that worker (without one, jobs are
   * posted at once and an async handler may run several together). So a
   * job's clock starts when it is posted and measures its own run, not the
   * wait behind others, and jobs waiting behind a stuck one are never inside
   * the terminated worker: they run on the slot's fresh worker, transferred
   * buffers included. A fresh worker's start-up (loading its entry and
   * `workerData`) counts against its first job: choose a generous value.
   */
  jobTimeoutMs?: number;
}

/** Counters of a pool since it was created (diagnostics and tests). */
export interface WorkerPoolStats {
  /** workers started, replacements included */
  spawned: number;
  /** jobs sent to a worker */
  submitted: number;
  /** jobs that came back with a result */
  succeeded: number;
  /** jobs rejected: an error thrown by the handler, their worker died, or they timed out */
  failed: number;
  /** workers that died (error, exit, unreadable reply, a job timeout, close()) while in the pool */
  died: number;
  /** jobs that ran past jobTimeoutMs (each also terminated its worker) */
  timedOut: number;
}

/** The largest delay setTimeout honours (a larger one fires after 1 ms). */
const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * The rejection of a job that ran longer than the pool's `jobTimeoutMs`; its
 * worker was terminated. Names the worker file, the job and the timeout.
 */
export class JobTimeoutError extends Error {
  constructor(
    /** the worker entry file */
    readonly file: string,
    /** the job's id within its pool */
    readonly jobId: number,
    /** the pool's jobTimeoutMs */
    readonly timeoutMs: number,
  ) {
    super(`worker thread ${file} was terminated: job ${jobId} exceeded the job timeout of ${timeoutMs} ms (jobTimeoutMs)`);
    this.name = 'JobTimeoutError';
  }
}

/** What a PoolWorker shares with its pool. */
interface PoolContext {
  readonly file: string;
  readonly workerData: unknown;
  readonly counters: WorkerPoolStats;
  /** undefined: no timeout */
  readonly jobTimeoutMs: number | undefined;
  nextJobId(): number;
  /** terminations started by a timeout, still under way (close() waits for them) */
  readonly terminating: Set<Promise<unknown>>;
}

interface PendingJob {
  jobId: number;
  payload: unknown;
  transfer: readonly Transferable[];
  resolve: (value: unknown) => void;
  reject: (e: Error) => void;
  /** armed when the job is posted, if the pool has a timeout */
  timer?: NodeJS.Timeout;
}

/** Node's standard error classes, rebuilt so a handler's RangeError stays a RangeError. */
const ERROR_CLASSES: Record<string, ErrorConstructor> = { RangeError, TypeError, SyntaxError, ReferenceError, EvalError, URIError };

function rebuildError(e: { name: string; message: string; stack?: string }): Error {
  const Ctor = ERROR_CLASSES[e.name] ?? Error;
  const err = new Ctor(e.message);
  if (e.stack) err.stack = `${err.name}: ${e.message}\n    [in worker thread]\n${e.stack.split('\n').slice(1).join('\n')}`;
  return err;
}

/**
 * One worker thread of a {@link WorkerPool}. A handle stays valid after its
 * worker dies: `run` then rejects at once with the cause of death, so a caller
 * holding a stale handle cannot hang. The one exception is a worker the pool
 * terminated for a job timeout (the worker file is not at fault): `run` on
 * its handle goes to the slot's current worker, where its waiting jobs went.
 */
export class PoolWorker<Req, Res> {
  /** Serial number of this spawn within its pool (a replacement gets a new one). */
  readonly id: number;
  private readonly worker: Worker;
  /** jobs posted to the thread and not yet settled (at most one with a timeout) */
  private readonly jobs = new Map<number, PendingJob>();
  /** jobs not yet posted, in order (only with a timeout: see WorkerPoolOptions.jobTimeoutMs) */
  private readonly waiting: PendingJob[] = [];
  private death: Error | undefined;
  /** set when the pool terminated this worker for a job timeout */
  private timedOut = false;

  /**
   * @internal spawned by WorkerPool.worker() only
   * @param successor - the slot's live worker (spawned if need be): where waiting jobs go after a timeout
   */
  constructor(
    private readonly pool: PoolContext,
    id: number,
    private readonly onDeath: (w: PoolWorker<Req, Res>) => void,
    private readonly successor: () => PoolWorker<Req, Res>,
  ) {
    this.id = id;
    this.worker = new Worker(pool.file, { workerData: pool.workerData });
    this.worker.on('message', (m: JobReply<Res>) => this.receive(m));
    this.worker.on('error', (e) => this.die(`failed: ${e.message}`, e));
    this.worker.on('messageerror', (e) => {
      // a reply that cannot be read names no job: the worker's jobs cannot be matched any more
      this.die(`sent a reply that could not be deserialized: ${e.message}`, e);
      void this.worker.terminate();
    });
    this.worker.on('exit', (code) => this.die(`exited with code ${code}`));
    // an idle worker never keeps the process alive; run() refs it while jobs are out.
    // After the listeners: adding a 'message' listener refs the worker again (a worker
    // started and never given a job, such as a prestarted scorer, kept the process alive)
    this.worker.unref();
  }

  /** True until the worker errs, exits or is terminated. */
  get alive(): boolean {
    return this.death === undefined;
  }

  /** Jobs sent to this worker and not yet settled (those waiting in the pool for it included). */
  get inFlight(): number {
    return this.jobs.size + this.waiting.length;
  }

  /**
   * Send one job to this worker.
   *
   * @param payload - the request, structured-cloned (or moved, see `transfer`)
   * @param transfer - buffers to move instead of copy; the caller must not touch them afterwards
   * @returns the handler's result; rejects with the handler's error, with a
   *   {@link JobTimeoutError} if it runs past the pool's jobTimeoutMs, or with an
   *   Error naming the worker file and the cause if the worker dies first
   */
  run(payload: Req, transfer: readonly Transferable[] = []): Promise<Res> {
    if (this.death) {
      if (!this.timedOut) return Promise.reject(this.death);
      try {
        return this.successor().run(payload, transfer);
      } catch (e) {
        return Promise.reject(e as Error); // the replacement could not be started
      }
    }
    const jobId = this.pool.nextJobId();
    this.pool.counters.submitted++;
    return new Promise<Res>((resolve, reject) => {
      this.accept({ jobId, payload, transfer, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  /** Stop the worker; its unsettled jobs are rejected. */
  async terminate(): Promise<void> {
    this.die('was terminated by WorkerPool.close()');
    await this.worker.terminate();
  }

  /** Take a job (new, or handed over by a worker terminated for a timeout): post it now, or queue it behind the one running. */
  private accept(job: PendingJob): void {
    if (this.inFlight === 0) this.worker.ref(); // keep the process alive while a job is out
    if (this.pool.jobTimeoutMs === undefined) {
      this.post(job);
    } else {
      this.waiting.push(job);
      this.pump();
    }
  }

  /** With a timeout: post the next waiting job once the thread has none. */
  private pump(): void {
    while (this.death === undefined && this.jobs.size === 0 && this.waiting.length > 0) this.post(this.waiting.shift()!);
  }

  private post(job: PendingJob): void {
    this.jobs.set(job.jobId, job);
    try {
      const req: JobRequest<unknown> = { jobId: job.jobId, payload: job.payload };
      this.worker.postMessage(req, job.transfer);
    } catch (e) {
      // e.g. a payload that cannot be cloned: only this job fails, the worker is fine
      this.pool.counters.failed++;
      this.settle(job.jobId)?.reject(e as Error);
      return;
    }
    const ms = this.pool.jobTimeoutMs;
    if (ms !== undefined) {
      job.timer = setTimeout(() => this.timeOut(job.jobId, ms), ms);
      job.timer.unref(); // the ref'd worker keeps the process alive while the job is out, not the timer
    }
  }

  private settle(jobId: number): PendingJob | undefined {
    const job = this.jobs.get(jobId);
    if (!job) return undefined;
    this.jobs.delete(jobId);
    clearTimeout(job.timer);
    if (this.inFlight === 0) this.worker.unref();
    return job;
  }

  private receive(m: JobReply<Res>): void {
    const job = this.settle(m.jobId);
    if (!job) return; // not ours (a job already rejected when the worker was declared dead)
    if (m.ok) {
      this.pool.counters.succeeded++;
      job.resolve(m.result);
    } else {
      this.pool.counters.failed++;
      job.reject(rebuildError(m.error));
    }
    this.pump();
  }

  /** Job `jobId` ran `ms` without a reply: terminate the thread, reject the job, pass the waiting ones on. */
  private timeOut(jobId: number, ms: number): void {
    if (this.death || !this.jobs.has(jobId)) return;
    this.pool.counters.timedOut++;
    const error = new JobTimeoutError(this.pool.file, jobId, ms);
    this.timedOut = true;
    this.die(`was terminated: job ${jobId} exceeded the job timeout of ${ms} ms (jobTimeoutMs)`, undefined, error);
    // terminate() stops a thread even in an endless loop; close() waits for it
    const exit = this.worker.terminate().catch(() => undefined);
    this.pool.terminating.add(exit);
    void exit.finally(() => this.pool.terminating.delete(exit));
  }

  /**
   * Declare the worker dead (once): it leaves its slot and its posted jobs are
   * rejected (the timed-out one with `timeout`). Waiting jobs, never posted,
   * go to the slot's fresh worker after a timeout and are rejected otherwise.
   */
  private die(cause: string, error?: Error, timeout?: JobTimeoutError): void {
    if (this.death) return;
    this.death = new Error(`worker thread ${this.pool.file} ${cause}`, error ? { cause: error } : undefined);
    this.onDeath(this);
    const posted = [...this.jobs.keys()];
    const waiting = this.waiting.splice(0);
    const held = posted.length + (timeout ? 0 : waiting.length);
    for (const jobId of posted) {
      this.pool.counters.failed++;
      const reason = jobId === timeout?.jobId ? timeout : new Error(`${this.death.message} (job ${jobId} of ${held} in flight on it)`, { cause: error });
      this.settle(jobId)?.reject(reason);
    }
    if (waiting.length === 0) return;
    if (timeout) {
      let heir: PoolWorker<Req, Res>;
      try {
        heir = this.successor();
      } catch (e) {
        for (const job of waiting) {
          this.pool.counters.failed++;
          job.reject(e as Error);
        }
        return;
      }
      for (const job of waiting) heir.accept(job);
      return;
    }
    for (const job of waiting) {
      this.pool.counters.failed++;
      job.reject(new Error(`${this.death.message} (job ${job.jobId} of ${held} in flight on it)`, { cause: error }));
    }
    if (this.inFlight === 0) this.worker.unref();
  }
}

/**
 * A pool of up to `maxWorkers` worker threads running `file`, whose entry
 * calls {@link serveJobs}. Workers start on first use and are unref'd while
 * idle, so an idle pool never keeps the process alive.
 *
 * Safe with any number of concurrent callers: each job's promise settles on
 * its own reply, or is rejected when its worker dies (or, with `jobTimeoutMs`,
 * when it runs too long); a dead worker is replaced at the next call.
 *
 * @typeParam Req - the job payload the worker's handler takes
 * @typeParam Res - what the handler returns
 */
export class WorkerPool<Req, Res> {
  /** Absolute path of the worker entry file (named in every error). */
  readonly file: string;
  /** Most workers alive at once. */
  readonly maxWorkers: number;
  /** Longest a job may run (ms), or undefined for no limit; see {@link WorkerPoolOptions.jobTimeoutMs}. */
  readonly jobTimeoutMs: number | undefined;
  private readonly slots: Array<PoolWorker<Req, Res> | undefined> = [];
  private spawnSerial = 0;
  /** shared with the workers' handles, which count their jobs in it */
  private readonly context: PoolContext;

  /**
   * @param options - `file` (required, absolute), `maxWorkers` (default 1), `workerData` (default undefined),
   *   `jobTimeoutMs` (default undefined: no timeout)
   * @throws RangeError if maxWorkers is not a positive integer, file is not an absolute path,
   *   or jobTimeoutMs is not a number in (0, 2,147,483,647]
   */
  constructor(options: WorkerPoolOptions) {
    const maxWorkers = options.maxWorkers ?? 1;
    if (!Number.isInteger(maxWorkers) || maxWorkers < 1) throw new RangeError(`WorkerPool: maxWorkers must be a positive integer, got ${maxWorkers}`);
    // a relative path would resolve against the process's cwd, which differs between the CLI, the tests and a notebook kernel
    if (!isAbsolute(options.file)) throw new RangeError(`WorkerPool: file must be an absolute path (use distFile()), got ${options.file}`);
    const timeout = options.jobTimeoutMs;
    if (timeout !== undefined && !(typeof timeout === 'number' && timeout > 0 && timeout <= MAX_TIMEOUT_MS)) {
      throw new RangeError(`WorkerPool: jobTimeoutMs must be a number of milliseconds in (0, ${MAX_TIMEOUT_MS}] or undefined (no timeout), got ${timeout}`);
    }
    this.file = options.file;
    this.maxWorkers = maxWorkers;
    this.jobTimeoutMs = timeout;
    let jobSerial = 0;
    this.context = {
      file: options.file,
      workerData: options.workerData,
      counters: { spawned: 0, submitted: 0, succeeded: 0, failed: 0, died: 0, timedOut: 0 },
      jobTimeoutMs: timeout,
      nextJobId: () => ++jobSerial,
      terminating: new Set(),
    };
  }

  /** A copy of the counters since the pool was created. */
  get stats(): WorkerPoolStats {
    return { ...this.context.counters };
  }

  /** Workers currently alive. */
  get size(): number {
    return this.slots.filter((w) => w !== undefined).length;
  }

  /**
   * The live worker in slot `k` (0 <= k < maxWorkers), spawned if the slot is
   * empty or its worker died. Jobs sent to one worker run in the order sent.
   *
   * @throws RangeError for a slot outside 0..maxWorkers-1
   */
  worker(k: number): PoolWorker<Req, Res> {
    if (!Number.isInteger(k) || k < 0 || k >= this.maxWorkers) throw new RangeError(`WorkerPool(${basename(this.file)}): slot ${k} outside 0..${this.maxWorkers - 1}`);
    let w = this.slots[k];
    if (w === undefined || !w.alive) {
      try {
        w = new PoolWorker<Req, Res>(
          this.context,
          ++this.spawnSerial,
          (dead) => {
            this.context.counters.died++;
            if (this.slots[k] === dead) this.slots[k] = undefined;
          },
          () => this.worker(k),
        );
      } catch (e) {
        // Node refuses some workers synchronously (bad options, no memory): same message shape as a death
        throw new Error(`worker thread ${this.file} could not be started: ${(e as Error).message}`, { cause: e });
      }
      this.context.counters.spawned++;
      this.slots[k] = w;
    }
    return w;
  }

  /**
   * Run one job on the least busy worker (an empty slot counts as idle, so
   * the pool grows up to maxWorkers before it queues).
   *
   * @param payload - the request
   * @param transfer - buffers to move to the worker instead of copying
   * @returns the handler's result (see {@link PoolWorker.run} for rejections)
   */
  run(payload: Req, transfer: readonly Transferable[] = []): Promise<Res> {
    let best = 0;
    let bestLoad = Infinity;
    for (let k = 0; k < this.maxWorkers; k++) {
      const w = this.slots[k];
      const load = w?.alive ? w.inFlight : 0;
      if (load < bestLoad) {
        best = k;
        bestLoad = load;
        if (load === 0) break;
      }
    }
    return this.worker(best).run(payload, transfer);
  }

  /**
   * Terminate every worker; their unsettled jobs are rejected. Also waits for
   * workers still being terminated after a job timeout. The pool stays
   * usable: a later call spawns fresh workers.
   */
  async close(): Promise<void> {
    const workers = this.slots.splice(0).filter((w): w is PoolWorker<Req, Res> => w !== undefined);
    await Promise.all([...workers.map((w) => w.terminate()), ...this.context.terminating]);
  }
}

/** What a handler may return: a plain result, or a result with buffers to move back instead of copying. */
export interface TransferResult<Res> {
  result: Res;
  transfer: Transferable[];
}

/** brands a TransferResult, so a handler's plain result that happens to have `result` and `transfer` fields is not mistaken for one */
const TRANSFER = Symbol('withTransfer');

/** Mark a handler's result as moved back with `transfer` (see {@link serveJobs}). */
export function withTransfer<Res>(result: Res, transfer: Transferable[]): TransferResult<Res> {
  return { result, transfer, [TRANSFER]: true } as TransferResult<Res>;
}

/** whether serveJobs was called in this thread */
let serving = false;

/**
 * The worker side of {@link WorkerPool}: answer every request with one reply
 * naming its job id. An error thrown (or rejected) by `handler` goes back as
 * that job's failure and the worker keeps serving; it is not an uncaught error.
 *
 * @param handler - computes a job's result (may be async); return
 *   `withTransfer(result, buffers)` to move buffers back instead of copying
 * @throws Error if called outside a worker thread
 */
export function serveJobs<Req, Res>(handler: (payload: Req) => Res | TransferResult<Res> | Promise<Res | TransferResult<Res>>): void {
  const port = parentPort;
  if (!port) throw new Error('serveJobs: must be called in a worker thread');
  // two handlers would both answer every job, and the first reply wins: refuse the second
  if (serving) throw new Error('serveJobs: this thread already serves jobs; a worker entry must call it once, and only when it is the thread\'s entry (require.main === module)');
  serving = true;
  port.on('message', async (req: JobRequest<Req>) => {
    let reply: JobReply<Res>;
    let transfer: Transferable[] = [];
    try {
      const out = await handler(req.payload);
      if (out !== null && typeof out === 'object' && TRANSFER in out) {
        const t = out as TransferResult<Res>;
        reply = { jobId: req.jobId, ok: true, result: t.result };
        transfer = t.transfer;
      } else {
        reply = { jobId: req.jobId, ok: true, result: out as Res };
      }
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      reply = { jobId: req.jobId, ok: false, error: { name: err.name, message: err.message, stack: err.stack } };
    }
    try {
      port.postMessage(reply, transfer);
    } catch (e) {
      // a result that cannot be cloned still gets its one reply, as this job's failure
      const message = `job ${req.jobId}: the result could not be sent back: ${(e as Error).message}`;
      port.postMessage({ jobId: req.jobId, ok: false, error: { name: 'Error', message } } satisfies JobReply<Res>);
    }
  });
}
