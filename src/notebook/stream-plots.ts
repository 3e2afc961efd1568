/**
 * Charts of records over time: the stream's batch timeline with its baseline,
 * the failover drill's accounting, and flows of a capture with their episodes.
 */
import type { TimelinePoint } from '../stream/batch';
import type { VegaLiteSpec } from './vega';
import { SCHEMA, COLORS, CONFIG, round } from './spec-parts';

/** A reference rate drawn as a labelled dashed line in the streaming timeline. */
export interface TimelineBaseline {
  /** share of rows, in [0, 1] */
  rate: number;
  /** what the rate is, e.g. "false-alarm rate on normal training rows" (the line's label and the subtitle) */
  label: string;
}

/**
 * Streaming timeline: anomalies per batch and the anomaly rate per batch,
 * against `baseline` (preferred: a false-alarm rate measured on normal traffic)
 * or, when only `contamination` is given, the share of anomalies the model was
 * told to expect in its training set.
 */
export function batchTimelineSpec(
  points: readonly TimelinePoint[],
  options: { contamination?: number | 'auto'; totalBatches?: number; baseline?: TimelineBaseline } = {},
): VegaLiteSpec {
  const values = points.map((p) => ({ ...p, anomalyRate: round(p.anomalyRate, 5) }));
  const domain = [0, Math.max(options.totalBatches ?? 0, ...points.map((p) => p.batch + 1)) - 0.5];
  const x = { field: 'batch', type: 'quantitative' as const, title: 'batch', scale: { domain: [-0.5, domain[1]] }, axis: { tickMinStep: 1, format: 'd' } };
  const line: TimelineBaseline | undefined =
    options.baseline ??
    (typeof options.contamination === 'number' ? { rate: options.contamination, label: 'contamination (share of anomalies the model was told to expect)' } : undefined);
  const expected = line?.rate;
  const rateLayers: unknown[] = [
    {
      data: { values },
      mark: { type: 'line', point: { color: COLORS.anomalous }, color: COLORS.anomalous },
      encoding: {
        x,
        y: { field: 'anomalyRate', type: 'quantitative', title: 'anomaly rate', axis: { format: '.1%' } },
        tooltip: [
          { field: 'batch', type: 'quantitative' },
          { field: 'anomalyRate', type: 'quantitative', format: '.2%', title: 'rate' },
        ],
      },
    },
  ];
  if (expected !== undefined) {
    rateLayers.push({
      data: { values: [{ expected, label: `${line!.label}: ${(100 * expected).toFixed(2)}%` }] },
      layer: [
        {
          mark: { type: 'rule', strokeDash: [6, 4], color: COLORS.threshold },
          encoding: { y: { field: 'expected', type: 'quantitative' }, tooltip: [{ field: 'label', type: 'nominal' }] },
        },
        {
          // the label sits on the line, at the left edge, so the SVG says what the line is
          mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 4, dy: -2, fontSize: 10, color: COLORS.threshold },
          encoding: {
            x: { datum: -0.5, type: 'quantitative' },
            y: { field: 'expected', type: 'quantitative' },
            text: { field: 'label', type: 'nominal' },
          },
        },
      ],
    });
  }
  return {
    $schema: SCHEMA,
    title: {
      text: `Streaming: ${points.length} batch${points.length === 1 ? '' : 'es'} scored`,
      subtitle: line ? `dashed line: ${line.label}` : 'anomalies per batch',
    },
    vconcat: [
      {
        width: 480,
        height: 150,
        data: { values },
        // bars on a quantitative axis need an explicit width (a band width needs a band scale)
        mark: { type: 'bar', color: COLORS.anomalous, size: Math.max(2, Math.min(24, 360 / Math.max(1, domain[1] + 0.5))) },
        encoding: {
          x,
          y: { field: 'anomalies', type: 'quantitative', title: 'anomalies flagged' },
          tooltip: [
            { field: 'batch', type: 'quantitative' },
            { field: 'rows', type: 'quantitative' },
            { field: 'anomalies', type: 'quantitative' },
          ],
        },
      },
      { width: 480, height: 120, layer: rateLayers },
    ],
    config: CONFIG,
  } as VegaLiteSpec;
}

/** One bar segment of the failover chart: records a consumer finished, by delivery. */
export interface FailoverBar {
  consumer: string;
  delivery: 'first delivery' | 'redelivered (taken over)';
  records: number;
}

