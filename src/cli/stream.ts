/**
 * `npm run stream`: score a live stream of records with a saved model bundle.
 * Reads lines from stdin or a file (optionally following a file that is still
 * being written), groups records into micro-batches by size or by time, scores
 * them with the bundle through the stream module (no refit), writes one NDJSON
 * alert per anomalous record and sets every bad line aside with its reason.
 */
import { createWriteStream, existsSync, statSync, writeFileSync, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { ArtifactError, loadBundle, type LoadedModel } from '../persist/bundle';
import { alertDriversJson } from '../explain/alerts';
import { alertRecordJson, createRecordParser, InputError, LineSplitter, type InputFormat } from '../data/records';
import { createBatchScorer, type ScoredBatch } from '../stream/scorer';
import { DriftWindow, LatencyStats } from '../stream/stats';

export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  model: 3,
  input: 4,
} as const;

const USAGE = `usage: npm run stream -- --model FILE [options]

Scores records with a saved model bundle (notebook 07 writes artifacts/model.json).

  --model FILE          the model bundle (required)
  --input FILE|-        records to score (default: - = stdin)
  --follow              keep reading a file that is still being appended to (stop with Ctrl-C)
  --format csv|ndjson   input format (default: from the file name, else csv). CSV with or
                        without a header (a header may list the features in any order;
                        extra columns are ignored); NDJSON objects keyed by feature name
                        or arrays in feature order
  --batch-size N        records per micro-batch (default 4096)
  --max-wait-ms T       score a partial batch once its first record waited T ms (default 200)
  --alerts FILE|-       where to write one NDJSON alert per anomalous record (default: - = stdout)
  --rejects FILE|-      where to write one NDJSON line per rejected input line (default: stderr;
                        - = stdout)
  --max-rejects N       stop with exit code 4 once more than N lines were rejected (default: no limit)
  --max-line-bytes N    longer lines are rejected (default 65536)
  --drift-window N      records in the window for the drift signal (default 10000)
  --drift-factor F      warn when a window's anomaly rate exceeds F x the model's
                        contamination (default 2)
  --threads N           1 = score on the reading thread; 2 (default on 2+ cores) = score on
                        a worker thread while the next batch is read and parsed
  --progress-ms T       a progress line on stderr every T ms, 0 = none (default 5000)
  --summary-json FILE   also write the final summary as JSON
  --explain K           add each alert's K strongest features to its line: "explain":
                        [{"feature","value","contribution"}] (exact TreeSHAP, path-length
                        units; negative = towards anomalous)
  --quiet               no progress lines (the final summary is still printed)

Exit codes: 0 done (also after SIGINT/SIGTERM, or when the alerts reader closes
the pipe), 2 bad usage, 3 model bundle missing, corrupt or tampered, 4 input
error (unreadable input, unusable CSV header, more rejects than --max-rejects),
1 unexpected failure.`;

export interface StreamOptions {
  model: string;
  input: string;
  follow: boolean;
  format: InputFormat;
  batchSize: number;
  maxWaitMs: number;
  alerts: string;
  rejects?: string;
  maxRejects: number;
  maxLineBytes: number;
  driftWindow: number;
  driftFactor: number;
  progressMs: number;
  summaryJson?: string;
  quiet: boolean;
  threads: number;
  /** drivers per alert line (0 = no "explain" field) */
  explain: number;
}

class UsageError extends Error {}

function integerFrom(min: number, name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(`${name} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer, got ${JSON.stringify(v)}`);
  }
  return n;
}
const positiveInt = (name: string, v: string) => integerFrom(1, name, v);

