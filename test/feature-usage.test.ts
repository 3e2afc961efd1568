import { describe, expect, it } from 'vitest';
import { IsolationForest } from '../src/model/forest';
import { fromRows } from '../src/core/matrix';
import { createRng } from '../src/core/rng';
import { featureUsage } from '../src/explain/feature-usage';

/**
 * What a forest can see (09's sparse-feature table): a column that is constant
 * in the training rows is never split on; a column that is non-zero in a few
 * rows is split on only in the trees whose sample holds one of them.
 */
describe('featureUsage', () => {
  const rng = createRng(7, 'feature-usage-test');
  const rows = Array.from({ length: 2000 }, (_, i) => [
    rng.normal(), // 0: varies everywhere
    0, // 1: constant
    i % 1000 === 0 ? 5 : 0, // 2: non-zero in 2 of 2000 rows
    rng.normal(), // 3 and 4: one "one-hot pair" grouped as one feature
    rng.normal(),
  ]);
  const forest = IsolationForest.fit(fromRows(rows), { nEstimators: 200, maxSamples: 256, contamination: 'auto', seed: 3 });
  const usage = featureUsage(forest, [
    { name: 'dense', columns: [0] },
    { name: 'constant', columns: [1] },
    { name: 'sparse', columns: [2] },
    { name: 'pair', columns: [3, 4] },
  ]);
  const by = Object.fromEntries(usage.map((u) => [u.name, u]));

  it('never splits on a constant column, rarely on a sparse one, in every tree on a varying one', () => {
    expect(by.constant).toMatchObject({ trees: 0, splits: 0, treeShare: 0, forestTrees: 200 });
    expect(by.dense.trees).toBe(200);
    // a tree's 256-row sample holds one of the 2 non-zero rows with probability about 1 - (1 - 256/2000)^2 = 0.24;
    // the tree still has to draw the column at a node holding it
    expect(by.sparse.trees).toBeGreaterThan(0);
    expect(by.sparse.trees).toBeLessThan(0.24 * 200);
    expect(by.sparse.splits).toBeLessThanOrEqual(2 * by.sparse.trees); // at most two non-zero rows per sample, each cut off by one split
  });

  it('a feature of several columns is drawn about as often as its columns together', () => {
    expect(by.pair.columns).toBe(2);
    expect(by.pair.splits / by.dense.splits).toBeGreaterThan(1.6);
    expect(by.pair.splits / by.dense.splits).toBeLessThan(2.4);
    // the groups partition the columns: the shares add up to 1
    expect(usage.reduce((s, u) => s + u.splitShare, 0)).toBeCloseTo(1, 12);
  });
});
