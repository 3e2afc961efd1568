import { describe, expect, it } from 'vitest';
import { averagePathLength, IsolationForest, percentile, type IsolationForestJSON } from '../src/model/forest';
import { fromRows } from '../src/core/matrix';
import { summarizeDetection } from '../src/eval/metrics';
import { MlIsolationForestAdapter } from '../src/model/ml-forest-adapter';
import { DEFAULT_PARAMS } from '../src/params/params';
import { createRng } from '../src/core/rng';
import { StandardScaler } from '../src/model/preprocess';
import { simulateTraffic } from '../src/data/simulate';
import { seedData, seedReference } from './seed';

/** decode one of the model's base64 typed arrays (copy: Buffer's own ArrayBuffer is a shared pool) */
function decode<T>(s: string, Ctor: new (b: ArrayBuffer) => T): T {
  return new Ctor(Uint8Array.from(Buffer.from(s, 'base64')).buffer);
}
const encode = (a: Int16Array | Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

const options = { nEstimators: 100, maxSamples: 'auto' as const, contamination: 0.05, seed: 42 };

describe('c(n) and the percentile are the ones scikit-learn uses', () => {
  it('c(n) = 2H(n-1) - 2(n-1)/n with H(i) = ln(i) + Euler gamma; c(1) = 0, c(2) = 1', () => {
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    // Python: 2 * (math.log(255) + np.euler_gamma) - 2 * 255 / 256, and the same for n = 3
    expect(averagePathLength(256)).toBe(10.244770920119917);
    expect(averagePathLength(3)).toBe(1.207392357589623);
  });
  it('percentile interpolates linearly like numpy', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([3, 1, 2], 0)).toBe(1);
    expect(percentile([10, 20], 5)).toBeCloseTo(10.5, 12);
  });
  it('percentile by selection equals the sorted-array definition (ties, tiny and large inputs)', () => {
    const rng = createRng(3, 'percentile');
    const bySort = (values: number[], q: number) => {
      const sorted = Float64Array.from(values).sort();
      const v = (sorted.length - 1) * (q / 100);
      const lo = Math.floor(v);
      const hi = Math.min(lo + 1, sorted.length - 1);
      const t = v - lo;
      const diff = sorted[hi] - sorted[lo];
      return t >= 0.5 ? sorted[hi] - diff * (1 - t) : sorted[lo] + diff * t;
    };
    for (let trial = 0; trial < 2000; trial++) {
      const n = 1 + rng.int(trial < 1990 ? 40 : 20000);
      const values = Array.from({ length: n }, () => (rng.next() < 0.4 ? rng.int(4) : rng.normal()));
      const q = trial % 7 === 0 ? 5 : 100 * rng.next();
      expect(percentile(values, q)).toBe(bySort(values, q));
    }
  });
});

