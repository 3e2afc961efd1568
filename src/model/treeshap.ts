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
import type { FlatForest } from './kernel/forest-kernel';
import { SHAP_KERNEL_BLOCK, ShapKernel } from './kernel/treeshap-kernel';

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

/** Edge cases (o_prev, o_e): where x left the path on the edge's feature, if at all. */
const CASE_00 = 0; // x left the path at an earlier split on this feature
const CASE_11 = 1; // x satisfies every split on this feature so far, this one included
const CASE_10 = 2; // x satisfied the earlier splits on this feature but not this one

/**
 * Per-model tables for {@link treeShapRows}. Every edge is indexed by its child
 * node c; for each of the three cases it holds, at the Q quadrature nodes, the
 * factor G_c / G_p and the weighted difference w_q (a_e - a_prev).
 */
export interface ShapTables {
  /** quadrature nodes: ceil(maxDepth / 2), enough for polynomials of degree maxDepth - 1 */
  q: number;
  /** [(c * 3 + case) * q + j]: G_c / G_p */
  ratio: Float64Array;
  /** [(c * 3 + case) * q + j]: w_j (a_e - a_prev); 0 in CASE_00 */
  diff: Float64Array;
  /** per child node c: the child node of the previous split on the same feature on c's path, or -1 */
  prevEdge: Int32Array;
  /** most nodes in one tree (scratch size) */
  maxTreeNodes: number;
  /** per tree: sum over leaves of cover / root cover * leaf value */
  treeExpected: Float64Array;
  /** mean over trees of treeExpected: E[f(X)] over the training rows */
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
  const ratio = new Float64Array(nodes * 3 * q);
  const diff = new Float64Array(nodes * 3 * q);
  const prevEdge = new Int32Array(nodes).fill(-1);
  const treeExpected = new Float64Array(nTrees);
  // along the current path, per feature: cumulative z (1 = not split on yet) and the last edge on it
  const zFeat = new Float64Array(nFeatures).fill(1);
  const lastEdge = new Int32Array(nFeatures).fill(-1);
  const walk = (node: number, rootCover: number): number => {
    const f = feature[node];
    if (f < 0) return (cover[node] / rootCover) * leafPath[node];
    const zp = zFeat[f];
    const last = lastEdge[f];
    let sum = 0;
    for (let side = 0; side < 2; side++) {
      const c = side === 0 ? node + 1 : right[node];
      const r = cover[c] / cover[node];
      const ze = zp * r;
      prevEdge[c] = last;
      for (let j = 0; j < q; j++) {
        const tj = t[j];
        const g1p = tj + (1 - tj) * zp; // g of the previous split on f with o = 1 (1 if none: zp = 1)
        const g1e = tj + (1 - tj) * ze;
        const g0e = (1 - tj) * ze;
        const aPrev = (1 - zp) / g1p;
        // CASE_00: g goes from (1-t) zp to (1-t) ze, a stays -1/(1-t)
        ratio[(c * 3 + CASE_00) * q + j] = r;
        diff[(c * 3 + CASE_00) * q + j] = 0;
        ratio[(c * 3 + CASE_11) * q + j] = g1e / g1p;
        diff[(c * 3 + CASE_11) * q + j] = w[j] * ((1 - ze) / g1e - aPrev);
        ratio[(c * 3 + CASE_10) * q + j] = g0e / g1p;
        diff[(c * 3 + CASE_10) * q + j] = w[j] * (-1 / (1 - tj) - aPrev);
      }
      zFeat[f] = ze;
      lastEdge[f] = c;
      sum += walk(c, rootCover);
      zFeat[f] = zp;
      lastEdge[f] = last;
    }
    return sum;
  };
  let total = 0;
  let maxTreeNodes = 0;
  for (let tr = 0; tr < nTrees; tr++) {
    const root = treeStart[tr];
    treeExpected[tr] = walk(root, cover[root]);
    total += treeExpected[tr];
    maxTreeNodes = Math.max(maxTreeNodes, treeStart[tr + 1] - root);
  }
  return { q, ratio, diff, prevEdge, maxTreeNodes, treeExpected, expectedValue: total / nTrees };
}

/** rows explained together: their float32 inputs and contributions stay in cache while every tree's tables stream by */
const BLOCK = SHAP_KERNEL_BLOCK;

