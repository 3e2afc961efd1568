/**
 * `npm run stream`: score records with a saved model bundle, from stdin, a
 * file (optionally followed as it grows) or a Redis consumer group, through
 * the one scoring loop (stream/loop.ts) and the one pipeline
 * (scoring/pipeline.ts). Every option that is not about where records come
 * from (--key-file, --explain, drift, --max-rejects, progress, the summary,
 * the exit codes) means the same in every mode.
 *
 * Layout: {@link parseStreamArgs} (argv to {@link StreamOptions}, nothing
 * opened), {@link runStream} (model, source, outputs, loop; returns the exit
 * code and the summary), {@link main} (both, for the command line).
 */
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { ArtifactError, loadBundle, type LoadedModel } from '../persist/bundle';
import { ModelKeyError, readModelKey } from '../persist/signing';
import type { InputFormat } from '../data/records';
import { ScoringPipeline } from '../scoring/pipeline';
import { FileOutput, PipeOutput, RedisStreamOutput, type DurableOutput } from '../stream/durable-output';
import { LineSource } from '../stream/line-source';
import { prestartScoringWorkers } from '../stream/scorer';
import { CaptureSource } from '../stream/capture-source';
import { formatFlowInputSummary } from '../capture/flow-input';
import { errnoText, startScoringLoop, summaryBeforeStart, type StreamSummary } from '../stream/loop';
import type { RedisStreamSource } from '../stream/redis-source';
import type { RecordSource } from '../stream/source';
import { integerOption, numberOption, parseOptions } from './args';
import { CliError, EXIT_INTERNAL, EXIT_OK, EXIT_OUTPUT, EXIT_USAGE, runCommand, UsageError } from './command';
import { formatCount } from '../core/count-text';

/** Exit codes of `npm run stream`, the same in every mode (see USAGE). */
export const EXIT = {
  ok: EXIT_OK,
  internal: EXIT_INTERNAL,
  usage: EXIT_USAGE,
  model: 3,
  input: 4,
  output: EXIT_OUTPUT,
} as const;

