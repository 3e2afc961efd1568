/**
 * Streaming readers for libpcap and pcapng capture files, plain or gzip-compressed,
 * from any Node Readable (a file, or stdin fed by `tcpdump -w -`).
 *
 * Records are parsed straight out of the incoming chunks: the sink receives the chunk
 * itself with an offset, so a packet costs no allocation and no copy. Only a record
 * split across two chunks is copied, into one carry-over buffer that is reused, so
 * memory stays constant however long the capture runs.
 *
 * Damage is counted, not thrown (see packet.ts): a record cut short by the end of the
 * input is reported as 'truncated-record', impossible lengths as 'corrupt-record', and
 * the read then stops (nothing after a broken length can be found again) but resolves
 * normally. Only input that is not a capture at all rejects, with a
 * {@link CaptureFormatError}.
 */

import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FrameSink, SkipReason } from './packet';

/** libpcap's largest snap length (MAXIMUM_SNAPLEN): a longer record is corrupt */
const MAX_CAPTURED = 262144;

/**
 * The largest pcapng block kept whole in memory. Packet blocks are bounded by
 * {@link MAX_CAPTURED} plus their options; a block type we do not read may be any size
 * and is skipped by streaming past it instead.
 */
const MAX_BUFFERED_BLOCK = 1 << 20;

/** the carry-over buffer's first size: one full pcap record, so it rarely grows */
const INITIAL_CARRY = MAX_CAPTURED + 64;

const PCAP_HEADER = 24;
const PCAP_RECORD_HEADER = 16;
/** a pcapng block's type + total length + the byte-order magic an SHB has next */
const PCAPNG_BLOCK_HEADER = 12;

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_OPB = 0x00000002;
const BLOCK_SPB = 0x00000003;
const BLOCK_EPB = 0x00000006;

/** if_tsresol (9) and if_tsoffset (14) interface options */
const OPT_TSRESOL = 9;
const OPT_TSOFFSET = 14;

/** how a pcapng interface's timestamp units become seconds + nanoseconds */
const TS_DECIMAL = 0; // 10^-n with n <= 11: exact long division in doubles
const TS_BINARY = 1; // 2^-n with n <= 32: exact with shifts in doubles
const TS_BIGINT = 2; // anything finer: BigInt, rare

/**
 * The input is not a capture file this reader can read: wrong magic, empty, cut short
 * inside its file header, or gzip data that does not decompress. The message is one
 * line and names the input.
 */
export class CaptureFormatError extends Error {
  override name = 'CaptureFormatError';
}

/** Options of {@link readCapture}. */
export interface CaptureReadOptions {
  /**
   * How messages name the input (default: the path of an `fs.createReadStream`,
   * else "stdin" for `process.stdin`, else "capture input").
   */
  name?: string;
}

/** What {@link readCapture} read, when the input has ended. */
export interface CaptureReadSummary {
  /** the file format */
  format: 'pcap' | 'pcapng';
  /** whether the input was gzip-compressed */
  gzip: boolean;
  /** frames handed to `sink.frame` */
  records: number;
  /** records the reader reported to `sink.skip` (truncated, corrupt) */
  skipped: number;
  /** capture bytes parsed (after decompression) */
  bytes: number;
  /** pcapng blocks of a type the reader does not use (statistics, name resolution, custom, ...), skipped by their length */
  unknownBlocks: number;
  /** pcapng sections (section header blocks); 1 for pcap */
  sections: number;
  /** pcapng interface description blocks over all sections; 1 for pcap */
  interfaces: number;
  /** the distinct link types of the capture's interfaces, in the order first described */
  linkTypes: number[];
  /** why the read ended before the input did, or null when it read everything */
  stoppedBy: SkipReason | null;
}

/**
 * Read a pcap or pcapng capture (optionally gzip-compressed) from `input`, calling
 * `sink.frame` for every packet record and `sink.skip` for every record that cannot be
 * read. Resolves when the input ends (or the read had to stop at a damaged record);
 * rejects with {@link CaptureFormatError} when the input is not a capture, and with
 * the input's own error when reading fails.
 *
 * The input is consumed to its end, or destroyed when the read stops early. For files,
 * `fs.createReadStream(path, { highWaterMark: 1 << 20 })` halves the per-chunk cost
 * of the default 64 KiB chunks (frames are parsed in place either way).
 */