export function parseStreamArgs(argv: readonly string[]): StreamOptions | 'help' {
  const o: Partial<StreamOptions> & { formatGiven?: boolean } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    const value = () => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--help':
      case '-h':
        return 'help';
      case '--model':
        o.model = value();
        break;
      case '--input':
        o.input = value();
        break;
      case '--follow':
        o.follow = true;
        break;
      case '--format': {
        const f = value();
        if (f !== 'csv' && f !== 'ndjson') throw new UsageError(`--format must be csv or ndjson, got ${JSON.stringify(f)}`);
        o.format = f;
        o.formatGiven = true;
        break;
      }
      case '--batch-size':
        o.batchSize = positiveInt(flag, value());
        break;
      case '--max-wait-ms':
        o.maxWaitMs = positiveInt(flag, value());
        break;
      case '--alerts':
        o.alerts = value();
        break;
      case '--rejects':
        o.rejects = value();
        break;
      case '--max-rejects':
        o.maxRejects = integerFrom(0, flag, value());
        break;
      case '--max-line-bytes':
        o.maxLineBytes = positiveInt(flag, value());
        break;
      case '--drift-window':
        o.driftWindow = positiveInt(flag, value());
        break;
      case '--drift-factor': {
        const v = value();
        const f = Number(v);
        if (!(f > 0) || !Number.isFinite(f)) throw new UsageError(`--drift-factor must be a number > 0, got ${JSON.stringify(v)}`);
        o.driftFactor = f;
        break;
      }
      case '--progress-ms':
        o.progressMs = integerFrom(0, flag, value());
        break;
      case '--threads':
        o.threads = positiveInt(flag, value());
        break;
      case '--summary-json':
        o.summaryJson = value();
        break;
      case '--quiet':
        o.quiet = true;
        break;
      case '--explain':
        o.explain = positiveInt(flag, value());
        break;
      default:
        throw new UsageError(`unknown argument ${JSON.stringify(a)}`);
    }
  }
  if (!o.model) throw new UsageError('--model FILE is required');
  const input = o.input ?? '-';
  if (o.follow && input === '-') throw new UsageError('--follow needs --input FILE (stdin is followed anyway until it ends)');
  const format: InputFormat = o.formatGiven ? o.format! : /\.(nd)?jsonl?$/i.test(input) ? 'ndjson' : 'csv';
  return {
    model: o.model,
    input,
    follow: o.follow ?? false,
    format,
    batchSize: o.batchSize ?? 4096,
    maxWaitMs: o.maxWaitMs ?? 200,
    alerts: o.alerts ?? '-',
    rejects: o.rejects,
    maxRejects: o.maxRejects ?? Infinity,
    maxLineBytes: o.maxLineBytes ?? 65536,
    driftWindow: o.driftWindow ?? 10_000,
    driftFactor: o.driftFactor ?? 2,
    progressMs: o.progressMs ?? 5000,
    summaryJson: o.summaryJson,
    explain: o.explain ?? 0,
    quiet: o.quiet ?? false,
    threads: o.threads ?? 2,
  };
}

/** An output that respects backpressure and notices a closed pipe instead of crashing. */
class Output {
  broken = false;
  private readonly stream: NodeJS.WritableStream;

  /** `-` is stdout; no target at all is `fallback` */
  constructor(target: string | undefined, fallback: NodeJS.WritableStream) {
    this.stream = target === undefined ? fallback : target === '-' ? process.stdout : createWriteStream(target);
    this.stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') this.broken = true;
      else throw e;
    });
  }

  write(line: string): void {
    if (!this.broken) this.stream.write(line);
  }

  /** wait until the stream has room (keeps memory flat when the reader is slow) */
  async drain(): Promise<void> {
    const s = this.stream as NodeJS.WritableStream & { writableNeedDrain?: boolean };
    if (this.broken || !s.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        s.off('drain', done);
        s.off('error', done);
        s.off('close', done);
        resolve();
      };
      s.on('drain', done);
      s.on('error', done);
      s.on('close', done);
    });
  }

  async close(): Promise<void> {
    if (this.stream === process.stdout || this.stream === process.stderr) {
      await this.drain();
      return;
    }
    await new Promise<void>((resolve) => (this.stream as WriteStream).end(resolve));
  }
}

