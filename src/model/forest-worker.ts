/**
 * Worker thread for parallel scoring (entry of the pool in forest-parallel):
 * compiles a forest's kernel once per model and scores its share of the rows
 * into the shared output array.
 */
import { isMainThread } from 'node:worker_threads';
import { serveJobs } from '../core/worker-pool';
import { ForestKernel, type FlatForest } from './kernel/forest-kernel';

/** One range of rows to score, as sent by parallelScores. */
export interface ScoreJob {
  /** the model's id within the calling process */
  modelId: number;
  /** sent when the caller does not know this worker to hold the model */
  model?: FlatForest;
  /** row-major float64 rows, shared with the caller: `inputLength` values from byte `inputOffset` */
  input: SharedArrayBuffer;
  inputOffset: number;
  inputLength: number;
  /** one float64 per row, shared; the job writes [from, to) only */
  output: SharedArrayBuffer;
  from: number;
  to: number;
  /** trees * c(psi) */
  norm: number;
}

/**
 * `scored`: rows [from, to) are written. `needs-model`: the job came without
 * its model and this worker does not hold it (evicted, or a fresh worker); the
 * caller sends it again with the model.
 */
export type ScoreReply = 'scored' | 'needs-model';

/**
 * Kernels kept per worker: enough for a few models scored in turn (two
 * forests compared side by side) without recompiling; each is a few MB at most.
 */
export const WORKER_MODEL_CACHE = 4;

// Serve only when this file is the thread's entry: forest-parallel imports it
// for the protocol, and a worker of another pool (the stream's) loads it
// through forest-parallel; neither may start answering jobs here.
if (!isMainThread && require.main === module) {
  // most recently used last
  const kernels = new Map<number, ForestKernel>();
  serveJobs<ScoreJob, ScoreReply>((job) => {
    let kernel = kernels.get(job.modelId);
    if (kernel === undefined) {
      if (!job.model) return 'needs-model';
      kernel = new ForestKernel(job.model);
      if (kernels.size >= WORKER_MODEL_CACHE) kernels.delete(kernels.keys().next().value as number);
    } else {
      kernels.delete(job.modelId);
    }
    kernels.set(job.modelId, kernel);
    kernel.scores(new Float64Array(job.input, job.inputOffset, job.inputLength), job.from, job.to, new Float64Array(job.output), job.norm);
    return 'scored';
  });
}