const USAGE = `usage: npm run stream -- --model FILE [--input FILE|-] [options]
       npm run stream -- --model FILE --redis URL --stream NAME --group G --consumer C [options]

Scores records with a saved model bundle (notebook 07 writes artifacts/model.json;
notebook 10 and npm run evaluate -- --save-model write NSL-KDD bundles): one NDJSON
alert per anomalous record, one NDJSON reject per bad line.

Where records come from:
  --input FILE|-        a file or stdin (default: - = stdin)
  --follow              keep reading a file that is still being appended to (stop with Ctrl-C)
  --redis URL           instead: one member of a Redis Streams consumer group (written by
                        npm run publish); each entry goes to one member and is acknowledged
                        only after its alerts and rejects are durably written
  --stream NAME         the stream key (with --redis, required)
  --group G             consumer group, created (from the stream's start) if missing (required)
  --consumer C          this member's name, stable across restarts: a restarted consumer first
                        re-reads the entries it had not acknowledged (required)
  --claim-idle-ms N     take over entries pending at another consumer for longer (default 30000)
  --max-deliveries N    an entry handed out more often goes to the dead-letter stream (default 5)
  --dead-letter-stream NAME  default: STREAM:dead
  --entries-per-read N  entries per XREADGROUP (default 64)
  --exit-when-idle MS   stop once nothing arrived for MS ms and nothing is pending

In every mode:
  --model FILE          the model bundle (required)
  --key-file FILE       require the bundle to be signed with this HMAC key (default: the
                        key in $ANOMALY_MODEL_KEY if set, else no signature check)
  --format csv|ndjson|pcap|pcapng|zeek
                        input format (default: from the file name, else csv). CSV with or
                        without a header (a header may list the features in any order;
                        extra columns are ignored); NDJSON objects keyed by feature name
                        or arrays in feature order. A model with an encoder (NSL-KDD) reads
                        raw records: its columns in order, then up to two ignored fields.
                        pcap, pcapng (plain or gzip; e.g. tcpdump -i IFACE -w - | ...) or a
                        Zeek conn.log: read into flows (as npm run flows does), each flow
                        scored as it expires; its alert names the flow (5-tuple, times, state)
  --idle-timeout S      pcap/pcapng: a flow idle this long ends and is scored (default 120)
  --active-timeout S    pcap/pcapng: a flow this long is cut and scored (default 1800)
  --batch-size N        records per micro-batch (default 4096)
  --max-wait-ms T       score a partial batch once its first record waited T ms (default 200)
  --alerts FILE|-       one NDJSON alert per anomalous record (default: - = stdout)
  --alerts-stream NAME  with --redis, instead: one entry per alert (field "alert") in this stream
  --rejects FILE|-      one NDJSON line per rejected line (default: stderr; - = stdout)
  --rejects-stream NAME with --redis, instead: one entry per reject (field "reject")
  --ledger FILE         one NDJSON line per finished chunk (entry, line, records, scored,
                        anomalous, rejected, deliveries)
  --max-rejects N       stop with exit code 4 once more than N lines were rejected (default: no limit)
  --max-line-bytes N    longer lines are rejected (default 65536)
  --drift-window N      records in the window for the drift signal (default 10000)
  --drift-factor F      warn when a window's anomaly rate exceeds F x the model's
                        contamination (default 2)
  --threads N           1 = score on the reading thread; 2 (default on 2+ cores) = score (and
                        explain) on a worker thread while the next batch is read and parsed
  --explain K           add each alert's K strongest features to its line: "explain":
                        [{"feature","value","contribution"}] (exact TreeSHAP, path-length
                        units; negative = towards anomalous)
  --alert-unseen        also alert on every record with a category the model never saw
                        (a model with text features, e.g. NSL-KDD's service): the forest
                        cannot see such a value, so it is a reason of its own; every alert
                        line names such columns in "unseen" (with or without this option)
  --progress-ms T       a progress line on stderr every T ms, 0 = none (default 5000)
  --summary-json FILE   also write the final summary as JSON
  --quiet               no progress lines (the final summary is still printed)

Output files are opened before any input is read: written afresh from a file or stdin,
appended to (and fsynced before each acknowledgement) with --redis. Lines read after
the command decided to stop are counted as "not processed" (not as rejects, and not
towards --max-rejects); with --redis their entries stay pending for the group.

Exit codes (every mode): 0 done (end of input, SIGINT/SIGTERM, --exit-when-idle, or the
reader of the alerts closed the pipe), 2 bad usage, 3 model bundle missing, corrupt or
tampered (or, with a key, unsigned or signed with another key; or the key unreadable),
4 input error (unreadable input, unusable CSV header, more rejects than --max-rejects,
Redis unreachable or refusing a command), 5 output error (an output cannot be opened or
written: missing directory, no permission, full disk, a closed pipe on the rejects, a
Redis output stream; takes precedence over 4), 1 unexpected failure (a bug; set DEBUG=1
for the stack trace).`;

/** what --format accepts: record lines, or packets / a Zeek log read into flows */
export type StreamFormat = InputFormat | 'pcap' | 'pcapng' | 'zeek';
const STREAM_FORMATS: readonly StreamFormat[] = ['csv', 'ndjson', 'pcap', 'pcapng', 'zeek'];
const isFlowFormat = (f: StreamFormat): f is 'pcap' | 'pcapng' | 'zeek' => f === 'pcap' || f === 'pcapng' || f === 'zeek';

export interface RedisModeOptions {
  url: string;
  stream: string;
  group: string;
  consumer: string;
  claimIdleMs: number;
  maxDeliveries: number;
  deadLetterStream?: string;
  entriesPerRead: number;
  exitWhenIdleMs?: number;
  alertsStream?: string;
  rejectsStream?: string;
}

export interface StreamOptions {
  model: string;
  /** HMAC key file: the bundle must carry a signature made with this key */
  keyFile?: string;
  /** the file or '-' (ignored with redis) */
  input: string;
  follow: boolean;
  /** set: read from a Redis consumer group instead of input */
  redis?: RedisModeOptions;
  format: StreamFormat;
  /** pcap/pcapng: the flow meter's timeouts in ms */
  idleTimeoutMs?: number;
  activeTimeoutMs?: number;
  batchSize: number;
  maxWaitMs: number;
  alerts: string;
  rejects?: string;
  ledger?: string;
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
  /** alert on records with an unseen category too */
  alertUnseen: boolean;
}

