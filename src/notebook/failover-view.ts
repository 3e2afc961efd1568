/**
 * What a notebook shows of a failover drill (src/stream/failover-drill.ts):
 * the accounting of every record, the consumers, and the bars of the chart.
 */
import type { FailoverDrillResult } from '../stream/failover-drill';
import type { FailoverBar } from './stream-plots';
import type { TableRow } from './tables';
import { formatCount } from '../core/count-text';

/**
 * Every published record by outcome (a partition: scored + rejected +
 * dead-lettered + missing = published), then the finished ones by delivery.
 */
export function failoverRecordRows(r: FailoverDrillResult): TableRow[] {
  return [
    { records: 'published', count: formatCount(r.records.published), meaning: `${formatCount(r.entries)} stream entries of up to ${formatCount(Math.ceil(r.records.published / Math.max(1, r.entries)))} records` },
    { records: 'scored', count: formatCount(r.records.scored), meaning: 'an anomaly score was computed; anomalous ones wrote an alert' },
    { records: 'rejected', count: formatCount(r.records.rejected), meaning: 'bad line, written to the rejects with its reason' },
    { records: 'dead-lettered', count: formatCount(r.records.deadLettered), meaning: `moved to ${r.stream}:dead after too many deliveries` },
    { records: 'missing', count: formatCount(r.records.missing), meaning: 'in no ledger and not dead-lettered (lost)' },
    { records: 'finished on first delivery', count: formatCount(r.records.firstDelivery), meaning: 'scored or rejected by the consumer that first read them' },
    { records: 'redelivered', count: formatCount(r.records.redelivered), meaning: `delivered again: taken over from ${r.kill.consumer} by a survivor` },
    { records: 'results written twice', count: formatCount(r.records.writtenTwice), meaning: `written by ${r.kill.consumer} but not acknowledged; repeated with deliveries > 1` },
  ];
}

/** One row per consumer: what happened to it and what it finished. */
export function failoverConsumerRows(r: FailoverDrillResult): TableRow[] {
  return r.consumers.map((c) => ({
    consumer: c.name,
    ended: c.killed ? `SIGKILL after ${formatCount(c.entriesFinished)} entries, holding ${r.kill.pendingEntries}` : c.exitCode === 0 ? 'exit 0 (idle, group drained)' : `exit ${c.exitCode ?? c.signal}`,
    'entries finished': formatCount(c.entriesFinished),
    'of them redelivered': formatCount(c.entriesRedelivered),
    records: formatCount(c.records),
    'claimed (XAUTOCLAIM)': c.summary?.entries ? formatCount(c.summary.entries.claimedEntries) : '-',
  }));
}

/** The bars of `failoverSpec`: per consumer, records finished on first delivery and redelivered. */
export function failoverBars(r: FailoverDrillResult): FailoverBar[] {
  return r.consumers.flatMap((c) => {
    const label = c.killed ? `${c.name} (killed)` : c.name;
    return [
      { consumer: label, delivery: 'first delivery' as const, records: c.records - c.recordsRedelivered },
      { consumer: label, delivery: 'redelivered (taken over)' as const, records: c.recordsRedelivered },
    ];
  });
}
