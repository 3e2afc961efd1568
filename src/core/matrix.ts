/**
 * A dense row-major matrix of float64 values.
 *
 * Every numeric step of the pipeline (simulate, scale, PCA, forest) works on this
 * one shape so that hot loops index a single typed array instead of chasing
 * per-row JavaScript arrays.
 */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  /** row-major: element (i, j) is data[i * cols + j] */
  readonly data: Float64Array;
}

export function createMatrix(rows: number, cols: number, data?: Float64Array): Matrix {
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`matrix rows must be a non-negative integer, got ${rows}`);
  if (!Number.isInteger(cols) || cols < 0) throw new RangeError(`matrix cols must be a non-negative integer, got ${cols}`);
  const values = data ?? new Float64Array(rows * cols);
  if (values.length !== rows * cols) {
    throw new RangeError(`matrix data has ${values.length} values, expected ${rows} x ${cols} = ${rows * cols}`);
  }
  return { rows, cols, data: values };
}

/** Build a matrix from nested arrays; every row must have the same length. */
export function fromRows(rows: ArrayLike<ArrayLike<number>>, cols?: number): Matrix {
  const n = rows.length;
  const d = cols ?? (n > 0 ? rows[0].length : 0);
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (r.length !== d) throw new RangeError(`row ${i} has ${r.length} values, expected ${d}`);
    for (let j = 0; j < d; j++) data[i * d + j] = r[j];
  }
  return { rows: n, cols: d, data };
}

export function toRows(m: Matrix): number[][] {
  const out: number[][] = new Array(m.rows);
  for (let i = 0; i < m.rows; i++) out[i] = Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));
  return out;
}

export function getRow(m: Matrix, i: number): Float64Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

export function getColumn(m: Matrix, j: number): Float64Array {
  const out = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) out[i] = m.data[i * m.cols + j];
  return out;
}

export function selectRows(m: Matrix, indices: ArrayLike<number>): Matrix {
  const out = new Float64Array(indices.length * m.cols);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    out.set(m.data.subarray(i * m.cols, (i + 1) * m.cols), k * m.cols);
  }
  return { rows: indices.length, cols: m.cols, data: out };
}

/** Stack matrices with the same column count on top of each other. */
export function vstack(parts: readonly Matrix[]): Matrix {
  if (parts.length === 0) return createMatrix(0, 0);
  const cols = parts[0].cols;
  let rows = 0;
  for (const p of parts) {
    if (p.cols !== cols) throw new RangeError(`cannot stack a matrix with ${p.cols} columns onto one with ${cols}`);
    rows += p.rows;
  }
  const data = new Float64Array(rows * cols);
  let offset = 0;
  for (const p of parts) {
    data.set(p.data, offset);
    offset += p.data.length;
  }
  return { rows, cols, data };
}

/** Accept either a Matrix or nested arrays and return a Matrix (no copy for a Matrix). */
export function asMatrix(input: Matrix | ArrayLike<ArrayLike<number>>, cols?: number): Matrix {
  if (isMatrix(input)) return input;
  return fromRows(input, cols);
}

export function isMatrix(x: unknown): x is Matrix {
  return (
    typeof x === 'object' &&
    x !== null &&
    (x as Matrix).data instanceof Float64Array &&
    typeof (x as Matrix).rows === 'number' &&
    typeof (x as Matrix).cols === 'number'
  );
}
