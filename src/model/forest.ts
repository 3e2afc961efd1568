import { ForestKernel, kernelSupported, type FlatForest } from './kernel/forest-kernel';
import { referencePathLengthSums } from './kernel/reference-walk';
import { defaultThreads, parallelScores, type ScoringPool } from './forest-parallel';
import { type Matrix } from '../core/matrix';
import { type Params } from '../params/params';
import { checkRowsPerTree, heightLimit, validateForestOptions } from '../params/forest-params';
import { createRng, sampleWithoutReplacement, type Rng } from '../core/rng';
import { buildShapTables, treeShap, type ShapExplanation, type ShapTables } from './treeshap';
import { decodeForest, encodeForest, type IsolationForestJSON } from './forest-json';
import { sklearnToForestJSON, type SklearnForestExport } from './sklearn-import';

// the saved form lives in forest-json.ts (so that sklearn-import need not import this module); importers of the forest find it here too
export type { IsolationForestJSON } from './forest-json';

/** np.euler_gamma, the constant scikit-learn uses in c(n). */
export const EULER_GAMMA = 0.5772156649015329;

/**
 * c(n): the average path length of an unsuccessful search in a binary search
 * tree of n points (Liu, Ting & Zhou 2008, eq. 1), added at an external node that
 * still holds n training rows, and used to normalise the mean path length.
 */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

/**
 * numpy.percentile(values, q) with numpy's default 'linear' method, including
 * numpy's two-sided lerp, so the offset is the number scikit-learn would pick.
 * Only two order statistics are needed, so they are selected in linear time
 * instead of sorting (a million training scores: ~15 ms instead of ~100 ms).
 */
export function percentile(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) throw new RangeError('percentile of an empty array');
  const work = Float64Array.from(values);
  const virtualIndex = (n - 1) * (q / 100);
  const lo = Math.floor(virtualIndex);
  const hi = Math.min(lo + 1, n - 1);
  const t = virtualIndex - lo;
  const a = selectKth(work, lo);
  let b = a;
  if (hi > lo) {
    // after selection everything right of lo is >= a: the next order statistic is their minimum
    b = Infinity;
    for (let i = lo + 1; i < n; i++) if (work[i] < b) b = work[i];
  }
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** Rearrange `a` so that a[k] is the k-th smallest value, smaller ones left of it, larger right (quickselect). */
function selectKth(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (right > left) {
    // median of three as pivot keeps sorted or reversed input linear
    const mid = (left + right) >>> 1;
    const x = a[left];
    const y = a[mid];
    const z = a[right];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break; // j < k < i: a[k] equals the pivot
  }
  return a[k];
}

/** The common surface of our forest and the ml-isolation-forest adapter. */
export interface AnomalyDetector {
  readonly name: string;
  /** threshold on scoreSamples: rows scoring below it are anomalies */
  readonly offset: number;
  /** scikit-learn's score_samples: -2^(-E[h(x)]/c(psi)); lower is more abnormal, in [-1, 0) */
  scoreSamples(X: Matrix): Float64Array;
  /** scoreSamples - offset: negative for anomalies */
  decisionFunction(X: Matrix): Float64Array;
  /** -1 for anomalies, 1 for normal rows */
  predict(X: Matrix): Int8Array;
}

/** offset from training scores, as scikit-learn's IsolationForest.fit sets it */
export function offsetFromScores(trainingScores: ArrayLike<number>, contamination: number | 'auto'): number {
  if (contamination === 'auto') return -0.5;
  return percentile(trainingScores, 100 * contamination);
}

export function decisionFromScores(scores: Float64Array, offset: number): Float64Array {
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = scores[i] - offset;
  return out;
}

export function predictFromDecision(decision: Float64Array): Int8Array {
  const out = new Int8Array(decision.length);
  for (let i = 0; i < decision.length; i++) out[i] = decision[i] < 0 ? -1 : 1;
  return out;
}