export async function readCapture(
  input: Readable,
  sink: FrameSink,
  options: CaptureReadOptions = {},
): Promise<CaptureReadSummary> {
  const name = options.name ?? inputName(input);
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  // gzip is told by its first two bytes; gather them before deciding how to read on
  const head: Buffer[] = [];
  let headLength = 0;
  let ended = false;
  while (headLength < 2) {
    const next = await chunks.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = toBuffer(next.value);
    head.push(chunk);
    headLength += chunk.length;
  }
  const first = head.length === 1 ? head[0] : Buffer.concat(head);
  const gzip = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;

  async function* rest(): AsyncGenerator<Buffer> {
    try {
      if (first.length > 0) yield first;
      if (ended) return;
      for (;;) {
        const next = await chunks.next();
        if (next.done) return;
        yield toBuffer(next.value);
      }
    } finally {
      // a read that stops early releases the input (closes the file)
      if (!ended) await chunks.return?.();
    }
  }

  let source: AsyncIterable<Buffer> = rest();
  if (gzip) {
    const gunzip = createGunzip({ chunkSize: 64 * 1024 });
    pipeline(Readable.from(source, { objectMode: false }), gunzip, () => {
      // errors reach the loop below through the gunzip stream it iterates
    });
    source = gunzip;
  }

  const reader = new CaptureStream(sink, name, gzip);
  try {
    for await (const chunk of source) {
      reader.push(chunk);
      if (reader.done()) break;
    }
  } catch (e) {
    if (!gzip || !isZlibError(e)) throw e;
    // a gzip file cut short ends like a plain file cut short; other damage is corrupt
    if ((e as NodeJS.ErrnoException).code !== 'Z_BUF_ERROR') {
      if (reader.bytes === 0) {
        throw new CaptureFormatError(`not a readable gzip capture: ${name} (${(e as Error).message})`);
      }
      reader.stop('corrupt-record');
    }
  }
  return reader.finish();
}

/** the name messages give an input that was not named */
function inputName(input: Readable): string {
  const path = (input as Readable & { path?: unknown }).path;
  if (typeof path === 'string') return path;
  if (Buffer.isBuffer(path)) return path.toString();
  if (input === process.stdin) return 'stdin';
  return 'capture input';
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('readCapture needs a byte stream (got a chunk that is not a Buffer; was setEncoding called?)');
}

function isZlibError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

function hex4(b: Buffer): string {
  return Array.from(b.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
}

/**
 * Finds the format in the first four bytes, then hands every chunk to the format's
 * parser. Holds the (rare) bytes that arrive before four are known.
 */
class CaptureStream {
  private parser: RecordParser | null = null;
  private pending: Buffer | null = null;
  bytes = 0;

  constructor(
    private readonly sink: FrameSink,
    private readonly name: string,
    private readonly gzip: boolean,
  ) {}

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.parser !== null) {
      this.parser.push(chunk);
      return;
    }
    const head = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    if (head.length < 4) {
      this.pending = head;
      return;
    }
    this.pending = null;
    this.parser = this.detect(head);
    this.parser.push(head);
  }

  done(): boolean {
    return this.parser !== null && this.parser.stoppedBy !== null;
  }

  stop(reason: SkipReason): void {
    if (this.parser !== null) this.parser.stop(reason);
  }

  finish(): CaptureReadSummary {
    if (this.parser === null) {
      const got = this.pending ?? Buffer.alloc(0);
      const what = this.gzip ? ' after gunzip' : '';
      throw new CaptureFormatError(
        got.length === 0
          ? `not a capture file: ${this.name} (empty${what})`
          : `not a capture file: ${this.name} (only ${got.length} byte${got.length === 1 ? '' : 's'}${what}: ${hex4(got)})`,
      );
    }
    this.parser.end();
    return this.parser.summary(this.gzip, this.bytes);
  }

  private detect(head: Buffer): RecordParser {
    const m = ((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3]) >>> 0;
    switch (m) {
      case 0xa1b2c3d4:
        return new PcapParser(this.sink, this.name, false, false);
      case 0xd4c3b2a1:
        return new PcapParser(this.sink, this.name, true, false);
      case 0xa1b23c4d:
        return new PcapParser(this.sink, this.name, false, true);
      case 0x4d3cb2a1:
        return new PcapParser(this.sink, this.name, true, true);
      case BLOCK_SHB:
        return new PcapngParser(this.sink, this.name);
      default:
        throw new CaptureFormatError(
          `not a capture file: ${this.name} (${this.gzip ? 'gunzipped, ' : ''}starts with ${hex4(head)}, expected a pcap or pcapng magic)`,
        );
    }
  }
}

