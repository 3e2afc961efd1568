/**
 * Running figures of a long stream with bounded memory: batch latency
 * percentiles over the most recent batches, and the anomaly rate over a
 * sliding window of records as a drift signal.
 */

/** Latencies of the last `capacity` batches (a ring), for p50 / p99. */
export class LatencyStats {
  private readonly ring: Float64Array;
  private count = 0;

  constructor(capacity = 10_000) {
    this.ring = new Float64Array(capacity);
  }

  add(ms: number): void {
    this.ring[this.count % this.ring.length] = ms;
    this.count++;
  }

  /** nearest-rank percentile (p in [0, 100]) of the kept latencies; NaN before the first batch */
  percentile(p: number): number {
    const n = Math.min(this.count, this.ring.length);
    if (n === 0) return NaN;
    const sorted = this.ring.slice(0, n).sort();
    const rank = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
    return sorted[rank];
  }
}

export interface DriftState {
  /** anomaly rate over the window (or over everything seen, before the window is full) */
  rate: number;
  /** records in the window */
  records: number;
  /** the rate is above expected x factor and the window is full */
  drifting: boolean;
  /** drifting changed with this batch */
  changed: boolean;
}

/**
 * Anomaly rate over (about) the last `windowRecords` records, kept per batch,
 * compared with the rate the model expects. A window that flags more than
 * `factor` times the expected share signals attacks or drifted traffic.
 */
export class DriftWindow {
  private readonly batches: Array<{ rows: number; anomalies: number }> = [];
  private rows = 0;
  private anomalies = 0;
  private drifting = false;

  constructor(
    readonly windowRecords: number,
    readonly expectedRate: number,
    readonly factor: number,
  ) {}

  add(rows: number, anomalies: number): DriftState {
    this.batches.push({ rows, anomalies });
    this.rows += rows;
    this.anomalies += anomalies;
    // drop whole batches from the front while the rest still covers the window
    while (this.batches.length > 1 && this.rows - this.batches[0].rows >= this.windowRecords) {
      const old = this.batches.shift()!;
      this.rows -= old.rows;
      this.anomalies -= old.anomalies;
    }
    const rate = this.rows === 0 ? 0 : this.anomalies / this.rows;
    const drifting = this.rows >= this.windowRecords && rate > this.expectedRate * this.factor;
    const changed = drifting !== this.drifting;
    this.drifting = drifting;
    return { rate, records: this.rows, drifting, changed };
  }
}
