/**
 * Splits a byte stream into lines, with a bound on line length so that one
 * endless line cannot exhaust memory: the bytes of an over-long line are
 * skipped up to its newline and the line is reported once, as too long.
 */

/** Consecutive lines, as a source hands them over. */
export interface Lines {
  readonly count: number;
  /** line i's text (without its newline); null for a line over the source's length bound */
  text(i: number): string | null;
}

/** Lines already held as strings (a broker's entry, flow lines). */
export class TextLines implements Lines {
  constructor(readonly items: ReadonlyArray<string | null>) {}

  get count(): number {
    return this.items.length;
  }

  text(i: number): string | null {
    return this.items[i];
  }
}

/** Every line's text joined by newlines (an over-long line as an empty one). */
export function joinLines(lines: Lines): string {
  const out = new Array<string>(lines.count);
  for (let i = 0; i < lines.count; i++) out[i] = lines.text(i) ?? '';
  return out.join('\n');
}

/**
 * The complete lines of one pushed chunk, kept as bytes: a line becomes a
 * string only when someone asks for its text. The stream's parsers read the
 * bytes of a record directly (data/records.ts, `parseBytes`), so the common
 * line is never decoded; a reject, a header or an unusual line is.
 */
export class LineBlock implements Lines {
  /**
   * @param data - the bytes (a copy: the reader's buffer is reused)
   * @param starts - line i is data[starts[i], ends[i]); -1: over the length bound (text null); -2: `head` (a line that began in an earlier chunk)
   * @param ends - see starts
   * @param head - the text of a line given as -2
   */
  constructor(
    readonly data: Buffer,
    readonly starts: Int32Array,
    readonly ends: Int32Array,
    private readonly head: string | null = null,
  ) {}

  /** lines in the block */
  get count(): number {
    return this.starts.length;
  }

  /** line i's text (UTF-8, without its newline or a trailing "\r"); null for a line over the length bound */
  text(i: number): string | null {
    const s = this.starts[i];
    if (s >= 0) return this.data.toString('utf8', s, this.ends[i]);
    return s === -2 ? this.head : null;
  }
}

const EMPTY = Buffer.alloc(0);

export class LineSplitter {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private overflow = false;

  constructor(readonly maxLineBytes: number) {}

  /**
   * Feed a chunk; `onLine(text)` gets each complete line (without "\n" or a
   * trailing "\r"), `onTooLong()` each line over the bound.
   */
  push(chunk: Buffer, onLine: (line: string) => void, onTooLong: () => void): void {
    LineSplitter.each(this.block(chunk), onLine, onTooLong);
  }

  /** Flush what is left after the last chunk (a last line without a newline). */
  end(onLine: (line: string) => void, onTooLong: () => void): void {
    const last = this.endBlock();
    if (last) LineSplitter.each(last, onLine, onTooLong);
  }

  private static each(block: LineBlock, onLine: (line: string) => void, onTooLong: () => void): void {
    for (let i = 0; i < block.count; i++) {
      const text = block.text(i);
      if (text === null) onTooLong();
      else onLine(text);
    }
  }

  /**
   * Feed a chunk; @returns its complete lines (none when the chunk holds no
   * newline), the first one completing what earlier chunks left unfinished.
   */
  block(chunk: Buffer): LineBlock {
    const first = chunk.indexOf(10);
    if (first < 0) {
      this.keep(chunk);
      return new LineBlock(EMPTY, new Int32Array(0), new Int32Array(0));
    }
    const head = this.finish(chunk.subarray(0, first));
    const last = chunk.lastIndexOf(10);
    let count = 1;
    for (let i = chunk.indexOf(10, first + 1); i !== -1 && i <= last; i = chunk.indexOf(10, i + 1)) count++;
    const starts = new Int32Array(count);
    const ends = new Int32Array(count);
    starts[0] = head === null ? -1 : -2;
    // the complete lines after the first newline, copied once (the reader reuses its buffer)
    const data = Buffer.from(chunk.subarray(first + 1, last + 1));
    for (let k = 1, start = 0; k < count; k++) {
      const nl = data.indexOf(10, start);
      let end = nl;
      if (end > start && data[end - 1] === 13) end--;
      if (end - start > this.maxLineBytes) starts[k] = -1;
      else {
        starts[k] = start;
        ends[k] = end;
      }
      start = nl + 1;
    }
    if (last + 1 < chunk.length) this.keep(chunk.subarray(last + 1));
    return new LineBlock(data, starts, ends, head);
  }

  /** After the last chunk: @returns the last line when it had no newline, else null */
  endBlock(): LineBlock | null {
    if (this.partialBytes === 0 && !this.overflow) return null;
    const head = this.finish(EMPTY);
    return new LineBlock(EMPTY, Int32Array.of(head === null ? -1 : -2), new Int32Array(1), head);
  }

  /** bytes of an unfinished line held in memory */
  get pendingBytes(): number {
    return this.partialBytes;
  }

  private keep(piece: Buffer): void {
    if (this.overflow) return;
    if (this.partialBytes + piece.length > this.maxLineBytes) {
      this.overflow = true;
      this.partial = [];
      this.partialBytes = 0;
      return;
    }
    this.partial.push(Buffer.from(piece)); // copy: the chunk's memory is reused by the reader
    this.partialBytes += piece.length;
  }

  /** the line that ends with `tail`: its text, or null when it is over the bound */
  private finish(tail: Buffer): string | null {
    if (this.overflow || this.partialBytes + tail.length > this.maxLineBytes) {
      this.overflow = false;
      this.partial = [];
      this.partialBytes = 0;
      return null;
    }
    let bytes = this.partialBytes > 0 ? Buffer.concat([...this.partial, tail]) : tail;
    this.partial = [];
    this.partialBytes = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, bytes.length - 1);
    return bytes.toString('utf8');
  }
}
