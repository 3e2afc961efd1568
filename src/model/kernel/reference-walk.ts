/**
 * The JavaScript walk of a flat forest: pre-order nodes, rows in blocks of 512
 * (as float32, like scikit-learn, so a block stays in cache while every tree
 * walks it). The forest uses it when the WebAssembly kernel's complete layout
 * does not fit; the tests compare the kernel with it.
 */
import type { Matrix } from '../../core/matrix';
import type { FlatForest } from './forest-kernel';

/** Each row's path length summed over the trees (trees added in order); X must be finite with flat.nFeatures columns. */
export function referencePathLengthSums(flat: FlatForest, X: Matrix): Float64Array {
  const { rows: n, cols: d, data } = X;
  const out = new Float64Array(n);
  const { feature, threshold, right, leafPath, treeStart } = flat;
  const nTrees = treeStart.length - 1;
  // Score in blocks of rows so a block (as float32, like scikit-learn) stays in
  // cache while every tree walks it.
  const BLOCK = 512;
  const block = new Float32Array(BLOCK * d);
  for (let b0 = 0; b0 < n; b0 += BLOCK) {
    const m = Math.min(BLOCK, n - b0);
    block.set(data.subarray(b0 * d, (b0 + m) * d));
    for (let t = 0; t < nTrees; t++) {
      const root = treeStart[t];
      for (let i = 0; i < m; i++) {
        const base = i * d;
        let node = root;
        let f = feature[node];
        while (f >= 0) {
          node = block[base + f] <= threshold[node] ? node + 1 : right[node];
          f = feature[node];
        }
        out[b0 + i] += leafPath[node];
      }
    }
  }
  return out;
}