export interface StreamSummary {
  model: string;
  modelChecksum: string;
  input: string;
  linesRead: number;
  headerLines: number;
  recordsScored: number;
  recordsAnomalous: number;
  recordsRejected: number;
  rejectReasons: Record<string, number>;
  batches: number;
  seconds: number;
  rowsPerSecond: number;
  batchLatencyMs: { p50: number; p99: number };
  anomalyRate: number;
  expectedRate: number;
  driftWarnings: number;
  stoppedBy: 'end of input' | 'signal' | 'closed output pipe' | 'max rejects' | 'input error';
  warnings: string[];
  peakRssMB: number;
}

/** Input chunks: stdin, a file, or a file followed as it grows (until `stop()` is called). */
function inputChunks(path: string, follow: boolean, state: { stopped: boolean; wake?: () => void }): AsyncIterable<Buffer> {
  if (path === '-') return process.stdin;
  return (async function* () {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      let pos = 0;
      while (!state.stopped) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead > 0) {
          pos += bytesRead;
          yield buf.subarray(0, bytesRead); // consumed before the next read reuses buf
          continue;
        }
        if (!follow) return;
        const size = (await fh.stat()).size;
        if (size < pos) {
          process.stderr.write(`[stream] ${path} shrank (truncated or rotated): reading it again from the start\n`);
          pos = 0;
          continue;
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 100);
          state.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    } finally {
      await fh.close();
    }
  })();
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

