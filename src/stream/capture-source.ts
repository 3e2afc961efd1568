/**
 * Packets (pcap, pcapng) or a Zeek conn.log as a RecordSource: the capture is read into
 * flows (capture/flow-input.ts: reader, decoder, meter, window features) and each flow
 * is handed to the scoring loop as a CSV line under the flow header, as it expires. So
 * `tcpdump -i eth0 -w - | npm run stream -- --model M --input - --format pcap` scores
 * flows with the same parser, pipeline and alert writer as every other source; the
 * alert names the flow (5-tuple, times, state) through {@link CaptureSource.origin}.
 *
 * Backpressure: the capture is read only while fewer than {@link HIGH_WATER} flow lines
 * wait for the loop, so a slow scorer holds tcpdump's pipe instead of filling memory.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { readFlows, type FlowInputFormat, type FlowInputSummary } from '../capture/flow-input';
import { FLOW_CSV_HEADER, flowCsvLine } from '../capture/flow-lines';
import type { FlowMeterOptions } from '../capture/flow-meter';
import { FLOW_FIELDS, type FlowRecord } from '../capture/flow-record';
import type { WindowOptions } from '../capture/windows';
import type { RecordSource, SourceChunk } from './source';
import { TextLines } from '../data/line-splitter';

/** flow lines waiting for the loop before the capture is held */
const HIGH_WATER = 16_384;
/** at most this many lines per chunk */
const CHUNK_LINES = 4096;

export interface CaptureSourceOptions {
  /** a path, or '-' for stdin */
  input: string;
  format: Exclude<FlowInputFormat, 'auto'> | 'auto';
  meter?: FlowMeterOptions;
  windows?: WindowOptions | false;
  /**
   * the flow fields each line carries, in order (default: every field under the flow
   * header); the stream command passes the model's input columns, so that the parser
   * of a model with an encoder, which reads its columns in order, reads flows too
   */
  columns?: readonly string[];
  /** stdin, for tests (default process.stdin) */
  stdin?: Readable;
}

/** the flow fields an alert line shows to name its flow */
const ORIGIN_FIELDS = ['src_ip', 'src_port', 'dst_ip', 'dst_port', 'protocol', 'bidirectional_first_seen_ms', 'bidirectional_last_seen_ms', 'conn_state', 'service'] as const;

/** Flows of a capture or Zeek log; see the module comment. */
export class CaptureSource implements RecordSource {
  readonly acknowledges = false;
  readonly headerPerChunk = true;
  readonly description: string;
  /** what was read, once the input has ended (packets, flows, skipped by reason) */
  summary: FlowInputSummary | undefined;
  private lines: string[] = [];
  private origins: string[] = [];
  private nextLine = 1;
  private done: Promise<void> | undefined;
  private finished = false;
  private failure: unknown;
  private stopped = false;
  private wakeReader: (() => void) | undefined;
  private wakeCapture: (() => void) | undefined;
  private readonly chunkOrigins = new WeakMap<SourceChunk, string[]>();
  private input: Readable | undefined;

  private readonly columns: readonly string[];
  private readonly header: string;

  constructor(readonly options: CaptureSourceOptions) {
    this.description = options.input === '-' ? 'stdin' : options.input;
    this.columns = options.columns ?? FLOW_FIELDS;
    const unknown = this.columns.filter((c) => !FLOW_FIELDS.includes(c));
    if (unknown.length > 0) throw new RangeError(`the model reads ${unknown.map((c) => JSON.stringify(c)).join(', ')}, which flows do not have (flow fields: ${FLOW_CSV_HEADER})`);
    this.header = this.columns.join(',');
  }

  /** @throws the file system's error for a file that cannot be opened */
  async open(): Promise<void> {
    let input: Readable;
    if (this.options.input === '-') input = this.options.stdin ?? process.stdin;
    else {
      input = createReadStream(this.options.input, { highWaterMark: 1 << 20 });
      // surface ENOENT / EACCES / EISDIR here, as the line source does
      await new Promise<void>((resolve, reject) => {
        input.once('readable', resolve);
        input.once('error', reject);
      });
    }
    this.input = input;
    this.done = readFlows(input, (f) => this.push(f), {
      name: this.description,
      format: this.options.format,
      meter: this.options.meter,
      windows: this.options.windows,
      gate: () => (this.lines.length >= HIGH_WATER && !this.stopped ? new Promise<void>((r) => (this.wakeCapture = r)) : undefined),
    }).then(
      (s) => {
        this.summary = s;
      },
      (e) => {
        this.failure = e;
      },
    );
    void this.done.finally(() => {
      this.finished = true;
      this.wake();
    });
  }

  private push(f: FlowRecord): void {
    if (this.stopped) return; // the loop has stopped: what is still read is not handed over
    this.lines.push(flowCsvLine(f, this.columns));
    let o = '"flow":{';
    for (let i = 0; i < ORIGIN_FIELDS.length; i++) {
      const k = ORIGIN_FIELDS[i]!;
      o += `${i ? ',' : ''}"${k}":${JSON.stringify(f[k] ?? null)}`;
    }
    this.origins.push(`${o}},`);
    if (this.lines.length >= CHUNK_LINES) this.wake();
  }

  private wake(): void {
    const w = this.wakeReader;
    this.wakeReader = undefined;
    w?.();
  }

  async read(): Promise<SourceChunk[] | null> {
    if (this.lines.length === 0 && !this.finished && !this.stopped) {
      // let the capture run until a chunk is full or it ends; a partial chunk goes after a short wait
      await new Promise<void>((resolve) => {
        this.wakeReader = resolve;
        setTimeout(resolve, 50).unref();
        this.releaseCapture();
      });
    }
    if (this.failure !== undefined && this.lines.length === 0) {
      const e = this.failure;
      this.failure = undefined;
      throw e;
    }
    if (this.lines.length === 0) return this.finished || this.stopped ? null : [];
    const lines = this.lines.splice(0, CHUNK_LINES);
    const origins = this.origins.splice(0, lines.length);
    const chunk: SourceChunk = { deliveries: 1, firstLine: this.nextLine, lines: new TextLines(lines), header: this.header };
    this.chunkOrigins.set(chunk, origins);
    this.nextLine += lines.length;
    this.releaseCapture();
    return [chunk];
  }

  private releaseCapture(): void {
    if (this.lines.length < HIGH_WATER || this.stopped) {
      const w = this.wakeCapture;
      this.wakeCapture = undefined;
      w?.();
    }
  }

  async ack(): Promise<void> {}

  async deadLetter(): Promise<void> {
    throw new Error('a capture has no dead-letter place');
  }

  async drained(): Promise<boolean> {
    return true;
  }

  origin(chunk: SourceChunk, index: number): string {
    return this.chunkOrigins.get(chunk)?.[index] ?? '';
  }

  progress(): string | undefined {
    return undefined;
  }

  interrupt(): void {
    this.stopped = true;
    this.wake();
    this.releaseCapture();
  }

  async close(): Promise<void> {
    this.interrupt();
    // the file is closed, and stdin too: a pipe that stays open (tcpdump still
    // capturing) would otherwise keep the process alive after SIGINT (measured: it hung)
    this.input?.destroy();
    if (this.done) await this.done;
  }
}