/** How the async methods spread work over threads. */
export interface ParallelOptions {
  /**
   * Threads to use, the calling one included: a positive integer (default:
   * every core). At most the pool's maxWorkers + 1 are used, and one per
   * MIN_ROWS_PER_THREAD rows (below 100,000 rows everything runs on the calling thread).
   */
  threads?: number;
  /**
   * The worker pool to score on (default: the process-wide pool of
   * `scoringPool()`); see `createScoringPool` in forest-parallel.
   */
  pool?: ScoringPool;
}

export interface IsolationForestOptions {
  nEstimators: number;
  maxSamples: Params['maxSamples'];
  contamination: Params['contamination'];
  seed: number | string;
}

/** scikit-learn treats a feature whose range in a node is below this as constant (tree/_splitter.pyx). */
const FEATURE_THRESHOLD = 1e-7;

/** Growable typed-array node storage used while training one tree. */
class TreeBuilder {
  feature: number[] = [];
  threshold: number[] = [];
  right: number[] = [];
}

function buildTree(
  sample: Float32Array, // psi x d, row-major, float32 like scikit-learn's tree input
  d: number,
  psi: number,
  maxDepth: number,
  rng: Rng,
): TreeBuilder {
  const tree = new TreeBuilder();
  const idx = new Int32Array(psi);
  for (let i = 0; i < psi; i++) idx[i] = i;
  const features = new Int32Array(d);

  const grow = (lo: number, hi: number, depth: number): void => {
    const node = tree.feature.length;
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.right.push(hi - lo);
    if (hi - lo <= 1 || depth >= maxDepth) return;
    // Draw features in random order until one is not constant in this node
    // (scikit-learn's RandomSplitter does the same); all constant -> leaf.
    for (let j = 0; j < d; j++) features[j] = j;
    let f = -1;
    let min = 0;
    let max = 0;
    for (let k = 0; k < d; k++) {
      const pick = k + rng.int(d - k);
      const cand = features[pick];
      features[pick] = features[k];
      features[k] = cand;
      let lo32 = Infinity;
      let hi32 = -Infinity;
      for (let i = lo; i < hi; i++) {
        const v = sample[idx[i] * d + cand];
        if (v < lo32) lo32 = v;
        if (v > hi32) hi32 = v;
      }
      if (hi32 > lo32 + FEATURE_THRESHOLD) {
        f = cand;
        min = lo32;
        max = hi32;
        break;
      }
    }
    if (f < 0) return;
    // Uniform threshold in [min, max), rounded to float32 so that the stored
    // model compares exactly as it was trained; if rounding reaches max, use
    // min (as scikit-learn does) so both children are non-empty.
    let t = Math.fround(min + rng.next() * (max - min));
    if (t >= max) t = min;
    // partition idx[lo, hi) into x <= t | x > t
    let i = lo;
    let j = hi - 1;
    while (i <= j) {
      if (sample[idx[i] * d + f] <= t) i++;
      else {
        const tmp = idx[i];
        idx[i] = idx[j];
        idx[j] = tmp;
        j--;
      }
    }
    tree.feature[node] = f;
    tree.threshold[node] = t;
    grow(lo, i, depth + 1);
    tree.right[node] = tree.feature.length;
    grow(i, hi, depth + 1);
  };
  grow(0, psi, 0);
  return tree;
}

/**
 * Isolation Forest (Liu, Ting & Zhou 2008) with scikit-learn's semantics:
 * psi = maxSamples rows per tree drawn without replacement, height limit
 * ceil(log2 psi), random feature and uniform random threshold per node, path
 * length with the c(n) correction at external nodes, score_samples =
 * -2^(-E[h]/c(psi)), offset at the contamination quantile of training scores.
 *
 * All trees live in three flat typed arrays (pre-order, left child = next
 * node), so a trained model holds no per-node objects and serialises compactly.
 */
export class IsolationForest implements AnomalyDetector {
  readonly name = 'isolation-forest (this library)';