const STREAM_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  model: { type: 'string' },
  'key-file': { type: 'string' },
  input: { type: 'string' },
  follow: { type: 'boolean' },
  format: { type: 'string' },
  'idle-timeout': { type: 'string' },
  'active-timeout': { type: 'string' },
  'batch-size': { type: 'string' },
  'max-wait-ms': { type: 'string' },
  alerts: { type: 'string' },
  rejects: { type: 'string' },
  ledger: { type: 'string' },
  'max-rejects': { type: 'string' },
  'max-line-bytes': { type: 'string' },
  'drift-window': { type: 'string' },
  'drift-factor': { type: 'string' },
  'progress-ms': { type: 'string' },
  threads: { type: 'string' },
  'summary-json': { type: 'string' },
  quiet: { type: 'boolean' },
  explain: { type: 'string' },
  'alert-unseen': { type: 'boolean' },
  redis: { type: 'string' },
  stream: { type: 'string' },
  group: { type: 'string' },
  consumer: { type: 'string' },
  'claim-idle-ms': { type: 'string' },
  'max-deliveries': { type: 'string' },
  'dead-letter-stream': { type: 'string' },
  'entries-per-read': { type: 'string' },
  'exit-when-idle': { type: 'string' },
  'alerts-stream': { type: 'string' },
  'rejects-stream': { type: 'string' },
} as const;

const REDIS_ONLY = ['stream', 'group', 'consumer', 'claim-idle-ms', 'max-deliveries', 'dead-letter-stream', 'entries-per-read', 'exit-when-idle', 'alerts-stream', 'rejects-stream'] as const;

/**
 * The command line of `npm run stream` as options; opens nothing.
 *
 * @param argv - the arguments after the script name
 * @returns the options with their defaults filled in, or `'help'` for --help / -h
 * @throws UsageError (exit 2) for an unknown option, a missing or malformed value,
 *   a missing --model, --follow on stdin, or options of the other mode
 */
export function parseStreamArgs(argv: readonly string[]): StreamOptions | 'help' {
  const { values: v } = parseOptions(argv, STREAM_OPTIONS);
  if (v.help) return 'help';
  const int = (flag: keyof typeof STREAM_OPTIONS, fallback: number, min = 1): number => {
    const text = v[flag];
    return typeof text === 'string' ? integerOption(`--${flag}`, text, min) : fallback;
  };
  if (v.format !== undefined && !(STREAM_FORMATS as readonly string[]).includes(v.format)) throw new UsageError(`--format must be ${STREAM_FORMATS.join(', ')}; got ${JSON.stringify(v.format)}`);
  const flowFormat = v.format !== undefined && isFlowFormat(v.format as StreamFormat);
  if (flowFormat && (v.redis !== undefined || v.follow)) throw new UsageError(`--format ${v.format} reads packets or a log from --input FILE|- (publish flows with npm run publish -- --format ${v.format} to use --redis)`);
  if (!flowFormat && (v['idle-timeout'] !== undefined || v['active-timeout'] !== undefined)) throw new UsageError('--idle-timeout and --active-timeout belong to --format pcap|pcapng');
  const seconds = (flag: 'idle-timeout' | 'active-timeout') => (v[flag] === undefined ? undefined : Math.round(numberOption(`--${flag}`, v[flag]!, 0) * 1000));
  if (!v.model) throw new UsageError('--model FILE is required');
  const input = v.input ?? '-';
  let redis: RedisModeOptions | undefined;
  if (v.redis !== undefined) {
    for (const k of ['stream', 'group', 'consumer'] as const) if (!v[k]) throw new UsageError(`--${k} is required with --redis`);
    if (v.input !== undefined || v.follow) throw new UsageError('--input and --follow read a file; with --redis the records come from the stream');
    if (v.alerts !== undefined && v['alerts-stream'] !== undefined) throw new UsageError('give --alerts FILE or --alerts-stream NAME, not both');
    if (v.rejects !== undefined && v['rejects-stream'] !== undefined) throw new UsageError('give --rejects FILE or --rejects-stream NAME, not both');
    redis = {
      url: v.redis,
      stream: v.stream!,
      group: v.group!,
      consumer: v.consumer!,
      claimIdleMs: int('claim-idle-ms', 30_000, 0),
      maxDeliveries: int('max-deliveries', 5),
      deadLetterStream: v['dead-letter-stream'],
      entriesPerRead: int('entries-per-read', 64),
      exitWhenIdleMs: v['exit-when-idle'] === undefined ? undefined : int('exit-when-idle', 0, 0),
      alertsStream: v['alerts-stream'],
      rejectsStream: v['rejects-stream'],
    };
  } else {
    const other = REDIS_ONLY.find((k) => v[k] !== undefined);
    if (other) throw new UsageError(`--${other} belongs to the consumer-group mode: add --redis URL`);
    if (v.follow && input === '-') throw new UsageError('--follow needs --input FILE (stdin is followed anyway until it ends)');
  }
  return {
    model: v.model,
    keyFile: v['key-file'],
    input,
    follow: v.follow ?? false,
    ...(redis ? { redis } : {}),
    format: (v.format as StreamFormat | undefined) ?? (!redis && /\.(nd)?jsonl?$/i.test(input) ? 'ndjson' : 'csv'),
    idleTimeoutMs: seconds('idle-timeout'),
    activeTimeoutMs: seconds('active-timeout'),
    batchSize: int('batch-size', 4096),
    maxWaitMs: int('max-wait-ms', 200),
    alerts: v.alerts ?? '-',
    rejects: v.rejects,
    ledger: v.ledger,
    maxRejects: int('max-rejects', Infinity, 0),
    maxLineBytes: int('max-line-bytes', 65536),
    driftWindow: int('drift-window', 10_000),
    driftFactor: v['drift-factor'] === undefined ? 2 : numberOption('--drift-factor', v['drift-factor'], 0),
    progressMs: int('progress-ms', 5000, 0),
    summaryJson: v['summary-json'],
    quiet: v.quiet ?? false,
    threads: int('threads', 2),
    explain: int('explain', 0),
    alertUnseen: v['alert-unseen'] ?? false,
  };
}

