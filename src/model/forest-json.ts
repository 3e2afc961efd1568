/**
 * The saved form of an IsolationForest (`toJSON` / `fromJSON`, the bundle's
 * `forest`), in a module of its own so that the scikit-learn import, which
 * builds one, and the forest, which reads one, need not import each other.
 */

export interface IsolationForestJSON {
  kind: 'IsolationForest';
  nFeatures: number;
  nEstimators: number;
  /** rows drawn per tree (psi) */
  maxSamples: number;
  /** height limit ceil(log2(psi)) */
  maxDepth: number;
  contamination: number | 'auto';
  offset: number;
  seed: number | string;
  /** nodes in each tree, in tree order */
  nodeCounts: number[];
  /**
   * All trees' nodes in pre-order (a node's left child is the next node), as
   * base64 of little-endian typed arrays: feature Int16 (-1 = leaf), threshold
   * Float32 (go left when x <= threshold), right Int32 (index of the right child
   * within its tree; for a leaf, the number of training rows that reached it).
   */
  feature: string;
  threshold: string;
  right: string;
}
