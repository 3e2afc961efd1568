import { describe, expect, it } from 'vitest';
import { fromRows } from '../src/core/matrix';
import { confusionRows, dataFrameRows, describeColumns, escapeHtml, htmlTable, matrixRows, paramsTable, reportRows, textTable } from '../src/notebook/tables';
import { classificationReportData } from '../src/eval/metrics';
import { DEFAULT_PARAMS, loadParams } from '../src/params/params';

describe('HTML tables', () => {
  it('escape cell text and caption', () => {
    const html = htmlTable([{ name: '<script>', n: 2 }], { caption: 'a & b' });
    expect(html).toContain('<caption>a &amp; b</caption>');
    expect(html).toContain('<td>&lt;script&gt;</td>');
    expect(html).toContain('<td style="text-align:right">2</td>');
    expect(escapeHtml('"x"')).toBe('&quot;x&quot;');
  });
  it('format non-integers with the asked digits and keep integers', () => {
    expect(htmlTable([{ v: 0.123456, n: 7 }], { digits: 2 })).toContain('<td style="text-align:right">0.12</td>');
    expect(textTable([{ v: 0.5, n: 7 }])).toBe('     v  n\n0.5000  7');
    expect(textTable([{ v: -1e-17 }])).toBe('     v\n0.0000');
    expect(textTable([{ v: -0.00004 }], { digits: 4 })).toBe('     v\n0.0000');
    expect(textTable([{ v: -0.00005 }], { digits: 4 })).toBe('      v\n-0.0001');
  });
  it('show a placeholder row when empty', () => {
    expect(htmlTable([], { columns: ['a', 'b'], emptyText: 'nothing yet' })).toContain('<td colspan="2"><i>nothing yet</i></td>');
    expect(textTable([], { columns: ['a'], emptyText: 'nothing yet' })).toContain('(nothing yet)');
  });
});

describe('describeColumns is pandas describe()', () => {
  it('count, mean, std (ddof 1), min, quartiles, max', () => {
    const rows = describeColumns(fromRows([[1], [2], [3], [4]]), ['x']);
    const get = (s: string) => rows.find((r) => r.statistic === s)!.x;
    expect(get('count')).toBe(4);
    expect(get('mean')).toBe(2.5);
    expect(get('std')).toBeCloseTo(Math.sqrt(5 / 3), 14);
    expect([get('min'), get('25%'), get('50%'), get('75%'), get('max')]).toEqual([1, 1.75, 2.5, 3.25, 4]);
  });
});

describe('row helpers', () => {
  it('matrixRows names the features and adds extra columns', () => {
    expect(matrixRows(fromRows([[1, 2], [3, 4]]), ['a', 'b'], [1], (i) => ({ label: i }))).toEqual([{ row: 1, a: 3, b: 4, label: 1 }]);
  });
  it('confusionRows labels classes and totals', () => {
    expect(confusionRows({ labels: [-1, 1], matrix: [[3, 1], [2, 9]] })).toEqual([
      { 'true \\ predicted': 'anomaly (-1)', 'anomaly (-1)': 3, 'normal (1)': 1, total: 4 },
      { 'true \\ predicted': 'normal (1)', 'anomaly (-1)': 2, 'normal (1)': 9, total: 11 },
    ]);
  });
  it('paramsTable: a compact grid, overridden values marked with their default and source', () => {
    const t = paramsTable(loadParams({ env: {}, overrides: { seed: 1 } }), DEFAULT_PARAMS as unknown as Record<string, unknown>);
    expect(t.rows).toHaveLength(5); // 15 parameters, 3 per row
    expect(t.rows[0]).toMatchObject({ p0: 'seed', v0: '1 * (default 42)', p1: 'nNormal', v1: '10000' });
    expect(t.caption).toBe('Experiment parameters (* set by code)');
    expect(t.columns.map((c) => c.title)).toEqual(['parameter', 'value', 'parameter', 'value', 'parameter', 'value']);
    expect(paramsTable(loadParams({ env: {} }), DEFAULT_PARAMS as unknown as Record<string, unknown>).caption).toContain('all defaults');
  });
  it('reportRows: the classification report as a table with the printed rows', () => {
    const rows = reportRows(classificationReportData([1, 1, -1, -1, 1], [1, -1, -1, -1, 1]));
    expect(rows.map((r) => r[''])).toEqual(['-1', '1', 'accuracy', 'macro avg', 'weighted avg']);
    expect(rows[0]).toEqual({ '': '-1', precision: 2 / 3, recall: 1, 'f1-score': 0.8, support: 2 });
    expect(rows[2]['f1-score']).toBeCloseTo(0.8, 15); // 2pr/(p+r) as scikit-learn computes it: 0.8000000000000002
    expect(rows[2].support).toBe(5);
  });
  it('dataFrameRows reads a danfojs-like frame', () => {
    expect(dataFrameRows({ columns: ['a', 'b'], values: [[1, 2]] }, [7])).toEqual([{ '': 7, a: 1, b: 2 }]);
  });
});