export async function runStream(opts: StreamOptions): Promise<{ code: number; summary?: StreamSummary }> {
  // 1. the model: refuse a bad bundle before reading any input
  let model: LoadedModel;
  try {
    model = loadBundle(opts.model);
  } catch (e) {
    process.stderr.write(`stream: cannot use the model: ${(e as Error).message}\n`);
    return { code: e instanceof ArtifactError ? EXIT.model : EXIT.internal };
  }
  if (opts.input !== '-' && !existsSync(opts.input)) {
    process.stderr.write(`stream: cannot read input ${opts.input}: no such file\n`);
    return { code: EXIT.input };
  }
  const d = model.scaler.nFeatures; // the encoded width for a model with an encoder
  const contamination = model.params.contamination;
  const expectedRate = typeof contamination === 'number' ? contamination : model.bundle.trainingMetrics.nFlagged / model.bundle.trainingMetrics.nRows;
  const inputSize = opts.input !== '-' && !opts.follow ? statSync(opts.input).size : undefined;

  const parser = createRecordParser(model, opts.format);
  const splitter = new LineSplitter(opts.maxLineBytes);
  const alerts = new Output(opts.alerts, process.stdout);
  const rejects = new Output(opts.rejects, process.stderr);
  const latency = new LatencyStats();
  const drift = new DriftWindow(opts.driftWindow, expectedRate, opts.driftFactor);

  // batch buffers: one being filled, others out with the scorer; returned ones are reused
  const free: Array<{ values: Float64Array; tags: Float64Array }> = [];
  const takeBuffers = () => free.pop() ?? { values: new Float64Array(opts.batchSize * d), tags: new Float64Array(opts.batchSize) };
  let current = takeBuffers();
  let pending = 0;
  let pendingSince = 0;
  let lineNo = 0;
  let header = 0;
  let scored = 0;
  let anomalous = 0;
  let rejected = 0;
  let batches = 0;
  let driftWarnings = 0;
  let bytesRead = 0;
  const reasons: Record<string, number> = {};
  const state: { stopped: boolean; by?: StreamSummary['stoppedBy']; wake?: () => void } = { stopped: false };
  const started = performance.now();
  let warned = 0;

  const stop = (by: StreamSummary['stoppedBy']) => {
    if (!state.stopped) {
      state.stopped = true;
      state.by = by;
    }
    state.wake?.();
    if (opts.input === '-') process.stdin.destroy(); // ends the for-await over stdin
  };

  const flushWarnings = () => {
    while (warned < parser.warnings.length) process.stderr.write(`[stream] warning: ${parser.warnings[warned++]}\n`);
  };

  const reject = (line: number, reason: string, text: string) => {
    rejected++;
    const key = reason.replace(/: .*$/, '');
    reasons[key] = (reasons[key] ?? 0) + 1;
    rejects.write(`${JSON.stringify({ line, reason, text: text.length > 200 ? `${text.slice(0, 200)}...` : text })}\n`);
    if (rejected > opts.maxRejects) stop('max rejects');
  };

  const onScored = (b: ScoredBatch) => {
    const timestamp = new Date().toISOString();
    const why = opts.explain > 0 ? alertDriversJson(model, b.values, d, b.anomalies, opts.explain) : undefined;
    let k = 0;
    for (const i of b.anomalies) {
      // as JSON.stringify({ line, batch, timestamp, score, decision, record[, explain] }), without the objects
      const explain = why ? `,"explain":${why[k++]}` : '';
      alerts.write(`{"line":${b.tags[i]},"batch":${b.id},"timestamp":"${timestamp}","score":${b.scores[i]},"decision":${b.decision[i]},"record":${alertRecordJson(model, b.values, i * d)}${explain}}\n`);
    }
    latency.add(b.latencyMs);
    scored += b.rows;
    anomalous += b.anomalies.length;
    batches++;
    const windowState = drift.add(b.rows, b.anomalies.length);
    if (windowState.changed) {
      if (windowState.drifting) {
        driftWarnings++;
        process.stderr.write(
          `[stream] drift: ${(100 * windowState.rate).toFixed(2)}% of the last ${fmtInt(windowState.records)} records are anomalous, above ${opts.driftFactor} x the expected ${(100 * expectedRate).toFixed(2)}%\n`,
        );
      } else {
        process.stderr.write(`[stream] drift cleared: ${(100 * windowState.rate).toFixed(2)}% over the last ${fmtInt(windowState.records)} records\n`);
      }
    }
    free.push({ values: b.values, tags: b.tags });
    if (alerts.broken) stop('closed output pipe');
  };
  const scorer = createBatchScorer(model, opts.model, opts.threads, onScored);

  /** hand the batch being filled to the scorer (in order) and start a new one */
  const flush = () => {
    if (pending === 0) return;
    scorer.submit(current.values, current.tags, pending);
    pending = 0;
    current = takeBuffers();
  };

  const onLine = (text: string) => {
    lineNo++;
    if (state.stopped) {
      // lines already read when the stream stops still get an account
      reject(lineNo, 'not scored: the stream was stopping', text);
      return;
    }
    if (pending === 0) pendingSince = performance.now();
    let outcome;
    try {
      outcome = parser.parse(text, current.values, pending * d);
    } catch (e) {
      if (e instanceof InputError) reject(lineNo, e.message, text); // the line is accounted for, then the stream stops
      throw e;
    }
    if (outcome.kind === 'header') {
      header++;
      flushWarnings();
    } else if (outcome.kind === 'reject') {
      reject(lineNo, outcome.reason, text);
    } else {
      current.tags[pending] = lineNo;
      pending++;
      if (pending === opts.batchSize) flush();
    }
  };
  const onTooLong = () => {
    lineNo++;
    reject(lineNo, `line longer than ${opts.maxLineBytes} bytes`, '');
  };

  const progress = () => {
    const secs = (performance.now() - started) / 1000;
    const pct = inputSize ? `, ${((100 * bytesRead) / Math.max(1, inputSize)).toFixed(0)}% of ${(inputSize / 2 ** 20).toFixed(1)} MiB` : '';
    process.stderr.write(
      `[stream] ${secs.toFixed(1)} s: ${fmtInt(lineNo)} lines, ${fmtInt(scored)} scored, ${fmtInt(anomalous)} anomalous, ${fmtInt(rejected)} rejected, ${fmtInt(scored / Math.max(secs, 1e-9))} rows/s${pct}\n`,
    );
  };

  const onSignal = () => stop('signal');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const timer = setInterval(() => {
    if (pending > 0 && performance.now() - pendingSince >= opts.maxWaitMs) flush();
  }, Math.max(10, Math.floor(opts.maxWaitMs / 2)));
  const progressTimer = opts.progressMs > 0 && !opts.quiet ? setInterval(progress, opts.progressMs) : undefined;

  let code: number = EXIT.ok;
  try {
    for await (const chunk of inputChunks(opts.input, opts.follow, state)) {
      bytesRead += chunk.length;
      splitter.push(chunk as Buffer, onLine, onTooLong);
      if (pending > 0 && performance.now() - pendingSince >= opts.maxWaitMs) flush();
      await scorer.waitUntil(2); // at most two batches ahead of the alerts: memory stays flat
      await alerts.drain();
      await rejects.drain();
      if (state.stopped) break;
    }
    splitter.end(onLine, onTooLong);
  } catch (e) {
    if (e instanceof InputError) {
      process.stderr.write(`stream: input error: ${e.message}\n`);
      code = EXIT.input;
      state.stopped = true;
      state.by = 'input error';
    } else if (!(state.stopped && opts.input === '-')) {
      // a destroyed stdin after a stop is expected; anything else is not
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR') {
        process.stderr.write(`stream: cannot read input ${opts.input}: ${err.message}\n`);
        code = EXIT.input;
      } else {
        throw e;
      }
    }
  } finally {
    clearInterval(timer);
    if (progressTimer) clearInterval(progressTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  flush();
  await scorer.close(); // every submitted batch is scored and written before the summary
  flushWarnings();
  if (state.by === 'max rejects' && code === EXIT.ok) code = EXIT.input;

  const seconds = (performance.now() - started) / 1000;
  const summary: StreamSummary = {
    model: opts.model,
    modelChecksum: model.checksum,
    input: opts.input,
    linesRead: lineNo,
    headerLines: header,
    recordsScored: scored,
    recordsAnomalous: anomalous,
    recordsRejected: rejected,
    rejectReasons: reasons,
    batches,
    seconds,
    rowsPerSecond: scored / Math.max(seconds, 1e-9),
    batchLatencyMs: { p50: latency.percentile(50), p99: latency.percentile(99) },
    anomalyRate: scored === 0 ? 0 : anomalous / scored,
    expectedRate,
    driftWarnings,
    stoppedBy: state.by ?? 'end of input',
    warnings: parser.warnings,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
  if (summary.linesRead !== summary.headerLines + summary.recordsScored + summary.recordsRejected) {
    throw new Error(`internal: ${summary.linesRead} lines read but ${summary.headerLines} + ${summary.recordsScored} + ${summary.recordsRejected} accounted for`);
  }
  process.stderr.write(
    [
      `[stream] done (${summary.stoppedBy}) in ${seconds.toFixed(2)} s`,
      `  lines read ${fmtInt(summary.linesRead)} = header ${summary.headerLines} + scored ${fmtInt(scored)} + rejected ${fmtInt(rejected)}`,
      `  anomalous ${fmtInt(anomalous)} (${(100 * summary.anomalyRate).toFixed(3)}%; the model expects about ${(100 * expectedRate).toFixed(2)}%), drift warnings ${driftWarnings}`,
      `  ${fmtInt(summary.rowsPerSecond)} rows/s, ${batches} batches, batch latency p50 ${summary.batchLatencyMs.p50.toFixed(2)} ms, p99 ${summary.batchLatencyMs.p99.toFixed(2)} ms, peak memory ${summary.peakRssMB.toFixed(0)} MiB`,
      ...(rejected > 0 ? [`  rejects by reason: ${Object.entries(reasons).map(([k, v]) => `${k}: ${v}`).join('; ')}`] : []),
    ].join('\n') + '\n',
  );
  if (opts.summaryJson) {
    writeFileSync(opts.summaryJson, `${JSON.stringify(summary, null, 1)}\n`);
  }
  await alerts.close();
  await rejects.close();
  return { code, summary };
}

async function main(): Promise<number> {
  let opts: StreamOptions | 'help';
  try {
    opts = parseStreamArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`stream: ${(e as Error).message}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  return (await runStream(opts)).code;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`stream: unexpected failure: ${(e as Error).stack ?? e}\n`);
      process.exitCode = EXIT.internal;
    },
  );
}
