/**
 * scikit-learn IsolationForest -> our flat forest, from the JSON that
 * `scripts/export_sklearn_forest.py` writes (no pickle is ever loaded).
 *
 * Scoring must reproduce scikit-learn's decisions exactly. scikit-learn casts
 * inputs to float32 and compares them with float64 thresholds
 * (`X32[i, f] <= threshold64`); our forest compares float32 inputs with float32
 * thresholds. For a float32 x and any real t, x <= t exactly when x <= the
 * largest float32 not above t, so each threshold is rounded DOWN to float32
 * (round-to-nearest could round up past an input that scikit-learn sends
 * right). Ties (x equal to a float32 threshold) go left in both.
 *
 * Leaf values follow scikit-learn's `_compute_score_samples`: a row ending in a
 * leaf gets `compute_node_depths()[leaf] + _average_path_length(n_node_samples[leaf]) - 1`,
 * that is depth (root = 0) + c(n), exactly what our forest stores, and the
 * normaliser is n_estimators * c(max_samples_).
 */
import type { IsolationForestJSON } from './forest-json';

/** One tree as exported: scikit-learn's `tree_` arrays plus `estimators_features_[t]`. */
export interface SklearnTreeExport {
  /** left child node id, -1 at leaves */
  children_left: number[];
  /** right child node id, -1 at leaves */
  children_right: number[];
  /** split feature (index into `features` when the forest subsamples features), -2 at leaves */
  feature: number[];
  /** split threshold (float64; go left when float32(x) <= threshold), -2 at leaves */
  threshold: number[];
  /** training rows that reached each node */
  n_node_samples: number[];
  /** `estimators_features_[t]`: the input columns this tree was fitted on */
  features: number[];
}

/**
 * A fitted scikit-learn IsolationForest as JSON, the shape
 * `scripts/export_sklearn_forest.py` writes (and each case of the test fixture
 * `fixtures/sklearn-forest/iforest_shap.json` holds). Other fields are ignored.
 */
export interface SklearnForestExport {
  /** rows drawn per tree */
  max_samples_: number;
  /** threshold on score_samples */
  offset_: number;
  n_features_in_: number;
  trees: SklearnTreeExport[];
  /** constructor parameters; `contamination` is kept as metadata, `random_state` in the seed label */
  params?: { contamination?: number | 'auto'; random_state?: number | null; [key: string]: unknown };
}

/**
 * The largest float32 that is <= t: for every float32 x, `x <= t` iff
 * `x <= float32AtMost(t)` (see the module comment).
 */
export function float32AtMost(t: number): number {
  const f = Math.fround(t);
  if (f <= t) return f;
  if (f === 0) return -(2 ** -149); // t is a tiny negative number: the negative float32 nearest 0
  const bits = new Float32Array([f]);
  const int = new Int32Array(bits.buffer);
  // one ulp towards -Infinity: positive floats shrink their bit pattern, negative ones grow it
  int[0] += f > 0 ? -1 : 1;
  return bits[0];
}

function fail(msg: string): never {
  throw new TypeError(`fromSklearn: ${msg}`);
}

function intArray(v: unknown, name: string, length?: number): number[] {
  if (!Array.isArray(v)) fail(`${name} must be an array of integers`);
  if (length !== undefined && v.length !== length) fail(`${name} has ${v.length} entries, expected ${length}`);
  for (let i = 0; i < v.length; i++) if (!Number.isInteger(v[i])) fail(`${name}[${i}] = ${JSON.stringify(v[i])} is not an integer`);
  return v as number[];
}

