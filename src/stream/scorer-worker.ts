/**
 * Worker thread of WorkerScorer: loads the bundle once (refusing one whose
 * checksum differs from the caller's), then scores each batch it is sent and
 * moves the batch's memory back with the result.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { serveJobs, withTransfer } from '../core/worker-pool';
import { loadBundle } from '../persist/bundle';
import { scoreRequest, type ScorerWorkerData, type WorkerReply, type WorkerRequest } from './scorer';

// only as a thread's entry (see forest-worker for why)
if (!isMainThread && require.main === module) {
  const { modelPath, checksum } = workerData as ScorerWorkerData;
  let model: ReturnType<typeof loadBundle> | undefined;
  let loadError: string | undefined;
  try {
    model = loadBundle(modelPath);
    if (model.checksum !== checksum) loadError = `${modelPath} changed since it was loaded (checksum ${model.checksum}, expected ${checksum})`;
  } catch (e) {
    loadError = (e as Error).message;
  }
  // a bundle that cannot be used fails every batch with the reason, rather than the thread
  serveJobs<WorkerRequest, WorkerReply>((req) => {
    if (loadError !== undefined || !model) throw new Error(loadError ?? 'no model');
    const reply = scoreRequest(model, req);
    return withTransfer(reply, [reply.values.buffer as ArrayBuffer, reply.scores.buffer as ArrayBuffer, reply.decision.buffer as ArrayBuffer, reply.anomalies.buffer as ArrayBuffer]);
  });
}
