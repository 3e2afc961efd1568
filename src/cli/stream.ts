/**
 * `npm run stream`: score a live stream of records with a saved model bundle.
 * Reads lines from stdin or a file (optionally following a file that is still
 * being written), groups records into micro-batches by size or by time, scores
 * them with the bundle through the stream module (no refit), writes one NDJSON
 * alert per anomalous record and sets every bad line aside with its reason.
 *
 * Layout: {@link parseStreamArgs} (argv to {@link StreamOptions}, nothing
 * opened), {@link runStream} (model, outputs, then input; returns the exit code
 * and the summary), {@link main} (both, for the command line).
 */
import { closeSync, createWriteStream, existsSync, openSync, statSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { ArtifactError, loadBundle, type LoadedModel } from '../persist/bundle';
import { ModelKeyError, readModelKey } from '../persist/signing';
import { alertDriversJson } from '../explain/alerts';
import { AlertWriter, alertRecordJson, createRecordParser, InputError, LineSplitter, type InputFormat } from '../data/records';
import { createBatchScorer, type ScoredBatch } from '../stream/scorer';
import { DriftWindow, LatencyStats } from '../stream/stats';
import { integerOption, numberOption, parseOptions } from './args';
import { CliError, EXIT_INTERNAL, EXIT_OK, EXIT_OUTPUT, EXIT_USAGE, runCommand, UsageError } from './command';

/** Exit codes of `npm run stream` (see USAGE). */
export const EXIT = {
  ok: EXIT_OK,
  internal: EXIT_INTERNAL,
  usage: EXIT_USAGE,
  model: 3,
  input: 4,
  output: EXIT_OUTPUT,
} as const;

const USAGE = `usage: npm run stream -- --model FILE [options]

Scores records with a saved model bundle (notebook 07 writes artifacts/model.json).

  --model FILE          the model bundle (required)
  --key-file FILE       require the bundle to be signed with this HMAC key (default: the
                        key in $ANOMALY_MODEL_KEY if set, else no signature check)
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

As a member of a Redis Streams consumer group (several consumers, on one machine or
many, share one stream; entries of a consumer that dies are taken over):
  npm run stream -- --model FILE --redis URL --stream NAME --group G --consumer C [options]
(--claim-idle-ms, --max-deliveries, --dead-letter-stream, --ledger, --exit-when-idle, ...;
\`npm run stream -- --redis URL --help\` lists them; \`npm run publish\` fills the stream).

Output files (--alerts, --rejects, --summary-json) are opened before any input is
read. Lines read after the command decided to stop are counted as "not processed"
(not as rejects, and not towards --max-rejects).

Exit codes: 0 done (also after SIGINT/SIGTERM, or when the reader of the alerts
closes the pipe), 2 bad usage, 3 model bundle missing, corrupt or tampered (or, with a key, unsigned or
signed with another key; or the key file unreadable), 4 input
error (unreadable input, unusable CSV header, more rejects than --max-rejects),
5 output error (an output cannot be opened or written: missing directory, no
permission, full disk, a closed pipe on the rejects; takes precedence over 4),
1 unexpected failure (a bug; set DEBUG=1 for the stack trace).`;

export interface StreamOptions {
  model: string;
  /** HMAC key file: the bundle must carry a signature made with this key */
  keyFile?: string;
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

const STREAM_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  model: { type: 'string' },
  'key-file': { type: 'string' },
  input: { type: 'string' },
  follow: { type: 'boolean' },
  format: { type: 'string' },
  'batch-size': { type: 'string' },
  'max-wait-ms': { type: 'string' },
  alerts: { type: 'string' },
  rejects: { type: 'string' },
  'max-rejects': { type: 'string' },
  'max-line-bytes': { type: 'string' },
  'drift-window': { type: 'string' },
  'drift-factor': { type: 'string' },
  'progress-ms': { type: 'string' },
  threads: { type: 'string' },
  'summary-json': { type: 'string' },
  quiet: { type: 'boolean' },
  explain: { type: 'string' },
} as const;

/**
 * The command line of `npm run stream` as options; opens nothing.
 *
 * @param argv - the arguments after the script name
 * @returns the options with their defaults filled in, or `'help'` for --help / -h
 * @throws UsageError (exit 2) for an unknown option, a missing or malformed value,
 *   a missing --model, or --follow on stdin
 */
export function parseStreamArgs(argv: readonly string[]): StreamOptions | 'help' {
  const { values: v } = parseOptions(argv, STREAM_OPTIONS);
  if (v.help) return 'help';
  const int = (flag: keyof typeof STREAM_OPTIONS, fallback: number, min = 1): number => {
    const text = v[flag];
    return typeof text === 'string' ? integerOption(`--${flag}`, text, min) : fallback;
  };
  if (v.format !== undefined && v.format !== 'csv' && v.format !== 'ndjson') throw new UsageError(`--format must be csv or ndjson, got ${JSON.stringify(v.format)}`);
  if (!v.model) throw new UsageError('--model FILE is required');
  const input = v.input ?? '-';
  if (v.follow && input === '-') throw new UsageError('--follow needs --input FILE (stdin is followed anyway until it ends)');
  return {
    model: v.model,
    keyFile: v['key-file'],
    input,
    follow: v.follow ?? false,
    format: v.format ?? (/\.(nd)?jsonl?$/i.test(input) ? 'ndjson' : 'csv'),
    batchSize: int('batch-size', 4096),
    maxWaitMs: int('max-wait-ms', 200),
    alerts: v.alerts ?? '-',
    rejects: v.rejects,
    maxRejects: int('max-rejects', Infinity, 0),
    maxLineBytes: int('max-line-bytes', 65536),
    driftWindow: int('drift-window', 10_000),
    driftFactor: v['drift-factor'] === undefined ? 2 : numberOption('--drift-factor', v['drift-factor'], 0),
    progressMs: int('progress-ms', 5000, 0),
    summaryJson: v['summary-json'],
    quiet: v.quiet ?? false,
    threads: int('threads', 2),
    explain: int('explain', 0),
  };
}

/** "ENOSPC: no space left on device" from Node's "ENOSPC: no space left on device, write" */
function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EPIPE') return 'the reader closed the pipe (EPIPE)';
  return (err.message ?? String(e)).replace(/, \w+( '.*')?$/, '');
}