  private constructor(
    readonly nFeatures: number,
    readonly maxSamples: number,
    readonly maxDepth: number,
    readonly contamination: number | 'auto',
    readonly seed: number | string,
    /** start of each tree in the node arrays; length nEstimators + 1 */
    private readonly treeStart: Int32Array,
    private readonly feature: Int16Array,
    private readonly threshold: Float32Array,
    /** absolute index of the right child, or the leaf's training-row count */
    private readonly right: Int32Array,
    /** depth + c(n) at leaves: the path length a row ending there gets */
    private readonly leafPath: Float64Array,
    private _offset: number,
  ) {}

  get nEstimators(): number {
    return this.treeStart.length - 1;
  }

  get nodeCount(): number {
    return this.feature.length;
  }

  get offset(): number {
    return this._offset;
  }

  /**
   * Grow the trees, then set the offset from the training scores (one thread).
   * With contamination 'auto' the offset is -0.5 whatever the scores, so the
   * training set is not scored at all.
   */
  static fit(X: Matrix, options: IsolationForestOptions): IsolationForest {
    if (options.contamination === 'auto') return IsolationForest.grow(X, options);
    return IsolationForest.fitAndScore(X, options).forest;
  }

  /** fit, also returning the training scores it had to compute for the offset (no second scoring). */
  static fitAndScore(X: Matrix, options: IsolationForestOptions): { forest: IsolationForest; scores: Float64Array } {
    const forest = IsolationForest.grow(X, options);
    const scores = forest.scoreSamples(X);
    forest._offset = offsetFromScores(scores, options.contamination);
    return { forest, scores };
  }

  /**
   * As fit, scoring the training set on several threads for the offset
   * (identical model; with contamination 'auto' nothing is scored).
   *
   * @param parallel - threads and pool, see {@link ParallelOptions}
   */
  static async fitAsync(X: Matrix, options: IsolationForestOptions, parallel: ParallelOptions = {}): Promise<IsolationForest> {
    const forest = IsolationForest.grow(X, options);
    if (options.contamination === 'auto') return forest; // grow() already set offset -0.5
    forest._offset = offsetFromScores(await forest.scoreSamplesAsync(X, parallel), options.contamination);
    return forest;
  }

  private static grow(X: Matrix, options: IsolationForestOptions): IsolationForest {
    validateForestOptions(options); // the rules fromJSON applies too: whatever fits can be loaded back
    const { rows: n, cols: d, data } = X;
    if (n < 2) throw new RangeError(`IsolationForest.fit: needs at least 2 rows, got ${n}`);
    if (d > 32767) throw new RangeError(`IsolationForest.fit: at most 32767 features, got ${d}`);
    for (let k = 0; k < data.length; k++) {
      if (!Number.isFinite(data[k])) {
        throw new RangeError(`IsolationForest.fit: row ${Math.floor(k / d)}, column ${k % d} is ${data[k]} (must be finite)`);
      }
    }
    const { nEstimators, contamination, seed } = options;
    const psi = checkRowsPerTree(options.maxSamples, n);
    const maxDepth = heightLimit(psi);
    const trees: TreeBuilder[] = [];
    const scratch = {};
    const sample = new Float32Array(psi * d);
    for (let t = 0; t < nEstimators; t++) {
      // one random stream per tree: tree t is the same whatever else changes
      const rng = createRng(seed, `tree/${t}`);
      const rowsDrawn = sampleWithoutReplacement(n, psi, rng, scratch);
      for (let i = 0; i < psi; i++) {
        const src = rowsDrawn[i] * d;
        for (let j = 0; j < d; j++) sample[i * d + j] = data[src + j]; // Float32Array rounds like np.float32
      }
      trees.push(buildTree(sample, d, psi, maxDepth, rng));
    }
    const total = trees.reduce((s, t) => s + t.feature.length, 0);
    const treeStart = new Int32Array(nEstimators + 1);
    const feature = new Int16Array(total);
    const threshold = new Float32Array(total);
    const right = new Int32Array(total);
    let at = 0;
    trees.forEach((tree, t) => {
      treeStart[t] = at;
      for (let k = 0; k < tree.feature.length; k++) {
        feature[at + k] = tree.feature[k];
        threshold[at + k] = tree.threshold[k];
        right[at + k] = tree.feature[k] >= 0 ? tree.right[k] + at : tree.right[k];
      }
      at += tree.feature.length;
    });
    treeStart[nEstimators] = at;
    const leafPath = computeLeafPaths(treeStart, feature, right);
    return new IsolationForest(d, psi, maxDepth, contamination, seed, treeStart, feature, threshold, right, leafPath, -0.5);
  }