/**
 * Failover drill: per consumer, the records of the entries it finished (wrote
 * and acknowledged), split into first deliveries and entries it took over from
 * the killed consumer.
 *
 * @param bars - from `failoverBars(result)`
 * @param title - the chart title (e.g. "50,000 records, none missing")
 */
export function failoverSpec(bars: readonly FailoverBar[], title: string): VegaLiteSpec {
  return {
    $schema: SCHEMA,
    title: { text: title, subtitle: 'records in the entries each consumer finished (its ledger lines)' },
    width: 420,
    height: 30 * Math.max(2, new Set(bars.map((b) => b.consumer)).size),
    data: { values: bars.map((b) => ({ ...b })) },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'consumer', type: 'nominal', title: null, sort: null },
      x: { field: 'records', type: 'quantitative', title: 'records', stack: 'zero' },
      color: {
        field: 'delivery',
        type: 'nominal',
        title: null,
        scale: { domain: ['first delivery', 'redelivered (taken over)'], range: [COLORS.normal, COLORS.anomalous] },
        legend: { orient: 'bottom', labelLimit: 300 },
      },
      order: { field: 'delivery', sort: 'ascending' },
      tooltip: [
        { field: 'consumer', type: 'nominal' },
        { field: 'delivery', type: 'nominal' },
        { field: 'records', type: 'quantitative', format: ',' },
      ],
    },
    config: CONFIG,
  } as VegaLiteSpec;
}

/** one shaded episode of {@link flowTimelineSpec} */
export interface TimelineEpisode {
  episode: string;
  startMs: number;
  endMs: number;
}

/**
 * Flows per second over a capture, stacked by label (normal, or the episode a flow
 * belongs to), with each attack episode's recorded time window shaded behind the bars.
 * Time is in seconds since the capture's first flow.
 *
 * @param firstSeenMs - each flow's first packet time (ms since the epoch)
 * @param labels - each flow's label ("normal" or an episode name)
 */
export function flowTimelineSpec(firstSeenMs: ArrayLike<number>, labels: readonly string[], episodes: readonly TimelineEpisode[], options: { title?: string } = {}): VegaLiteSpec {
  if (firstSeenMs.length !== labels.length) throw new RangeError(`flowTimelineSpec: ${firstSeenMs.length} times but ${labels.length} labels`);
  let t0 = Infinity;
  for (let i = 0; i < firstSeenMs.length; i++) t0 = Math.min(t0, firstSeenMs[i]!);
  const counts = new Map<string, number>();
  for (let i = 0; i < firstSeenMs.length; i++) {
    const key = `${Math.floor((firstSeenMs[i]! - t0) / 1000)}|${labels[i]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const bars = [...counts].map(([k, n]) => {
    const [second, label] = k.split('|');
    return { second: Number(second), label, flows: n };
  });
  const order = ['normal', ...episodes.map((e) => e.episode).filter((e, i, a) => a.indexOf(e) === i)];
  const shades = episodes.map((e) => ({ episode: e.episode, start: round((e.startMs - t0) / 1000, 2), end: round((e.endMs - t0) / 1000, 2) }));
  return {
    $schema: SCHEMA,
    title: { text: options.title ?? 'Flows per second', subtitle: 'stacked by label on a symlog axis (the top of a bar is the total); shaded: each attack episode\'s recorded window' },
    width: 640,
    height: 220,
    layer: [
      {
        data: { values: shades },
        mark: { type: 'rect', opacity: 0.15, color: '#888' },
        encoding: { x: { field: 'start', type: 'quantitative', scale: { domainMin: 0, nice: false } }, x2: { field: 'end' }, tooltip: [{ field: 'episode', type: 'nominal' }, { field: 'start', type: 'quantitative', title: 'from s' }, { field: 'end', type: 'quantitative', title: 'to s' }] },
      },
      {
        data: { values: bars },
        mark: { type: 'bar', width: 2 },
        encoding: {
          x: { field: 'second', type: 'quantitative', title: 'seconds since the first flow', scale: { domainMin: 0, nice: false } },
          y: { field: 'flows', type: 'quantitative', aggregate: 'sum', title: 'flows starting per second', scale: { type: 'symlog' } },
          color: { field: 'label', type: 'nominal', title: 'label', sort: order, scale: { domain: order } },
          order: { field: 'label', sort: 'ascending' },
          tooltip: [{ field: 'second', type: 'quantitative' }, { field: 'label', type: 'nominal' }, { field: 'flows', type: 'quantitative' }],
        },
      },
    ],
    config: CONFIG,
  } as VegaLiteSpec;
}
