/**
 * One member of a consumer group scoring a shared source of raw record lines
 * (a Redis stream, or any RecordSource): parse each entry's lines with the
 * model's RecordParser, score them in micro-batches with the stream scorer
 * (createBatchScorer: the same processBatch as every other path), write one
 * alert per anomalous record and one reject per bad line, and acknowledge the
 * entries only after those writes are durable. Entries delivered too often, or
 * that cannot be parsed at all, go to the dead-letter stream with the reason.
 *
 * Every record received is accounted for: scored, rejected or dead-lettered.
 */
import { RecordParser, InputError, type InputFormat } from '../data/records';
import type { LoadedModel } from '../persist/bundle';
import { createBatchScorer, type ScoredBatch } from './scorer';
import { LatencyStats } from './stats';
import type { DurableOutput } from './durable-output';
import { isMalformedEntry } from './redis-source';
import type { RecordSource, SourceEntry, SourceStats } from './source';

export interface GroupConsumerOptions {
  /** CSV or NDJSON lines */
  format: InputFormat;
  /** an entry handed out more often than this is dead-lettered instead of scored (default 5) */
  maxDeliveries?: number;
  /** entries per read (default 64; with 100 records per entry, about 6400 records) */
  entriesPerRead?: number;
  /** rows per scoring micro-batch (default 4096) */
  batchSize?: number;
  /** 1 = score on this thread, 2 = on a worker thread (default 2) */
  threads?: number;
  /** stop once nothing arrived for this long and the group has no pending entry (default: never) */
  exitWhenIdleMs?: number;
  /** consumer name and stream, written into every alert */
  consumer: string;
  stream: string;
  /** progress line every this many ms through `log`, 0 = none (default 0) */
  progressMs?: number;
  /** where progress and warnings go (default: nowhere) */
  log?: (line: string) => void;
}

export interface GroupConsumerOutputs {
  alerts: DurableOutput;
  rejects: DurableOutput;
  /** one line per finished entry: {entry, line, records, scored, anomalous, rejected, deliveries, consumer} */
  ledger?: DurableOutput;
}

export interface GroupConsumerSummary {
  source: string;
  modelChecksum: string;
  consumer: string;
  entries: SourceStats & { redelivered: number };
  recordsReceived: number;
  recordsScored: number;
  recordsAnomalous: number;
  recordsRejected: number;
  recordsDeadLettered: number;
  rejectReasons: Record<string, number>;
  deadLetterReasons: Record<string, number>;
  batches: number;
  seconds: number;
  recordsPerSecond: number;
  batchLatencyMs: { p50: number; p99: number };
  stoppedBy: 'signal' | 'idle' | 'stop()';
  warnings: string[];
  peakRssMB: number;
}

/** The shape of one alert line. */
export interface GroupAlert {
  /** the entry id and the record's index in it name the record across redeliveries */
  entry: string;
  index: number;
  /** source line of the record, as the publisher counted */
  line: number;
  stream: string;
  consumer: string;
  /** > 1: this entry was handed out before, an earlier alert for (entry, index) may exist */
  deliveries: number;
  timestamp: string;
  score: number;
  decision: number;
  record: Record<string, number>;
}

/** Entries read together, scored, committed and acknowledged together. */
interface Cycle {
  entries: SourceEntry[];
  /** global row number of this cycle's first parsed record (the scorer's tag) */
  rowStart: number;
  rows: number;
  /** per row: index into entries, and the record's index within its entry */
  rowEntry: Int32Array;
  rowIndex: Int32Array;
  unscored: number;
  perEntry: Array<{ scored: number; anomalous: number; rejected: number }>;
}

export interface GroupConsumer {
  /** resolves with the summary once the consumer stopped and everything read was committed and acked */
  readonly done: Promise<GroupConsumerSummary>;
  /** ask it to stop after the current read (what is read is still scored, written and acked) */
  stop(by?: 'signal' | 'stop()'): void;
}

/**
 * Start consuming. The source must be open.
 *
 * @param model - the loaded bundle; @param modelPath - its file (the scoring worker loads it too)
 * @param source - an opened RecordSource (e.g. RedisStreamSource)
 * @param outputs - alerts, rejects and optional ledger
 * @param options - see GroupConsumerOptions
 * @returns a handle; `done` rejects when the source or an output fails (unacked entries then stay pending for another consumer)
 */
export function startGroupConsumer(model: LoadedModel, modelPath: string, source: RecordSource, outputs: GroupConsumerOutputs, options: GroupConsumerOptions): GroupConsumer {
  let stopRequest: GroupConsumerSummary['stoppedBy'] | undefined;
  const done = consume(model, modelPath, source, outputs, options, () => stopRequest);
  return {
    done,
    stop: (by = 'stop()') => {
      stopRequest ??= by;
    },
  };
}