  private kernel: ForestKernel | null | undefined;
  private flatForest: FlatForest | undefined;

  /** The trees as flat arrays (shared with the WebAssembly kernel and worker threads). */
  flat(): FlatForest {
    const { nFeatures, maxDepth, treeStart, feature, threshold, right, leafPath } = this;
    this.flatForest ??= { nFeatures, maxDepth, treeStart, feature, threshold, right, leafPath };
    return this.flatForest;
  }

  private getKernel(): ForestKernel | null {
    if (this.kernel === undefined) this.kernel = kernelSupported(this.flat()) ? new ForestKernel(this.flat()) : null;
    return this.kernel;
  }

  /**
   * scoreSamples on several threads (default: every core); identical results,
   * also with several calls running at once. Worth it from about 100,000 rows;
   * smaller inputs are scored on the calling thread.
   *
   * @param parallel - threads and pool, see {@link ParallelOptions}
   * @returns one score per row (lower is more abnormal)
   * @throws RangeError (as a rejection) for a wrong column count or a non-finite
   *   value, naming row and column; Error naming the worker file if a worker thread died
   */
  async scoreSamplesAsync(X: Matrix, parallel: ParallelOptions = {}): Promise<Float64Array> {
    checkColumns(X, this.nFeatures);
    if (this.norm() === 0) return this.oneRowTreeScores(X);
    const kernel = this.getKernel();
    if (kernel === null) return this.scoreSamples(X);
    return parallelScores(this.flat(), kernel, X.data, X.cols, this.norm(), parallel.threads ?? defaultThreads(), parallel.pool);
  }

  /** trees * c(psi): E[h(x)] / c(psi) = (sum of path lengths) / norm */
  private norm(): number {
    return this.nEstimators * averagePathLength(this.maxSamples);
  }

  /**
   * The scores of trees grown on one row each (maxSamples 1, from a small
   * fraction): every path length and c(1) are 0, and scikit-learn's
   * `_compute_score_samples` sets the 0/0 ratio to 1, so every row scores
   * -2^-1 = -0.5 (checked against scikit-learn in the test_iforest checklist).
   */
  private oneRowTreeScores(X: Matrix): Float64Array {
    checkScoringInput(X, this.nFeatures); // the same refusals as a real walk
    return new Float64Array(X.rows).fill(-0.5);
  }

  /** scikit-learn's score_samples: lower is more abnormal. */
  scoreSamples(X: Matrix): Float64Array {
    checkColumns(X, this.nFeatures);
    if (this.norm() === 0) return this.oneRowTreeScores(X);
    const kernel = this.getKernel();
    const out = new Float64Array(X.rows);
    if (kernel !== null) {
      kernel.scores(X.data, 0, X.rows, out, this.norm());
      return out;
    }
    const sums = referencePathLengthSums(this.flat(), X);
    const norm = this.norm();
    for (let i = 0; i < X.rows; i++) out[i] = -(2 ** (-sums[i] / norm));
    return out;
  }

  /**
   * Sum over trees of each row's path length (trees added in order), by the
   * WebAssembly kernel when the complete layout fits, else by the JavaScript
   * walk; both give identical sums.
   */
  pathLengthSums(X: Matrix): Float64Array {
    checkScoringInput(X, this.nFeatures);
    const kernel = this.getKernel();
    if (kernel === null) return referencePathLengthSums(this.flat(), X);
    const out = new Float64Array(X.rows);
    kernel.pathSums(X.data, 0, X.rows, out);
    return out;
  }

  private shapTables: ShapTables | undefined;

