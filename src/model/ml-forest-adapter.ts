import { IsolationForest as MlIsolationForest } from 'ml-isolation-forest';
import seedrandom from 'seedrandom';
import {
  decisionFromScores,
  offsetFromScores,
  predictFromDecision,
  type AnomalyDetector,
  type IsolationForestOptions,
} from './forest';
import { toRows, type Matrix } from '../core/matrix';

/**
 * The card's ml-isolation-forest package behind our AnomalyDetector surface, so
 * notebooks and the benchmark can compare it with our forest on equal terms.
 *
 * What the package does differently (and why it is slower and less accurate):
 * every tree is grown on the full training set (no psi-row subsample, and one
 * level deeper than ours: it splits while depth <= ceil(log2 n)), so trees
 * are deep and keep every training row in their leaves; it draws from
 * Math.random; and its scores are "higher = more abnormal". The adapter seeds it
 * by swapping Math.random for a seeded generator during training only, negates
 * its scores to scikit-learn's convention, and sets the offset from the
 * contamination quantile of the training scores, exactly like our forest.
 */
export class MlIsolationForestAdapter implements AnomalyDetector {
  readonly name = 'ml-isolation-forest 0.1.0 (adapter)';

  private constructor(
    private readonly model: MlIsolationForest,
    readonly nFeatures: number,
    readonly offset: number,
  ) {}

  static fit(X: Matrix, options: Omit<IsolationForestOptions, 'maxSamples'>): MlIsolationForestAdapter {
    if (X.rows < 2) throw new RangeError(`MlIsolationForestAdapter.fit: needs at least 2 rows, got ${X.rows}`);
    const rows = toRows(X);
    const model = new MlIsolationForest({ nEstimators: options.nEstimators });
    const original = Math.random;
    Math.random = seedrandom.alea(`${options.seed}/ml-isolation-forest`);
    try {
      model.train(rows);
    } finally {
      Math.random = original;
    }
    const scores = negate(model.predict(rows));
    return new MlIsolationForestAdapter(model, X.cols, offsetFromScores(scores, options.contamination));
  }

  scoreSamples(X: Matrix): Float64Array {
    if (X.cols !== this.nFeatures) throw new RangeError(`got ${X.cols} features, the model was fitted on ${this.nFeatures}`);
    return negate(this.model.predict(toRows(X)));
  }

  decisionFunction(X: Matrix): Float64Array {
    return decisionFromScores(this.scoreSamples(X), this.offset);
  }

  predict(X: Matrix): Int8Array {
    return predictFromDecision(this.decisionFunction(X));
  }

  /** Size of the package's trained trees as JSON (they hold the training rows). */
  modelJsonBytes(): number {
    return Buffer.byteLength(JSON.stringify(this.model.forest));
  }
}

function negate(scores: number[]): Float64Array {
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = -scores[i];
  return out;
}
