import { describe, expect, it } from 'vitest';
import { fromRows, toRows } from '../src/core/matrix';
import { PCAModel, StandardScaler } from '../src/model/preprocess';
import { seedData, seedReference } from './seed';
import { readFixtureJson } from './fixtures';

interface ScalerPcaFixture {
  X: number[][];
  mean: number[];
  scale: number[];
  Z: number[][];
  pca_components: number[][];
  explained_variance_ratio: number[];
  projected: number[][];
}
const fx = readFixtureJson<{ scaler_pca: ScalerPcaFixture }>('sklearn', 'metrics_scaler_pca.json').scaler_pca;

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (!(diff <= tol)) throw new Error(`${what}[${i}]: ${actual[i]} vs scikit-learn ${expected[i]} (|diff| ${diff} > ${tol})`);
  }
}

/** Components are defined up to sign: align each with the reference before comparing. */
function signOf(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  return dot < 0 ? -1 : 1;
}

describe('StandardScaler matches scikit-learn on a matrix with a constant column', () => {
  const X = fromRows(fx.X);
  const scaler = StandardScaler.fit(X);
  it('mean and scale to 1e-9 (constant column gets scale 1)', () => {
    expectClose(scaler.mean, fx.mean, 1e-9, 'mean');
    expectClose(scaler.scale, fx.scale, 1e-9, 'scale');
    expect(fx.scale[fx.scale.length - 1]).toBe(1);
  });
  it('transform to 1e-9 (constant column becomes 0)', () => {
    expectClose(scaler.transform(X).data, fx.Z.flat(), 1e-9, 'Z');
  });
  it('round-trips through JSON', () => {
    const back = StandardScaler.fromJSON(JSON.parse(JSON.stringify(scaler.toJSON())));
    expect(back.transform(X).data).toEqual(scaler.transform(X).data);
  });
});

describe('PCA matches scikit-learn (components and projections up to sign)', () => {
  const Z = StandardScaler.fit(fromRows(fx.X)).transform(fromRows(fx.X));
  const pca = PCAModel.fit(Z, fx.pca_components.length);
  it('explained variance ratio to 1e-9', () => {
    expectClose(pca.explainedVarianceRatio, fx.explained_variance_ratio, 1e-9, 'explained_variance_ratio');
  });
  it('components and projections to 1e-9 up to sign', () => {
    const comps = toRows(pca.components);
    const proj = pca.transform(Z);
    comps.forEach((c, k) => {
      const s = signOf(c, fx.pca_components[k]);
      expectClose(c.map((v) => s * v), fx.pca_components[k], 1e-9, `component ${k}`);
      const col = fx.projected.map((r) => r[k]);
      const mine = Array.from({ length: proj.rows }, (_, i) => s * proj.data[i * proj.cols + k]);
      expectClose(mine, col, 1e-9, `projection ${k}`);
    });
  });
  it('sign convention: the largest loading of each component is positive', () => {
    for (const c of toRows(pca.components)) {
      const top = c.reduce((best, v) => (Math.abs(v) > Math.abs(best) ? v : best), 0);
      expect(top).toBeGreaterThan(0);
    }
  });
  it('round-trips through JSON and transforms new data identically', () => {
    const back = PCAModel.fromJSON(JSON.parse(JSON.stringify(pca.toJSON())));
    expect(back.transform(Z).data).toEqual(pca.transform(Z).data);
  });
  it('refuses nComponents beyond the feature count', () => {
    expect(() => PCAModel.fit(Z, 7)).toThrow(/PCA.fit: nComponents = 7 is not allowed; must be at most the number of features, 6/);
  });
});

describe('on the reference seed data, scaler and PCA equal scikit-learn to 1e-9', () => {
  const ref = seedReference();
  const data = seedData();
  const scaler = StandardScaler.fit(data.X);
  const Xs = scaler.transform(data.X);
  const pca = PCAModel.fit(Xs, 2);
  it('the seed data is the reference shape', () => {
    expect([data.X.rows, data.X.cols]).toEqual([10500, 5]);
    expect(data.y.filter((v) => v === -1).length).toBe(500);
  });
  it('scaler mean and scale', () => {
    expectClose(scaler.mean, ref.scaler_mean, 1e-9, 'mean');
    expectClose(scaler.scale, ref.scaler_scale, 1e-9, 'scale');
  });
  it('PCA explained variance ratio and components (up to sign)', () => {
    expectClose(pca.explainedVarianceRatio, ref.pca_explained_variance_ratio, 1e-9, 'explained_variance_ratio');
    toRows(pca.components).forEach((c, k) => {
      const s = signOf(c, ref.pca_components[k]);
      expectClose(c.map((v) => s * v), ref.pca_components[k], 1e-9, `component ${k}`);
    });
  });
});

describe('bad input', () => {
  it('names the row and feature of a non-finite value', () => {
    const scaler = StandardScaler.fit(fromRows([[1, 2], [3, 4]]));
    expect(() => scaler.transform(fromRows([[1, NaN]]), ['bytes', 'packets'])).toThrow(/row 0, feature packets is NaN/);
  });
  it('refuses a wrong feature count', () => {
    const scaler = StandardScaler.fit(fromRows([[1, 2], [3, 4]]));
    expect(() => scaler.transform(fromRows([[1, 2, 3]]))).toThrow(/got 3 features, the model was fitted on 2/);
  });
});
