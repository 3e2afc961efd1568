/**
 * The one scoring loop of `npm run stream`, for every source and sink:
 *
 *   source.read() → parse (the pipeline's parser) → micro-batches → score and
 *   explain (ScoringPipeline, on a worker thread or this one) → alert and
 *   reject lines (the one format) → sinks.commit() → source.ack()
 *
 * Chunks read together form a cycle; a cycle is committed (its sinks' lines
 * written, durably where the source acknowledges) and then acknowledged once
 * all its records are scored, oldest cycle first. Every line read ends as
 * exactly one of: a header, scored, rejected (with its reason), dead-lettered
 * (a whole chunk set aside by a broker source) or not processed (read after
 * the loop decided to stop; such a chunk is not acknowledged).
 */
import { LineBlock, type Lines } from '../data/line-splitter';
import { InputError, type InputFormat, type LineOutcome } from '../data/records';
import { rejectLine, type RecordOrigin } from '../scoring/alert-lines';
import type { RecordLineParser, ScoringPipeline } from '../scoring/pipeline';
import type { DurableOutput } from './durable-output';
import { createBatchScorer, type ScoredBatch } from './scorer';
import type { RecordSource, SourceChunk, SourceStats } from './source';
import { DriftWindow, LatencyStats } from './stats';
import { formatCount } from '../core/count-text';

export interface LoopOptions {
  format: InputFormat;
  /** the bundle file (the scoring worker loads it too) */
  modelPath: string;
  /** records per micro-batch */
  batchSize: number;
  /** the source's bound on line length (named in the reject of a longer line) */
  maxLineBytes: number;
  /** score a partial batch once its first record waited this long */
  maxWaitMs: number;
  /** stop (input error) once more lines than this were rejected; Infinity = no limit */
  maxRejects: number;
  /** a chunk delivered more often than this is dead-lettered (sources that acknowledge) */
  maxDeliveries: number;
  /** 1 = score on this thread, 2 = on a worker thread */
  threads: number;
  driftWindow: number;
  driftFactor: number;
  /** stop once nothing arrived for this long and the source is drained (default: never) */
  exitWhenIdleMs?: number;
  /** a progress line through `log` every this many ms, 0 = none */
  progressMs: number;
  /** progress, warnings and drift lines (without newline) */
  log: (line: string) => void;
}

export interface LoopSinks {
  alerts: DurableOutput;
  rejects: DurableOutput;
  /** one line per finished chunk: {entry, line, records, scored, anomalous, rejected, deliveries} */
  ledger?: DurableOutput;
}

export type StopReason = 'end of input' | 'signal' | 'idle' | 'closed output pipe' | 'max rejects' | 'input error' | 'output error';

/** The summary of one run, the same in every mode. */
export interface StreamSummary {
  /** the source's description */
  source: string;
  model: string;
  modelChecksum: string;
  /** every line handed over by the source: header + scored + rejected + dead-lettered + not processed */
  linesRead: number;
  headerLines: number;
  recordsScored: number;
  recordsAnomalous: number;
  recordsRejected: number;
  /** lines of chunks set aside whole (a broker source's dead letters) */
  recordsDeadLettered: number;
  /** lines read after the loop decided to stop (max rejects, an input or output error): neither scored nor rejected */
  linesNotProcessed: number;
  rejectReasons: Record<string, number>;
  deadLetterReasons: Record<string, number>;
  batches: number;
  seconds: number;
  /** records scored per second of wall time (the one throughput figure) */
  recordsPerSecond: number;
  /** p50 / p99 of the batches' scoring time; null before the first batch */
  batchLatencyMs: { p50: number; p99: number } | null;
  anomalyRate: number;
  expectedRate: number;
  driftWarnings: number;
  /** drivers per alert (0 = no explanations) */
  explain: number;
  stoppedBy: StopReason;
  /** the input or output error that stopped the loop */
  error?: string;
  warnings: string[];
  /** broker sources: entries by how they arrived, plus how many were redeliveries */
  entries?: SourceStats & { redelivered: number };
  peakRssMB: number;
}

