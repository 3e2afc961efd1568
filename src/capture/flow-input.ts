/**
 * Flow records from a byte stream, whatever it holds: a pcap or pcapng capture (plain
 * or gzip) goes through the reader, the decoder and the flow meter; a Zeek conn.log
 * (TSV or JSON, plain or gzip) through the Zeek parser. Both then get the window
 * features, so every later step (flow lines, the scoring pipeline, the evaluation)
 * sees one kind of record. This is the one place that wires those parts together:
 * `npm run flows`, the stream command's capture source and the notebooks call it.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { LineSplitter } from '../data/line-splitter';
import { CaptureFormatError, readCapture } from './capture-reader';
import { decodeFrame } from './decode';
import { FlowMeter, type FlowMeterOptions } from './flow-meter';
import type { FlowRecord } from './flow-record';
import { newDecodedPacket, SKIP_REASONS, type FrameSink, type SkipReason } from './packet';
import { WindowFeatures, type WindowOptions } from './windows';
import { ZeekConnParser, ZeekFormatError, ZeekSkip } from './zeek';
import { formatCount } from '../core/count-text';

/** what the input holds: 'auto' tells captures and Zeek logs apart by their first bytes */
export type FlowInputFormat = 'auto' | 'pcap' | 'pcapng' | 'zeek';

export const FLOW_INPUT_FORMATS: readonly FlowInputFormat[] = ['auto', 'pcap', 'pcapng', 'zeek'];

export interface FlowInputOptions {
  /** default 'auto' */
  format?: FlowInputFormat;
  /** the meter's timeouts and accounting mode (captures only) */
  meter?: FlowMeterOptions;
  /** the window sizes, or false for no window features */
  windows?: WindowOptions | false;
  /** how messages name the input (a path, "stdin") */
  name: string;
  /**
   * Called before each further chunk of input is read; a returned promise holds the
   * reading until it settles (the stream command's source uses it as backpressure).
   */
  gate?: () => Promise<void> | undefined;
  /** Zeek lines longer than this are skipped (default 1 MiB) */
  maxLineBytes?: number;
}

/** What was read, once the input has ended. */
export interface FlowInputSummary {
  /** 'pcap', 'pcapng', 'zeek-tsv' or 'zeek-json' */
  format: string;
  gzip: boolean;
  /** capture records (packets) or log lines read */
  records: number;
  /** packets metered into flows (captures) or log records read (Zeek) */
  used: number;
  /** records not used, by reason (SkipReason for captures, ZeekSkipKind for logs); every reason listed, zeros included */
  skipped: Record<string, number>;
  flows: number;
  /** pcapng blocks of unknown type (skipped by their length) */
  unknownBlocks: number;
}

/** The input is neither a capture nor a Zeek log, or is damaged before its first record: one line naming it. */
export class FlowInputError extends Error {
  override name = 'FlowInputError';
}

const PCAP_MAGICS = new Set(['a1b2c3d4', 'd4c3b2a1', 'a1b23c4d', '4d3cb2a1']);

/** the format a stream's first (decompressed) bytes show: 'pcap', 'pcapng', or 'zeek' for text */
export function sniffFormat(head: Uint8Array): 'pcap' | 'pcapng' | 'zeek' | undefined {
  if (head.length < 4) return undefined;
  const hex = Buffer.from(head.buffer, head.byteOffset, 4).toString('hex');
  if (PCAP_MAGICS.has(hex)) return 'pcap';
  if (hex === '0a0d0d0a') return 'pcapng';
  const c = head[0];
  if (c === 0x23 /* # */ || c === 0x7b /* { */ || c === 0xef /* BOM */) return 'zeek';
  return undefined;
}

/** the decompressed byte chunks of `input`, each awaited through `gate` first */
async function* chunksOf(input: AsyncIterable<Buffer>, gate: FlowInputOptions['gate']): AsyncGenerator<Buffer> {
  for await (const chunk of input) {
    const wait = gate?.();
    if (wait) await wait;
    yield chunk;
  }
}

/** the input's first chunk (decompressed) and an iterable of all its chunks, that one included */
async function peek(input: Readable): Promise<{ head: Buffer; gzip: boolean; all: AsyncIterable<Buffer> }> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let first = await it.next();
  while (!first.done && (first.value as Buffer).length < 2) {
    const more = await it.next();
    if (more.done) break;
    first = { done: false, value: Buffer.concat([first.value as Buffer, more.value as Buffer]) };
  }
  const raw = first.done ? Buffer.alloc(0) : (first.value as Buffer);
  async function* replay(): AsyncGenerator<Buffer> {
    if (raw.length > 0) yield raw;
    if (first.done) return;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value as Buffer;
    }
  }
  const gzip = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;
  if (!gzip) return { head: raw, gzip, all: replay() };
  const gunzip = Readable.from(replay()).pipe(createGunzip());
  const git = gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let g: IteratorResult<Buffer>;
  try {
    g = await git.next();
  } catch (e) {
    throw new FlowInputError(`not a readable gzip file (${(e as Error).message})`);
  }
  async function* unzipped(): AsyncGenerator<Buffer> {
    if (!g.done) yield g.value;
    else return;
    for (;;) {
      const n = await git.next();
      if (n.done) return;
      yield n.value;
    }
  }
  return { head: g.done ? Buffer.alloc(0) : g.value, gzip, all: unzipped() };
}

/** a FrameSink that decodes each frame and meters it */
class MeteringSink implements FrameSink {
  readonly skipped: Record<SkipReason, number>;
  frames = 0;
  used = 0;
  private readonly packet = newDecodedPacket();

  constructor(private readonly meter: FlowMeter) {
    this.skipped = Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>;
  }

