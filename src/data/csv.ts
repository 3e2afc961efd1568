import { createMatrix, type Matrix } from '../core/matrix';
import type { Dataset } from './simulate';

/**
 * The data set as CSV: a header of feature names plus "label", one row per
 * line. Numbers are written in JavaScript's shortest round-trip form, so
 * reading the file back gives the identical float64 values.
 */
export function datasetToCsv(data: Dataset): string {
  const { X, y, featureNames } = data;
  const lines: string[] = [[...featureNames, 'label'].join(',')];
  for (let i = 0; i < X.rows; i++) {
    const cells: string[] = [];
    for (let j = 0; j < X.cols; j++) cells.push(String(X.data[i * X.cols + j]));
    cells.push(String(y[i]));
    lines.push(cells.join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Rows of features as CSV with a header of feature names (the stream command's input format). */
export function matrixToCsv(X: Matrix, featureNames: readonly string[]): string {
  if (featureNames.length !== X.cols) throw new RangeError(`${featureNames.length} names for ${X.cols} columns`);
  const lines: string[] = [featureNames.join(',')];
  for (let i = 0; i < X.rows; i++) lines.push(Array.from(X.data.subarray(i * X.cols, (i + 1) * X.cols), String).join(','));
  return `${lines.join('\n')}\n`;
}

/**
 * Read a numeric CSV with a header whose last column is the label (1 / -1),
 * e.g. the reference script's seed_data.csv or datasetToCsv output. Every
 * problem names the line and column.
 */
export function parseDatasetCsv(text: string, source = 'CSV'): Dataset {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new RangeError(`${source}: empty file`);
  const header = lines[0].split(',').map((h) => h.trim());
  if (header.length < 2) throw new RangeError(`${source}: header needs feature columns and a label column, got "${lines[0]}"`);
  const d = header.length - 1;
  const n = lines.length - 1;
  const X = createMatrix(n, d);
  const y = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    const cells = lines[i + 1].split(',');
    if (cells.length !== header.length) throw new RangeError(`${source} line ${i + 2}: ${cells.length} fields, expected ${header.length}`);
    for (let j = 0; j <= d; j++) {
      const v = Number(cells[j]);
      if (cells[j].trim() === '' || !Number.isFinite(v)) throw new RangeError(`${source} line ${i + 2}, column ${header[j]}: "${cells[j]}" is not a finite number`);
      if (j < d) X.data[i * d + j] = v;
      else if (v === 1 || v === -1) y[i] = v;
      else throw new RangeError(`${source} line ${i + 2}, column ${header[j]}: label ${cells[j]} is neither 1 nor -1`);
    }
  }
  return { X, y, featureNames: header.slice(0, d) };
}