/** Chunks read together: committed and acknowledged together. */
interface Cycle {
  chunks: SourceChunk[];
  /** row number (the scorer's tag) of the cycle's first record */
  rowStart: number;
  rows: number;
  /** per row: index into chunks, and the record's index within its chunk */
  rowChunk: Int32Array;
  rowIndex: Int32Array;
  /** records parsed but not yet scored */
  unscored: number;
  /** every line of the cycle went through the parser (false while parsing) */
  parsed: boolean;
  /** per chunk (typed arrays: counted per record on the hot path) */
  scored: Int32Array;
  anomalous: Int32Array;
  rejected: Int32Array;
  notProcessed: Int32Array;
  deadLettered: Uint8Array;
}

/** "ENOSPC: no space left on device" from Node's "ENOSPC: no space left on device, write" */
export function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EPIPE') return 'the reader closed the pipe (EPIPE)';
  return (err.message ?? String(e)).replace(/, \w+( '.*')?$/, '');
}

const isClosedPipe = (e: NodeJS.ErrnoException | undefined) => e?.code === 'EPIPE' || e?.code === 'ERR_STREAM_DESTROYED';

/** A running loop: `done` resolves with the summary; `stop()` ends it after the read in hand. */
export interface ScoringLoop {
  readonly done: Promise<StreamSummary>;
  stop(by?: 'signal'): void;
}

/**
 * Start the loop. The source must be open and the sinks opened.
 *
 * @returns a handle; `done` rejects only on an internal failure (a bug, or the scoring worker dying):
 *   input and output errors end the loop with `stoppedBy` and `error` set
 */
export function startScoringLoop(pipeline: ScoringPipeline, source: RecordSource, sinks: LoopSinks, options: LoopOptions): ScoringLoop {
  // every field present from the start: the hot loop reads this object, and a new field would change its shape
  const state: { stopped: StopReason | undefined; cut: boolean } = { stopped: undefined, cut: false };
  const stop = (by: StopReason, cut: boolean) => {
    if (!state.stopped) state.stopped = by;
    state.cut ||= cut;
    source.interrupt();
  };
  return { done: run(pipeline, source, sinks, options, state, stop), stop: () => stop('signal', false) };
}