/**
 * The model bundle; a bad one stops the command before anything is opened.
 * With a key (--key-file, else $ANOMALY_MODEL_KEY) an unsigned bundle or one
 * signed with another key is a bad bundle too, in every mode.
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

/** Open the source; one that cannot be opened (a file, Redis) is exit 4. */
async function openSource(source: RecordSource): Promise<void> {
  try {
    await source.open();
  } catch (e) {
    await source.close().catch(() => undefined);
    throw new CliError(source.acknowledges ? (e as Error).message : `cannot read input ${source.description}: ${errnoText(e)}`, EXIT.input);
  }
}

/** A file or a pipe for one output; a file that cannot be opened is exit 5 naming the option and the path. */
async function openOutput(what: 'alerts' | 'rejects' | 'ledger', target: string | undefined, fallback: 'stdout' | 'stderr', append: boolean): Promise<DurableOutput> {
  if (target === undefined) return new PipeOutput(fallback, fallback === 'stdout' ? process.stdout : process.stderr);
  if (target === '-') return new PipeOutput('stdout', process.stdout);
  try {
    return await FileOutput.open(target, append ? 'a' : 'w', append);
  } catch (e) {
    throw new CliError(`cannot write ${what} to ${target} (--${what}): ${errnoText(e)}`, EXIT.output);
  }
}