  frame(linkType: number, seconds: number, nanoseconds: number, data: Uint8Array, offset: number, capturedLength: number, originalLength: number): void {
    this.frames++;
    const reason = decodeFrame(linkType, data, offset, capturedLength, originalLength, seconds, nanoseconds, this.packet);
    if (reason !== null) {
      this.skipped[reason]++;
      return;
    }
    this.used++;
    this.meter.packet(this.packet);
  }

  skip(reason: SkipReason): void {
    this.skipped[reason]++;
  }
}

/**
 * Reads flow records from `input` (see the module comment), calling `onFlow` for each
 * flow as it is complete (captures: as the meter expires it; logs: per line).
 *
 * @throws FlowInputError for an input that is neither format (or not the one asked for)
 */
export async function readFlows(input: Readable, onFlow: (flow: FlowRecord) => void, options: FlowInputOptions): Promise<FlowInputSummary> {
  const windows = options.windows === false ? undefined : new WindowFeatures(options.windows ?? {});
  let flows = 0;
  const emit = (f: FlowRecord) => {
    flows++;
    onFlow(windows ? windows.add(f) : f);
  };
  const { head, gzip, all } = await peek(input);
  const seen = sniffFormat(head);
  const asked = options.format ?? 'auto';
  if (head.length === 0) throw new FlowInputError(`${options.name} is empty`);
  const kind = seen === undefined ? undefined : seen === 'zeek' ? 'zeek' : 'capture';
  const want = asked === 'auto' ? kind : asked === 'zeek' ? 'zeek' : 'capture';
  if (kind === undefined || kind !== want) {
    const shown = Array.from(head.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    const expected = want === 'zeek' ? 'a Zeek log ("#separator" header or JSON lines)' : want === 'capture' ? 'a pcap or pcapng capture' : 'a pcap or pcapng capture or a Zeek conn.log';
    throw new FlowInputError(`${options.name} is not ${expected} (it starts with ${shown}${gzip ? ' after gunzip' : ''})`);
  }
  const source = Readable.from(chunksOf(all, options.gate), { objectMode: false });

  if (kind === 'capture') {
    const meter = new FlowMeter(emit, options.meter);
    const sink = new MeteringSink(meter);
    let summary;
    try {
      summary = await readCapture(source, sink, { name: options.name });
    } catch (e) {
      if (e instanceof CaptureFormatError) throw new FlowInputError(e.message);
      throw e;
    }
    meter.finish();
    return { format: summary.format, gzip, records: sink.frames + summary.skipped, used: sink.used, skipped: sink.skipped, flows, unknownBlocks: summary.unknownBlocks };
  }

  const parser = new ZeekConnParser();
  const splitter = new LineSplitter(options.maxLineBytes ?? 1 << 20);
  const skipped: Record<string, number> = { 'line-too-long': 0 };
  let records = 0;
  let used = 0;
  const onLine = (text: string) => {
    let r;
    try {
      r = parser.line(text);
    } catch (e) {
      if (e instanceof ZeekFormatError) throw new FlowInputError(`${options.name}: ${e.message}`);
      throw e;
    }
    if (r === null) return;
    records++;
    if (r instanceof ZeekSkip) {
      skipped[r.kind] = (skipped[r.kind] ?? 0) + 1;
      return;
    }
    used++;
    emit(r);
  };
  const onTooLong = () => {
    records++;
    skipped['line-too-long']!++;
  };
  for await (const chunk of source) splitter.push(chunk as Buffer, onLine, onTooLong);
  splitter.end(onLine, onTooLong);
  return { format: `zeek-${parser.format ?? 'tsv'}`, gzip, records, used, skipped, flows, unknownBlocks: 0 };
}

/**
 * The summary lines of a read (`npm run flows`, the stream command's capture source):
 * what was read, how much was used, what was skipped by reason.
 *
 * @param title - the first words, e.g. "[flows] capture.pcap"
 * @param seconds - when given, the rate is shown
 */
export function formatFlowInputSummary(title: string, s: FlowInputSummary, seconds?: number): string {
  const skipped = Object.entries(s.skipped).filter(([, n]) => n > 0);
  const what = s.format.startsWith('zeek') ? 'log records' : 'packets';
  const rate = seconds === undefined ? '' : ` in ${seconds.toFixed(2)} s (${formatCount(Math.round(s.records / Math.max(seconds, 1e-9)))} ${what}/s)`;
  const lines = [
    `${title} (${s.format}${s.gzip ? ', gzip' : ''}): ${formatCount(s.records)} ${what} -> ${formatCount(s.flows)} flows${rate}`,
    `  ${what} read ${formatCount(s.records)} = used ${formatCount(s.used)} + skipped ${formatCount(s.records - s.used)}${skipped.length ? ` (${skipped.map(([r, n]) => `${r} ${formatCount(n)}`).join(', ')})` : ''}`,
  ];
  if (s.unknownBlocks > 0) lines.push(`  pcapng blocks of unknown type skipped: ${formatCount(s.unknownBlocks)}`);
  return `${lines.join('\n')}\n`;
}

/**
 * All flows of a capture or log file (plain or gzip), for training and evaluation.
 *
 * @throws FlowInputError for a file that is neither format; the file system's error when it cannot be read
 */
export async function readFlowFile(path: string, options: Omit<FlowInputOptions, 'name' | 'gate'> = {}): Promise<{ flows: FlowRecord[]; summary: FlowInputSummary }> {
  const { createReadStream } = await import('node:fs');
  const flows: FlowRecord[] = [];
  const summary = await readFlows(createReadStream(path, { highWaterMark: 1 << 20 }), (f) => flows.push(f), { ...options, name: path });
  return { flows, summary };
}