const isClosedPipe = (e: NodeJS.ErrnoException | undefined) => e?.code === 'EPIPE' || e?.code === 'ERR_STREAM_DESTROYED';

/**
 * One output (alerts or rejects): respects backpressure, and turns a write
 * error into a recorded `failure` (reported through `onFailure`) instead of an
 * uncaught exception.
 */
class Output {
  failure?: NodeJS.ErrnoException;
  onFailure: (o: Output) => void = () => {};

  /**
   * @param what - `alerts` or `rejects`, for messages
   * @param label - the path, `stdout` or `stderr`, for messages
   * @param owned - a file this command opened (closed at the end); else stdout/stderr
   */
  constructor(
    readonly what: string,
    readonly label: string,
    readonly stream: NodeJS.WritableStream,
    private readonly owned: boolean,
  ) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (this.failure) return;
      this.failure = e;
      this.onFailure(this);
    });
  }

  /**
   * Open `target` for writing now, so a missing directory or a missing permission
   * shows before any input is read. `-` is stdout; no target at all is `fallback`.
   *
   * @throws CliError (exit 5) naming the option and the path
   */
  static open(what: 'alerts' | 'rejects', target: string | undefined, fallback: NodeJS.WriteStream): Output {
    const stream = target === undefined ? fallback : target === '-' ? process.stdout : undefined;
    if (stream) return new Output(what, stream === process.stderr ? 'stderr' : 'stdout', stream, false);
    const path = target!;
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (e) {
      throw new CliError(`cannot write ${what} to ${path} (--${what}): ${errnoText(e)}`, EXIT.output);
    }
    return new Output(what, path, createWriteStream(path, { fd }), true);
  }

  write(line: string | Uint8Array): void {
    if (!this.failure) this.stream.write(line);
  }

  /** wait until the stream has room (keeps memory flat when the reader is slow) */
  async drain(): Promise<void> {
    const s = this.stream as NodeJS.WritableStream & { writableNeedDrain?: boolean };
    if (this.failure || !s.writableNeedDrain) return;
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

  /** flush and close a file (a failure on the last writes is recorded like any other); stdout/stderr are only drained */
  async close(): Promise<void> {
    if (!this.owned) return this.drain();
    const s = this.stream as NodeJS.WritableStream & { destroyed?: boolean };
    if (s.destroyed) return;
    s.end();
    await finished(s).catch(() => {}); // the 'error' listener has recorded it
  }
}

