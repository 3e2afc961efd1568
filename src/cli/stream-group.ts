/**
 * `npm run stream -- --redis URL ...`: the stream command as one member of a
 * Redis consumer group (src/cli/stream.ts hands over to this module when it
 * sees --redis). See src/stream/group-consumer.ts for the delivery contract.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ArtifactError, loadBundle, type LoadedModel } from '../persist/bundle';
import type { InputFormat } from '../data/records';
import { RedisStreamSource, RedisSourceError } from '../stream/redis-source';
import { FileOutput, PipeOutput, RedisStreamOutput, type DurableOutput } from '../stream/durable-output';
import { startGroupConsumer, type GroupConsumerSummary } from '../stream/group-consumer';

export const GROUP_EXIT = { ok: 0, internal: 1, usage: 2, model: 3, redis: 5, output: 6 } as const;

const USAGE = `usage: npm run stream -- --model FILE --redis URL --stream NAME --group G --consumer C [options]

Scores records from a Redis stream (written by npm run publish) as one member of
a consumer group: each entry goes to one member; it is acknowledged only after
its alerts and rejects are durably written, so a crash repeats work but never
loses it.

  --model FILE               the model bundle (required)
  --redis URL                redis://[user:password@]host:port[/db] (required)
  --stream NAME              the stream key (required)
  --group G                  consumer group, created (from the stream's start) if missing (required)
  --consumer C               this member's name, stable across restarts: a restarted consumer
                             first re-reads the entries it had not acknowledged (required)
  --format csv|ndjson        format of the published lines (default csv)
  --alerts FILE|-            one NDJSON alert per anomalous record, appended + fsynced (default - = stdout)
  --alerts-stream NAME       instead: one entry per alert (field "alert") in this Redis stream
  --rejects FILE|-           one NDJSON line per bad line, appended + fsynced (default: stderr)
  --rejects-stream NAME      instead: one entry per reject (field "reject") in this Redis stream
  --ledger FILE              one NDJSON line per acknowledged entry (entry, records, scored,
                             anomalous, rejected, deliveries, consumer), appended + fsynced
  --claim-idle-ms N          take over entries pending at another consumer for longer (default 30000)
  --max-deliveries N         an entry handed out more often goes to the dead-letter stream (default 5)
  --dead-letter-stream NAME  default: STREAM:dead
  --entries-per-read N       entries per XREADGROUP (default 64)
  --batch-size N             records per scoring micro-batch (default 4096)
  --threads N                1 = score on the reading thread, 2 = on a worker thread (default 2)
  --exit-when-idle MS        stop once nothing arrived for MS ms and the group has no pending entry
  --progress-ms T            a progress line on stderr every T ms, 0 = none (default 5000)
  --summary-json FILE        also write the final summary as JSON
  --quiet                    no progress lines (the final summary is still printed)

Stops on SIGINT/SIGTERM after scoring, writing and acknowledging what it has read.
Exit codes: 0 done, 2 bad usage, 3 model bundle missing, corrupt or tampered,
5 Redis unreachable or refused a command, 6 an output could not be written
(nothing after it was acknowledged), 1 unexpected failure.`;

class UsageError extends Error {}

export interface GroupCliOptions {
  model: string;
  redis: string;
  stream: string;
  group: string;
  consumer: string;
  format: InputFormat;
  alerts: string;
  alertsStream?: string;
  rejects?: string;
  rejectsStream?: string;
  ledger?: string;
  claimIdleMs: number;
  maxDeliveries: number;
  deadLetterStream?: string;
  entriesPerRead: number;
  batchSize: number;
  threads: number;
  exitWhenIdleMs?: number;
  progressMs: number;
  summaryJson?: string;
  quiet: boolean;
}

function int(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer, got ${JSON.stringify(v)}`);
  return n;
}

const STRING_OPTIONS = ['model', 'redis', 'stream', 'group', 'consumer', 'format', 'alerts', 'alerts-stream', 'rejects', 'rejects-stream', 'ledger', 'claim-idle-ms', 'max-deliveries', 'dead-letter-stream', 'entries-per-read', 'batch-size', 'threads', 'exit-when-idle', 'progress-ms', 'summary-json'] as const;

/** Parse the command line; 'help' for --help. Throws UsageError with a one-line message. */
export function parseGroupArgs(argv: string[]): GroupCliOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(STRING_OPTIONS.map((k) => [k, { type: 'string' as const }])),
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
  if (values.help) return 'help';
  const s = (k: string) => values[k] as string | undefined;
  for (const k of ['model', 'redis', 'stream', 'group', 'consumer']) if (!s(k)) throw new UsageError(`--${k} is required`);
  if (s('alerts') !== undefined && s('alerts-stream') !== undefined) throw new UsageError('give --alerts FILE or --alerts-stream NAME, not both');
  if (s('rejects') !== undefined && s('rejects-stream') !== undefined) throw new UsageError('give --rejects FILE or --rejects-stream NAME, not both');
  const format = s('format') ?? 'csv';
  if (format !== 'csv' && format !== 'ndjson') throw new UsageError(`--format must be csv or ndjson, got ${JSON.stringify(format)}`);
  return {
    model: s('model')!,
    redis: s('redis')!,
    stream: s('stream')!,
    group: s('group')!,
    consumer: s('consumer')!,
    format,
    alerts: s('alerts') ?? '-',
    alertsStream: s('alerts-stream'),
    rejects: s('rejects'),
    rejectsStream: s('rejects-stream'),
    ledger: s('ledger'),
    claimIdleMs: int('claim-idle-ms', s('claim-idle-ms'), 0) ?? 30_000,
    maxDeliveries: int('max-deliveries', s('max-deliveries'), 1) ?? 5,
    deadLetterStream: s('dead-letter-stream'),
    entriesPerRead: int('entries-per-read', s('entries-per-read'), 1) ?? 64,
    batchSize: int('batch-size', s('batch-size'), 1) ?? 4096,
    threads: int('threads', s('threads'), 1) ?? 2,
    exitWhenIdleMs: int('exit-when-idle', s('exit-when-idle'), 0),
    progressMs: int('progress-ms', s('progress-ms'), 0) ?? 5000,
    summaryJson: s('summary-json'),
    quiet: values.quiet === true,
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function fileOrPipe(target: string | undefined, fallback: 'stdout' | 'stderr'): Promise<DurableOutput> {
  if (target === undefined) return new PipeOutput(fallback, fallback === 'stdout' ? process.stdout : process.stderr);
  if (target === '-') return new PipeOutput('stdout', process.stdout);
  return FileOutput.open(target);
}

/** Run the consumer; returns the exit code (a one-line message on stderr for every failure). */
export async function main(argv: string[]): Promise<number> {
  let opts: GroupCliOptions | 'help';
  try {
    opts = parseGroupArgs(argv);
  } catch (e) {
    process.stderr.write(`stream: ${(e as Error).message}\n\n${USAGE}\n`);
    return GROUP_EXIT.usage;
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return GROUP_EXIT.ok;
  }
  let model: LoadedModel;
  try {
    model = loadBundle(opts.model);
  } catch (e) {
    process.stderr.write(`stream: cannot use the model: ${(e as Error).message}\n`);
    return e instanceof ArtifactError ? GROUP_EXIT.model : GROUP_EXIT.internal;
  }
  const source = new RedisStreamSource({ url: opts.redis, stream: opts.stream, group: opts.group, consumer: opts.consumer, claimIdleMs: opts.claimIdleMs, deadLetterStream: opts.deadLetterStream });
  try {
    await source.open();
  } catch (e) {
    await source.close();
    process.stderr.write(`stream: ${(e as Error).message}\n`);
    return GROUP_EXIT.redis;
  }
  const opened: DurableOutput[] = [];
  let outputs;
  try {
    const alerts = opts.alertsStream ? new RedisStreamOutput(source.client, opts.alertsStream, 'alert') : await fileOrPipe(opts.alerts, 'stdout');
    opened.push(alerts);
    const rejects = opts.rejectsStream ? new RedisStreamOutput(source.client, opts.rejectsStream, 'reject') : await fileOrPipe(opts.rejects, 'stderr');
    opened.push(rejects);
    const ledger = opts.ledger ? await FileOutput.open(opts.ledger) : undefined;
    outputs = { alerts, rejects, ledger };
  } catch (e) {
    await source.close();
    process.stderr.write(`stream: cannot open output: ${(e as Error).message}\n`);
    return GROUP_EXIT.output;
  }
  const name = opts.consumer;
  const log = (line: string) => process.stderr.write(`[stream ${name}] ${line}\n`);
  const consumer = startGroupConsumer(model, opts.model, source, outputs, {
    format: opts.format,
    maxDeliveries: opts.maxDeliveries,
    entriesPerRead: opts.entriesPerRead,
    batchSize: opts.batchSize,
    threads: opts.threads,
    exitWhenIdleMs: opts.exitWhenIdleMs,
    consumer: opts.consumer,
    stream: opts.stream,
    progressMs: opts.quiet ? 0 : opts.progressMs,
    log,
  });
  const onSignal = () => consumer.stop('signal');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let summary: GroupConsumerSummary;
  try {
    summary = await consumer.done;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    await source.close();
    const redisFailure = e instanceof RedisSourceError || err.name === 'ReplyError' || err.name === 'MaxRetriesPerRequestError' || /Connection is closed|ECONNREFUSED|ECONNRESET/.test(err.message);
    const outputFailure = typeof err.code === 'string' && /^E[A-Z]+$/.test(err.code);
    const what = redisFailure ? 'Redis failed' : outputFailure ? 'output failed' : 'unexpected failure';
    process.stderr.write(`stream: ${what}, unacknowledged entries stay pending for the group: ${err.message}\n`);
    return redisFailure ? GROUP_EXIT.redis : outputFailure ? GROUP_EXIT.output : GROUP_EXIT.internal;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  for (const o of [...opened, outputs.ledger]) await o?.close();
  await source.close();
  const e = summary.entries;
  process.stderr.write(
    [
      `[stream ${opts.consumer}] done (${summary.stoppedBy}) in ${summary.seconds.toFixed(2)} s: ${summary.source}`,
      `  records received ${fmt(summary.recordsReceived)} = scored ${fmt(summary.recordsScored)} + rejected ${fmt(summary.recordsRejected)} + dead-lettered ${fmt(summary.recordsDeadLettered)}; anomalous ${fmt(summary.recordsAnomalous)}`,
      `  entries: ${fmt(e.newEntries)} new, ${fmt(e.ownPendingEntries)} own pending re-read, ${fmt(e.claimedEntries)} claimed from other consumers, ${fmt(e.redelivered)} redelivered, ${fmt(e.ackedEntries)} acknowledged, ${fmt(e.deadLetteredEntries)} dead-lettered`,
      `  ${fmt(summary.recordsPerSecond)} records/s, ${summary.batches} batches, batch latency p50 ${summary.batchLatencyMs.p50.toFixed(2)} ms, p99 ${summary.batchLatencyMs.p99.toFixed(2)} ms, peak memory ${summary.peakRssMB.toFixed(0)} MiB`,
      ...(summary.recordsRejected > 0 ? [`  rejects by reason: ${Object.entries(summary.rejectReasons).map(([k, v]) => `${k}: ${v}`).join('; ')}`] : []),
      ...(summary.recordsDeadLettered > 0 ? [`  dead-lettered records by reason: ${Object.entries(summary.deadLetterReasons).map(([k, v]) => `${k}: ${v}`).join('; ')}`] : []),
    ].join('\n') + '\n',
  );
  if (opts.summaryJson) writeFileSync(opts.summaryJson, `${JSON.stringify(summary, null, 1)}\n`);
  return GROUP_EXIT.ok;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e) => {
      process.stderr.write(`stream: unexpected failure: ${(e as Error).message}\n`);
      process.exitCode = GROUP_EXIT.internal;
    },
  );
}
