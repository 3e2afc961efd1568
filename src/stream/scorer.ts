import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { distFile } from '../core/paths';
import type { LoadedModel } from '../persist/bundle';
import { createMatrix } from '../core/matrix';
import { scoreRows } from './batch';

/**
 * Scores the micro-batches of a long stream in order, either on the calling
 * thread or on a worker thread, so that reading and parsing the next batch
 * overlaps with scoring this one (on 2 cores: about twice the throughput).
 * Both run processBatch from the stream module, so the numbers are the same.
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
  latencyMs: number;
}

export interface BatchScorer {
  /** queue a batch; `values` and `tags` must not be touched until it comes back in onScored */
  submit(values: Float64Array, tags: Float64Array, rows: number): void;
  /** batches submitted and not yet delivered */
  readonly inFlight: number;
  /** resolves once at most `n` batches are in flight */
  waitUntil(n: number): Promise<void>;
  close(): Promise<void>;
}

function score(model: LoadedModel, values: Float64Array, rows: number): Pick<ScoredBatch, 'scores' | 'decision' | 'anomalies' | 'latencyMs'> {
  const t0 = performance.now();
  const d = model.scaler.nFeatures; // encoded width when the model has an encoder
  // scoreRows, not processBatch: the stream needs only the anomalies' indices, not a copy of each row
  const r = scoreRows(model, createMatrix(rows, d, values.subarray(0, rows * d)));
  let count = 0;
  for (let i = 0; i < rows; i++) count += r.predictions[i] === -1 ? 1 : 0;
  const anomalies = new Int32Array(count);
  for (let i = 0, k = 0; i < rows; i++) if (r.predictions[i] === -1) anomalies[k++] = i;
  return { scores: r.scores, decision: r.decision, anomalies, latencyMs: performance.now() - t0 };
}

/** Scores on the calling thread, delivering each batch as it is submitted. */
export class InlineScorer implements BatchScorer {
  private next = 0;
  readonly inFlight = 0;

  constructor(
    private readonly model: LoadedModel,
    private readonly onScored: (b: ScoredBatch) => void,
  ) {}

  submit(values: Float64Array, tags: Float64Array, rows: number): void {
    this.onScored({ id: this.next++, rows, values, tags, ...score(this.model, values, rows) });
  }

  async waitUntil(): Promise<void> {}

  async close(): Promise<void> {}
}

interface WorkerRequest {
  id: number;
  rows: number;
  values: Float64Array;
}

type WorkerReply = ({ ok: true } & Pick<ScoredBatch, 'id' | 'scores' | 'decision' | 'anomalies' | 'latencyMs' | 'values'>) | { ok: false; id: number; error: string };

/** compiled worker entry (tests run src/, so point at dist/) */
const WORKER_FILE = distFile('stream/scorer-worker.js');

/**
 * Scores on one worker thread that loads the same bundle (and checks it has the
 * same checksum). Batches come back in submission order.
 */
export class WorkerScorer implements BatchScorer {
  private readonly worker: Worker;
  private next = 0;
  private readonly pending = new Map<number, { tags: Float64Array; rows: number }>();
  private waiters: Array<{ n: number; resolve: () => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;

  constructor(
    modelPath: string,
    checksum: string,
    private readonly onScored: (b: ScoredBatch) => void,
  ) {
    this.worker = new Worker(WORKER_FILE, { workerData: { modelPath, checksum } });
    this.worker.on('message', (m: WorkerReply) => this.receive(m));
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => {
      if (this.pending.size > 0) this.fail(new Error(`scoring worker exited (code ${code}) with ${this.pending.size} batches in flight`));
    });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  submit(values: Float64Array, tags: Float64Array, rows: number): void {
    if (this.failure) throw this.failure;
    const id = this.next++;
    this.pending.set(id, { tags, rows });
    const req: WorkerRequest = { id, rows, values };
    this.worker.postMessage(req, [values.buffer as ArrayBuffer]); // moved, not copied; it comes back with the result
  }

  waitUntil(n: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending.size <= n) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ n, resolve, reject }));
  }

  async close(): Promise<void> {
    await this.waitUntil(0);
    await this.worker.terminate();
  }

  private receive(m: WorkerReply): void {
    if (!m.ok) {
      this.fail(new Error(`scoring worker failed on batch ${m.id}: ${m.error}`));
      return;
    }
    const meta = this.pending.get(m.id);
    if (!meta) return;
    this.pending.delete(m.id);
    try {
      this.onScored({ id: m.id, rows: meta.rows, tags: meta.tags, values: m.values, scores: m.scores, decision: m.decision, anomalies: m.anomalies, latencyMs: m.latencyMs });
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    this.waiters = this.waiters.filter((w) => {
      if (this.pending.size > w.n) return true;
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

/** A worker when there is a second core to run it on, else the calling thread. */
export function createBatchScorer(model: LoadedModel, modelPath: string, threads: number, onScored: (b: ScoredBatch) => void): BatchScorer {
  if (threads > 1 && availableParallelism() > 1) return new WorkerScorer(modelPath, model.checksum, onScored);
  return new InlineScorer(model, onScored);
}

/** Used by the worker entry: score one request with its own copy of the model. */
export function scoreRequest(model: LoadedModel, req: WorkerRequest): WorkerReply {
  return { ok: true, id: req.id, values: req.values, ...score(model, req.values, req.rows) };
}