async function consume(
  model: LoadedModel,
  modelPath: string,
  source: RecordSource,
  outputs: GroupConsumerOutputs,
  options: GroupConsumerOptions,
  stopRequested: () => GroupConsumerSummary['stoppedBy'] | undefined,
): Promise<GroupConsumerSummary> {
  const maxDeliveries = options.maxDeliveries ?? 5;
  const entriesPerRead = options.entriesPerRead ?? 64;
  const batchSize = options.batchSize ?? 4096;
  const log = options.log ?? (() => undefined);
  const d = model.featureNames.length;
  const started = performance.now();
  const latency = new LatencyStats();

  let received = 0;
  let scored = 0;
  let anomalous = 0;
  let rejected = 0;
  let deadLettered = 0;
  let batches = 0;
  let redelivered = 0;
  const rejectReasons: Record<string, number> = {};
  const deadReasons: Record<string, number> = {};
  const warnings: string[] = [];

  // one parser per CSV header seen (entries carry the header of their capture)
  const parsers = new Map<string, RecordParser | InputError>();
  const scratch = new Float64Array(d);
  const parserFor = (header: string | undefined): RecordParser | InputError => {
    const key = header ?? '';
    let p = parsers.get(key);
    if (!p) {
      const parser = new RecordParser(model.featureNames, options.format);
      p = parser;
      if (options.format === 'csv') {
        // prime it with the header, or with the feature names (= no header: columns in model order),
        // so that a bad first line of an entry is never taken for a header
        try {
          parser.parse(header ?? model.featureNames.join(','), scratch, 0);
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          p = e;
        }
      }
      parsers.set(key, p);
    }
    if (p instanceof RecordParser) {
      for (const w of p.warnings) if (!warnings.includes(w)) (warnings.push(w), log(`warning: ${w}`));
    }
    return p;
  };

  const cycles: Cycle[] = [];
  let rowSeq = 0;
  const free: Array<{ values: Float64Array; tags: Float64Array }> = [];
  const take = () => free.pop() ?? { values: new Float64Array(batchSize * d), tags: new Float64Array(batchSize) };
  let current = take();
  let pending = 0;

  const cycleOf = (row: number): Cycle => {
    for (const c of cycles) if (row >= c.rowStart && row < c.rowStart + c.rows) return c;
    throw new Error(`internal: scored row ${row} belongs to no open cycle`);
  };

  const onScored = (b: ScoredBatch) => {
    const c = cycleOf(b.tags[0]);
    const timestamp = new Date().toISOString();
    for (const i of b.anomalies) {
      const row = b.tags[i] - c.rowStart;
      const e = c.entries[c.rowEntry[row]];
      const index = c.rowIndex[row];
      const record: Record<string, number> = {};
      for (let j = 0; j < d; j++) record[model.featureNames[j]] = b.values[i * d + j];
      const alert: GroupAlert = { entry: e.id, index, line: e.firstLine + index, stream: options.stream, consumer: options.consumer, deliveries: e.deliveries, timestamp, score: b.scores[i], decision: b.decision[i], record };
      outputs.alerts.write(JSON.stringify(alert));
      c.perEntry[c.rowEntry[row]].anomalous++;
    }
    for (let i = 0; i < b.rows; i++) c.perEntry[c.rowEntry[b.tags[i] - c.rowStart]].scored++;
    c.unscored -= b.rows;
    scored += b.rows;
    anomalous += b.anomalies.length;
    batches++;
    latency.add(b.latencyMs);
    free.push({ values: b.values, tags: b.tags });
  };
  const scorer = createBatchScorer(model, modelPath, options.threads ?? 2, onScored);

  const flush = () => {
    if (pending === 0) return;
    scorer.submit(current.values, current.tags, pending);
    pending = 0;
    current = take();
  };

  // commits run one after another, oldest cycle first; a failure stops everything (nothing later is acked)
  let commitTail: Promise<void> = Promise.resolve();
  let commitError: Error | undefined;
  const commitReady = () => {
    commitTail = commitTail.then(async () => {
      const ready: Cycle[] = [];
      while (cycles.length > 0 && cycles[0].unscored === 0) ready.push(cycles.shift()!);
      if (ready.length === 0) return;
      if (outputs.ledger) {
        for (const c of ready) {
          c.entries.forEach((e, k) => {
            const s = c.perEntry[k];
            outputs.ledger!.write(JSON.stringify({ entry: e.id, line: e.firstLine, records: e.lines.length, scored: s.scored, anomalous: s.anomalous, rejected: s.rejected, deliveries: e.deliveries, consumer: options.consumer }));
          });
        }
      }
      await Promise.all([outputs.alerts.commit(), outputs.rejects.commit(), outputs.ledger?.commit()]);
      await source.ack(ready.flatMap((c) => c.entries.map((e) => e.id)));
    });
    commitTail.catch((e: Error) => (commitError ??= e));
  };

  const deadLetter = async (e: SourceEntry, reason: string) => {
    await source.deadLetter(e, reason);
    deadLettered += e.lines.length;
    received += e.lines.length;
    const key = reason.replace(/: .*$/, '').replace(/\d+/g, 'N');
    deadReasons[key] = (deadReasons[key] ?? 0) + e.lines.length;
    log(`dead-lettered entry ${e.id} (${e.lines.length} records from line ${e.firstLine}): ${reason}`);
  };

  const progressTimer =
    options.progressMs && options.progressMs > 0
      ? setInterval(() => {
          const secs = (performance.now() - started) / 1000;
          log(`${secs.toFixed(1)} s: ${received} received, ${scored} scored, ${anomalous} anomalous, ${rejected} rejected, ${deadLettered} dead-lettered, ${Math.round(scored / Math.max(secs, 1e-9))} records/s`);
        }, options.progressMs)
      : undefined;

  let lastEntryAt = performance.now();
  let stoppedBy: GroupConsumerSummary['stoppedBy'] | undefined;
  try {
    while (!commitError) {
      stoppedBy = stopRequested();
      if (stoppedBy) break;
      const batch = await source.read(entriesPerRead);
      if (batch.entries.length === 0) {
        commitReady();
        if (options.exitWhenIdleMs !== undefined && performance.now() - lastEntryAt >= options.exitWhenIdleMs) {
          flush();
          await scorer.waitUntil(0);
          commitReady();
          await commitTail;
          if (cycles.length === 0 && (await source.drained())) {
            stoppedBy = 'idle';
            break;
          }
        }
        continue;
      }
      lastEntryAt = performance.now();
      const toScore: SourceEntry[] = [];
      for (const e of batch.entries) {
        if (e.deliveries > 1) redelivered++;
        if (isMalformedEntry(e)) await deadLetter(e, 'not a publisher entry: fields line and data missing or invalid');
        else if (e.deliveries > maxDeliveries) {
          await deadLetter(e, `delivered ${e.deliveries} times, more than --max-deliveries ${maxDeliveries}: the consumers that took it stopped before acknowledging it`);
        } else {
          const p = parserFor(e.header);
          if (p instanceof InputError) await deadLetter(e, `unusable CSV header: ${p.message}`);
          else toScore.push(e);
        }
      }
      if (toScore.length === 0) continue;
      let lines = 0;
      for (const e of toScore) lines += e.lines.length;
      const c: Cycle = { entries: toScore, rowStart: rowSeq, rows: 0, rowEntry: new Int32Array(lines), rowIndex: new Int32Array(lines), unscored: 0, perEntry: toScore.map(() => ({ scored: 0, anomalous: 0, rejected: 0 })) };
      cycles.push(c);
      toScore.forEach((e, k) => {
        const parser = parserFor(e.header) as RecordParser;
        received += e.lines.length;
        e.lines.forEach((text, index) => {
          const outcome = parser.parse(text, current.values, pending * d);
          if (outcome.kind === 'record') {
            c.rowEntry[c.rows] = k;
            c.rowIndex[c.rows] = index;
            current.tags[pending] = rowSeq;
            c.rows++;
            rowSeq++;
            pending++;
            if (pending === batchSize) {
              c.unscored += pending;
              flush();
            }
          } else {
            // a header line inside the data (a second capture concatenated) is not a record either: a reject
            const reason = outcome.kind === 'reject' ? outcome.reason : 'a CSV header line among the records';
            rejected++;
            c.perEntry[k].rejected++;
            const key = reason.replace(/: .*$/, '');
            rejectReasons[key] = (rejectReasons[key] ?? 0) + 1;
            outputs.rejects.write(JSON.stringify({ entry: e.id, index, line: e.firstLine + index, consumer: options.consumer, deliveries: e.deliveries, reason, text: text.length > 200 ? `${text.slice(0, 200)}...` : text }));
          }
        });
      });
      c.unscored += pending;
      flush(); // a batch never spans two cycles, so each cycle commits on its own
      commitReady();
      await scorer.waitUntil(2); // memory stays flat: at most two batches ahead of the alerts
      if (cycles.length > 3) await commitTail; // and at most a few cycles written but not yet acked
    }
    flush();
    await scorer.close();
    commitReady();
    await commitTail;
    if (commitError) throw commitError;
  } catch (e) {
    // let the scoring worker go (bounded: a failed worker may never answer), then report
    await Promise.race([scorer.close().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
    throw e;
  } finally {
    if (progressTimer) clearInterval(progressTimer);
  }
  if (received !== scored + rejected + deadLettered) {
    throw new Error(`internal: ${received} records received but ${scored} scored + ${rejected} rejected + ${deadLettered} dead-lettered`);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    source: source.description,
    modelChecksum: model.checksum,
    consumer: options.consumer,
    entries: { ...source.stats, redelivered },
    recordsReceived: received,
    recordsScored: scored,
    recordsAnomalous: anomalous,
    recordsRejected: rejected,
    recordsDeadLettered: deadLettered,
    rejectReasons,
    deadLetterReasons: deadReasons,
    batches,
    seconds,
    recordsPerSecond: (scored + rejected) / Math.max(seconds, 1e-9),
    batchLatencyMs: { p50: latency.percentile(50), p99: latency.percentile(99) },
    stoppedBy: stoppedBy ?? 'stop()',
    warnings,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
}