/** `--summary-json`: opened before the input is read, written at the end. */
class SummaryFile {
  private constructor(
    readonly path: string,
    private fd: number,
  ) {}

  /** @throws CliError (exit 5) naming the path */
  static open(path: string): SummaryFile {
    try {
      return new SummaryFile(path, openSync(path, 'w'));
    } catch (e) {
      throw new CliError(`cannot write the summary to ${path} (--summary-json): ${errnoText(e)}`, EXIT.output);
    }
  }

  /** Write the summary and close the file; @returns an error message, or undefined when written */
  write(text: string): string | undefined {
    try {
      const bytes = Buffer.from(text);
      for (let at = 0; at < bytes.length; ) at += writeSync(this.fd, bytes, at);
      return undefined;
    } catch (e) {
      return `cannot write the summary to ${this.path} (--summary-json): ${errnoText(e)}`;
    } finally {
      closeSync(this.fd);
    }
  }

}

export interface StreamSummary {
  model: string;
  modelChecksum: string;
  input: string;
  /** every line handed over by the input: header + scored + rejected + not processed */
  linesRead: number;
  headerLines: number;
  recordsScored: number;
  recordsAnomalous: number;
  recordsRejected: number;
  /** lines read after the command decided to stop (a signal, a closed pipe, an error, --max-rejects): neither scored nor rejected */
  linesNotProcessed: number;
  rejectReasons: Record<string, number>;
  batches: number;
  seconds: number;
  rowsPerSecond: number;
  batchLatencyMs: { p50: number; p99: number };
  anomalyRate: number;
  expectedRate: number;
  driftWarnings: number;
  stoppedBy: 'end of input' | 'signal' | 'closed output pipe' | 'max rejects' | 'input error' | 'output error';
  /** the input or output error that stopped the command (also printed as one line) */
  error?: string;
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

/**
 * The model bundle; a bad one stops the command before anything is opened.
 * With a key (--key-file, else $ANOMALY_MODEL_KEY) an unsigned bundle or one
 * signed with another key is a bad bundle too.
 */
function loadModel(path: string, keyFile: string | undefined): LoadedModel {
  try {
    return loadBundle(path, { key: readModelKey({ keyFile }) });
  } catch (e) {
    if (e instanceof ModelKeyError) throw new CliError(`cannot use the model key: ${e.message}`, EXIT.model);
    if (e instanceof ArtifactError) throw new CliError(`cannot use the model: ${e.message}`, EXIT.model);
    throw e;
  }
}

/** Open every output named on the command line, or none: a failure closes the ones already open. */
function openOutputs(opts: StreamOptions): { alerts: Output; rejects: Output; summaryFile?: SummaryFile } {
  const opened: Array<{ close(): unknown }> = [];
  try {
    const alerts = Output.open('alerts', opts.alerts, process.stdout);
    if (alerts.stream !== process.stdout) opened.push({ close: () => (alerts.stream as NodeJS.WritableStream & { destroy(): void }).destroy() });
    const rejects = Output.open('rejects', opts.rejects, process.stderr);
    if (rejects.stream !== process.stdout && rejects.stream !== process.stderr) opened.push({ close: () => (rejects.stream as NodeJS.WritableStream & { destroy(): void }).destroy() });
    const summaryFile = opts.summaryJson === undefined ? undefined : SummaryFile.open(opts.summaryJson);
    return { alerts, rejects, summaryFile };
  } catch (e) {
    for (const o of opened) o.close();
    throw e;
  }
}

/**
 * Score the input named by `opts` until it ends or the command stops.
 *
 * Order: the model (a bad bundle: exit 3, nothing opened), the input's existence
 * (exit 4), every output (exit 5, no input read), then the input. Output and
 * input errors after that point still print the summary.
 *
 * @returns the exit code ({@link EXIT}) and the summary (also printed on stderr)
 * @throws CliError for a bad model bundle (3) or a missing input file (4)
 */
export async function runStream(opts: StreamOptions): Promise<{ code: number; summary: StreamSummary }> {
  const model = loadModel(opts.model, opts.keyFile);
  if (opts.input !== '-' && !existsSync(opts.input)) throw new CliError(`cannot read input ${opts.input}: no such file`, EXIT.input);
  const d = model.scaler.nFeatures; // the encoded width for a model with an encoder
  const contamination = model.params.contamination;
  const expectedRate = typeof contamination === 'number' ? contamination : model.bundle.trainingMetrics.nFlagged / model.bundle.trainingMetrics.nRows;
  const inputSize = opts.input !== '-' && !opts.follow ? statSync(opts.input).size : undefined;

  let lineNo = 0;
  let header = 0;
  let scored = 0;
  let anomalous = 0;
  let rejected = 0;
  let notProcessed = 0;
  let batches = 0;
  let driftWarnings = 0;
  let bytesRead = 0;
  const reasons: Record<string, number> = {};
  const state: { stopped: boolean; by?: StreamSummary['stoppedBy']; wake?: () => void } = { stopped: false };
  const started = performance.now();
  const latency = new LatencyStats();
  const parser = createRecordParser(model, opts.format);
  let inputError: string | undefined;
  let outputError: string | undefined;

  const stop = (by: StreamSummary['stoppedBy']) => {
    if (!state.stopped) {
      state.stopped = true;
      state.by = by;
    }
    state.wake?.();
    if (opts.input === '-') process.stdin.destroy(); // ends the for-await over stdin
  };

  let outputs: ReturnType<typeof openOutputs> | undefined;
  try {
    outputs = openOutputs(opts);
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    outputError = e.message;
    state.stopped = true;
    state.by = 'output error';
  }
  if (outputs) {
    const { alerts, rejects } = outputs;
    const onFailure = (o: Output) => {
      // the reader of the alerts going away is the normal end of `stream ... | head`;
      // anything else loses alerts or rejects, which is an error
      const quiet = isClosedPipe(o.failure) && (o === alerts || o.stream === alerts.stream);
      if (quiet) return stop('closed output pipe');
      outputError ??= `cannot write ${o.what} to ${o.label}: ${errnoText(o.failure)}`;
      stop('output error');
    };
    alerts.onFailure = onFailure;
    rejects.onFailure = onFailure;

    const splitter = new LineSplitter(opts.maxLineBytes);
    const drift = new DriftWindow(opts.driftWindow, expectedRate, opts.driftFactor);

    // batch buffers: one being filled, others out with the scorer; returned ones are reused
    const free: Array<{ values: Float64Array; tags: Float64Array }> = [];
    const takeBuffers = () => free.pop() ?? { values: new Float64Array(opts.batchSize * d), tags: new Float64Array(opts.batchSize) };
    let current = takeBuffers();
    let pending = 0;
    let pendingSince = 0;
    let warned = 0;

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

    const alertWriter = new AlertWriter(model, d);
    const onScored = (b: ScoredBatch) => {
      const timestamp = new Date().toISOString();
      if (opts.explain > 0) {
        // explained alerts: TreeSHAP dominates their cost, so the plain per-alert text is fine here
        const why = alertDriversJson(model, b.values, d, b.anomalies, opts.explain);
        let k = 0;
        for (const i of b.anomalies) {
          // as JSON.stringify({ line, batch, timestamp, score, decision, record, explain }), without the objects
          alerts.write(`{"line":${b.tags[i]},"batch":${b.id},"timestamp":"${timestamp}","score":${b.scores[i]},"decision":${b.decision[i]},"record":${alertRecordJson(model, b.values, i * d)},"explain":${why[k++]}}\n`);
        }
      } else if (b.anomalies.length > 0) {
        // as JSON.stringify({ line, batch, timestamp, score, decision, record }) per alert, one buffer per batch
        alerts.write(alertWriter.write(b, timestamp));
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
        // read (the rest of a chunk) after the stop: accounted for, but neither scored nor a reject
        notProcessed++;
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
      if (state.stopped) notProcessed++;
      else reject(lineNo, `line longer than ${opts.maxLineBytes} bytes`, '');
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
        inputError = `input error: ${e.message}`;
        stop('input error');
      } else if (!(state.stopped && opts.input === '-')) {
        // a destroyed stdin after a stop is expected; anything else is not
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR') {
          inputError = `cannot read input ${opts.input}: ${errnoText(err)}`;
          stop('input error');
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
    await scorer.close(); // every submitted batch is scored and its alerts written before the summary
    flushWarnings();
    await alerts.close(); // a failure on the last writes still counts
    await rejects.close();
  }

  const seconds = (performance.now() - started) / 1000;
  const error = outputError ?? inputError;
  const summary: StreamSummary = {
    model: opts.model,
    modelChecksum: model.checksum,
    input: opts.input,
    linesRead: lineNo,
    headerLines: header,
    recordsScored: scored,
    recordsAnomalous: anomalous,
    recordsRejected: rejected,
    linesNotProcessed: notProcessed,
    rejectReasons: reasons,
    batches,
    seconds,
    rowsPerSecond: scored / Math.max(seconds, 1e-9),
    batchLatencyMs: { p50: latency.percentile(50), p99: latency.percentile(99) },
    anomalyRate: scored === 0 ? 0 : anomalous / scored,
    expectedRate,
    driftWarnings,
    stoppedBy: state.by ?? 'end of input',
    ...(error === undefined ? {} : { error }),
    warnings: parser.warnings,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
  if (summary.linesRead !== summary.headerLines + summary.recordsScored + summary.recordsRejected + summary.linesNotProcessed) {
    throw new Error(
      `internal: ${summary.linesRead} lines read but ${summary.headerLines} + ${summary.recordsScored} + ${summary.recordsRejected} + ${summary.linesNotProcessed} accounted for`,
    );
  }
  if (outputs?.summaryFile) {
    const failed = outputs.summaryFile.write(`${JSON.stringify(summary, null, 1)}\n`);
    outputError ??= failed;
  }
  // an output error loses results, so it wins over an input error (4)
  const code = outputError !== undefined ? EXIT.output : state.by === 'input error' || state.by === 'max rejects' ? EXIT.input : EXIT.ok;
  for (const message of [inputError, outputError]) if (message !== undefined) process.stderr.write(`stream: ${message}\n`);
  process.stderr.write(
    [
      `[stream] done (${summary.stoppedBy}) in ${seconds.toFixed(2)} s`,
      `  lines read ${fmtInt(summary.linesRead)} = header ${summary.headerLines} + scored ${fmtInt(scored)} + rejected ${fmtInt(rejected)} + not processed ${fmtInt(notProcessed)}`,
      `  anomalous ${fmtInt(anomalous)} (${(100 * summary.anomalyRate).toFixed(3)}%; the model expects about ${(100 * expectedRate).toFixed(2)}%), drift warnings ${driftWarnings}`,
      `  ${fmtInt(summary.rowsPerSecond)} rows/s, ${batches} batches, ${batches === 0 ? 'no batch latency' : `batch latency p50 ${summary.batchLatencyMs.p50.toFixed(2)} ms, p99 ${summary.batchLatencyMs.p99.toFixed(2)} ms`}, peak memory ${summary.peakRssMB.toFixed(0)} MiB`,
      ...(rejected > 0 ? [`  rejects by reason: ${Object.entries(reasons).map(([k, v]) => `${k}: ${v}`).join('; ')}`] : []),
    ].join('\n') + '\n',
  );
  return { code, summary };
}

/**
 * `npm run stream` on `argv`.
 *
 * @returns the exit code ({@link EXIT})
 * @throws CliError / UsageError for failures reported by {@link runCommand}
 */
export async function main(argv: readonly string[]): Promise<number> {
  // --redis: one member of a Redis consumer group (src/cli/stream-group.ts)
  if (argv.some((a) => a === '--redis' || a.startsWith('--redis='))) return (await import('./stream-group')).main([...argv]);
  const opts = parseStreamArgs(argv);
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  // with stderr gone there is nobody to tell; the exit code still does
  process.stderr.on('error', () => {});
  return (await runStream(opts)).code;
}

if (require.main === module) runCommand('stream', main, { help: 'npm run stream -- --help' });