/**
 * SHAP values of rows [from, to) of X (row-major float64, compared as float32
 * like the forest does) into out (row-major, nFeatures columns, overwritten),
 * in path-length units, trees averaged.
 *
 * Per tree and row, two linear sweeps over the tree's pre-order nodes replace
 * the recursion: forward (parents before children) decides each edge's case and
 * G; backward (children before parents) sums H and adds each edge's share.
 */
export function treeShapRows(forest: FlatForest, tables: ShapTables, X: Float64Array, from: number, to: number, out: Float64Array): void {
  const kernel = shapKernelFor(forest, tables);
  if (kernel === undefined) {
    treeShapRowsJs(forest, tables, X, from, to, out);
    return;
  }
  const d = forest.nFeatures;
  const scale = 1 / (forest.treeStart.length - 1);
  for (let b0 = from; b0 < to; b0 += BLOCK) {
    const m = Math.min(BLOCK, to - b0);
    const phi = kernel.sums(X.subarray(b0 * d, (b0 + m) * d), m);
    const o = (b0 - from) * d;
    for (let k = 0; k < m * d; k++) out[o + k] = phi[k] * scale;
  }
}

/** compiled sweeps per tables (q = 4 only); null where WebAssembly is missing or the module would not build */
const kernels = new WeakMap<ShapTables, ShapKernel | null>();

function shapKernelFor(forest: FlatForest, tables: ShapTables): ShapKernel | undefined {
  if (tables.q !== 4 || typeof WebAssembly !== 'object') return undefined;
  let kernel = kernels.get(tables);
  if (kernel === undefined) {
    try {
      kernel = new ShapKernel(forest, tables);
    } catch {
      kernel = null; // e.g. a forest too large for one module's memory: the JavaScript sweeps give the same values
    }
    kernels.set(tables, kernel);
  }
  return kernel ?? undefined;
}

/**
 * {@link treeShapRows} in JavaScript: the definition the WebAssembly kernel
 * (kernel/treeshap-kernel.ts, q = 4) follows operation for operation, and the
 * path for any other q. Exported for the test that the two agree exactly.
 */
