import { createBundle, type ModelBundle } from '../persist/bundle';
import { decisionFromScores, IsolationForest, predictFromDecision } from '../model/forest';
import { type Matrix } from '../core/matrix';
import { summarizeDetection, type DetectionSummary } from '../eval/metrics';
import type { Params } from '../params/params';
import { PCAModel, StandardScaler } from '../model/preprocess';
import { simulateTraffic, type Dataset } from '../data/simulate';

export interface PipelineResult {
  params: Params;
  data: Dataset;
  scaler: StandardScaler;
  /** the standardized features the forest is trained on */
  scaled: Matrix;
  pca: PCAModel;
  /** PCA projection of the scaled features (for the plots only) */
  projected: Matrix;
  forest: IsolationForest;
  scores: Float64Array;
  decision: Float64Array;
  predictions: Int8Array;
  metrics: DetectionSummary;
  /** fit includes scoring the training set */
  timingsMs: { simulate: number; scale: number; pca: number; fit: number; evaluate: number };
}

function timed<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const v = f();
  return [v, performance.now() - t0];
}

/**
 * The reference script end to end: simulate, standardize, PCA (for the plot),
 * fit the forest on the scaled features, predict, evaluate. The notebooks run
 * the same steps one at a time; the sweep and the tests call this.
 */
export function runPipeline(params: Params, data?: Dataset): PipelineResult {
  const [dataset, simulateMs] = data ? [data, 0] : timed(() => simulateTraffic(params));
  const [scaler, scaleFitMs] = timed(() => StandardScaler.fit(dataset.X));
  const [scaled, scaleMs] = timed(() => scaler.transform(dataset.X));
  const [pca, pcaFitMs] = timed(() => PCAModel.fit(scaled, params.pcaComponents));
  const [projected, pcaMs] = timed(() => pca.transform(scaled));
  // fitting scores the training set for the offset: those are the scores we need
  const [{ forest, scores }, fitMs] = timed(() => IsolationForest.fitAndScore(scaled, params));
  const decision = decisionFromScores(scores, forest.offset);
  const predictions = predictFromDecision(decision);
  const [metrics, evaluateMs] = timed(() => summarizeDetection(dataset.y, scores, predictions));
  return {
    params,
    data: dataset,
    scaler,
    scaled,
    pca,
    projected,
    forest,
    scores,
    decision,
    predictions,
    metrics,
    timingsMs: { simulate: simulateMs, scale: scaleFitMs + scaleMs, pca: pcaFitMs + pcaMs, fit: fitMs, evaluate: evaluateMs },
  };
}

export function bundleFromPipeline(result: PipelineResult, createdAt?: Date): ModelBundle {
  return createBundle(
    {
      params: result.params,
      featureNames: result.data.featureNames,
      scaler: result.scaler,
      pca: result.pca,
      forest: result.forest,
      trainingMetrics: result.metrics,
    },
    createdAt,
  );
}