/** The summary as the lines printed on stderr (the same in every mode). */
export function summaryLines(s: StreamSummary, prefix: string): string[] {
  const lat = s.batchLatencyMs;
  const e = s.entries;
  return [
    `${prefix} done (${s.stoppedBy}) in ${s.seconds.toFixed(2)} s: ${s.source}`,
    `  lines read ${formatCount(s.linesRead)} = header ${s.headerLines} + scored ${formatCount(s.recordsScored)} + rejected ${formatCount(s.recordsRejected)} + dead-lettered ${formatCount(s.recordsDeadLettered)} + not processed ${formatCount(s.linesNotProcessed)}`,
    `  anomalous ${formatCount(s.recordsAnomalous)} (${(100 * s.anomalyRate).toFixed(3)}%; the model expects about ${(100 * s.expectedRate).toFixed(2)}%), drift warnings ${s.driftWarnings}${s.explain > 0 ? `, ${s.explain} drivers per alert` : ''}`,
    `  ${formatCount(s.recordsPerSecond)} records/s, ${s.batches} batches, ${lat ? `batch latency p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms` : 'no batch latency'}, peak memory ${s.peakRssMB.toFixed(0)} MiB`,
    ...(e ? [`  entries: ${formatCount(e.newEntries)} new, ${formatCount(e.ownPendingEntries)} own pending re-read, ${formatCount(e.claimedEntries)} claimed from other consumers, ${formatCount(e.redelivered)} redelivered, ${formatCount(e.ackedEntries)} acknowledged, ${formatCount(e.deadLetteredEntries)} dead-lettered`] : []),
    ...(s.recordsRejected > 0 ? [`  rejects by reason: ${Object.entries(s.rejectReasons).map(([k, v]) => `${k}: ${v}`).join('; ')}`] : []),
    ...(s.recordsDeadLettered > 0 ? [`  dead-lettered records by reason: ${Object.entries(s.deadLetterReasons).map(([k, v]) => `${k}: ${v}`).join('; ')}`] : []),
  ];
}

/** the capture source for --format pcap|pcapng|zeek; a model whose inputs are not flow fields is exit 3 */
function captureSourceFor(opts: StreamOptions, columns: readonly string[]): CaptureSource {
  try {
    return new CaptureSource({ input: opts.input, format: opts.format as 'pcap' | 'pcapng' | 'zeek', columns, meter: { idleTimeoutMs: opts.idleTimeoutMs, activeTimeoutMs: opts.activeTimeoutMs } });
  } catch (e) {
    if (e instanceof RangeError) throw new CliError(`cannot score flows with ${opts.model}: ${e.message}`, EXIT.model);
    throw e;
  }
}

/**
 * Score the records `opts` names until they end or the command stops.
 *
 * Order: the model (a bad bundle or key: exit 3, nothing opened), the source
 * (a missing file or an unreachable Redis: exit 4), every output (exit 5, no
 * input read), then the loop. Input and output errors after that point still
 * print the summary.
 *
 * @returns the exit code ({@link EXIT}) and the summary (also printed on stderr)
 * @throws CliError for a bad model (3), an unusable source (4) or output (5)
 */
