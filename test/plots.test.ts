import { describe, expect, it } from 'vitest';
import { createMatrix } from '../src/core/matrix';
import { precisionRecallCurve, rocCurve, averagePrecision, rocAuc } from '../src/eval/metrics';
import { DEFAULT_PARAMS } from '../src/params/params';
import {
  batchTimelineSpec,
  compileSpec,
  confusionHeatmapSpec,
  featureHistogramsSpec,
  pcaScatterSpec,
  rankingCurvesSpec,
  renderSvg,
  scoreHistogramSpec,
  sweepSpec,
  type VegaLiteSpec,
} from '../src/notebook/plots';
import { runPipeline } from '../src/workflow/pipeline';

const params = { ...DEFAULT_PARAMS, nNormal: 2000, nAnomalous: 100, nEstimators: 30 };
const r = runPipeline(params);
const neg = Float64Array.from(r.scores, (s) => -s);

const specs: Record<string, VegaLiteSpec> = {
  'feature histograms': featureHistogramsSpec(r.data),
  'PCA scatter (truth)': pcaScatterSpec(r.projected, r.data.y, { varianceRatio: r.pca.explainedVarianceRatio }),
  'PCA scatter (predictions)': pcaScatterSpec(r.projected, r.data.y, { predictions: r.predictions, maxOrdinary: 300 }),
  'score histogram': scoreHistogramSpec(r.scores, r.data.y, r.forest.offset),
  'ranking curves': rankingCurvesSpec(
    rocCurve(r.data.y, neg, { posLabel: -1 }),
    rocAuc(r.data.y, neg, { posLabel: -1 }),
    precisionRecallCurve(r.data.y, neg, { posLabel: -1 }),
    averagePrecision(r.data.y, neg, { posLabel: -1 }),
  ),
  'confusion heatmap': confusionHeatmapSpec(r.metrics.confusion),
  'batch timeline': batchTimelineSpec(
    [0, 1, 2].map((b) => ({ batch: b, rows: 500, anomalies: b, anomalyRate: b / 500 })),
    { contamination: 0.05, totalBatches: 10 },
  ),
  sweep: sweepSpec('contamination', [
    { value: 0.01, precision: 1, recall: 0.2, f1: 0.33, rocAuc: 0.99, nFlagged: 21 },
    { value: 0.05, precision: 0.95, recall: 1, f1: 0.97, rocAuc: 0.99, nFlagged: 105 },
  ]),
};

describe('every chart compiles cleanly and renders to SVG', () => {
  for (const [name, spec] of Object.entries(specs)) {
    it(name, async () => {
      const { warnings } = compileSpec(spec);
      expect(warnings, `Vega-Lite warnings for ${name}`).toEqual([]);
      const svg = await renderSvg(spec);
      expect(svg).toMatch(/^<svg/);
      const title = (spec as { title: { text: string } }).title.text;
      expect(svg).toContain(title.replace(/&/g, '&amp;').slice(0, 20));
      expect(JSON.stringify(spec).length, 'data are pre-binned or thinned, not raw rows').toBeLessThan(400_000);
    });
  }
});

describe('chart data', () => {
  it('the PCA scatter draws every anomalous or flagged row, and thins only ordinary ones', () => {
    const spec = specs['PCA scatter (predictions)'] as { data: { values: Array<{ row: number; truth: string; prediction: string }> } };
    const rows = spec.data.values;
    const special = Array.from(r.data.y.keys()).filter((i) => r.data.y[i] === -1 || r.predictions[i] === -1);
    const drawn = new Set(rows.map((v) => v.row));
    for (const i of special) expect(drawn.has(i)).toBe(true);
    expect(rows.filter((v) => v.truth === 'normal' && v.prediction === 'passed').length).toBe(300);
  });
  it('feature histograms are shares of each class that sum to 1 per feature', () => {
    const values = (specs['feature histograms'] as { data: { values: Array<{ feature: string; class: string; share: number }> } }).data.values;
    const total = values.filter((v) => v.feature === 'f1' && v.class === 'anomalous').reduce((s, v) => s + v.share, 0);
    expect(total).toBeCloseTo(1, 3);
  });
  it('refuses a projection with one component', () => {
    expect(() => pcaScatterSpec(createMatrix(3, 1), [1, 1, 1])).toThrow(/at least 2 components/);
  });
});

describe('compactSvg', () => {
  it('rounds geometry to 1/100 px and leaves text alone', async () => {
    const { compactSvg } = await import('../src/notebook/plots');
    expect(compactSvg('<path transform="translate(12.3456789,-0.001234)" d="M1.23456,0A2.5,2.5"/><text x="3.14159">AUC 0.999999</text>')).toBe(
      '<path transform="translate(12.35,0)" d="M1.23,0A2.5,2.5"/><text x="3.14">AUC 0.999999</text>',
    );
  });
});
