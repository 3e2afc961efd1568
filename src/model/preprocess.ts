import { PCA as MlPCA } from 'ml-pca';
import { createMatrix, toRows, type Matrix } from '../core/matrix';
import { checkRule, ParameterError, validateParameters } from '../params/constraints';
import { PCA_PARAMETER_RULES } from '../params/preprocess-params';

const EPS = 2.220446049250313e-16; // float64 machine epsilon (np.finfo(np.float64).eps)

function checkFinite(X: Matrix, what: string, featureNames?: readonly string[]): void {
  const { data, cols } = X;
  for (let k = 0; k < data.length; k++) {
    if (!Number.isFinite(data[k])) {
      const j = k % cols;
      const name = featureNames?.[j] ?? `column ${j}`;
      throw new RangeError(`${what}: row ${Math.floor(k / cols)}, feature ${name} is ${data[k]} (must be a finite number)`);
    }
  }
}

function checkColumns(X: Matrix, expected: number, what: string): void {
  if (X.cols !== expected) throw new RangeError(`${what}: got ${X.cols} features, the model was fitted on ${expected}`);
}

export interface StandardScalerJSON {
  kind: 'StandardScaler';
  mean: number[];
  scale: number[];
  var: number[];
  nSamplesSeen: number;
}

/**
 * scikit-learn's StandardScaler in float64: population variance (ddof = 0),
 * the corrected two-pass algorithm scikit-learn uses, and scale 1 for a column
 * scikit-learn considers constant (so it is centred but not blown up).
 */
export class StandardScaler {
  private constructor(
    readonly mean: Float64Array,
    readonly scale: Float64Array,
    readonly variance: Float64Array,
    readonly nSamplesSeen: number,
  ) {}

  get nFeatures(): number {
    return this.mean.length;
  }

  static fit(X: Matrix): StandardScaler {
    if (X.rows < 1) throw new RangeError('StandardScaler.fit: needs at least one row');
    checkFinite(X, 'StandardScaler.fit');
    const { rows: n, cols: d, data } = X;
    // numpy sums a C-ordered array over axis 0 row after row: the same order here
    // keeps the mean bit-identical to scikit-learn's.
    const sum = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sum[j] += data[i * d + j];
    const mean = new Float64Array(d);
    for (let j = 0; j < d; j++) mean[j] = sum[j] / n;
    const correction = new Float64Array(d);
    const sq = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const t = data[i * d + j] - mean[j];
        correction[j] += t;
        sq[j] += t * t;
      }
    }
    const variance = new Float64Array(d);
    const scale = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      variance[j] = (sq[j] - (correction[j] * correction[j]) / n) / n;
      // scikit-learn's _is_constant_feature: variance within rounding error of 0
      const upper = n * EPS * variance[j] + (n * mean[j] * EPS) ** 2;
      scale[j] = variance[j] <= upper ? 1 : Math.sqrt(variance[j]);
    }
    return new StandardScaler(mean, scale, variance, n);
  }

  transform(X: Matrix, featureNames?: readonly string[]): Matrix {
    checkColumns(X, this.nFeatures, 'StandardScaler.transform');
    checkFinite(X, 'StandardScaler.transform', featureNames);
    const { rows: n, cols: d, data } = X;
    const out = new Float64Array(n * d);
    const { mean, scale } = this;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) out[i * d + j] = (data[i * d + j] - mean[j]) / scale[j];
    }
    return createMatrix(n, d, out);
  }

  toJSON(): StandardScalerJSON {
    return {
      kind: 'StandardScaler',
      mean: Array.from(this.mean),
      scale: Array.from(this.scale),
      var: Array.from(this.variance),
      nSamplesSeen: this.nSamplesSeen,
    };
  }

  static fromJSON(json: StandardScalerJSON): StandardScaler {
    if (!json || json.kind !== 'StandardScaler') throw new TypeError('not a StandardScaler: kind must be "StandardScaler"');
    const d = json.mean?.length;
    for (const key of ['mean', 'scale', 'var'] as const) {
      const v = json[key];
      if (!Array.isArray(v) || v.length !== d || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        throw new TypeError(`StandardScaler.${key} must be ${d} finite numbers`);
      }
    }
    if (!json.scale.every((s) => s > 0)) throw new TypeError('StandardScaler.scale must be positive');
    if (!Number.isInteger(json.nSamplesSeen) || json.nSamplesSeen < 1) {
      throw new TypeError(`StandardScaler.nSamplesSeen must be a positive integer, got ${json.nSamplesSeen}`);
    }
    return new StandardScaler(
      Float64Array.from(json.mean),
      Float64Array.from(json.scale),
      Float64Array.from(json.var),
      json.nSamplesSeen,
    );
  }
}

