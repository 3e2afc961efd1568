import type { LoadedModel } from '../persist/bundle';
import { newLiveDisplay } from './display';
import { batchTimelineSpec, type TimelineBaseline } from './stream-plots';
import { showPlot } from './vega';
import { anomalyRecords, timelinePoint, type StreamTotals, type StreamUpdate } from '../stream/batch';
import { showTable, type TableRow } from './tables';

/**
 * The live view of a stream in a notebook: one chart (anomalies and anomaly
 * rate per batch) and one table (the latest flagged rows), each redrawn in
 * place as batches arrive.
 */
export class StreamDashboard {
  readonly timeline: ReturnType<typeof timelinePoint>[] = [];
  /** every flagged row so far, newest first */
  readonly flagged: Record<string, number>[] = [];
  private readonly chart = newLiveDisplay();
  private readonly table = newLiveDisplay();

  constructor(
    private readonly model: LoadedModel,
    private readonly totalBatches: number,
    private readonly maxRows = 10,
    /** the dashed reference line of the rate chart (default: the model's contamination) */
    private readonly baseline?: TimelineBaseline,
  ) {}

  /** times the chart and the table have been drawn */
  get redraws(): { chart: number; table: number } {
    return { chart: this.chart.updates, table: this.table.updates };
  }

  async show(update: StreamUpdate): Promise<void> {
    this.timeline.push(timelinePoint(update));
    this.flagged.unshift(...anomalyRecords(update, this.model.featureNames).reverse());
    await showPlot(batchTimelineSpec(this.timeline, { contamination: this.model.params.contamination, totalBatches: this.totalBatches, baseline: this.baseline }), this.chart);
    const s = update.result.stats;
    showTable(
      this.flagged.slice(0, this.maxRows),
      {
        columns: ['batch', 'row', ...this.model.featureNames, 'score', 'decision'],
        caption: `${this.flagged.length} rows flagged in ${update.batchIndex + 1} batches of ${s.rows} (newest first, at most ${this.maxRows} shown); batch ${update.batchIndex} scored in ${s.latencyMs.toFixed(1)} ms`,
        emptyText: 'no row flagged yet',
      },
      this.table,
    );
  }
}

/** Running totals of a stream as table rows. */
export function streamTotalsRows(t: StreamTotals): TableRow[] {
  return [
    { total: 'batches', value: t.batches },
    { total: 'rows scored', value: t.rows },
    { total: 'rows flagged', value: t.anomalies },
    { total: 'anomaly rate', value: `${(100 * t.anomalyRate).toFixed(2)}%` },
    { total: 'scoring time (ms)', value: t.scoringMs.toFixed(1) },
    { total: 'rows per second (scoring only)', value: Math.round(t.rowsPerSecond) },
  ];
}

/**
 * One sentence on a stream's flagged rows against its baseline, with the right
 * word for them: in a stream of purely normal traffic (`streamAnomalyShare` 0)
 * every flagged row is a false alarm; otherwise flags mix caught attacks and
 * false alarms and only the excess over the baseline hints at attacks.
 *
 * @param t the stream's final totals
 * @param streamAnomalyShare share of anomalies injected into the stream (0 = pure normal traffic)
 * @param baseline the reference rate (e.g. the false-alarm rate on normal training rows) and what it is
 */
export function describeStreamAlarms(t: StreamTotals, streamAnomalyShare: number, baseline: TimelineBaseline): string {
  const pct = (r: number) => `${(100 * r).toFixed(2)}%`;
  const rate = t.rows > 0 ? t.anomalies / t.rows : 0;
  const against = `${pct(rate)} of ${t.rows} rows, against a baseline of ${pct(baseline.rate)} (${baseline.label})`;
  if (streamAnomalyShare === 0) {
    return `pure normal traffic: all ${t.anomalies} flagged rows are false alarms, ${against}`;
  }
  const excess = rate - baseline.rate;
  return `${t.anomalies} rows flagged, ${against}; ${pct(streamAnomalyShare)} of the streamed rows were injected anomalies, the excess over the baseline is ${pct(Math.max(0, excess))}`;
}
