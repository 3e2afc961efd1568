import { describe, expect, it } from 'vitest';
import {
  averagePrecision,
  classificationReport,
  classificationReportData,
  confusionMatrix,
  npSum,
  precisionRecallCurve,
  precisionRecallFscoreSupport,
  rocAuc,
  rocCurve,
  summarizeDetection,
  type Label,
} from '../src/eval/metrics';
import { readFixtureJson } from './fixtures';

interface ReportCase {
  y_true: Label[];
  y_pred: Label[];
  digits: number;
  report: string;
  confusion_matrix: number[][];
  labels: Label[];
}
interface RankingCase {
  y: number[];
  score: number[];
  roc_auc: number;
  average_precision: number;
}
const fixture = readFixtureJson<{ classification_reports: ReportCase[]; ranking_scores: RankingCase[] }>('sklearn', 'metrics_scaler_pca.json');

describe('classificationReport matches scikit-learn character for character', () => {
  fixture.classification_reports.forEach((c, k) => {
    it(`case ${k}: ${c.labels.length} classes ${JSON.stringify(c.labels)}, ${c.y_true.length} rows, digits=${c.digits}`, () => {
      expect(classificationReport(c.y_true, c.y_pred, { digits: c.digits })).toBe(c.report);
    });
  });
  it('covers numeric and string labels, 2 and 3 classes, both digit settings', () => {
    const kinds = new Set(fixture.classification_reports.map((c) => `${typeof c.labels[0]}/${c.labels.length}/${c.digits}`));
    for (const k of ['number/2/2', 'number/2/4', 'number/3/2', 'number/3/4', 'string/2/2', 'string/2/4']) expect(kinds).toContain(k);
  });
});

describe('confusionMatrix matches scikit-learn', () => {
  fixture.classification_reports.forEach((c, k) => {
    it(`case ${k}`, () => {
      const cm = confusionMatrix(c.y_true, c.y_pred);
      expect(cm.labels).toEqual(c.labels);
      expect(cm.matrix).toEqual(c.confusion_matrix);
    });
  });
});

describe('ROC-AUC and average precision match scikit-learn (ties included)', () => {
  fixture.ranking_scores.forEach((c, k) => {
    const ties = c.score.length - new Set(c.score).size;
    it(`case ${k}: ${c.y.length} rows, ${ties} tied scores`, () => {
      expect(Math.abs(rocAuc(c.y, c.score) - c.roc_auc)).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(averagePrecision(c.y, c.score) - c.average_precision)).toBeLessThanOrEqual(1e-12);
    });
  });
  it('the fixture does exercise ties', () => {
    expect(fixture.ranking_scores.some((c) => new Set(c.score).size < c.score.length)).toBe(true);
  });
});

describe('per-class scores as data', () => {
  it('agree with the numbers printed in the report', () => {
    const c = fixture.classification_reports[1];
    const s = precisionRecallFscoreSupport(c.y_true, c.y_pred);
    const data = classificationReportData(c.y_true, c.y_pred);
    expect(s.labels).toEqual(c.labels);
    expect(s.support).toEqual(c.confusion_matrix.map((row) => row.reduce((a, b) => a + b, 0)));
    expect(data.classes.map((r) => r.precision)).toEqual(s.precision);
    for (const [k, label] of s.labels.entries()) {
      const row = c.report.split('\n').find((l) => l.trim().startsWith(`${label} `))!;
      const printed = row.trim().split(/\s+/).slice(1, 4).map(Number);
      expect(printed[0]).toBeCloseTo(s.precision[k], c.digits);
      expect(printed[1]).toBeCloseTo(s.recall[k], c.digits);
      expect(printed[2]).toBeCloseTo(s.f1[k], c.digits);
    }
  });

  it('zero_division=0: a class never predicted gets precision 0', () => {
    const s = precisionRecallFscoreSupport([1, 1, -1], [1, 1, 1]);
    expect(s.precision).toEqual([0, 2 / 3]);
    expect(s.recall).toEqual([0, 1]);
    expect(s.f1[0]).toBe(0);
  });

  it('a label subset prints "micro avg" instead of accuracy, like scikit-learn', () => {
    const report = classificationReport([0, 1, 2, 2], [0, 2, 2, 1], { labels: [0, 2] });
    expect(report).toContain('   micro avg');
    expect(report).not.toContain('accuracy');
  });

  it('rejects mismatched lengths and mixed label types with a clear error', () => {
    expect(() => classificationReport([1, -1], [1])).toThrow(/yTrue has 2 labels but yPred has 1/);
    expect(() => classificationReport([1, 'a'] as Label[], [1, 1])).toThrow(/mixes numbers and strings/);
  });
});

describe('ranking curves', () => {
  it('roc curve starts at (0,0), ends at (1,1) and is monotonic', () => {
    const c = fixture.ranking_scores[0];
    const r = rocCurve(c.y, c.score);
    expect([r.fpr[0], r.tpr[0]]).toEqual([0, 0]);
    expect([r.fpr[r.fpr.length - 1], r.tpr[r.tpr.length - 1]]).toEqual([1, 1]);
    for (let i = 1; i < r.fpr.length; i++) expect(r.fpr[i]).toBeGreaterThanOrEqual(r.fpr[i - 1]);
  });
  it('precision-recall curve ends with precision 1 at recall 0', () => {
    const c = fixture.ranking_scores[1];
    const pr = precisionRecallCurve(c.y, c.score);
    expect(pr.precision[pr.precision.length - 1]).toBe(1);
    expect(pr.recall[pr.recall.length - 1]).toBe(0);
  });
  it('ROC-AUC refuses a single-class target', () => {
    expect(() => rocAuc([1, 1, 1], [0.1, 0.2, 0.3])).toThrow(/only one class/);
  });
  it('posLabel picks the positive class; anomaly summary uses -1 and -score', () => {
    const y = [1, 1, -1, 1, -1];
    const scores = [-0.4, -0.45, -0.7, -0.42, -0.65];
    const pred = [1, 1, -1, 1, 1];
    const s = summarizeDetection(y, scores, pred);
    expect(s.rocAuc).toBe(1);
    expect(s.nFlagged).toBe(1);
    expect(s.precision).toBe(1);
    expect(s.recall).toBe(0.5);
    expect(s.confusion).toEqual({ labels: [-1, 1], matrix: [[1, 1], [0, 3]] });
  });
});

describe('npSum follows numpy pairwise summation', () => {
  it('sums short arrays left to right', () => {
    expect(npSum([0.1, 0.2, 0.3])).toBe(0.1 + 0.2 + 0.3);
  });
  it('uses 8 partial sums for 8..128 elements', () => {
    const a = Array.from({ length: 20 }, (_, i) => 1 / (i + 3));
    const r = a.slice(0, 8);
    for (let i = 8; i < 16; i++) r[i - 8] += a[i];
    let expected = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (let i = 16; i < 20; i++) expected += a[i];
    expect(npSum(a)).toBe(expected);
  });
});
