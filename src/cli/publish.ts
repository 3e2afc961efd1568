/**
 * `npm run publish`: append a capture (CSV or NDJSON lines) to a Redis stream
 * in entries of N consecutive raw lines, for a group of `npm run stream --
 * --redis ...` consumers to score.
 */
import { createReadStream, existsSync, statSync, writeFileSync } from 'node:fs';
import { connectRedis, RedisSourceError } from '../stream/redis-source';
import { publishLines, type PublishSummary } from '../stream/redis-publisher';
import type { InputFormat } from '../data/records';
import { joinLines } from '../data/line-splitter';
import { CaptureSource } from '../stream/capture-source';
import { FLOW_CSV_HEADER } from '../capture/flow-lines';
import { FlowInputError, formatFlowInputSummary, type FlowInputSummary } from '../capture/flow-input';
import { integerOption, parseOptions } from './args';
import { UsageError } from './command';
import { formatCount } from '../core/count-text';

export const PUBLISH_EXIT = { ok: 0, internal: 1, usage: 2, input: 4, redis: 5 } as const;

const USAGE = `usage: npm run publish -- --redis redis://HOST:PORT --stream NAME [options]

Appends records to a Redis stream, N raw lines per entry with the line number of
the first, for consumers started with npm run stream -- --redis ... to score.

  --redis URL              the Redis server, redis://[user:password@]host:port[/db] (required)
  --stream NAME            the stream key (required)
  --input FILE|-           the records (default: - = stdin)
  --format csv|ndjson|pcap|pcapng|zeek
                           default: from the file name, else csv. A CSV first line without any
                           number is its header: sent with every entry, not as a record.
                           pcap, pcapng (plain or gzip, e.g. tcpdump -w - | ...) or a Zeek
                           conn.log: read into flows here (flow meter and window features, as
                           npm run flows does) and published as CSV flow lines under the flow
                           header, so a probe meters where the packets are and a consumer
                           group scores (npm run stream -- --redis ... with a flow model)
  --records-per-entry N    lines per stream entry (default 100; 1 = one record per entry)
  --max-line-bytes N       longer lines are not published; each is reported on stderr (default 65536)
  --summary-json FILE      also write the summary as JSON
  --quiet                  no summary on stderr

Exit codes: 0 done, 2 bad usage, 4 input unreadable, 5 Redis unreachable or
refused a command, 1 unexpected failure.`;

export interface PublishCliOptions {
  redis: string;
  stream: string;
  input: string;
  format: InputFormat | FlowFormat;
  recordsPerEntry: number;
  maxLineBytes: number;
  summaryJson?: string;
  quiet: boolean;
}

const positive = (flag: string, v: string | undefined, fallback: number): number => (v === undefined ? fallback : integerOption(flag, v));

