/**
 * Worker thread of WorkerScorer: loads the bundle once, then scores each
 * batch it is sent (refusing one whose checksum is not the bundle's) and moves
 * the batch's memory back with the result.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { serveJobs, withTransfer } from '../core/worker-pool';
import { loadBundle } from '../persist/bundle';
import { ScoringPipeline } from '../scoring/pipeline';
import type { ScorerWorkerData, WorkerReply, WorkerRequest } from './scorer';

// only as a thread's entry (see forest-worker for why)
if (!isMainThread && require.main === module) {
  const { modelPath, options } = workerData as ScorerWorkerData;
  let pipeline: ScoringPipeline | undefined;
  let loadError: string | undefined;
  try {
    // the caller checks the key; each batch's checksum proves this is the bundle it checked
    pipeline = new ScoringPipeline(loadBundle(modelPath), options);
  } catch (e) {
    loadError = (e as Error).message;
  }
  // a bundle that cannot be used fails every batch with the reason, rather than the thread
  serveJobs<WorkerRequest, WorkerReply>((req) => {
    if (loadError !== undefined || !pipeline) throw new Error(loadError ?? 'no model');
    const checksum = pipeline.model.checksum;
    // (the worker may have started before the caller loaded the bundle: see prestartScoringWorkers)
    if (checksum !== req.checksum) throw new Error(`${modelPath} changed since it was loaded (checksum ${checksum}, expected ${req.checksum})`);
    const reply: WorkerReply = { id: req.id, values: req.values, scaled: req.scaled, ...pipeline.score(req.values, req.rows, req.scaled) };
    return withTransfer(reply, [reply.values.buffer as ArrayBuffer, reply.scaled.buffer as ArrayBuffer, reply.scores.buffer as ArrayBuffer, reply.decision.buffer as ArrayBuffer, reply.anomalies.buffer as ArrayBuffer, reply.alerts.bytes.buffer as ArrayBuffer, reply.alerts.ends.buffer as ArrayBuffer]);
  });
}