/**
 * What the two formats share: records that start with a header telling their length,
 * parsed in place from each chunk, with the one split record per chunk boundary
 * completed in the carry-over buffer.
 */
abstract class RecordParser {
  protected carry: Buffer = Buffer.allocUnsafe(INITIAL_CARRY);
  protected carryLength = 0;
  /** bytes still to pass over of a block too large to buffer */
  protected skipLeft = 0;
  stoppedBy: SkipReason | null = null;
  protected records = 0;
  protected skipped = 0;
  protected unknownBlocks = 0;
  protected sections = 0;
  protected interfaces = 0;
  protected readonly linkTypes: number[] = [];

  /** bytes needed at a record's start to know its length */
  protected abstract readonly headerLength: number;
  /** false until the file header (pcap) or first section header (pcapng) is read */
  protected abstract started(): boolean;
  /** the file's own header length, for the truncated-header message */
  protected abstract readonly formatName: 'pcap' | 'pcapng';

  constructor(
    protected readonly sink: FrameSink,
    protected readonly name: string,
  ) {}

  /**
   * The total length of the record at `buf[pos]` (headerLength bytes are there), or -1
   * when the lengths are impossible (the parser has stopped). Returns more than
   * {@link MAX_BUFFERED_BLOCK} only for a block that may be streamed past unread.
   */
  protected abstract recordLength(buf: Buffer, pos: number): number;
  /** read one whole record at `buf[pos .. pos + total)` */
  protected abstract handle(buf: Buffer, pos: number, total: number): void;

  /**
   * The hot loop: read the whole records from `pos`, return where the first incomplete
   * one starts (`end` after a stop or when a large block is being skipped). The default
   * goes through recordLength + handle; pcap overrides it with an inlined loop.
   */
  protected run(buf: Buffer, pos: number, end: number): number {
    const h = this.headerLength;
    while (end - pos >= h) {
      const total = this.recordLength(buf, pos);
      if (total < 0) return end;
      if (end - pos < total) {
        if (total > MAX_BUFFERED_BLOCK) {
          // recordLength allowed this size only for a type we do not read: pass over it
          // (its trailer goes unchecked: keeping it would mean buffering the block)
          this.unknownBlocks++;
          this.skipLeft = total - (end - pos);
          return end;
        }
        return pos;
      }
      this.handle(buf, pos, total);
      if (this.stoppedBy !== null) return end;
      pos += total;
    }
    return pos;
  }

  push(chunk: Buffer): void {
    if (this.stoppedBy !== null) return;
    const end = chunk.length;
    let pos = 0;
    if (this.skipLeft > 0) {
      const n = Math.min(this.skipLeft, end);
      this.skipLeft -= n;
      pos = n;
      if (pos === end) return;
    }
    if (this.carryLength > 0) {
      pos = this.fillCarry(chunk, pos, end);
      if (this.stoppedBy !== null || this.carryLength > 0 || pos === end) return;
    }
    pos = this.run(chunk, pos, end);
    if (this.stoppedBy !== null || pos === end) return;
    // keep the incomplete record for the next chunk
    const left = end - pos;
    if (left > this.carry.length) this.growCarry(left);
    chunk.copy(this.carry, 0, pos, end);
    this.carryLength = left;
  }