/** Parse the command line; 'help' for --help. Throws UsageError with a one-line message. */
export function parsePublishArgs(argv: string[]): PublishCliOptions | 'help' {
  const { values } = parseOptions(argv, {
    redis: { type: 'string' },
    stream: { type: 'string' },
    input: { type: 'string' },
    format: { type: 'string' },
    'records-per-entry': { type: 'string' },
    'max-line-bytes': { type: 'string' },
    'summary-json': { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';
  if (!values.redis) throw new UsageError('--redis URL is required');
  if (!values.stream) throw new UsageError('--stream NAME is required');
  const input = values.input ?? '-';
  const formats = ['csv', 'ndjson', 'pcap', 'pcapng', 'zeek'];
  if (values.format !== undefined && !formats.includes(values.format)) throw new UsageError(`--format must be ${formats.join(', ')}; got ${JSON.stringify(values.format)}`);
  const format = (values.format as InputFormat | FlowFormat | undefined) ?? (/\.(nd)?jsonl?$/i.test(input) ? 'ndjson' : 'csv');
  return {
    redis: values.redis,
    stream: values.stream,
    input,
    format,
    recordsPerEntry: positive('--records-per-entry', values['records-per-entry'], 100),
    maxLineBytes: positive('--max-line-bytes', values['max-line-bytes'], 65536),
    summaryJson: values['summary-json'],
    quiet: values.quiet ?? false,
  };
}

type FlowFormat = 'pcap' | 'pcapng' | 'zeek';

/** the flows of a capture source as CSV text: the flow header, then one line per flow */
async function* flowLineBytes(source: CaptureSource): AsyncGenerator<Buffer> {
  yield Buffer.from(`${FLOW_CSV_HEADER}\n`);
  for (;;) {
    const chunks = await source.read();
    if (chunks === null) return;
    for (const c of chunks) yield Buffer.from(`${joinLines(c.lines)}\n`);
  }
}

/** Run the command; returns the exit code (never throws for bad input or an unreachable Redis). */
export async function main(argv: string[]): Promise<number> {
  let opts: PublishCliOptions | 'help';
  try {
    opts = parsePublishArgs(argv);
  } catch (e) {
    process.stderr.write(`publish: ${(e as Error).message}\n\n${USAGE}\n`);
    return PUBLISH_EXIT.usage;
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return PUBLISH_EXIT.ok;
  }
  if (opts.input !== '-' && (!existsSync(opts.input) || !statSync(opts.input).isFile())) {
    process.stderr.write(`publish: cannot read input ${opts.input}: ${existsSync(opts.input) ? 'not a file' : 'no such file'}\n`);
    return PUBLISH_EXIT.input;
  }
  let client;
  try {
    client = await connectRedis(opts.redis, 'publish');
  } catch (e) {
    process.stderr.write(`publish: ${(e as Error).message}\n`);
    return PUBLISH_EXIT.redis;
  }
  let summary: PublishSummary;
  let captureSummary: () => FlowInputSummary | undefined = () => undefined;
  try {
    const flows = opts.format === 'pcap' || opts.format === 'pcapng' || opts.format === 'zeek' ? new CaptureSource({ input: opts.input, format: opts.format }) : undefined;
    if (flows) await flows.open();
    const input = flows ? flowLineBytes(flows) : opts.input === '-' ? process.stdin : createReadStream(opts.input, { highWaterMark: 1 << 20 });
    captureSummary = () => flows?.summary;
    summary = await publishLines(client, input as AsyncIterable<Buffer>, {
      stream: opts.stream,
      format: flows ? 'csv' : (opts.format as InputFormat),
      recordsPerEntry: opts.recordsPerEntry,
      maxLineBytes: opts.maxLineBytes,
      onTooLong: (line) => process.stderr.write(`${JSON.stringify({ line, reason: `line longer than ${(opts as PublishCliOptions).maxLineBytes} bytes, not published` })}\n`),
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    client.disconnect();
    if (e instanceof RedisSourceError || /redis|connection|ECONNRE/i.test(err.message)) {
      process.stderr.write(`publish: ${err.message}\n`);
      return PUBLISH_EXIT.redis;
    }
    if (e instanceof FlowInputError) {
      process.stderr.write(`publish: ${err.message}\n`);
      return PUBLISH_EXIT.input;
    }
    if (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR') {
      process.stderr.write(`publish: cannot read input ${opts.input}: ${err.message}\n`);
      return PUBLISH_EXIT.input;
    }
    throw e;
  }
  await client.quit();
  if (!opts.quiet) {
    process.stderr.write(
      `[publish] ${formatCount(summary.recordsPublished)} records in ${formatCount(summary.entries)} entries to ${summary.stream} (${summary.firstId ?? '-'} .. ${summary.lastId ?? '-'}) in ${summary.seconds.toFixed(2)} s, ${formatCount(summary.recordsPerSecond)} records/s\n` +
        `  lines read ${formatCount(summary.linesRead)} = header ${summary.headerLines} + published ${formatCount(summary.recordsPublished)} + too long ${summary.linesTooLong}\n`,
    );
    const c = captureSummary();
    if (c) process.stderr.write(formatFlowInputSummary(`[publish] flows from ${opts.input === '-' ? 'stdin' : opts.input}`, c));
  }
  if (opts.summaryJson) writeFileSync(opts.summaryJson, `${JSON.stringify(summary, null, 1)}\n`);
  return PUBLISH_EXIT.ok;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e) => {
      process.stderr.write(`publish: unexpected failure: ${(e as Error).message}\n`);
      process.exitCode = PUBLISH_EXIT.internal;
    },
  );
}
