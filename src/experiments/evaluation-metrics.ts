import type { CaptureEvaluation } from '../workflow/capture-evaluation';
import type { RealTrafficEvaluation, Spread, ValidatedDetection } from '../workflow/real-traffic';
import { RUN_NAME_PATTERN } from './run-record';

/**
 * The metrics of an evaluation over several seeds, under the run log's names:
 * the mean of each (`rocAuc`, `f1`, ...), its spread (`rocAuc.std`), and the
 * detection rate at each false-positive target, overall and per family or
 * episode (`detectionRate.fpr_1pct`, `detectionRate.fpr_1pct.DoS`).
 */

/** `1%` -> `fpr_1pct`, `0.5%` -> `fpr_0.5pct` */
const fprName = (key: string) => `fpr_${key.replace('%', 'pct')}`;
/** a family or episode name in a metric name: characters MLflow refuses become `_` */
const part = (name: string) => name.replace(/[^A-Za-z0-9_\-. /]/g, '_');

function put(out: Record<string, number>, name: string, v: number): void {
  if (Number.isFinite(v) && RUN_NAME_PATTERN.test(name)) out[name] = v;
}

/** One false-positive target's detection: overall, the false-positive rate reached (as `fprMetric`), and per group; every name after `prefix` ('' or e.g. `validated.`). */
function putDetection(out: Record<string, number>, target: string, detectionRate: Spread, fprMetric: string, fpr: Spread, perGroup: Record<string, Spread>, prefix = ''): void {
  put(out, `${prefix}detectionRate.${fprName(target)}`, detectionRate.mean);
  put(out, `${prefix}${fprMetric}.${fprName(target)}`, fpr.mean);
  for (const [group, s] of Object.entries(perGroup)) put(out, `${prefix}detectionRate.${fprName(target)}.${part(group)}`, s.mean);
}

/** Metrics of `npm run evaluate` on labelled records (NSL-KDD or CSV). */
export function realTrafficMetrics(e: RealTrafficEvaluation): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ['rocAuc', 'averagePrecision', 'precision', 'recall', 'f1'] as const) {
    put(out, k, e[k].mean);
    put(out, `${k}.std`, e[k].std);
  }
  for (const [k, d] of Object.entries(e.detection)) putDetection(out, k, d.detectionRate, 'fpr', d.fpr, d.perFamily);
  put(out, 'nTest', e.testRecords);
  put(out, 'nTrain', e.trainRecords);
  return out;
}

/** Metrics of `npm run evaluate -- --format capture`. */
export function captureMetrics(e: CaptureEvaluation): Record<string, number> {
  const out: Record<string, number> = {};
  put(out, 'rocAuc', e.rocAuc.mean);
  put(out, 'rocAuc.std', e.rocAuc.std);
  for (const [k, d] of Object.entries(e.detection)) putDetection(out, k, d.detectionRate, 'testFpr', d.testFpr, d.perEpisode);
  put(out, 'nTestFlows', e.testFlows);
  put(out, 'nFitFlows', e.fitFlows);
  return out;
}

/** Metrics of thresholds set on held-out normal training records (`npm run evaluate -- --validate`), under `validated.`: `validated.detectionRate.fpr_1pct`, `validated.testFpr.fpr_1pct`. */
export function validatedMetrics(v: ValidatedDetection): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, d] of Object.entries(v.perTarget)) putDetection(out, k, d.detectionRate, 'testFpr', d.testFpr, d.perFamily, 'validated.');
  return out;
}
