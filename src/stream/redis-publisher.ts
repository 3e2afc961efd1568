/**
 * Publishing a line-oriented capture (CSV or NDJSON) to a Redis stream, in
 * entries of up to N consecutive raw lines with the line number of the first,
 * so a consumer can name every record by its source line. Lines stay text: the
 * consumer parses them against its model, so a bad line becomes a reject there,
 * with its line number, like in the pipe command.
 */
import type Redis from 'ioredis';
import { LineSplitter } from '../data/line-splitter';
import type { InputFormat } from '../data/records';
import { ENTRY_FIELDS, RedisSourceError } from './redis-source';

export interface PublishOptions {
  stream: string;
  format: InputFormat;
  /** raw lines per stream entry (default 100): packing is what makes Redis fast */
  recordsPerEntry?: number;
  /** entries per pipelined round trip (default 64) */
  entriesPerRoundTrip?: number;
  /** longer lines are not published and are reported to `onTooLong` (default 65536) */
  maxLineBytes?: number;
  /** called for a line over maxLineBytes (its 1-based number) */
  onTooLong?: (line: number) => void;
  /** called after each input chunk with the lines read so far (progress output) */
  onProgress?: (linesRead: number) => void;
}

export interface PublishSummary {
  stream: string;
  linesRead: number;
  /** 1 when the CSV's first line was a header (sent with every entry, not as a record) */
  headerLines: number;
  recordsPublished: number;
  /** lines over maxLineBytes, not published */
  linesTooLong: number;
  entries: number;
  /** id of the first and last entry written */
  firstId?: string;
  lastId?: string;
  seconds: number;
  recordsPerSecond: number;
}

/** A CSV first line with no number in any field is a header (the consumer maps columns by it). */
function looksLikeHeader(line: string): boolean {
  return line.trim() !== '' && !line.split(',').some((f) => f.trim() !== '' && Number.isFinite(Number(f)));
}

/**
 * Read `chunks` to the end and XADD its lines to `options.stream`, pipelined.
 *
 * @param client - a connected ioredis client
 * @param chunks - the input bytes (a file stream, stdin)
 * @param options - see PublishOptions
 * @returns counts and ids; linesRead = headerLines + recordsPublished + linesTooLong
 * @throws RedisSourceError when Redis refuses an XADD
 */
export async function publishLines(client: Redis, chunks: AsyncIterable<Buffer | string>, options: PublishOptions): Promise<PublishSummary> {
  const perEntry = options.recordsPerEntry ?? 100;
  const perTrip = options.entriesPerRoundTrip ?? 64;
  const splitter = new LineSplitter(options.maxLineBytes ?? 65536);
  const started = performance.now();
  let lineNo = 0;
  let header: string | undefined;
  let headerLines = 0;
  let sawFirst = false;
  let published = 0;
  let tooLong = 0;
  let entries = 0;
  let firstId: string | undefined;
  let lastId: string | undefined;
  let chunk: string[] = [];
  let chunkFirst = 0;
  let pipeline = client.pipeline();
  let queued = 0;
  // one round trip in flight while the next is filled: the file read overlaps the network
  let inFlight: Promise<void> | undefined;

  const sendPipeline = async () => {
    if (queued === 0) return;
    const p = pipeline;
    pipeline = client.pipeline();
    queued = 0;
    const previous = inFlight;
    const trip = (async () => {
      const res = await p.exec();
      for (const [err, id] of res ?? []) {
        if (err) throw new RedisSourceError(`XADD to ${options.stream} failed: ${err.message}`);
        firstId ??= id as string;
        lastId = id as string;
      }
    })();
    trip.catch(() => undefined); // observed when awaited below; this only keeps Node from calling it unhandled meanwhile
    inFlight = trip;
    await previous;
  };

  /** close the entry being filled: queued in the pipeline (synchronous, so it can run inside the splitter's callback) */
  const endEntry = () => {
    if (chunk.length === 0) return;
    const fields: Array<string | number> = [ENTRY_FIELDS.line, chunkFirst, ENTRY_FIELDS.data, chunk.join('\n')];
    if (header !== undefined) fields.push(ENTRY_FIELDS.header, header);
    pipeline.xadd(options.stream, '*', ...fields);
    entries++;
    queued++;
    chunk = [];
  };

  const onLine = (text: string) => {
    lineNo++;
    if (!sawFirst && options.format === 'csv' && text.trim() !== '') {
      sawFirst = true;
      if (looksLikeHeader(text)) {
        header = text;
        headerLines++;
        return;
      }
    }
    if (chunk.length === 0) chunkFirst = lineNo;
    chunk.push(text);
    published++;
    if (chunk.length >= perEntry) endEntry();
  };
  const onTooLong = () => {
    lineNo++;
    tooLong++;
    options.onTooLong?.(lineNo);
    endEntry(); // the lines of an entry are consecutive: a skipped line ends the current entry
  };
  for await (const c of chunks) {
    splitter.push(typeof c === 'string' ? Buffer.from(c) : c, onLine, onTooLong);
    if (queued >= perTrip) await sendPipeline();
    options.onProgress?.(lineNo);
  }
  splitter.end(onLine, onTooLong);
  endEntry();
  await sendPipeline();
  await inFlight;
  const seconds = (performance.now() - started) / 1000;
  return {
    stream: options.stream,
    linesRead: lineNo,
    headerLines,
    recordsPublished: published,
    linesTooLong: tooLong,
    entries,
    firstId,
    lastId,
    seconds,
    recordsPerSecond: published / Math.max(seconds, 1e-9),
  };
}
