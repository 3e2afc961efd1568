/**
 * What every chart spec shares: the schema, the colours and the look, and the
 * parts several charts are built from (per-class histogram bins and their bar
 * layer, thinning a curve, label names). Data are pre-binned or thinned so a
 * chart stays small in the notebook (a few KB of JSON, not 10,500 raw rows).
 */

/** The Vega-Lite v5 schema every spec names (shared with the other chart modules of this folder). */
export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

export const COLORS = {
  normal: '#4c78a8',
  anomalous: '#e45756',
  passed: '#4c78a8',
  flagged: '#e45756',
  threshold: '#222222',
};

/** The look every chart shares. */
export const CONFIG = {
  view: { stroke: null },
  font: 'Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const, grid: true, gridOpacity: 0.4 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 15, subtitleFontSize: 12, subtitleColor: '#555555', anchor: 'start' as const, offset: 10 },
};

export function round(v: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function classOf(label: number): 'normal' | 'anomalous' {
  return label === -1 ? 'anomalous' : 'normal';
}

export function extent(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < lo) lo = values[i];
    if (values[i] > hi) hi = values[i];
  }
  return [lo, hi];
}

/**
 * Pre-binned histogram of each class over one shared range: one record per
 * non-empty bin, {class, start, end, count, share of the class}.
 */
export function classBins(values: ArrayLike<number>, truth: ArrayLike<number>, lo: number, hi: number, bins: number, digits: number): Record<string, unknown>[] {
  const width = (hi - lo) / bins || 1;
  const counts = { normal: new Array<number>(bins).fill(0), anomalous: new Array<number>(bins).fill(0) };
  for (let i = 0; i < values.length; i++) {
    const k = Math.min(bins - 1, Math.max(0, Math.floor((values[i] - lo) / width)));
    counts[classOf(truth[i])][k]++;
  }
  const out: Record<string, unknown>[] = [];
  for (const cls of ['normal', 'anomalous'] as const) {
    const total = counts[cls].reduce((a, b) => a + b, 0);
    counts[cls].forEach((count, k) => {
      if (count > 0) out.push({ class: cls, start: round(lo + k * width, digits), end: round(lo + (k + 1) * width, digits), count, share: round(count / total, 5) });
    });
  }
  return out;
}

/** Colour by true class, the same two colours in every chart. */
export function classColor(title: string, field = 'class'): Record<string, unknown> {
  return { field, type: 'nominal', title, scale: { domain: ['normal', 'anomalous'], range: [COLORS.normal, COLORS.anomalous] } };
}

/** Keep at most `max` points of a curve, evenly spaced, always with both ends. */
export function thin<T>(points: T[], max: number): T[] {
  if (points.length <= max) return points;
  const step = (points.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, k) => points[Math.round(k * step)]);
}

export function labelName(label: number | string): string {
  if (label === -1) return 'anomaly (-1)';
  if (label === 1) return 'normal (1)';
  return String(label);
}

/**
 * The bar layer of a per-class histogram over {@link classBins}: bars from each
 * bin's start to its end, coloured by class, the bin and its rows in the
 * tooltip. `y` says what the height is (the share of the class, or the count).
 */
export function classHistogramLayer(o: { opacity: number; xTitle: string; y: Record<string, unknown>; color: Record<string, unknown>; tooltipFirst?: Record<string, unknown>[] }): { mark: { type: 'bar'; opacity: number; binSpacing: number }; encoding: Record<string, unknown> } {
  return {
    mark: { type: 'bar' as const, opacity: o.opacity, binSpacing: 0 },
    encoding: {
      x: { field: 'start', type: 'quantitative', bin: { binned: true }, title: o.xTitle },
      x2: { field: 'end' },
      y: o.y,
      color: o.color,
      tooltip: [
        ...(o.tooltipFirst ?? []),
        { field: 'class', type: 'nominal' },
        { field: 'start', type: 'quantitative', title: 'from' },
        { field: 'end', type: 'quantitative', title: 'to' },
        { field: 'count', type: 'quantitative', title: 'rows' },
      ],
    },
  };
}