  /** complete the carried record from `chunk`; returns the chunk position after what was used */
  private fillCarry(chunk: Buffer, pos: number, end: number): number {
    const h = this.headerLength;
    if (this.carryLength < h) {
      const n = Math.min(h - this.carryLength, end - pos);
      chunk.copy(this.carry, this.carryLength, pos, pos + n);
      this.carryLength += n;
      pos += n;
      if (this.carryLength < h) return pos;
    }
    const total = this.recordLength(this.carry, 0);
    if (total < 0) return end;
    if (total > MAX_BUFFERED_BLOCK) {
      // only a block we do not read gets here: pass over it
      this.unknownBlocks++;
      this.skipLeft = total - this.carryLength;
      this.carryLength = 0;
      const n = Math.min(this.skipLeft, end - pos);
      this.skipLeft -= n;
      return pos + n;
    }
    if (total > this.carry.length) this.growCarry(total);
    const n = Math.min(total - this.carryLength, end - pos);
    chunk.copy(this.carry, this.carryLength, pos, pos + n);
    this.carryLength += n;
    pos += n;
    if (this.carryLength === total) {
      this.carryLength = 0;
      this.handle(this.carry, 0, total);
    }
    return pos;
  }

  private growCarry(size: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(size, this.carry.length * 2));
    this.carry.copy(bigger, 0, 0, this.carryLength);
    this.carry = bigger;
  }

  /** report a damaged record and read no further */
  stop(reason: SkipReason): void {
    if (this.stoppedBy !== null) return;
    this.stoppedBy = reason;
    this.skip(reason);
  }

  protected skip(reason: SkipReason): void {
    this.skipped++;
    this.sink.skip(reason);
  }

  /** the input has ended: whatever is left unread is a truncated record */
  end(): void {
    if (this.stoppedBy !== null) return;
    if (!this.started()) {
      throw new CaptureFormatError(
        `truncated capture file: ${this.name} (${this.carryLength} bytes, ends inside the ${this.formatName} file header)`,
      );
    }
    if (this.carryLength > 0 || this.skipLeft > 0) this.stop('truncated-record');
  }

  protected noteLinkType(linkType: number): void {
    this.interfaces++;
    if (!this.linkTypes.includes(linkType)) this.linkTypes.push(linkType);
  }

  summary(gzip: boolean, bytes: number): CaptureReadSummary {
    return {
      format: this.formatName,
      gzip,
      records: this.records,
      skipped: this.skipped,
      bytes,
      unknownBlocks: this.unknownBlocks,
      sections: this.sections,
      interfaces: this.interfaces,
      linkTypes: this.linkTypes.slice(),
      stoppedBy: this.stoppedBy,
    };
  }
}

/** libpcap's classic format: a 24-byte file header, then 16-byte record headers */
class PcapParser extends RecordParser {
  protected readonly headerLength = PCAP_RECORD_HEADER;
  protected readonly formatName = 'pcap';
  private headerRead = false;
  private linkType = 0;

  constructor(
    sink: FrameSink,
    name: string,
    private readonly le: boolean,
    private readonly nano: boolean,
  ) {
    super(sink, name);
  }

  protected started(): boolean {
    return this.headerRead;
  }