export function treeShapRowsJs(forest: FlatForest, tables: ShapTables, X: Float64Array, from: number, to: number, out: Float64Array): void {
  const { treeStart, feature, threshold, right, leafPath, nFeatures: d } = forest;
  const { q, ratio, diff, prevEdge, maxTreeNodes } = tables;
  const nTrees = treeStart.length - 1;
  const block = new Float32Array(BLOCK * d);
  const phi = new Float64Array(BLOCK * d);
  // per node of the current tree (local index): G and H at the Q nodes, o of its edge, its case
  const G = new Float64Array(maxTreeNodes * q);
  const H = new Float64Array(maxTreeNodes * q);
  const oEdge = new Uint8Array(maxTreeNodes);
  const kase = new Uint8Array(maxTreeNodes);
  /** forward then backward sweep of tree nodes [s, e) for the block row at `base` (any q) */
  const sweep = (s: number, e: number, base: number): void => {
    for (let j = 0; j < q; j++) G[j] = 1;
    oEdge[0] = 1;
    // forward: each internal node hands G to its children
    for (let k = s; k < e; k++) {
      const f = feature[k];
      if (f < 0) continue;
      const goLeft = block[base + f] <= threshold[k];
      const gp = (k - s) * q;
      for (let side = 0; side < 2; side++) {
        const c = side === 0 ? k + 1 : right[k];
        const follows = side === 0 ? goLeft : !goLeft;
        const pe = prevEdge[c];
        const oPrev = pe < 0 ? 1 : oEdge[pe - s];
        const cs = oPrev === 0 ? CASE_00 : follows ? CASE_11 : CASE_10;
        const lc = c - s;
        kase[lc] = cs;
        oEdge[lc] = oPrev === 1 && follows ? 1 : 0;
        const rb = (c * 3 + cs) * q;
        const gc = lc * q;
        for (let j = 0; j < q; j++) G[gc + j] = G[gp + j] * ratio[rb + j];
      }
    }
    // backward: H bottom-up; each edge adds sum_q H_c w_q (a_e - a_prev) to its feature
    for (let k = e - 1; k >= s; k--) {
      const f = feature[k];
      const hk = (k - s) * q;
      if (f < 0) {
        const v = leafPath[k];
        for (let j = 0; j < q; j++) H[hk + j] = v * G[hk + j];
        continue;
      }
      const l = k + 1;
      const r = right[k];
      const hl = (l - s) * q;
      const hr = (r - s) * q;
      const dl = (l * 3 + kase[l - s]) * q;
      const dr = (r * 3 + kase[r - s]) * q;
      let acc = 0;
      for (let j = 0; j < q; j++) {
        const a = H[hl + j];
        const b = H[hr + j];
        H[hk + j] = a + b;
        acc += a * diff[dl + j] + b * diff[dr + j];
      }
      phi[base + f] += acc;
    }
  };
  /** the same for q = 4 (maxSamples 129..256, the default), unrolled: about 1.5x faster */
  const sweep4 = (s: number, e: number, base: number): void => {
    G[0] = G[1] = G[2] = G[3] = 1;
    oEdge[0] = 1;
    for (let k = s; k < e; k++) {
      const f = feature[k];
      if (f < 0) continue;
      const goLeft = block[base + f] <= threshold[k];
      const gp = (k - s) << 2;
      const g0 = G[gp];
      const g1 = G[gp + 1];
      const g2 = G[gp + 2];
      const g3 = G[gp + 3];
      for (let side = 0; side < 2; side++) {
        const c = side === 0 ? k + 1 : right[k];
        const follows = side === 0 ? goLeft : !goLeft;
        const pe = prevEdge[c];
        const oPrev = pe < 0 ? 1 : oEdge[pe - s];
        const cs = oPrev === 0 ? CASE_00 : follows ? CASE_11 : CASE_10;
        const lc = c - s;
        kase[lc] = cs;
        oEdge[lc] = oPrev === 1 && follows ? 1 : 0;
        const rb = (c * 3 + cs) << 2;
        const gc = lc << 2;
        G[gc] = g0 * ratio[rb];
        G[gc + 1] = g1 * ratio[rb + 1];
        G[gc + 2] = g2 * ratio[rb + 2];
        G[gc + 3] = g3 * ratio[rb + 3];
      }
    }
    for (let k = e - 1; k >= s; k--) {
      const f = feature[k];
      const hk = (k - s) << 2;
      if (f < 0) {
        const v = leafPath[k];
        H[hk] = v * G[hk];
        H[hk + 1] = v * G[hk + 1];
        H[hk + 2] = v * G[hk + 2];
        H[hk + 3] = v * G[hk + 3];
        continue;
      }
      const l = k + 1;
      const r = right[k];
      const hl = (l - s) << 2;
      const hr = (r - s) << 2;
      const dl = (l * 3 + kase[l - s]) << 2;
      const dr = (r * 3 + kase[r - s]) << 2;
      const a0 = H[hl];
      const a1 = H[hl + 1];
      const a2 = H[hl + 2];
      const a3 = H[hl + 3];
      const b0 = H[hr];
      const b1 = H[hr + 1];
      const b2 = H[hr + 2];
      const b3 = H[hr + 3];
      H[hk] = a0 + b0;
      H[hk + 1] = a1 + b1;
      H[hk + 2] = a2 + b2;
      H[hk + 3] = a3 + b3;
      phi[base + f] +=
        a0 * diff[dl] + b0 * diff[dr] + a1 * diff[dl + 1] + b1 * diff[dr + 1] + a2 * diff[dl + 2] + b2 * diff[dr + 2] + a3 * diff[dl + 3] + b3 * diff[dr + 3];
    }
  };
  const scale = 1 / nTrees;
  for (let b0 = from; b0 < to; b0 += BLOCK) {
    const m = Math.min(BLOCK, to - b0);
    block.set(X.subarray(b0 * d, (b0 + m) * d)); // float32, as the forest compares
    phi.fill(0);
    for (let tr = 0; tr < nTrees; tr++) {
      const s = treeStart[tr];
      const e = treeStart[tr + 1];
      for (let i = 0; i < m; i++) {
        const base = i * d;
        if (q === 4) sweep4(s, e, base);
        else sweep(s, e, base);
      }
    }
    const o = (b0 - from) * d;
    for (let k = 0; k < m * d; k++) out[o + k] = phi[k] * scale;
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
