/**
 * Worker thread of WorkerScorer: loads the bundle once (refusing one whose
 * checksum differs from the caller's), then scores each batch it is sent and
 * moves the batch's memory back with the result.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { serveJobs, withTransfer } from '../core/worker-pool';
import { loadBundle } from '../persist/bundle';
import { ScoringPipeline } from '../scoring/pipeline';
import type { ScorerWorkerData, WorkerReply, WorkerRequest } from './scorer';

// only as a thread's entry (see forest-worker for why)
if (!isMainThread && require.main === module) {
  const { modelPath, checksum, options } = workerData as ScorerWorkerData;
  let pipeline: ScoringPipeline | undefined;
  let loadError: string | undefined;
  try {
    // the caller checked the key; the checksum proves this is the bundle it checked
    const model = loadBundle(modelPath);
    if (model.checksum !== checksum) loadError = `${modelPath} changed since it was loaded (checksum ${model.checksum}, expected ${checksum})`;
    else pipeline = new ScoringPipeline(model, options);
  } catch (e) {
    loadError = (e as Error).message;
  }
  // a bundle that cannot be used fails every batch with the reason, rather than the thread
  serveJobs<WorkerRequest, WorkerReply>((req) => {
    if (loadError !== undefined || !pipeline) throw new Error(loadError ?? 'no model');
    const reply: WorkerReply = { id: req.id, values: req.values, ...pipeline.score(req.values, req.rows) };
    return withTransfer(reply, [reply.values.buffer as ArrayBuffer, reply.scores.buffer as ArrayBuffer, reply.decision.buffer as ArrayBuffer, reply.anomalies.buffer as ArrayBuffer, reply.alerts.bytes.buffer as ArrayBuffer, reply.alerts.ends.buffer as ArrayBuffer]);
  });
}
