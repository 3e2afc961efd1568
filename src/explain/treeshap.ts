/**
 * Exact path-dependent TreeSHAP (Lundberg et al. 2018, 2020) for our flat
 * isolation trees, explaining the mean path length f(x) = E[h(x)]: each leaf is
 * worth depth + c(n) of the training rows it holds, each node's cover is the
 * number of training rows that reached it, trees are averaged.
 *
 * The value function is the one TreeSHAP's Algorithm 1 defines: for a feature
 * set S, walk the tree; at a split on a feature in S follow x, otherwise take
 * both children weighted by their cover. A leaf l is then reached with weight
 * prod over the distinct features j on its path of (j in S ? o_j : z_j), where
 * o_j in {0, 1} says whether x satisfies every split on j along the path and
 * z_j is the product of the cover ratios of those splits. Each leaf is a
 * product game over its k distinct path features, so feature i on the path gets
 *
 *   phi_i = v_l (o_i - z_i) sum_{S in U\{i}} |S|!(k-|S|-1)!/k! prod_{j in S} o_j prod_{j in U\{i}\S} z_j
 *         = v_l (o_i - z_i) integral_0^1 prod_{j != i} (o_j t + z_j (1 - t)) dt
 *
 * (the Shapley weight is the Beta integral of t^s (1-t)^(k-s-1)). The integrand
 * is a polynomial of degree k - 1 <= maxDepth - 1, so Gauss-Legendre quadrature
 * with Q = ceil(maxDepth / 2) nodes evaluates it exactly (up to rounding). This
 * is the idea of Linear TreeSHAP (Yu et al. 2022), specialised to o_j in {0, 1}:
 * with G_l(t) = prod_j g_j(t) and g_j = o_j t + z_j (1 - t), the leaf's share is
 * v_l G_l(t) (o_i - z_i) / g_i(t). Summing over the leaves below an edge and
 * telescoping over repeated splits on the same feature, every edge e (parent p
 * -> child c, feature i) adds
 *
 *   phi_i += sum_q w_q H_c(t_q) (a_e(t_q) - a_prev(e)(t_q)),   a = (o - z) / g,
 *
 * where H_c(t) = sum of v_l G_l(t) over the leaves under c (built bottom-up) and
 * prev(e) is the previous split on i above e (a = 0, g = 1 if none). Because o
 * only takes the values 0 and 1, an edge has three cases (o_prev, o_e) in
 * {(1,1), (1,0), (0,0)}, and for each the factor G_c / G_p and the difference
 * a_e - a_prev at the Q nodes depend only on the tree, not on x: they are
 * precomputed once per model (ShapTables). Explaining a row is then one
 * depth-first walk of every tree touching both children of every node with
 * O(Q) multiply-adds per edge: O(T * N * Q) = O(T * L * D) per row, against
 * O(T * L * D^2) for Algorithm 2 (EXTEND/UNWIND). The (0,0) case needs no
 * quadrature at all: the ratio is the plain cover ratio and the difference is 0.
 *
 * Tests check the result against a brute-force enumeration of all 2^d feature
 * subsets of the same value function, and against shap 0.51 on scikit-learn
 * forests.
 */
import type { Matrix } from '../core/matrix';
import type { FlatForest } from '../model/kernel/forest-kernel';

/** SHAP values of the mean path length; see {@link IsolationForest.shapValues}. */
export interface ShapExplanation {
  /** E[f(X)] over the training rows: the mean path length the explanation starts from */
  expectedValue: number;
  /** one row per explained row, one column per feature; expectedValue + row sum = f(x) */
  values: Matrix;
}

