/**
 * Splits a byte stream into lines, with a bound on line length so that one
 * endless line cannot exhaust memory: the bytes of an over-long line are
 * skipped up to its newline and the line is reported once, as too long.
 */

// String methods as module constants, called with .call: see the note in data/records.ts.
const charCodeAt = String.prototype.charCodeAt;
const indexOf = String.prototype.indexOf;
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
    const first = chunk.indexOf(10);
    if (first < 0) {
      this.keep(chunk);
      return;
    }
    this.finish(chunk.subarray(0, first), onLine, onTooLong);
    const last = chunk.lastIndexOf(10);
    if (last > first) {
      // the complete lines in between: decoded once, then cut into (cheap, sliced) strings
      const text = chunk.toString('utf8', first + 1, last);
      let start = 0;
      for (;;) {
        const nl = indexOf.call(text, '\n', start);
        const end = nl < 0 ? text.length : nl;
        this.emit(text, start, end, onLine, onTooLong);
        if (nl < 0) break;
        start = nl + 1;
      }
    }
    if (last + 1 < chunk.length) this.keep(chunk.subarray(last + 1));
  }

  private emit(text: string, start: number, end: number, onLine: (line: string) => void, onTooLong: () => void): void {
    if (end > start && charCodeAt.call(text, end - 1) === 13) end--;
    const line = text.slice(start, end);
    // a UTF-8 character takes at most 3 bytes per UTF-16 unit: count bytes only when it may matter
    if (3 * line.length > this.maxLineBytes && Buffer.byteLength(line) > this.maxLineBytes) onTooLong();
    else onLine(line);
  }

  /** Flush what is left after the last chunk (a last line without a newline). */
  end(onLine: (line: string) => void, onTooLong: () => void): void {
    if (this.partialBytes > 0 || this.overflow) this.finish(Buffer.alloc(0), onLine, onTooLong);
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

  private finish(tail: Buffer, onLine: (line: string) => void, onTooLong: () => void): void {
    if (this.overflow || this.partialBytes + tail.length > this.maxLineBytes) {
      this.overflow = false;
      this.partial = [];
      this.partialBytes = 0;
      onTooLong();
      return;
    }
    let bytes = this.partialBytes > 0 ? Buffer.concat([...this.partial, tail]) : tail;
    this.partial = [];
    this.partialBytes = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, bytes.length - 1);
    onLine(bytes.toString('utf8'));
  }
}