  /**
   * Exact path-dependent TreeSHAP values (Lundberg et al. 2020) of the mean
   * path length f(x) = E[h(x)], the model output shap's TreeExplainer explains
   * for isolation forests: each leaf is worth its depth plus c(n) of the
   * training rows it holds, nodes are weighted by the training rows that
   * reached them, trees are averaged.
   *
   * Local accuracy is exact: for every row i, `expectedValue + sum(values[i])`
   * equals f(x_i), and `scoreSamples(x_i) = -2^(-f(x_i) / c(maxSamples))`. A
   * negative value shortens the path, i.e. pushes the row towards "anomalous".
   * Cost O(trees * leaves * depth) per row; per-model tables are built on the
   * first call and reused.
   *
   * @param X - rows to explain (rows x nFeatures, finite values)
   * @returns `{ expectedValue, values }`: the mean path length over the training
   *   rows, and a rows x nFeatures matrix of contributions (path-length units)
   */
  shapValues(X: Matrix): ShapExplanation {
    checkScoringInput(X, this.nFeatures);
    this.shapTables ??= buildShapTables(this.flat());
    return treeShap(this.flat(), this.shapTables, X);
  }

  /**
   * Build a forest from a scikit-learn IsolationForest exported as JSON by
   * `scripts/export_sklearn_forest.py` (see {@link SklearnForestExport}). The
   * result scores, decides, predicts and explains like scikit-learn's model
   * (float32 inputs against float64 thresholds, ties included), and saves with
   * toJSON / into a model bundle like any forest of ours.
   *
   * @param exported - the exported model (parsed JSON)
   * @throws TypeError naming the field when the export is malformed or unsupported
   */
  static fromSklearn(exported: SklearnForestExport): IsolationForest {
    return IsolationForest.fromJSON(sklearnToForestJSON(exported));
  }

  decisionFunction(X: Matrix): Float64Array {
    return decisionFromScores(this.scoreSamples(X), this._offset);
  }

  predict(X: Matrix): Int8Array {
    return predictFromDecision(this.decisionFunction(X));
  }

  toJSON(): IsolationForestJSON {
    return encodeForest(this.flat(), { maxSamples: this.maxSamples, contamination: this.contamination, offset: this._offset, seed: this.seed });
  }

  /** Rebuild a model from toJSON() output, checking every field and every tree's structure (see {@link decodeForest}). */
  static fromJSON(json: IsolationForestJSON): IsolationForest {
    const f = decodeForest(json);
    const leafPath = computeLeafPaths(f.treeStart, f.feature, f.right);
    return new IsolationForest(f.nFeatures, f.maxSamples, f.maxDepth, f.contamination, f.seed, f.treeStart, f.feature, f.threshold, f.right, leafPath, f.offset);
  }
}

function checkColumns(X: Matrix, nFeatures: number): void {
  if (X.cols !== nFeatures) throw new RangeError(`IsolationForest: got ${X.cols} features, the model was fitted on ${nFeatures}`);
}

/**
 * Rows must have the model's feature count and finite values: a NaN would take
 * different branches in different walks (x <= t and x > t are both false).
 */
function checkScoringInput(X: Matrix, nFeatures: number): void {
  checkColumns(X, nFeatures);
  const data = X.data;
  for (let k = 0; k < data.length; k++) {
    const v = data[k];
    if (v - v !== 0) throw new RangeError(`IsolationForest: row ${Math.floor(k / X.cols)}, column ${k % X.cols} is ${v} (must be finite)`);
  }
}

/** depth + c(n) at every leaf (0 at internal nodes), from the pre-order layout. */
function computeLeafPaths(treeStart: Int32Array, feature: Int16Array, right: Int32Array): Float64Array {
  const out = new Float64Array(feature.length);
  const depth = new Int32Array(feature.length);
  for (let t = 0; t + 1 < treeStart.length; t++) {
    for (let k = treeStart[t]; k < treeStart[t + 1]; k++) {
      if (feature[k] >= 0) {
        depth[k + 1] = depth[k] + 1;
        depth[right[k]] = depth[k] + 1;
      } else {
        out[k] = depth[k] + averagePathLength(right[k]);
      }
    }
  }
  return out;
}