/** Little-endian typed array -> base64, our forest JSON's encoding. */
function b64(a: Int16Array | Int32Array | Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

/**
 * Translate an exported scikit-learn forest into our forest JSON (which
 * `IsolationForest.fromJSON` then checks again: pre-order shape, height limit,
 * leaf sizes). Trees are re-laid out in pre-order with the left child next.
 *
 * @throws TypeError `fromSklearn: <field>: <problem>` for a malformed export or an
 *   unsupported model (bootstrap=True: leaf sizes then do not add up to max_samples_)
 */
export function sklearnToForestJSON(e: SklearnForestExport): IsolationForestJSON {
  if (e === null || typeof e !== 'object') fail('the export must be a JSON object');
  const d = e.n_features_in_;
  if (!Number.isInteger(d) || d < 1 || d > 32767) fail(`n_features_in_ must be an integer in 1..32767, got ${JSON.stringify(d)}`);
  const psi = e.max_samples_;
  if (!Number.isInteger(psi) || psi < 1) fail(`max_samples_ must be a positive integer, got ${JSON.stringify(psi)}`);
  if (typeof e.offset_ !== 'number' || !Number.isFinite(e.offset_)) fail(`offset_ must be a finite number, got ${JSON.stringify(e.offset_)}`);
  if (!Array.isArray(e.trees) || e.trees.length === 0) fail('trees must be a non-empty array');
  let contamination: number | 'auto';
  const c = e.params?.contamination;
  if (c === undefined) {
    if (e.offset_ !== -0.5) fail('params.contamination is missing (needed when offset_ is not -0.5)');
    contamination = 'auto';
  } else if (c === 'auto' || (typeof c === 'number' && c > 0 && c <= 0.5)) {
    contamination = c;
  } else {
    fail(`params.contamination must be "auto" or in (0, 0.5], got ${JSON.stringify(c)}`);
  }
  const rs = e.params?.random_state;
  const seed = Number.isInteger(rs) ? `sklearn:random_state=${rs}` : 'sklearn';

  const features: number[] = [];
  const thresholds: number[] = [];
  const rights: number[] = [];
  const nodeCounts: number[] = [];
  e.trees.forEach((tree, t) => {
    const at = `trees[${t}]`;
    if (tree === null || typeof tree !== 'object') fail(`${at} must be an object`);
    const left = intArray(tree.children_left, `${at}.children_left`);
    const n = left.length;
    if (n === 0) fail(`${at} has no nodes`);
    const right = intArray(tree.children_right, `${at}.children_right`, n);
    const feat = intArray(tree.feature, `${at}.feature`, n);
    const samples = intArray(tree.n_node_samples, `${at}.n_node_samples`, n);
    const cols = intArray(tree.features, `${at}.features`);
    if (!Array.isArray(tree.threshold) || tree.threshold.length !== n) fail(`${at}.threshold must be an array of ${n} numbers`);
    cols.forEach((col, k) => {
      if (col < 0 || col >= d) fail(`${at}.features[${k}] = ${col} out of range 0..${d - 1}`);
    });
    // scikit-learn indexes X by `features` only when the forest subsamples
    // features (_compute_chunked_score_samples: _max_features != n_features);
    // with all features the trees were fitted and are scored on X as is.
    const subsample = cols.length !== d;
    if (samples[0] !== psi) {
      fail(`${at}.n_node_samples[0] = ${samples[0]} differs from max_samples_ = ${psi} (bootstrap=True forests are not supported)`);
    }
    const start = features.length;
    const seen = new Uint8Array(n);
    // pre-order, left first; `parent` is the new index of the node whose right pointer awaits this node
    const stack: Array<[number, number]> = [[0, -1]];
    while (stack.length > 0) {
      const [k, parent] = stack.pop()!;
      const where = `${at}, node ${k}`;
      if (k < 0 || k >= n) fail(`${at}: child id ${k} out of range 0..${n - 1}`);
      if (seen[k]) fail(`${where} is reached twice (not a tree)`);
      seen[k] = 1;
      const idx = features.length - start;
      if (parent >= 0) rights[start + parent] = idx;
      if (left[k] === -1 && right[k] === -1) {
        if (samples[k] < 1) fail(`${where}: leaf holds ${samples[k]} rows`);
        features.push(-1);
        thresholds.push(0);
        rights.push(samples[k]);
        continue;
      }
      if (left[k] < 0 || right[k] < 0) fail(`${where}: children ${left[k]}, ${right[k]} (a leaf has both -1)`);
      for (const child of [left[k], right[k]]) if (child >= n) fail(`${at}: child id ${child} out of range 0..${n - 1}`);
      const f = feat[k];
      const width = subsample ? cols.length : d;
      if (f < 0 || f >= width) fail(`${at}.feature[${k}] = ${f} out of range 0..${width - 1}`);
      const thr = tree.threshold[k];
      if (typeof thr !== 'number' || !Number.isFinite(thr) || Math.abs(thr) > 3.4028234663852886e38) {
        fail(`${at}.threshold[${k}] = ${JSON.stringify(thr)} is not a finite number in float32 range`);
      }
      if (samples[left[k]] + samples[right[k]] !== samples[k]) {
        fail(`${where}: n_node_samples ${samples[k]} is not the sum of its children's (${samples[left[k]]} + ${samples[right[k]]})`);
      }
      features.push(subsample ? cols[f] : f);
      thresholds.push(float32AtMost(thr));
      rights.push(-1); // set when the right child is laid out
      stack.push([right[k], idx], [left[k], -1]);
    }
    const count = features.length - start;
    if (count !== n) fail(`${at}: ${n} nodes stored but ${count} reachable from the root`);
    nodeCounts.push(count);
  });
  return {
    kind: 'IsolationForest',
    nFeatures: d,
    nEstimators: e.trees.length,
    maxSamples: psi,
    // scikit-learn's max_depth for the trees: ceil(log2(max(max_samples, 2)))
    maxDepth: Math.max(1, Math.ceil(Math.log2(Math.max(psi, 2)))),
    contamination,
    offset: e.offset_,
    seed,
    nodeCounts,
    feature: b64(Int16Array.from(features)),
    threshold: b64(Float32Array.from(thresholds)),
    right: b64(Int32Array.from(rights)),
  };
}
