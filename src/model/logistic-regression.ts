/**
 * L2-regularised logistic regression, the supervised reference beside the
 * isolation forest: what labels buy on the same features.
 *
 * It minimises scikit-learn's objective for `LogisticRegression(C)` with an
 * unpenalised intercept,
 *
 *   0.5 ||w||^2 + C * sum_i log(1 + exp(-s_i (x_i . w + b))),  s_i = +1 / -1,
 *
 * which is strictly convex, so the optimum is unique and any solver that
 * converges reaches the same coefficients: the tests compare with scikit-learn's
 * `newton-cholesky` solver to 1e-8. Newton's method with a Cholesky solve and a
 * backtracking line search converges in a handful of steps for the ~100
 * columns of an encoded NSL-KDD record.
 */
import type { Matrix } from '../core/matrix';

export interface LogisticRegressionOptions {
  /** inverse regularisation strength, scikit-learn's C (default 1) */
  C?: number;
  /** stop when the Newton step's largest component is below tol x (1 + largest |coefficient|) (default 1e-10) */
  tol?: number;
  /** Newton iterations at most (default 100); not converging by then throws */
  maxIter?: number;
}

/** log(1 + exp(-z)) without overflow */
function softplusNeg(z: number): number {
  return z > 0 ? Math.log1p(Math.exp(-z)) : -z + Math.log1p(Math.exp(z));
}

function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** Solve A x = b in place for a symmetric positive definite A (n x n, row-major); A is overwritten by its Cholesky factor. */
function choleskySolve(A: Float64Array, b: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j];
    for (let k = 0; k < j; k++) d -= A[j * n + k] * A[j * n + k];
    if (!(d > 0)) throw new RangeError('logistic regression: the Hessian is not positive definite (C too large for separable data?)');
    const l = Math.sqrt(d);
    A[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= A[i * n + k] * A[j * n + k];
      A[i * n + j] = s / l;
    }
  }
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= A[i * n + k] * b[k];
    b[i] = s / A[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= A[k * n + i] * b[k];
    b[i] = s / A[i * n + i];
  }
}

export class LogisticRegression {
  private constructor(
    /** one coefficient per column */
    readonly coef: Float64Array,
    readonly intercept: number,
    /** Newton iterations used */
    readonly nIter: number,
  ) {}

  /**
   * Fit on the rows of X.
   *
   * @param target - 1 for the positive class (e.g. attack), 0 for the negative one, per row
   */
  static fit(X: Matrix, target: ArrayLike<number>, options: LogisticRegressionOptions = {}): LogisticRegression {
    const C = options.C ?? 1;
    const tol = options.tol ?? 1e-10;
    const maxIter = options.maxIter ?? 100;
    if (!(C > 0 && Number.isFinite(C))) throw new RangeError(`C must be a positive number, got ${C}`);
    if (target.length !== X.rows) throw new RangeError(`target has ${target.length} values for ${X.rows} rows`);
    let positives = 0;
    for (let i = 0; i < target.length; i++) {
      if (target[i] !== 0 && target[i] !== 1) throw new RangeError(`target must be 0 or 1, got ${target[i]} at row ${i}`);
      positives += target[i];
    }
    if (positives === 0 || positives === X.rows) throw new RangeError('logistic regression needs rows of both classes');
    const { rows: n, cols: d, data } = X;
    const m = d + 1; // the intercept is the last unknown
    const beta = new Float64Array(m);
    const margin = new Float64Array(n);
    const objective = (b: Float64Array): number => {
      let loss = 0;
      for (let i = 0; i < n; i++) {
        let z = b[d];
        const row = i * d;
        for (let j = 0; j < d; j++) z += data[row + j] * b[j];
        margin[i] = z;
        loss += softplusNeg(target[i] === 1 ? z : -z);
      }
      let penalty = 0;
      for (let j = 0; j < d; j++) penalty += b[j] * b[j];
      return 0.5 * penalty + C * loss;
    };
    let f = objective(beta);
    const H = new Float64Array(m * m);
    const g = new Float64Array(m);
    const trial = new Float64Array(m);
    for (let iter = 1; iter <= maxIter; iter++) {
      H.fill(0);
      g.fill(0);
      for (let j = 0; j < d; j++) {
        g[j] = beta[j];
        H[j * m + j] = 1;
      }
      for (let i = 0; i < n; i++) {
        const p = sigmoid(margin[i]);
        const r = C * (p - target[i]);
        const w = C * p * (1 - p);
        const row = i * d;
        for (let j = 0; j < d; j++) {
          const xj = data[row + j];
          g[j] += r * xj;
          const wx = w * xj;
          // lower triangle only; mirrored below
          for (let k = 0; k <= j; k++) H[j * m + k] += wx * data[row + k];
          H[d * m + j] += wx;
        }
        g[d] += r;
        H[d * m + d] += w;
      }
      for (let j = 0; j < m; j++) for (let k = j + 1; k < m; k++) H[j * m + k] = H[k * m + j];
      const step = Float64Array.from(g);
      choleskySolve(H, step, m);
      let largestStep = 0;
      let largestCoef = 0;
      for (let j = 0; j < m; j++) {
        largestStep = Math.max(largestStep, Math.abs(step[j]));
        largestCoef = Math.max(largestCoef, Math.abs(beta[j]));
      }
      // the Newton decrement g . step: twice the objective's predicted decrease
      let slope = 0;
      for (let j = 0; j < m; j++) slope += g[j] * step[j];
      if (largestStep <= tol * (1 + largestCoef) || slope <= 1e-13 * (1 + Math.abs(f))) {
        // close enough for Newton's quadratic convergence: take the full step and stop (a line
        // search there would compare objectives that differ only by rounding)
        for (let j = 0; j < m; j++) beta[j] -= step[j];
        return new LogisticRegression(beta.slice(0, d), beta[d], iter);
      }
      // backtracking (Armijo): Newton's full step can overshoot far from the optimum
      // the last objective() evaluated is the accepted trial's, so the margins already belong to it
      let t = 1;
      let fTrial = f;
      for (let k = 0; k < 60; k++) {
        for (let j = 0; j < m; j++) trial[j] = beta[j] - t * step[j];
        fTrial = objective(trial);
        if (fTrial <= f - 1e-4 * t * slope) break;
        t /= 2;
      }
      beta.set(trial);
      f = fTrial;
    }
    throw new RangeError(`logistic regression did not converge in ${maxIter} Newton iterations`);
  }

  /** x . w + b per row (the log-odds of the positive class) */
  decisionFunction(X: Matrix): Float64Array {
    const d = this.coef.length;
    if (X.cols !== d) throw new RangeError(`X has ${X.cols} columns, the model was fitted on ${d}`);
    const out = new Float64Array(X.rows);
    for (let i = 0; i < X.rows; i++) {
      let z = this.intercept;
      const row = i * d;
      for (let j = 0; j < d; j++) z += X.data[row + j] * this.coef[j];
      out[i] = z;
    }
    return out;
  }

  /** probability of the positive class per row (scikit-learn's predict_proba[:, 1]) */
  predictProbability(X: Matrix): Float64Array {
    return this.decisionFunction(X).map(sigmoid);
  }
}
