/**
 * Worker thread for parallel scoring: compiles the forest's kernel once per
 * model and scores its share of the rows into the shared output array.
 */
import { parentPort } from 'node:worker_threads';
import { ForestKernel, type FlatForest } from './kernel/forest-kernel';

export interface ScoreJob {
  modelId: number;
  /** sent with the first job of a model only */
  model?: FlatForest;
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
  from: number;
  to: number;
  /** trees * c(psi) */
  norm: number;
}

if (parentPort) {
  const port = parentPort;
  let current: { id: number; kernel: ForestKernel } | undefined;
  port.on('message', (job: ScoreJob) => {
    try {
      if (!current || current.id !== job.modelId) {
        if (!job.model) throw new Error(`worker has no model ${job.modelId}`);
        current = { id: job.modelId, kernel: new ForestKernel(job.model) };
      }
      current.kernel.scores(new Float64Array(job.input), job.from, job.to, new Float64Array(job.output), job.norm);
      port.postMessage({ ok: true });
    } catch (e) {
      port.postMessage({ ok: false, error: (e as Error).stack ?? String(e) });
    }
  });
}