describe('our forest on the reference seed data (scikit-learn: ROC-AUC 0.999999, 525 flagged)', () => {
  const data = seedData();
  const Xs = StandardScaler.fit(data.X).transform(data.X);
  const t0 = performance.now();
  const forest = IsolationForest.fit(Xs, options);
  const fitMs = performance.now() - t0;
  const scores = forest.scoreSamples(Xs);
  const pred = forest.predict(Xs);
  const s = summarizeDetection(data.y, scores, pred);
  const ref = seedReference().isolation_forest;
  console.log(
    `our forest: ROC-AUC ${s.rocAuc.toFixed(7)} (scikit-learn ${ref.roc_auc}), AP ${s.averagePrecision.toFixed(7)}, ` +
      `flagged ${s.nFlagged} (scikit-learn ${ref.n_flagged}), offset ${forest.offset.toFixed(6)} (scikit-learn ${ref.offset.toFixed(6)}), ` +
      `anomaly precision ${s.precision.toFixed(4)} recall ${s.recall.toFixed(4)}, fit ${fitMs.toFixed(0)} ms, JSON ${JSON.stringify(forest.toJSON()).length} bytes`,
  );

  it('reaches ROC-AUC >= 0.9995', () => expect(s.rocAuc).toBeGreaterThanOrEqual(0.9995));
  it('anomaly-class precision and recall >= 0.93', () => {
    expect(s.precision).toBeGreaterThanOrEqual(0.93);
    expect(s.recall).toBeGreaterThanOrEqual(0.93);
  });
  it('flags between 500 and 550 rows', () => {
    expect(s.nFlagged).toBeGreaterThanOrEqual(500);
    expect(s.nFlagged).toBeLessThanOrEqual(550);
  });
  it('offset is the 5% quantile of the training scores', () => {
    expect(forest.offset).toBe(percentile(scores, 5));
    expect(forest.offset).toBeCloseTo(ref.offset, 1);
  });
  it('scores follow scikit-learn conventions: in [-1, 0), lower = more abnormal', () => {
    for (const v of scores) expect(v < 0 && v >= -1).toBe(true);
    const meanOf = (label: number) => {
      let sum = 0;
      let n = 0;
      data.y.forEach((y, i) => {
        if (y === label) {
          sum += scores[i];
          n++;
        }
      });
      return sum / n;
    };
    expect(meanOf(-1)).toBeLessThan(meanOf(1));
  });
  it('trees are flat, height-limited to ceil(log2 256) = 8 and subsampled to 256 rows', () => {
    const json = forest.toJSON();
    expect(json.maxSamples).toBe(256);
    expect(json.maxDepth).toBe(8);
    expect(json.nodeCounts).toHaveLength(100);
    for (const c of json.nodeCounts) expect(c).toBeLessThanOrEqual(511);
  });
  it('serialises compactly (100 trees, 256 samples: well under 2 MB)', () => {
    expect(JSON.stringify(forest.toJSON()).length).toBeLessThan(500_000);
  });
  it('round trip: the loaded model gives identical scores and offset', () => {
    const back = IsolationForest.fromJSON(JSON.parse(JSON.stringify(forest.toJSON())));
    expect(back.offset).toBe(forest.offset);
    expect(back.scoreSamples(Xs)).toEqual(scores);
  });
  it('decisionFunction = scoreSamples - offset and predict = sign', () => {
    const dec = forest.decisionFunction(Xs);
    dec.forEach((v, i) => {
      expect(v).toBe(scores[i] - forest.offset);
      expect(pred[i]).toBe(v < 0 ? -1 : 1);
    });
  });

  it('the ml-isolation-forest adapter runs behind the same interface (numbers reported)', () => {
    const a0 = performance.now();
    const adapter = MlIsolationForestAdapter.fit(Xs, options);
    const aFit = performance.now() - a0;
    const b0 = performance.now();
    const aScores = adapter.scoreSamples(Xs);
    const aScore = performance.now() - b0;
    const a = summarizeDetection(data.y, aScores, adapter.predict(Xs));
    console.log(
      `ml-isolation-forest adapter: ROC-AUC ${a.rocAuc.toFixed(7)}, AP ${a.averagePrecision.toFixed(7)}, flagged ${a.nFlagged}, ` +
        `anomaly precision ${a.precision.toFixed(4)} recall ${a.recall.toFixed(4)}, fit ${aFit.toFixed(0)} ms, score ${aScore.toFixed(0)} ms`,
    );
    expect(a.rocAuc).toBeGreaterThan(0.99);
    expect(a.nFlagged).toBeGreaterThanOrEqual(500);
    // seeded: the same seed gives the same scores
    expect(MlIsolationForestAdapter.fit(Xs, options).scoreSamples(Xs)).toEqual(aScores);
    // and Math.random is restored afterwards
    expect(Math.random).toBe(Math.random);
    expect(String(Math.random)).toContain('native code');
  });
});

