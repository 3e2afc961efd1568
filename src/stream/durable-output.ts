/**
 * The sinks of the scoring loop: NDJSON outputs that can say "everything
 * written so far has arrived". The loop acknowledges a source chunk only
 * after `commit()` of every sink holding its alerts and rejects resolved, and
 * waits for commits to keep memory flat when a reader is slow.
 *
 * - a file: written ('w', the pipe mode) or appended to ('a', a consumer
 *   group: a restarted consumer keeps what an earlier run committed);
 *   commit = written, and fsynced when the sink is durable;
 * - stdout / stderr: commit = handed to the pipe (not durable past the reader);
 * - a Redis stream: one entry per line with the JSON in one field,
 *   commit = the pipelined XADDs have been answered.
 *
 * A sink that fails keeps its first error: `failure` holds it, `onFailure`
 * hears of it at once, and every later commit rejects with it.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type Redis from 'ioredis';

export interface DurableOutput {
  /** what the output is, for messages ("alerts.ndjson", "stdout", "redis stream alerts") */
  readonly target: string;
  /** the first write error, once there was one */
  readonly failure?: NodeJS.ErrnoException;
  /** called once, on the first write error */
  onFailure: (e: NodeJS.ErrnoException) => void;
  /** queue complete lines (each ending in "\n") */
  write(lines: string | Uint8Array): void;
  /** resolves once every line written before the call has arrived (durably, for a durable sink); rejects with the sink's failure */
  commit(): Promise<void>;
  close(): Promise<void>;
}

abstract class QueuedOutput implements DurableOutput {
  failure?: NodeJS.ErrnoException;
  onFailure: (e: NodeJS.ErrnoException) => void = () => {};
  protected queued: Array<string | Uint8Array> = [];
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly target: string) {}

  write(lines: string | Uint8Array): void {
    if (!this.failure) this.queued.push(lines);
  }

  /** commits run one after another, so the output keeps the order of the writes */
  commit(): Promise<void> {
    const pieces = this.queued;
    this.queued = [];
    this.tail = this.tail.then(async () => {
      if (this.failure) throw this.failure;
      try {
        await this.deliver(pieces);
      } catch (e) {
        this.fail(e as NodeJS.ErrnoException);
        throw e;
      }
    });
    return this.tail;
  }

  protected fail(e: NodeJS.ErrnoException): void {
    if (this.failure) return;
    this.failure = e;
    this.onFailure(e);
  }

  protected abstract deliver(pieces: Array<string | Uint8Array>): Promise<void>;

  abstract close(): Promise<void>;
}

/** A file, opened before any input is read; commit writes the queued lines (and fsyncs when durable). */
export class FileOutput extends QueuedOutput {
  private constructor(
    target: string,
    private readonly fh: FileHandle,
    private readonly durable: boolean,
  ) {
    super(target);
  }

  /**
   * @param mode - 'w' truncates, 'a' appends
   * @param durable - fsync on every commit (a source that acknowledges needs it)
   * @throws the file system's error (ENOENT, EACCES, ...) when the file cannot be opened
   */
  static async open(path: string, mode: 'w' | 'a', durable: boolean): Promise<FileOutput> {
    return new FileOutput(path, await open(path, mode), durable);
  }

  protected async deliver(pieces: Array<string | Uint8Array>): Promise<void> {
    if (pieces.length > 0) await this.fh.writev(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
    if (this.durable) await this.fh.sync();
  }

  async close(): Promise<void> {
    try {
      await this.commit();
    } finally {
      await this.fh.close();
    }
  }
}

/** stdout or stderr: commit resolves once the lines are handed to the pipe. */
export class PipeOutput extends QueuedOutput {
  constructor(
    target: 'stdout' | 'stderr',
    readonly stream: NodeJS.WriteStream,
  ) {
    super(target);
    // a closed pipe shows as an 'error' event: recorded, never an uncaught exception
    stream.on('error', (e: NodeJS.ErrnoException) => this.fail(e));
  }

  protected deliver(pieces: Array<string | Uint8Array>): Promise<void> {
    if (pieces.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      for (let k = 0; k < pieces.length - 1; k++) this.stream.write(pieces[k]);
      this.stream.write(pieces[pieces.length - 1], (e) => (e ? reject(e) : this.failure ? reject(this.failure) : resolve()));
    });
  }

  close(): Promise<void> {
    return this.commit();
  }
}

/** One Redis stream entry per line, `field` = the JSON text; commit waits for the XADD replies. */
export class RedisStreamOutput extends QueuedOutput {
  constructor(
    private readonly client: Redis,
    readonly stream: string,
    private readonly field: string,
  ) {
    super(`redis stream ${stream}`);
  }

  protected async deliver(pieces: Array<string | Uint8Array>): Promise<void> {
    const lines = pieces.flatMap((p) => (typeof p === 'string' ? p : Buffer.from(p).toString('utf8')).split('\n').filter((l) => l !== ''));
    for (let i = 0; i < lines.length; i += 1000) {
      const p = this.client.pipeline();
      for (const line of lines.slice(i, i + 1000)) p.xadd(this.stream, '*', this.field, line);
      const res = await p.exec();
      const failed = res?.find(([e]) => e);
      if (!res || failed) throw new Error(`XADD to ${this.stream} failed: ${failed?.[0]?.message ?? 'no reply'}`);
    }
  }

  close(): Promise<void> {
    return this.commit();
  }
}