export async function runStream(opts: StreamOptions): Promise<{ code: number; summary: StreamSummary }> {
  const options = { explain: opts.explain, unseenAlerts: opts.alertUnseen };
  // the workers boot while this thread loads the bundle and opens the source (each batch proves which bundle it is)
  if (existsSync(opts.model)) prestartScoringWorkers(opts.model, options, opts.threads);
  const model = loadModel(opts.model, opts.keyFile);
  const pipeline = new ScoringPipeline(model, options);
  const prefix = opts.redis ? `[stream ${opts.redis.consumer}]` : '[stream]';
  const log = (line: string) => process.stderr.write(`${prefix} ${line}\n`);

  let source: RecordSource;
  let redisSource: RedisStreamSource | undefined;
  let captureSource: CaptureSource | undefined;
  if (opts.redis) {
    const r = opts.redis;
    // loaded only here: the pipe mode needs no Redis client (and see data/records.ts on what ioredis costs V8)
    const { RedisStreamSource } = await import('../stream/redis-source');
    source = redisSource = new RedisStreamSource({ url: r.url, stream: r.stream, group: r.group, consumer: r.consumer, claimIdleMs: r.claimIdleMs, deadLetterStream: r.deadLetterStream, entriesPerRead: r.entriesPerRead });
    // the group first: an output may be a Redis stream on the same connection
    await openSource(source);
  } else {
    if (opts.input !== '-' && !existsSync(opts.input)) throw new CliError(`cannot read input ${opts.input}: no such file`, EXIT.input);
    source = isFlowFormat(opts.format)
      ? (captureSource = captureSourceFor(opts, pipeline.inputNames))
      : new LineSource({ input: opts.input, follow: opts.follow, maxLineBytes: opts.maxLineBytes, log });
  }

  // every output is opened before any input is read (a FIFO or stdin stays untouched when one fails)
  const opened: DurableOutput[] = [];
  let summaryFile: SummaryFile | undefined;
  let sinks;
  try {
    const append = opts.redis !== undefined; // a restarted consumer keeps what it committed
    const alerts = redisSource && opts.redis?.alertsStream ? new RedisStreamOutput(redisSource.client, opts.redis.alertsStream, 'alert') : await openOutput('alerts', opts.alerts, 'stdout', append);
    opened.push(alerts);
    const rejects = redisSource && opts.redis?.rejectsStream ? new RedisStreamOutput(redisSource.client, opts.redis.rejectsStream, 'reject') : await openOutput('rejects', opts.rejects, 'stderr', append);
    opened.push(rejects);
    const ledger = opts.ledger === undefined ? undefined : await openOutput('ledger', opts.ledger, 'stdout', append);
    if (ledger) opened.push(ledger);
    summaryFile = opts.summaryJson === undefined ? undefined : SummaryFile.open(opts.summaryJson);
    sinks = { alerts, rejects, ledger };
  } catch (e) {
    for (const o of opened) await o.close().catch(() => undefined);
    await source.close().catch(() => undefined);
    if (!(e instanceof CliError)) throw e;
    const summary = summaryBeforeStart(pipeline, source.description, opts.model, 'output error', e.message);
    process.stderr.write(`stream: ${e.message}\n${summaryLines(summary, prefix).join('\n')}\n`);
    return { code: EXIT.output, summary };
  }
  if (!redisSource) {
    try {
      await openSource(source);
    } catch (e) {
      for (const o of opened) await o.close().catch(() => undefined);
      throw e;
    }
  }

  const loop = startScoringLoop(pipeline, source, sinks, {
    // flows reach the loop as CSV lines under the flow header
    format: isFlowFormat(opts.format) ? 'csv' : opts.format,
    modelPath: opts.model,
    batchSize: opts.batchSize,
    maxLineBytes: opts.maxLineBytes,
    maxWaitMs: opts.maxWaitMs,
    maxRejects: opts.maxRejects,
    maxDeliveries: opts.redis?.maxDeliveries ?? Infinity,
    threads: opts.threads,
    driftWindow: opts.driftWindow,
    driftFactor: opts.driftFactor,
    exitWhenIdleMs: opts.redis?.exitWhenIdleMs,
    progressMs: opts.quiet ? 0 : opts.progressMs,
    log,
  });
  const onSignal = () => loop.stop('signal');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let summary: StreamSummary;
  try {
    summary = await loop.done;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const o of opened) await o.close().catch(() => undefined); // a failure on the last writes is recorded by the sink
    await source.close().catch(() => undefined);
  }
  let outputError = summary.stoppedBy === 'output error' ? summary.error : undefined;
  for (const [what, o] of [['alerts', sinks.alerts], ['rejects', sinks.rejects], ['the ledger', sinks.ledger]] as const) {
    if (o?.failure && outputError === undefined && !(summary.stoppedBy === 'closed output pipe' && o === sinks.alerts)) {
      outputError = `cannot write ${what} to ${o.target}: ${errnoText(o.failure)}`;
      summary = { ...summary, stoppedBy: 'output error', error: outputError };
    }
  }
  if (summaryFile) {
    const failed = summaryFile.write(`${JSON.stringify(summary, null, 1)}\n`);
    if (failed !== undefined && outputError === undefined) outputError = failed;
  }
  // an output error loses results, so it wins over an input error (4)
  const code = outputError !== undefined ? EXIT.output : summary.stoppedBy === 'input error' || summary.stoppedBy === 'max rejects' ? EXIT.input : EXIT.ok;
  const inputError = summary.stoppedBy === 'input error' || summary.stoppedBy === 'max rejects' ? summary.error : undefined;
  for (const message of [inputError, outputError]) if (message !== undefined) process.stderr.write(`stream: ${message}\n`);
  process.stderr.write(`${summaryLines(summary, prefix).join('\n')}\n`);
  if (captureSource?.summary) process.stderr.write(formatFlowInputSummary(`${prefix} flows from ${captureSource.description}`, captureSource.summary));
  return { code, summary };
}

/**
 * `npm run stream` on `argv`.
 *
 * @returns the exit code ({@link EXIT})
 * @throws CliError / UsageError for failures reported by {@link runCommand}
 */
export async function main(argv: readonly string[]): Promise<number> {
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
