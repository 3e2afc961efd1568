/**
 * The saved form of an IsolationForest (`toJSON` / `fromJSON`, the bundle's
 * `forest`) and its codec: the flat node arrays to base64 JSON and back, with
 * every field and every tree's shape checked on the way in. In a module of its
 * own so that the estimator (model/forest.ts) keeps to fitting and scoring, and
 * the scikit-learn import, which builds a saved form, and the forest, which
 * reads one, need not import each other.
 */
import { endianness } from 'node:os';
import { heightLimit, savedForestProblem } from '../params/forest-params';
import type { FlatForest } from './kernel/forest-kernel';

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

function toBase64(a: Int16Array | Int32Array | Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function fromBase64<T extends Int16Array | Int32Array | Float32Array>(
  s: unknown,
  Ctor: { new (buffer: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
  length: number,
  field: string,
): T {
  if (typeof s !== 'string') throw new TypeError(`IsolationForest.${field} must be a base64 string`);
  const buf = Buffer.from(s, 'base64');
  if (buf.length !== length * Ctor.BYTES_PER_ELEMENT) {
    throw new TypeError(`IsolationForest.${field} holds ${buf.length} bytes, expected ${length * Ctor.BYTES_PER_ELEMENT} for ${length} nodes`);
  }
  const copy = new ArrayBuffer(buf.length); // aligned copy
  new Uint8Array(copy).set(buf);
  return new Ctor(copy);
}

if (endianness() !== 'LE') {
  // The base64 model format is little-endian typed arrays; every platform Node 20 ships for is LE.
  throw new Error('this library stores models as little-endian arrays and needs a little-endian CPU');
}

/** What a forest is saved with besides its node arrays. */
export interface ForestMeta {
  maxSamples: number;
  contamination: number | 'auto';
  offset: number;
  seed: number | string;
}

/** The node arrays of a checked saved forest (right children as absolute indices), with its meta data: what the forest is rebuilt from. */
export interface DecodedForest extends ForestMeta, Omit<FlatForest, 'leafPath'> {}

/** The saved form of a forest's flat arrays (right children stored relative to their tree). */
export function encodeForest(flat: FlatForest, meta: ForestMeta): IsolationForestJSON {
  const { treeStart, feature, threshold, right } = flat;
  const nTrees = treeStart.length - 1;
  const local = new Int32Array(right.length);
  for (let t = 0; t < nTrees; t++) {
    const s = treeStart[t];
    for (let k = s; k < treeStart[t + 1]; k++) local[k] = feature[k] >= 0 ? right[k] - s : right[k];
  }
  const nodeCounts: number[] = [];
  for (let t = 0; t < nTrees; t++) nodeCounts.push(treeStart[t + 1] - treeStart[t]);
  return {
    kind: 'IsolationForest',
    nFeatures: flat.nFeatures,
    nEstimators: nTrees,
    maxSamples: meta.maxSamples,
    maxDepth: flat.maxDepth,
    contamination: meta.contamination,
    offset: meta.offset,
    seed: meta.seed,
    nodeCounts,
    feature: toBase64(feature),
    threshold: toBase64(threshold),
    right: toBase64(local),
  };
}

/**
 * Check a saved forest field by field and tree by tree (pre-order shape, feature
 * range, finite thresholds, the height limit, leaf sizes adding up to
 * maxSamples), and decode its arrays. Tampering that breaks a tree's shape is
 * caught here, so scoring the result cannot loop.
 *
 * @throws TypeError `invalid IsolationForest: ...` naming the field, tree and node
 */
export function decodeForest(json: IsolationForestJSON): DecodedForest {
  const fail = (msg: string): never => {
    throw new TypeError(`invalid IsolationForest: ${msg}`);
  };
  if (!json || json.kind !== 'IsolationForest') fail('kind must be "IsolationForest"');
  const posInt = (v: unknown, name: string) => {
    if (!Number.isInteger(v) || (v as number) < 1) fail(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const problem = savedForestProblem(json); // the rules fit applies
  if (problem) fail(problem);
  const d = posInt(json.nFeatures, 'nFeatures');
  if (d > 32767) fail(`nFeatures = ${d} is not allowed; at most 32767 features (fit's limit)`);
  const nTrees = json.nEstimators;
  const psi = json.maxSamples;
  const maxDepth = posInt(json.maxDepth, 'maxDepth');
  if (maxDepth !== heightLimit(psi)) fail(`maxDepth ${maxDepth} does not match maxSamples ${psi}`);
  if (typeof json.offset !== 'number' || !Number.isFinite(json.offset)) fail(`offset must be a finite number, got ${json.offset}`);
  if (!Array.isArray(json.nodeCounts) || json.nodeCounts.length !== nTrees) fail(`nodeCounts must list ${nTrees} trees`);
  const treeStart = new Int32Array(nTrees + 1);
  json.nodeCounts.forEach((count, t) => {
    posInt(count, `nodeCounts[${t}]`);
    treeStart[t + 1] = treeStart[t] + count;
  });
  const total = treeStart[nTrees];
  const feature = fromBase64(json.feature, Int16Array, total, 'feature');
  const threshold = fromBase64(json.threshold, Float32Array, total, 'threshold');
  const right = fromBase64(json.right, Int32Array, total, 'right');
  for (let t = 0; t < nTrees; t++) {
    const s = treeStart[t];
    const e = treeStart[t + 1];
    // Walk the tree in pre-order: the node after an internal node must be its
    // left child and `right` must point just past the left subtree. Any
    // tampering that breaks the shape is caught here, so scoring cannot loop.
    const stack: Array<[number, number]> = [[0, 0]];
    let expected = 0;
    let leaves = 0;
    while (stack.length > 0) {
      const [k, depth] = stack.pop()!;
      if (k !== expected) fail(`tree ${t}: node ${k} out of pre-order`);
      expected++;
      const f = feature[s + k];
      if (f >= 0) {
        if (f >= d) fail(`tree ${t}, node ${k}: feature ${f} out of range 0..${d - 1}`);
        if (!Number.isFinite(threshold[s + k])) fail(`tree ${t}, node ${k}: threshold ${threshold[s + k]} is not finite`);
        if (depth >= maxDepth) fail(`tree ${t}, node ${k}: split below the height limit ${maxDepth}`);
        const r = right[s + k];
        if (!(r > k + 1 && r < e - s)) fail(`tree ${t}, node ${k}: right child ${r} out of range`);
        stack.push([r, depth + 1], [k + 1, depth + 1]);
      } else {
        if (f !== -1) fail(`tree ${t}, node ${k}: feature ${f} is neither a feature index nor -1 (leaf)`);
        if (!(right[s + k] >= 1 && right[s + k] <= psi)) fail(`tree ${t}, node ${k}: leaf size ${right[s + k]} out of range 1..${psi}`);
        leaves += right[s + k];
      }
    }
    if (expected !== e - s) fail(`tree ${t}: ${e - s} nodes stored but ${expected} reachable`);
    if (leaves !== psi) fail(`tree ${t}: leaves hold ${leaves} rows, expected maxSamples = ${psi}`);
    for (let k = s; k < e; k++) if (feature[k] >= 0) right[k] += s;
  }
  return { nFeatures: d, maxSamples: psi, maxDepth, contamination: json.contamination, offset: json.offset, seed: json.seed, treeStart, feature, threshold, right };
}