async function run(
  pipeline: ScoringPipeline,
  source: RecordSource,
  sinks: LoopSinks,
  options: LoopOptions,
  state: { stopped: StopReason | undefined; cut: boolean },
  stop: (by: StopReason, cut: boolean) => void,
): Promise<StreamSummary> {
  const d = pipeline.width;
  const started = performance.now();
  const latency = new LatencyStats();
  const drift = new DriftWindow(options.driftWindow, pipeline.expectedRate, options.driftFactor);
  const writer = pipeline.alertWriter;

  let linesRead = 0;
  let header = 0;
  let scored = 0;
  let anomalous = 0;
  let rejected = 0;
  let deadLettered = 0;
  let notProcessed = 0;
  let batches = 0;
  let driftWarnings = 0;
  let redelivered = 0;
  const rejectReasons: Record<string, number> = {};
  const deadReasons: Record<string, number> = {};
  const warnings: string[] = [];
  let inputError: string | undefined;
  let outputError: string | undefined;

  const outputFailed = (sink: DurableOutput, what: string, e: NodeJS.ErrnoException) => {
    // the reader of the alerts going away is the normal end of `stream ... | head`; anything else loses results
    const sameAsAlerts = sink === sinks.alerts || ('stream' in sink && 'stream' in sinks.alerts && sink.stream === sinks.alerts.stream);
    if (isClosedPipe(e) && sameAsAlerts) return stop('closed output pipe', true);
    outputError ??= `cannot write ${what} to ${sink.target}: ${errnoText(e)}`;
    stop('output error', true);
  };
  sinks.alerts.onFailure = (e) => outputFailed(sinks.alerts, 'alerts', e);
  sinks.rejects.onFailure = (e) => outputFailed(sinks.rejects, 'rejects', e);
  if (sinks.ledger) sinks.ledger.onFailure = (e) => outputFailed(sinks.ledger!, 'the ledger', e);

  // parsers: one for the whole input, or one per CSV header for sources that carry it per chunk
  const parsers = new Map<string, RecordLineParser | InputError>();
  const scratch = new Float64Array(d);
  const noteWarnings = (p: RecordLineParser) => {
    for (const w of p.warnings) if (!warnings.includes(w)) (warnings.push(w), options.log(`warning: ${w}`));
  };
  const parserFor = (chunk: SourceChunk): RecordLineParser | InputError => {
    const key = source.headerPerChunk ? (chunk.header ?? '') : '';
    let p = parsers.get(key);
    if (!p) {
      const parser = pipeline.parser(options.format);
      p = parser;
      if (source.headerPerChunk && options.format === 'csv') {
        // prime it with the chunk's header, or with the model's columns (= no header: columns in model order),
        // so that a bad first line of a chunk is never taken for a header
        try {
          parser.parse(chunk.header ?? pipeline.inputNames.join(','), scratch, 0);
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          p = e;
        }
      }
      parsers.set(key, p);
    }
    return p;
  };

  const cycles: Cycle[] = [];
  let rowSeq = 0;
  const free: Array<{ values: Float64Array; tags: Float64Array }> = [];
  const take = () => free.pop() ?? { values: new Float64Array(options.batchSize * d), tags: new Float64Array(options.batchSize) };
  let current = take();
  let pending = 0;
  let pendingSince = 0;

  /** the open cycle holding row `row` (rows are numbered in reading order, cycles are in that order too) */
  const cycleOf = (row: number): Cycle => {
    for (let k = 0; k < cycles.length; k++) {
      const c = cycles[k];
      if (row < c.rowStart + c.rows) {
        if (row >= c.rowStart) return c;
        break;
      }
    }
    throw new Error(`internal: scored row ${row} belongs to no open cycle`);
  };

  const onScored = (b: ScoredBatch) => {
    const timestamp = new Date().toISOString();
    const tags = b.tags;
    if (b.anomalies.length > 0) {
      const origin: RecordOrigin = {
        line: (i) => {
          const c = cycleOf(tags[i]);
          const r = tags[i] - c.rowStart;
          return c.chunks[c.rowChunk[r]].firstLine + c.rowIndex[r];
        },
        prefix: (i) => {
          const c = cycleOf(tags[i]);
          const r = tags[i] - c.rowStart;
          return source.origin(c.chunks[c.rowChunk[r]], c.rowIndex[r]);
        },
      };
      sinks.alerts.write(writer.lines(b.alerts, b, timestamp, origin));
      const anomalies = b.anomalies;
      for (let k = 0; k < anomalies.length; k++) {
        const c = cycleOf(tags[anomalies[k]]);
        c.anomalous[c.rowChunk[tags[anomalies[k]] - c.rowStart]]++;
      }
    }
    // a batch's rows are consecutive: walk them cycle by cycle
    for (let i = 0; i < b.rows; ) {
      const c = cycleOf(tags[i]);
      let r = tags[i] - c.rowStart;
      const n = Math.min(b.rows - i, c.rows - r);
      for (let m = 0; m < n; m++, r++) c.scored[c.rowChunk[r]]++;
      c.unscored -= n;
      i += n;
    }
    latency.add(b.latencyMs);
    scored += b.rows;
    anomalous += b.anomalies.length;
    batches++;
    const w = drift.add(b.rows, b.anomalies.length);
    if (w.changed) {
      if (w.drifting) {
        driftWarnings++;
        options.log(`drift: ${(100 * w.rate).toFixed(2)}% of the last ${formatCount(w.records)} records are anomalous, above ${options.driftFactor} x the expected ${(100 * pipeline.expectedRate).toFixed(2)}%`);
      } else {
        options.log(`drift cleared: ${(100 * w.rate).toFixed(2)}% over the last ${formatCount(w.records)} records`);
      }
    }
    free.push({ values: b.values, tags: b.tags });
  };
  const scorer = createBatchScorer(pipeline, options.modelPath, options.threads, onScored);

  const flush = () => {
    if (pending === 0) return;
    scorer.submit(current.values, current.tags, pending);
    pending = 0;
    current = take();
  };

  // commits run one after another, oldest cycle first; after a failure nothing more is acknowledged
  let commitTail: Promise<void> = Promise.resolve();
  const commitReady = () => {
    commitTail = commitTail.then(async () => {
      if (outputError !== undefined || inputError !== undefined) return;
      const ready: Cycle[] = [];
      while (cycles.length > 0 && cycles[0].parsed && cycles[0].unscored === 0) ready.push(cycles.shift()!);
      if (ready.length === 0) return;
      // a chunk is finished unless it was dead-lettered (acknowledged by the source) or cut short (left pending)
      const finished: SourceChunk[] = [];
      let ledger = '';
      for (const c of ready) {
        c.chunks.forEach((ch, k) => {
          if (c.deadLettered[k] === 1 || c.notProcessed[k] > 0) return;
          finished.push(ch);
          if (sinks.ledger) {
            ledger += `${JSON.stringify({ ...(ch.id === undefined ? {} : { entry: ch.id }), line: ch.firstLine, records: ch.lines.count, scored: c.scored[k], anomalous: c.anomalous[k], rejected: c.rejected[k], deliveries: ch.deliveries })}\n`;
          }
        });
      }
      if (ledger !== '') sinks.ledger!.write(ledger);
      try {
        await Promise.all([sinks.alerts.commit(), sinks.rejects.commit(), sinks.ledger?.commit()]);
      } catch {
        return; // the sink's onFailure has stopped the loop and said why
      }
      if (source.acknowledges && finished.length > 0) {
        try {
          await source.ack(finished);
        } catch (e) {
          inputError ??= `cannot acknowledge on ${source.description}: ${(e as Error).message}`;
          stop('input error', true);
        }
      }
    });
  };

  const reject = (c: Cycle, k: number, index: number, reason: string, text: string) => {
    rejected++;
    c.rejected[k]++;
    const key = reason.replace(/: .*$/, '');
    rejectReasons[key] = (rejectReasons[key] ?? 0) + 1;
    const chunk = c.chunks[k];
    sinks.rejects.write(rejectLine(source.origin(chunk, index), chunk.firstLine + index, reason, text));
    if (rejected > options.maxRejects) stop('max rejects', true);
  };

  const deadLetter = async (c: Cycle, k: number, reason: string) => {
    const chunk = c.chunks[k];
    await source.deadLetter(chunk, reason);
    c.deadLettered[k] = 1;
    deadLettered += chunk.lines.count;
    const key = reason.replace(/: .*$/, '').replace(/\d+/g, 'N');
    deadReasons[key] = (deadReasons[key] ?? 0) + chunk.lines.count;
    options.log(`dead-lettered ${chunk.id ?? 'chunk'} (${chunk.lines.count} records from line ${chunk.firstLine}): ${reason}`);
  };

  /** a line the parser did not take as a record: a reject, or a header (the first line of a file or pipe) */
  const notARecord = (c: Cycle, k: number, index: number, parser: RecordLineParser, outcome: LineOutcome, text: string) => {
    if (outcome.kind === 'header' && !source.headerPerChunk) {
      header++;
      noteWarnings(parser);
      return;
    }
    // a header line inside published data (a second capture concatenated) is not a record either
    reject(c, k, index, outcome.kind === 'reject' ? outcome.reason : 'a CSV header line among the records', text);
  };

  /** a header the model cannot use: the line is the reject, then the input stops */
  const unusableHeader = (c: Cycle, k: number, index: number, e: InputError, text: string) => {
    reject(c, k, index, e.message, text);
    inputError ??= `input error: ${e.message}`;
    stop('input error', true);
  };

  const parseOne = (parser: RecordLineParser, text: string, c: Cycle, k: number, index: number): LineOutcome | undefined => {
    try {
      return parser.parse(text, current.values, pending * d);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      unusableHeader(c, k, index, e, text);
      return undefined;
    }
  };

  /**
   * The hot loop: every line of a chunk into the batch buffers. Kept small and
   * synchronous, with the rare cases in functions of their own, so that V8
   * keeps it optimised (a branch first taken late deoptimises its function).
   *
   * @returns how many lines were handled (fewer than all once the loop is cut short)
   */
  const parseLines = (c: Cycle, k: number, parser: RecordLineParser, lines: Lines): number => {
    const n = lines.count;
    // lines read as bytes: a plain record is parsed from its bytes, anything else from its text
    const block = lines instanceof LineBlock ? lines : undefined;
    for (let index = 0; index < n; index++) {
      if (state.cut) return index;
      if (pending === 0) pendingSince = performance.now();
      if (block !== undefined) {
        const start = block.starts[index];
        if (start >= 0 && parser.parseBytes(block.data, start, block.ends[index], current.values, pending * d)) {
          took(c, k, index);
          continue;
        }
      }
      const text = lines.text(index);
      if (text === null) {
        reject(c, k, index, `line longer than ${options.maxLineBytes} bytes`, '');
        continue;
      }
      const outcome = parseOne(parser, text, c, k, index);
      if (outcome === undefined) continue;
      if (outcome.kind !== 'record') {
        notARecord(c, k, index, parser, outcome, text);
        continue;
      }
      took(c, k, index);
    }
    return n;
  };

  /** the record just parsed into the batch at `pending`: tag it, count it, score the batch once full */
  const took = (c: Cycle, k: number, index: number) => {
    c.rowChunk[c.rows] = k;
    c.rowIndex[c.rows] = index;
    current.tags[pending] = rowSeq++;
    c.rows++;
    c.unscored++;
    pending++;
    if (pending === options.batchSize) flush();
  };

  /** one chunk: dead-letter it whole, or parse its lines */
  const parseChunk = async (c: Cycle, k: number) => {
    const chunk = c.chunks[k];
    if (chunk.deliveries > 1) redelivered++;
    linesRead += chunk.lines.count;
    if (state.cut) {
      c.notProcessed[k] = chunk.lines.count;
      notProcessed += chunk.lines.count;
      return;
    }
    if (chunk.malformed !== undefined) return deadLetter(c, k, chunk.malformed);
    if (source.acknowledges && chunk.deliveries > options.maxDeliveries) {
      return deadLetter(c, k, `delivered ${chunk.deliveries} times, more than --max-deliveries ${options.maxDeliveries}: the consumers that took it stopped before acknowledging it`);
    }
    const parser = parserFor(chunk);
    if (parser instanceof InputError) return deadLetter(c, k, `unusable CSV header: ${parser.message}`);
    const handled = parseLines(c, k, parser, chunk.lines);
    if (handled < chunk.lines.count) {
      // read after the decision to stop: accounted for, neither scored nor a reject
      c.notProcessed[k] += chunk.lines.count - handled;
      notProcessed += chunk.lines.count - handled;
    }
    noteWarnings(parser);
  };

  const progressTimer =
    options.progressMs > 0
      ? setInterval(() => {
          const secs = (performance.now() - started) / 1000;
          const where = source.progress?.();
          options.log(
            `${secs.toFixed(1)} s: ${formatCount(linesRead)} lines, ${formatCount(scored)} scored, ${formatCount(anomalous)} anomalous, ${formatCount(rejected)} rejected, ${formatCount(deadLettered)} dead-lettered, ${formatCount(scored / Math.max(secs, 1e-9))} records/s${where ? `, ${where}` : ''}`,
          );
        }, options.progressMs)
      : undefined;
  const waitTimer = setInterval(
    () => {
      if (pending > 0 && performance.now() - pendingSince >= options.maxWaitMs) {
        flush();
        commitReady();
      }
    },
    Math.max(10, Math.floor(options.maxWaitMs / 2)),
  );

  let lastChunkAt = performance.now();
  try {
    while (!state.stopped) {
      let chunks: SourceChunk[] | null;
      try {
        chunks = await source.read();
      } catch (e) {
        if (state.stopped) break; // a read ended by the stop itself
        inputError ??= `cannot read ${source.description}: ${errnoText(e)}`;
        stop('input error', true);
        break;
      }
      if (chunks === null) {
        stop('end of input', false);
        break;
      }
      if (chunks.length === 0) {
        commitReady();
        if (options.exitWhenIdleMs !== undefined && performance.now() - lastChunkAt >= options.exitWhenIdleMs) {
          flush();
          await scorer.waitUntil(0);
          commitReady();
          await commitTail;
          if (cycles.length === 0 && (await source.drained())) stop('idle', false);
        }
        continue;
      }
      lastChunkAt = performance.now();
      let lines = 0;
      for (const ch of chunks) lines += ch.lines.count;
      const c: Cycle = {
        chunks,
        rowStart: rowSeq,
        rows: 0,
        rowChunk: new Int32Array(lines),
        rowIndex: new Int32Array(lines),
        unscored: 0,
        parsed: false,
        scored: new Int32Array(chunks.length),
        anomalous: new Int32Array(chunks.length),
        rejected: new Int32Array(chunks.length),
        notProcessed: new Int32Array(chunks.length),
        deadLettered: new Uint8Array(chunks.length),
      };
      cycles.push(c);
      try {
        for (let k = 0; k < chunks.length; k++) await parseChunk(c, k);
      } catch (e) {
        if (e instanceof Error && e.message.startsWith('internal:')) throw e;
        // dead-lettering failed: the broker is gone; nothing later is acknowledged
        inputError ??= `cannot dead-letter on ${source.description}: ${(e as Error).message}`;
        stop('input error', true);
      }
      c.parsed = true;
      // a source that acknowledges gets its chunks scored now; a pipe fills its batches (the timer flushes a slow one)
      if (source.acknowledges) flush();
      else if (pending > 0 && performance.now() - pendingSince >= options.maxWaitMs) flush();
      commitReady();
      await scorer.waitUntil(scorer.parallel + 1); // memory stays flat: a batch per worker and one more ahead of the alerts
      if (cycles.length > 3) await commitTail; // and at most a few cycles written but not yet acknowledged
    }
    flush();
    await scorer.close(); // every submitted batch is scored and its alerts written before the summary
    commitReady();
    await commitTail;
  } catch (e) {
    // let the scoring worker go (bounded: a failed worker may never answer), then report
    await Promise.race([scorer.close().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
    throw e;
  } finally {
    clearInterval(waitTimer);
    if (progressTimer) clearInterval(progressTimer);
  }

  const seconds = (performance.now() - started) / 1000;
  const error = outputError ?? inputError;
  const summary: StreamSummary = {
    source: source.description,
    model: options.modelPath,
    modelChecksum: pipeline.model.checksum,
    linesRead,
    headerLines: header,
    recordsScored: scored,
    recordsAnomalous: anomalous,
    recordsRejected: rejected,
    recordsDeadLettered: deadLettered,
    linesNotProcessed: notProcessed,
    rejectReasons,
    deadLetterReasons: deadReasons,
    batches,
    seconds,
    recordsPerSecond: scored / Math.max(seconds, 1e-9),
    batchLatencyMs: batches === 0 ? null : { p50: latency.percentile(50), p99: latency.percentile(99) },
    anomalyRate: scored === 0 ? 0 : anomalous / scored,
    expectedRate: pipeline.expectedRate,
    driftWarnings,
    explain: pipeline.explainK,
    stoppedBy: state.stopped ?? 'end of input',
    ...(error === undefined ? {} : { error }),
    warnings,
    ...(source.stats ? { entries: { ...source.stats, redelivered } } : {}),
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
  const accounted = header + scored + rejected + deadLettered + notProcessed;
  if (linesRead !== accounted) {
    throw new Error(`internal: ${linesRead} lines read but ${header} header + ${scored} scored + ${rejected} rejected + ${deadLettered} dead-lettered + ${notProcessed} not processed`);
  }
  return summary;
}

/**
 * The summary of a run that stopped before reading anything (an output could
 * not be opened): every count 0, so the printed summary looks like any other.
 */
export function summaryBeforeStart(pipeline: ScoringPipeline, source: string, modelPath: string, stoppedBy: StopReason, error: string): StreamSummary {
  return {
    source,
    model: modelPath,
    modelChecksum: pipeline.model.checksum,
    linesRead: 0,
    headerLines: 0,
    recordsScored: 0,
    recordsAnomalous: 0,
    recordsRejected: 0,
    recordsDeadLettered: 0,
    linesNotProcessed: 0,
    rejectReasons: {},
    deadLetterReasons: {},
    batches: 0,
    seconds: 0,
    recordsPerSecond: 0,
    batchLatencyMs: null,
    anomalyRate: 0,
    expectedRate: pipeline.expectedRate,
    driftWarnings: 0,
    explain: pipeline.explainK,
    stoppedBy,
    error,
    warnings: [],
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
}