/** Gauss-Legendre nodes and weights on [0, 1] (Newton on the Legendre recurrence). */
export function gaussLegendre01(n: number): { t: Float64Array; w: Float64Array } {
  const t = new Float64Array(n);
  const w = new Float64Array(n);
  // P_n(x) and P_n'(x) by the three-term recurrence
  const legendre = (x: number): [number, number] => {
    let p0 = 1;
    let p1 = x;
    for (let k = 2; k <= n; k++) {
      const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
      p0 = p1;
      p1 = p2;
    }
    return [p1, (n * (x * p1 - p0)) / (x * x - 1)];
  };
  for (let i = 0; i < n; i++) {
    // Tricomi's initial guess for the i-th root on [-1, 1], then Newton
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    for (let iter = 0; iter < 100; iter++) {
      const [p, dp] = legendre(x);
      const dx = p / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    const dp = legendre(x)[1];
    t[i] = (1 - x) / 2;
    w[i] = 1 / ((1 - x * x) * dp * dp); // 2 / ((1 - x^2) P_n'(x)^2), halved for [0, 1]
  }
  return { t, w };
}

/**
 * Per-model tables for {@link treeShap}: every edge, indexed by its child node,
 * gets the G ratio and the weighted a-difference at the Q quadrature nodes for
 * the cases (o_prev, o_e) = (1,1) and (1,0), plus the plain cover ratio for (0,0).
 */
export interface ShapTables {
  q: number;
  /** per child node c, Q values: G_c / G_p when x satisfies every split on the feature so far, this one included */
  ratio11: Float64Array;
  /** per child node c, Q values: w_q (a_e - a_prev) in that case */
  diff11: Float64Array;
  /** same, when x satisfied the earlier splits on the feature but not this one */
  ratio10: Float64Array;
  diff10: Float64Array;
  /** per child node: cover(c) / cover(p) (the (0,0) ratio) */
  coverRatio: Float64Array;
  /** per tree: sum over leaves of cover/root cover * leaf value */
  treeExpected: Float64Array;
  /** mean over trees of treeExpected */
  expectedValue: number;
}

/** Precompute {@link ShapTables} for a forest (covers are the leaf sizes stored in `right`, summed). */
export function buildShapTables(forest: FlatForest): ShapTables {
  const { treeStart, feature, right, leafPath, maxDepth, nFeatures } = forest;
  const nodes = feature.length;
  const nTrees = treeStart.length - 1;
  const q = Math.max(1, Math.ceil(maxDepth / 2));
  const { t, w } = gaussLegendre01(q);
  const cover = new Float64Array(nodes);
  // pre-order: children come after their parent, so a reverse sweep sums covers bottom-up
  for (let k = nodes - 1; k >= 0; k--) {
    cover[k] = feature[k] >= 0 ? cover[k + 1] + cover[right[k]] : right[k];
  }
  const ratio11 = new Float64Array(nodes * q);
  const diff11 = new Float64Array(nodes * q);
  const ratio10 = new Float64Array(nodes * q);
  const diff10 = new Float64Array(nodes * q);
  const coverRatio = new Float64Array(nodes);
  const treeExpected = new Float64Array(nTrees);
  // cumulative z of each feature on the current path (1 = not split on yet)
  const zFeat = new Float64Array(nFeatures).fill(1);
  const walk = (node: number, rootCover: number): number => {
    const f = feature[node];
    if (f < 0) return (cover[node] / rootCover) * leafPath[node];
    const zp = zFeat[f];
    let sum = 0;
    for (let side = 0; side < 2; side++) {
      const c = side === 0 ? node + 1 : right[node];
      const r = cover[c] / cover[node];
      const ze = zp * r;
      coverRatio[c] = r;
      for (let j = 0; j < q; j++) {
        const tj = t[j];
        const g1p = tj + (1 - tj) * zp; // g of the previous split on f with o = 1 (1 if none: zp = 1)
        const g1e = tj + (1 - tj) * ze;
        const g0e = (1 - tj) * ze;
        const aPrev = (1 - zp) / g1p;
        ratio11[c * q + j] = g1e / g1p;
        diff11[c * q + j] = w[j] * ((1 - ze) / g1e - aPrev);
        ratio10[c * q + j] = g0e / g1p;
        diff10[c * q + j] = w[j] * (-1 / (1 - tj) - aPrev);
      }
      zFeat[f] = ze;
      sum += walk(c, rootCover);
      zFeat[f] = zp;
    }
    return sum;
  };
  let total = 0;
  for (let tr = 0; tr < nTrees; tr++) {
    const root = treeStart[tr];
    treeExpected[tr] = walk(root, cover[root]);
    total += treeExpected[tr];
  }
  return { q, ratio11, diff11, ratio10, diff10, coverRatio, treeExpected, expectedValue: total / nTrees };
}

/**
 * SHAP values of rows [from, to) of X (row-major float64, compared as float32
 * like the forest does) into out (row-major, nFeatures columns, overwritten).
 */
export function treeShapRows(forest: FlatForest, tables: ShapTables, X: Float64Array, from: number, to: number, out: Float64Array): void {
  const { treeStart, feature, threshold, right, leafPath, maxDepth, nFeatures: d } = forest;
  const { q, ratio11, diff11, ratio10, diff10, coverRatio } = tables;
  const nTrees = treeStart.length - 1;
  const row = new Float32Array(d);
  // G and H at each depth of the current path, Q values each
  const G = new Float64Array((maxDepth + 2) * q);
  const H = new Float64Array((maxDepth + 2) * q);
  // o of the last split on each feature on the current path (1 if none)
  const oFeat = new Uint8Array(d);
  const phi = new Float64Array(d);

  // H at level `depth` for the subtree at `node`, given G at that level
  const visit = (node: number, depth: number): void => {
    const f = feature[node];
    const g = depth * q;
    if (f < 0) {
      const v = leafPath[node];
      for (let j = 0; j < q; j++) H[g + j] = v * G[g + j];
      return;
    }
    for (let j = 0; j < q; j++) H[g + j] = 0;
    const goLeft = row[f] <= threshold[node];
    const oPrev = oFeat[f];
    const gc = g + q;
    for (let side = 0; side < 2; side++) {
      const c = side === 0 ? node + 1 : right[node];
      const follows = side === 0 ? goLeft : !goLeft;
      let acc = 0;
      if (oPrev === 0) {
        // x already left the path on an earlier split on f: G scales by the cover ratio, phi unchanged
        const r = coverRatio[c];
        for (let j = 0; j < q; j++) G[gc + j] = G[g + j] * r;
        visit(c, depth + 1);
      } else {
        const ratio = follows ? ratio11 : ratio10;
        const diff = follows ? diff11 : diff10;
        const base = c * q;
        for (let j = 0; j < q; j++) G[gc + j] = G[g + j] * ratio[base + j];
        oFeat[f] = follows ? 1 : 0;
        visit(c, depth + 1);
        oFeat[f] = oPrev;
        for (let j = 0; j < q; j++) acc += H[gc + j] * diff[base + j];
        phi[f] += acc;
      }
      for (let j = 0; j < q; j++) H[g + j] += H[gc + j];
    }
  };

  const scale = 1 / nTrees;
  for (let i = from; i < to; i++) {
    row.set(X.subarray(i * d, (i + 1) * d)); // float32, as the forest compares
    phi.fill(0);
    oFeat.fill(1);
    for (let tr = 0; tr < nTrees; tr++) {
      for (let j = 0; j < q; j++) G[j] = 1;
      visit(treeStart[tr], 0);
    }
    const o = (i - from) * d;
    for (let j = 0; j < d; j++) out[o + j] = phi[j] * scale;
  }
}

/**
 * Exact path-dependent TreeSHAP values of the mean path length for every row
 * of X. See the module comment for the algorithm and its cost.
 */
export function treeShap(forest: FlatForest, tables: ShapTables, X: Matrix): ShapExplanation {
  if (X.cols !== forest.nFeatures) throw new RangeError(`shapValues: got ${X.cols} features, the model was fitted on ${forest.nFeatures}`);
  const out = new Float64Array(X.rows * X.cols);
  treeShapRows(forest, tables, X.data, 0, X.rows, out);
  return { expectedValue: tables.expectedValue, values: { rows: X.rows, cols: X.cols, data: out } };
}
