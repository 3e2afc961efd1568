import { referencePathLengthSums } from '../src/model/kernel/reference-walk';
import { describe, expect, it } from 'vitest';
import { IsolationForest, type IsolationForestOptions } from '../src/model/forest';
import { kernelSupported } from '../src/model/kernel/forest-kernel';
import { closeScoringWorkers, createScoringPool, MIN_ROWS_PER_THREAD } from '../src/model/forest-parallel';
import { createMatrix, type Matrix } from '../src/core/matrix';
import { DEFAULT_PARAMS } from '../src/params/params';
import { createRng } from '../src/core/rng';
import { simulateTraffic } from '../src/data/simulate';

/**
 * The WebAssembly kernel and the worker threads must give exactly the numbers
 * of the reference JavaScript walk, whatever the tree depth, feature count, row
 * count (blocks, groups of 8, remainders) or thread count.
 */

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const rng = createRng(seed, 'test-matrix');
  const m = createMatrix(rows, cols);
  for (let k = 0; k < m.data.length; k++) m.data[k] = rng.normal() * (k % 3 === 0 ? 3 : 1);
  return m;
}

const base: IsolationForestOptions = { nEstimators: 25, maxSamples: 'auto', contamination: 0.05, seed: 9 };

describe('kernel sums equal the JavaScript walk exactly', () => {
  const cases: Array<[string, number, number, Partial<IsolationForestOptions>]> = [
    ['depth 8 (psi 256), 5 features', 3000, 5, {}],
    ['depth 6 (psi 64), 2 features', 2000, 2, { maxSamples: 64 }],
    ['depth 1 (psi 2)', 500, 3, { maxSamples: 2 }],
    ['depth 2 (psi 3): fewer levels than the SIMD top', 500, 3, { maxSamples: 3 }],
    ['depth 12 (psi 4096), 7 features', 5000, 7, { maxSamples: 4096, nEstimators: 10 }],
  ];
  for (const [name, rows, cols, opts] of cases) {
    it(name, () => {
      const X = randomMatrix(rows, cols, rows + cols);
      const forest = IsolationForest.fit(X, { ...base, ...opts });
      expect(kernelSupported(forest.flat())).toBe(true);
      // 1,237 rows: several 512-row blocks and a remainder that is not a multiple of 8
      const Y = randomMatrix(1237, cols, 77);
      expect(forest.pathLengthSums(Y)).toEqual(referencePathLengthSums(forest.flat(), Y));
      expect(forest.pathLengthSums(X)).toEqual(referencePathLengthSums(forest.flat(), X));
    });
  }

  it('rows exactly on a threshold go left in both (x <= t), float32 rounding included', () => {
    const X = randomMatrix(2000, 3, 5);
    const forest = IsolationForest.fit(X, base);
    const json = forest.toJSON();
    const thresholds = new Float32Array(Uint8Array.from(Buffer.from(json.threshold, 'base64')).buffer);
    const features = new Int16Array(Uint8Array.from(Buffer.from(json.feature, 'base64')).buffer);
    const Y = createMatrix(600, 3);
    for (let i = 0; i < 600; i++) {
      for (let j = 0; j < 3; j++) Y.data[i * 3 + j] = X.data[(i % 2000) * 3 + j];
      const k = (i * 37) % features.length;
      if (features[k] >= 0) {
        const t = thresholds[k];
        // exactly t, and the float64 neighbours that round to t in float32
        Y.data[i * 3 + features[k]] = i % 3 === 0 ? t : i % 3 === 1 ? t + Math.abs(t) * 1e-9 : t - Math.abs(t) * 1e-9;
      }
    }
    Y.data[0] = 1e39; // beyond float32: +Infinity after the cast, in both walks
    Y.data[4] = -1e39;
    expect(forest.pathLengthSums(Y)).toEqual(referencePathLengthSums(forest.flat(), Y));
  });

  it('very deep complete layouts fall back to the JavaScript walk', () => {
    const X = randomMatrix(40_000, 2, 3);
    const forest = IsolationForest.fit(X, { ...base, nEstimators: 40, maxSamples: 40_000 });
    expect(forest.maxDepth).toBe(16);
    expect(kernelSupported(forest.flat())).toBe(false);
    const Y = randomMatrix(300, 2, 4);
    expect(forest.pathLengthSums(Y)).toEqual(referencePathLengthSums(forest.flat(), Y));
  });

  it('non-finite input is refused with the row and column named', () => {
    const X = randomMatrix(1000, 3, 1);
    const forest = IsolationForest.fit(X, base);
    const Y = randomMatrix(10, 3, 2);
    Y.data[7] = NaN;
    expect(() => forest.scoreSamples(Y)).toThrow(/row 2, column 1 is NaN/);
    // every position of the probe's four sums and of its tail (10 x 3 values: 28 in the sums, 2 after)
    for (const [k, v] of [[0, Infinity], [1, -Infinity], [2, NaN], [3, NaN], [28, NaN], [29, Infinity]] as const) {
      const Z = randomMatrix(10, 3, 2);
      Z.data[k] = v;
      expect(() => forest.scoreSamples(Z), `value ${k}`).toThrow(`row ${Math.floor(k / 3)}, column ${k % 3} is ${v}`);
    }
    expect(forest.scoreSamples(randomMatrix(10, 3, 2)).every(Number.isFinite)).toBe(true);
  });
});

describe('parallel scoring equals single-thread scoring', () => {
  const params = { ...DEFAULT_PARAMS, nNormal: 3 * MIN_ROWS_PER_THREAD + 9_000, nAnomalous: 7_001 };
  const data = simulateTraffic(params);
  const forest = IsolationForest.fit(data.X, params);
  const single = forest.scoreSamples(data.X);

  it('2 and 3 threads give identical scores', async () => {
    expect(await forest.scoreSamplesAsync(data.X, { threads: 2 })).toEqual(single);
    // a call uses at most maxWorkers + 1 threads: a pool of 2 gives 3 ranges even on 2 cores
    const pool = createScoringPool({ maxWorkers: 2 });
    expect(await forest.scoreSamplesAsync(data.X, { threads: 3, pool })).toEqual(single);
    expect(pool.stats).toMatchObject({ submitted: 2, succeeded: 2 });
    await pool.close();
  }, 60_000);

  it('fitAsync builds the identical model (same trees, same offset)', async () => {
    const other = await IsolationForest.fitAsync(data.X, params, { threads: 2 });
    expect(other.offset).toBe(forest.offset);
    expect(other.toJSON()).toEqual(forest.toJSON());
  }, 60_000);

  it("a bad value in a worker's range is reported, not lost", async () => {
    const X = createMatrix(data.X.rows, data.X.cols, Float64Array.from(data.X.data));
    const bad = data.X.rows - 5; // in the last range: scored by a worker thread
    X.data[bad * 5 + 2] = Infinity;
    await expect(forest.scoreSamplesAsync(X, { threads: 2 })).rejects.toThrow(new RegExp(`row ${bad}, column 2 is Infinity`));
    await closeScoringWorkers();
  }, 60_000);
});