describe('determinism', () => {
  const data = simulateTraffic({ ...DEFAULT_PARAMS, nNormal: 2000, nAnomalous: 100 });
  it('same seed -> identical model JSON; another seed -> a different model', () => {
    const a = JSON.stringify(IsolationForest.fit(data.X, options).toJSON());
    const b = JSON.stringify(IsolationForest.fit(data.X, options).toJSON());
    const c = JSON.stringify(IsolationForest.fit(data.X, { ...options, seed: 43 }).toJSON());
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });
  it("contamination 'auto' sets offset -0.5", () => {
    expect(IsolationForest.fit(data.X, { ...options, contamination: 'auto' }).offset).toBe(-0.5);
  });
  it('maxSamples as a count or a fraction', () => {
    expect(IsolationForest.fit(data.X, { ...options, nEstimators: 5, maxSamples: 64 }).maxSamples).toBe(64);
    expect(IsolationForest.fit(data.X, { ...options, nEstimators: 5, maxSamples: 0.5 }).maxSamples).toBe(1050);
    expect(IsolationForest.fit(data.X, { ...options, nEstimators: 5, maxSamples: 100000 }).maxSamples).toBe(2100);
  });
  it('a fraction giving one row per tree grows one-leaf trees; every row scores -0.5 and is normal, as in scikit-learn', async () => {
    const forest = IsolationForest.fit(data.X, { ...options, nEstimators: 5, maxSamples: 0.0005 }); // floor(0.0005 * 2100) = 1
    expect(forest.maxSamples).toBe(1);
    expect(forest.nodeCount).toBe(5);
    expect(forest.offset).toBe(-0.5); // the 5% quantile of scores that are all -0.5
    const all = (value: number) => new Float64Array(data.X.rows).fill(value);
    expect(forest.scoreSamples(data.X)).toEqual(all(-0.5));
    expect(await forest.scoreSamplesAsync(data.X, { threads: 2 })).toEqual(all(-0.5));
    expect(forest.decisionFunction(data.X)).toEqual(all(0));
    expect(forest.predict(data.X).every((p) => p === 1)).toBe(true);
    expect(() => IsolationForest.fit(data.X, { ...options, maxSamples: 0.0004 })).toThrow(/floor\(0.0004 \* 2100\) = 0 rows per tree for 2100 training rows; a tree needs at least 1/);
  });
  it('constant features are never split on', () => {
    const X = fromRows(Array.from({ length: 300 }, (_, i) => [Math.sin(i) * 10, 3]));
    const json = IsolationForest.fit(X, { ...options, nEstimators: 10 }).toJSON();
    const features = decode(json.feature, Int16Array);
    expect(features.some((f) => f === 1)).toBe(false);
  });
});

describe('fromJSON refuses a damaged model', () => {
  const data = simulateTraffic({ ...DEFAULT_PARAMS, nNormal: 1000, nAnomalous: 50 });
  const good = IsolationForest.fit(data.X, { ...options, nEstimators: 3 }).toJSON();
  const mutate = (f: (j: IsolationForestJSON) => void) => {
    const j = JSON.parse(JSON.stringify(good)) as IsolationForestJSON;
    f(j);
    return () => IsolationForest.fromJSON(j);
  };
  it('wrong kind', () => expect(mutate((j) => ((j as { kind: string }).kind = 'Other'))).toThrow(/kind must be "IsolationForest"/));
  it('truncated node array', () => expect(mutate((j) => (j.threshold = j.threshold.slice(0, 40)))).toThrow(/threshold holds \d+ bytes/));
  it('node counts that do not match', () => expect(mutate((j) => (j.nodeCounts[0] += 2))).toThrow(/bytes|nodes/));
  it('a right child pointing outside its tree', () =>
    expect(
      mutate((j) => {
        const right = decode(j.right, Int32Array);
        right[0] = 10_000;
        j.right = encode(right);
      }),
    ).toThrow(/right child 10000 out of range/));
  it('a feature index out of range', () =>
    expect(
      mutate((j) => {
        const f = decode(j.feature, Int16Array);
        f[0] = 9;
        j.feature = encode(f);
      }),
    ).toThrow(/feature 9 out of range/));
  it('maxDepth inconsistent with maxSamples', () => expect(mutate((j) => (j.maxDepth = 3))).toThrow(/maxDepth 3 does not match/));
});