export interface PCAJSON {
  kind: 'PCA';
  mean: number[];
  /** nComponents rows of nFeatures loadings */
  components: number[][];
  explainedVariance: number[];
  explainedVarianceRatio: number[];
}

/**
 * Principal component analysis fitted by ml-pca (SVD of the centred data),
 * keeping the first nComponents components.
 *
 * Components are only defined up to sign; to make plots and artifacts
 * reproducible, each component is flipped so that its largest-magnitude loading
 * is positive (the convention scikit-learn's svd_flip uses on the loadings).
 */
export class PCAModel {
  private constructor(
    readonly mean: Float64Array,
    /** nComponents x nFeatures */
    readonly components: Matrix,
    readonly explainedVariance: Float64Array,
    /** share of the total variance (over all components) each kept component explains */
    readonly explainedVarianceRatio: Float64Array,
  ) {}

  get nComponents(): number {
    return this.components.rows;
  }

  get nFeatures(): number {
    return this.components.cols;
  }

  static fit(X: Matrix, nComponents: number): PCAModel {
    if (X.rows < 2) throw new RangeError(`PCA.fit: needs at least 2 rows, got ${X.rows}`);
    validateParameters(PCA_PARAMETER_RULES, { nComponents }, 'PCA.fit');
    if (nComponents > X.cols) {
      throw new ParameterError(`PCA.fit: nComponents = ${nComponents} is not allowed; must be at most the number of features, ${X.cols}`, 'nComponents', nComponents, `an integer from 1 to ${X.cols}`);
    }
    checkFinite(X, 'PCA.fit');
    const pca = new MlPCA(toRows(X), { center: true, scale: false, method: 'SVD' });
    const model = pca.toJSON();
    const vectors = pca.getEigenvectors(); // nFeatures x nFeatures, one component per column
    const eigenvalues = pca.getEigenvalues();
    const ratios = pca.getExplainedVariance();
    const d = X.cols;
    const components = createMatrix(nComponents, d);
    for (let c = 0; c < nComponents; c++) {
      let maxAbs = -1;
      let sign = 1;
      for (let j = 0; j < d; j++) {
        const v = vectors.get(j, c);
        if (Math.abs(v) > maxAbs) {
          maxAbs = Math.abs(v);
          sign = v < 0 ? -1 : 1;
        }
      }
      for (let j = 0; j < d; j++) components.data[c * d + j] = sign * vectors.get(j, c) + 0; // + 0 turns -0 into 0
    }
    return new PCAModel(
      Float64Array.from(model.means),
      components,
      Float64Array.from(eigenvalues.slice(0, nComponents)),
      Float64Array.from(ratios.slice(0, nComponents)),
    );
  }

  /** Project rows onto the kept components: (X - mean) . components^T */
  transform(X: Matrix): Matrix {
    checkColumns(X, this.nFeatures, 'PCA.transform');
    const { rows: n, cols: d, data } = X;
    const k = this.nComponents;
    const W = this.components.data;
    const mean = this.mean;
    const out = new Float64Array(n * k);
    const centred = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) centred[j] = data[i * d + j] - mean[j];
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += centred[j] * W[c * d + j];
        out[i * k + c] = s;
      }
    }
    return createMatrix(n, k, out);
  }

  toJSON(): PCAJSON {
    return {
      kind: 'PCA',
      mean: Array.from(this.mean),
      components: toRows(this.components),
      explainedVariance: Array.from(this.explainedVariance),
      explainedVarianceRatio: Array.from(this.explainedVarianceRatio),
    };
  }

  static fromJSON(json: PCAJSON): PCAModel {
    if (!json || json.kind !== 'PCA') throw new TypeError('not a PCA model: kind must be "PCA"');
    const finite = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!finite(json.mean)) throw new TypeError('PCA.mean must be finite numbers');
    const d = json.mean.length;
    if (!Array.isArray(json.components) || json.components.length < 1) throw new TypeError('PCA.components must be a non-empty list');
    const k = json.components.length;
    const reason = checkRule(PCA_PARAMETER_RULES.nComponents, k) ?? (k > d ? `must be at most the number of features, ${d}` : undefined);
    if (reason) throw new TypeError(`PCA: ${k} components stored; nComponents ${reason}`);
    json.components.forEach((row, c) => {
      if (!finite(row) || row.length !== d) throw new TypeError(`PCA.components[${c}] must be ${d} finite numbers`);
    });
    for (const key of ['explainedVariance', 'explainedVarianceRatio'] as const) {
      if (!finite(json[key]) || json[key].length !== k) throw new TypeError(`PCA.${key} must be ${k} finite numbers`);
    }
    const components = createMatrix(k, d);
    json.components.forEach((row, c) => components.data.set(row, c * d));
    return new PCAModel(
      Float64Array.from(json.mean),
      components,
      Float64Array.from(json.explainedVariance),
      Float64Array.from(json.explainedVarianceRatio),
    );
  }
}
