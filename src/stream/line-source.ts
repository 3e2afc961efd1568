/**
 * stdin, a file, or a file followed as it grows, as a RecordSource: each
 * chunk is the complete lines of one read (up to 1 MiB), split by LineSplitter
 * with its bound on line length. Nothing to acknowledge.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { LineSplitter, type LineBlock } from '../data/line-splitter';
import type { RecordSource, SourceChunk } from './source';

export interface LineSourceOptions {
  /** a path, or '-' for stdin */
  input: string;
  /** keep reading a file that is still being appended to (and read it again from the start when it shrinks) */
  follow?: boolean;
  /** longer lines are handed over as null (the loop rejects them) */
  maxLineBytes: number;
  /** where to say that a followed file shrank (default: nowhere) */
  log?: (line: string) => void;
  /** stdin, for tests (default process.stdin) */
  stdin?: NodeJS.ReadableStream;
}

/** Lines of stdin or a file; see the module comment. */
export class LineSource implements RecordSource {
  readonly acknowledges = false;
  readonly headerPerChunk = false;
  readonly description: string;
  private readonly splitter: LineSplitter;
  private fh: FileHandle | undefined;
  private stdinIterator: AsyncIterator<Buffer> | undefined;
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  private pos = 0;
  private size: number | undefined;
  private nextLine = 1;
  private ended = false;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(readonly options: LineSourceOptions) {
    this.description = options.input === '-' ? 'stdin' : options.input;
    this.splitter = new LineSplitter(options.maxLineBytes);
  }

  /** @throws the file system's error (ENOENT, EACCES, EISDIR) for a file that cannot be opened */
  async open(): Promise<void> {
    if (this.options.input === '-') {
      this.stdinIterator = (this.options.stdin ?? process.stdin)[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      return;
    }
    this.fh = await open(this.options.input, 'r');
    if (!this.options.follow) this.size = (await this.fh.stat()).size;
  }

  async read(): Promise<SourceChunk[] | null> {
    if (this.ended) return null;
    const bytes = await this.nextBytes();
    let lines: LineBlock | null;
    if (bytes === null) {
      this.ended = true;
      lines = this.splitter.endBlock();
      if (lines === null) return null;
    } else {
      // kept as bytes: the parsers read a record's bytes, and only an unusual line becomes a string
      lines = this.splitter.block(bytes);
    }
    if (lines.count === 0) return [];
    const chunk: SourceChunk = { deliveries: 1, firstLine: this.nextLine, lines };
    this.nextLine += lines.count;
    return [chunk];
  }

  /** the next bytes; null at the end (or once stopped); an empty buffer when a followed file has nothing new yet */
  private async nextBytes(): Promise<Buffer | null> {
    if (this.stopped) return null;
    if (this.stdinIterator) {
      try {
        const r = await this.stdinIterator.next();
        return r.done || this.stopped ? null : (r.value as Buffer);
      } catch (e) {
        if (this.stopped) return null; // destroyed by interrupt()
        throw e;
      }
    }
    const fh = this.fh!;
    const { bytesRead } = await fh.read(this.buf, 0, this.buf.length, this.pos);
    if (bytesRead > 0) {
      this.pos += bytesRead;
      return this.buf.subarray(0, bytesRead); // split before the next read reuses buf
    }
    if (!this.options.follow) return null;
    if ((await fh.stat()).size < this.pos) {
      this.options.log?.(`${this.options.input} shrank (truncated or rotated): reading it again from the start`);
      this.pos = 0;
      return Buffer.alloc(0);
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 100);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wake = undefined;
    return Buffer.alloc(0);
  }

  async ack(): Promise<void> {}

  async deadLetter(chunk: SourceChunk, reason: string): Promise<void> {
    throw new Error(`internal: ${this.description} has no dead-letter queue (lines ${chunk.firstLine}..: ${reason})`);
  }

  async drained(): Promise<boolean> {
    return true;
  }

  origin(): string {
    return '';
  }

  progress(): string | undefined {
    if (this.size === undefined) return undefined;
    return `${((100 * this.pos) / Math.max(1, this.size)).toFixed(0)}% of ${(this.size / 2 ** 20).toFixed(1)} MiB`;
  }

  interrupt(): void {
    this.stopped = true;
    this.wake?.();
    // a read blocked on stdin ends when it is destroyed
    if (this.stdinIterator) ((this.options.stdin ?? process.stdin) as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }

  async close(): Promise<void> {
    await this.fh?.close();
    this.fh = undefined;
  }
}