  private u32(b: Buffer, p: number): number {
    return this.le
      ? (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0
      : ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  private readFileHeader(b: Buffer, p: number): void {
    const major = this.le ? b[p + 4] | (b[p + 5] << 8) : (b[p + 4] << 8) | b[p + 5];
    if (major !== 2) {
      throw new CaptureFormatError(`unsupported pcap version: ${this.name} (major version ${major}, expected 2)`);
    }
    // the low 26 bits are the link type; the bits above tell an FCS length (LT_LINKTYPE)
    this.linkType = this.u32(b, p + 20) & 0x03ffffff;
    this.headerRead = true;
    this.sections = 1;
    this.noteLinkType(this.linkType);
  }

  protected recordLength(buf: Buffer, pos: number): number {
    if (!this.headerRead) return PCAP_HEADER;
    const captured = this.u32(buf, pos + 8);
    if (captured > MAX_CAPTURED) {
      this.stop('corrupt-record');
      return -1;
    }
    return PCAP_RECORD_HEADER + captured;
  }

  protected handle(buf: Buffer, pos: number): void {
    if (!this.headerRead) {
      this.readFileHeader(buf, pos);
      return;
    }
    this.emit(buf, pos);
  }

  private emit(buf: Buffer, pos: number): void {
    let seconds = this.u32(buf, pos);
    let ns = this.nano ? this.u32(buf, pos + 4) : this.u32(buf, pos + 4) * 1000;
    if (ns >= 1e9) {
      // a writer's unnormalised fraction; moving whole seconds keeps the same instant
      const whole = Math.floor(ns / 1e9);
      seconds += whole;
      ns -= whole * 1e9;
    }
    this.records++;
    this.sink.frame(this.linkType, seconds, ns, buf, pos + 16, this.u32(buf, pos + 8), this.u32(buf, pos + 12));
  }

  protected override run(buf: Buffer, pos: number, end: number): number {
    if (!this.headerRead) {
      if (end - pos < PCAP_HEADER) return pos;
      this.readFileHeader(buf, pos);
      pos += PCAP_HEADER;
    }
    while (end - pos >= PCAP_RECORD_HEADER) {
      const captured = this.u32(buf, pos + 8);
      if (captured > MAX_CAPTURED) {
        this.stop('corrupt-record');
        return end;
      }
      if (end - pos - PCAP_RECORD_HEADER < captured) return pos;
      this.emit(buf, pos);
      pos += PCAP_RECORD_HEADER + captured;
    }
    return pos;
  }
}

/**
 * pcapng: blocks of (type, total length, body, total length again). Sections (SHB)
 * set the byte order and reset the interfaces; each interface (IDB) has its link type,
 * snap length and timestamp resolution; packets come in enhanced (EPB), simple (SPB)
 * or obsolete (OPB) packet blocks.
 */
class PcapngParser extends RecordParser {
  protected readonly headerLength = PCAPNG_BLOCK_HEADER;
  protected readonly formatName = 'pcapng';
  private le = true;
  // the current section's interfaces, by interface id
  private readonly ifLinkType: number[] = [];
  private readonly ifSnapLength: number[] = [];
  private readonly ifTsKind: number[] = [];
  /** TS_DECIMAL: 10^n; TS_BINARY: n; TS_BIGINT: the if_tsresol byte */
  private readonly ifTsUnit: number[] = [];
  /** TS_DECIMAL: nanoseconds per unit when >= 1, else -(units per nanosecond) */
  private readonly ifTsScale: number[] = [];
  private readonly ifTsOffset: number[] = [];
  // the converted timestamp of the last packet block (SPBs carry none and reuse it)
  private tsSeconds = 0;
  private tsNanoseconds = 0;

  protected started(): boolean {
    return this.sections > 0;
  }

  private u32(b: Buffer, p: number): number {
    return this.le
      ? (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0
      : ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  private u16(b: Buffer, p: number): number {
    return this.le ? b[p] | (b[p + 1] << 8) : (b[p] << 8) | b[p + 1];
  }

  /** damage before the first section is read means this is no capture we can read */
  private broken(message: string): number {
    if (this.sections === 0) throw new CaptureFormatError(`not a capture file: ${this.name} (${message})`);
    this.stop('corrupt-record');
    return -1;
  }

  protected recordLength(buf: Buffer, pos: number): number {
    // the block type reads the same in both byte orders only for an SHB, whose
    // byte-order magic (right after the length) sets the order of everything after it
    if (this.u32(buf, pos) === BLOCK_SHB || this.sections === 0) {
      const bom = ((buf[pos + 8] << 24) | (buf[pos + 9] << 16) | (buf[pos + 10] << 8) | buf[pos + 11]) >>> 0;
      if (bom === 0x1a2b3c4d) this.le = false;
      else if (bom === 0x4d3c2b1a) this.le = true;
      else return this.broken(`pcapng section header with byte-order magic ${hex4(buf.subarray(pos + 8, pos + 12))}`);
    }
    const total = this.u32(buf, pos + 4);
    if (total < 12 || total % 4 !== 0) {
      return this.broken(`pcapng block of length ${total}`);
    }
    if (total > MAX_BUFFERED_BLOCK && !this.skippable(buf, pos)) {
      return this.broken(`pcapng block of length ${total}`);
    }
    return total;
  }

  /** whether a block too large to buffer may be streamed past: only a type we do not read */
  private skippable(buf: Buffer, pos: number): boolean {
    const type = this.u32(buf, pos);
    return type !== BLOCK_SHB && type !== BLOCK_IDB && type !== BLOCK_EPB && type !== BLOCK_SPB && type !== BLOCK_OPB;
  }

  protected handle(buf: Buffer, pos: number, total: number): void {
    if (this.u32(buf, pos + total - 4) !== total) {
      this.broken('pcapng block whose trailing length differs from its leading one');
      return;
    }
    const type = this.u32(buf, pos);
    switch (type) {
      case BLOCK_EPB:
      case BLOCK_OPB:
        this.packetBlock(buf, pos, total, type === BLOCK_EPB);
        return;
      case BLOCK_SPB:
        this.simplePacketBlock(buf, pos, total);
        return;
      case BLOCK_IDB:
        this.interfaceBlock(buf, pos, total);
        return;
      case BLOCK_SHB:
        this.sectionBlock(buf, pos, total);
        return;
      default:
        this.unknownBlocks++;
    }
  }

  private sectionBlock(buf: Buffer, pos: number, total: number): void {
    const major = this.u16(buf, pos + 12);
    if (total < 28 || major !== 1) {
      this.broken(total < 28 ? `pcapng section header of length ${total}` : `pcapng major version ${major}, expected 1`);
      return;
    }
    this.sections++;
    // interface ids number the interfaces of their own section only
    this.ifLinkType.length = 0;
    this.ifSnapLength.length = 0;
    this.ifTsKind.length = 0;
    this.ifTsUnit.length = 0;
    this.ifTsScale.length = 0;
    this.ifTsOffset.length = 0;
  }

  private interfaceBlock(buf: Buffer, pos: number, total: number): void {
    if (total < 20) {
      this.skip('corrupt-record');
      return;
    }
    const linkType = this.u16(buf, pos + 8);
    let resolution = 6; // default: microseconds
    let offset = 0;
    const optionsEnd = pos + total - 4;
    let p = pos + 16;
    while (p + 4 <= optionsEnd) {
      const code = this.u16(buf, p);
      const length = this.u16(buf, p + 2);
      if (code === 0 || p + 4 + length > optionsEnd) break;
      if (code === OPT_TSRESOL && length >= 1) resolution = buf[p + 4];
      else if (code === OPT_TSOFFSET && length >= 8) {
        // a signed 64-bit count of seconds; the high word carries the sign
        const first = this.u32(buf, p + 4);
        const second = this.u32(buf, p + 8);
        const hi = this.le ? second : first;
        const lo = this.le ? first : second;
        offset = (hi | 0) * 4294967296 + lo;
      }
      p += 4 + ((length + 3) & ~3);
    }
    const n = resolution & 0x7f;
    if ((resolution & 0x80) === 0 && n <= 11) {
      this.ifTsKind.push(TS_DECIMAL);
      this.ifTsUnit.push(10 ** n);
      this.ifTsScale.push(n <= 9 ? 10 ** (9 - n) : -(10 ** (n - 9)));
    } else if ((resolution & 0x80) !== 0 && n <= 32) {
      this.ifTsKind.push(TS_BINARY);
      this.ifTsUnit.push(n);
      this.ifTsScale.push(0);
    } else {
      this.ifTsKind.push(TS_BIGINT);
      this.ifTsUnit.push(resolution);
      this.ifTsScale.push(0);
    }
    this.ifLinkType.push(linkType);
    this.ifSnapLength.push(this.u32(buf, pos + 12));
    this.ifTsOffset.push(offset);
    this.noteLinkType(linkType);
  }

  /** an enhanced (EPB) or obsolete (OPB) packet block: same layout but the id's width */
  private packetBlock(buf: Buffer, pos: number, total: number, enhanced: boolean): void {
    // the block is well framed (its trailer matched), so damage inside it is skipped and reading goes on
    if (total < 32) {
      this.skip('corrupt-record');
      return;
    }
    const id = enhanced ? this.u32(buf, pos + 8) : this.u16(buf, pos + 8);
    const captured = this.u32(buf, pos + 20);
    if (id >= this.ifLinkType.length || captured > total - 32 || captured > MAX_CAPTURED) {
      this.skip('corrupt-record');
      return;
    }
    this.timestamp(id, this.u32(buf, pos + 12), this.u32(buf, pos + 16));
    this.records++;
    this.sink.frame(
      this.ifLinkType[id],
      this.tsSeconds,
      this.tsNanoseconds,
      buf,
      pos + 28,
      captured,
      this.u32(buf, pos + 24),
    );
  }

  /**
   * A simple packet block: no interface id (always interface 0), no timestamp, no
   * captured length. Its captured length is the original length cut to interface 0's
   * snap length (0: none) and to the block's space (pcapng spec). The time given is the
   * last timestamp read in the file, so that flow times do not jump back to 1970.
   */
  private simplePacketBlock(buf: Buffer, pos: number, total: number): void {
    if (total < 16 || this.ifLinkType.length === 0) {
      this.skip('corrupt-record');
      return;
    }
    const original = this.u32(buf, pos + 8);
    let captured = Math.min(original, total - 16);
    const snap = this.ifSnapLength[0];
    if (snap > 0 && snap < captured) captured = snap;
    if (captured > MAX_CAPTURED) {
      this.skip('corrupt-record');
      return;
    }
    this.records++;
    this.sink.frame(this.ifLinkType[0], this.tsSeconds, this.tsNanoseconds, buf, pos + 12, captured, original);
  }

  /**
   * Set tsSeconds / tsNanoseconds from a 64-bit timestamp (hi:lo) in interface `id`'s
   * units, exactly: the common resolutions in plain doubles (no allocation), BigInt only
   * for resolutions finer than 10^-11 s or 2^-32 s.
   */
  private timestamp(id: number, hi: number, lo: number): void {
    const kind = this.ifTsKind[id];
    let seconds: number;
    let ns: number;
    if (kind === TS_DECIMAL) {
      // long division of hi:lo by d = 10^n in 32 + 16 + 16-bit steps: every partial
      // value stays below d * 2^16 < 2^53, so each step is exact
      const d = this.ifTsUnit[id];
      const q1 = Math.floor(hi / d);
      let r = hi - q1 * d;
      let cur = r * 65536 + (lo >>> 16);
      const q2 = Math.floor(cur / d);
      r = cur - q2 * d;
      cur = r * 65536 + (lo & 0xffff);
      const q3 = Math.floor(cur / d);
      r = cur - q3 * d;
      seconds = q1 * 4294967296 + q2 * 65536 + q3;
      const scale = this.ifTsScale[id];
      ns = scale > 0 ? r * scale : Math.floor(r / -scale);
    } else if (kind === TS_BINARY) {
      // units of 2^-n s, n <= 32: seconds are hi:lo >> n; the fraction times 1e9
      // (= 2^9 * 1953125) stays exact because fraction * 1953125 < 2^53
      const n = this.ifTsUnit[id];
      const unit = 2 ** n;
      const loSeconds = Math.floor(lo / unit);
      seconds = hi * 2 ** (32 - n) + loSeconds;
      const fraction = lo - loSeconds * unit;
      ns = n >= 9 ? Math.floor((fraction * 1953125) / 2 ** (n - 9)) : fraction * 1953125 * 2 ** (9 - n);
    } else {
      const resolution = this.ifTsUnit[id];
      const ticks = (BigInt(hi) << 32n) | BigInt(lo);
      const n = BigInt(resolution & 0x7f);
      const perSecond = (resolution & 0x80) === 0 ? 10n ** n : 1n << n;
      seconds = Number(ticks / perSecond);
      ns = Number(((ticks % perSecond) * 1_000_000_000n) / perSecond);
    }
    this.tsSeconds = seconds + this.ifTsOffset[id];
    this.tsNanoseconds = ns;
  }
}
