/**
 * Worker thread of WorkerScorer: loads the bundle once (refusing one whose
 * checksum differs from the caller's), then scores each batch it is sent and
 * moves the batch's memory back with the result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadBundle } from '../persist/bundle';
import { scoreRequest } from './scorer';

if (parentPort) {
  const port = parentPort;
  const { modelPath, checksum } = workerData as { modelPath: string; checksum: string };
  let model: ReturnType<typeof loadBundle> | undefined;
  let loadError: string | undefined;
  try {
    model = loadBundle(modelPath);
    if (model.checksum !== checksum) loadError = `${modelPath} changed since it was loaded (checksum ${model.checksum}, expected ${checksum})`;
  } catch (e) {
    loadError = (e as Error).message;
  }
  port.on('message', (req: { id: number; rows: number; values: Float64Array }) => {
    if (loadError || !model) {
      port.postMessage({ ok: false, id: req.id, error: loadError ?? 'no model' });
      return;
    }
    try {
      const reply = scoreRequest(model, req);
      if (!reply.ok) throw new Error('unreachable');
      port.postMessage(reply, [reply.values.buffer as ArrayBuffer, reply.scores.buffer as ArrayBuffer, reply.decision.buffer as ArrayBuffer, reply.anomalies.buffer as ArrayBuffer]);
    } catch (e) {
      port.postMessage({ ok: false, id: req.id, error: (e as Error).stack ?? String(e) });
    }
  });
}
