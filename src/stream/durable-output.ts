/**
 * NDJSON outputs that can say "everything written so far is durable": the group
 * consumer acknowledges a stream entry only after `commit()` of every output
 * that holds its alerts and rejects has resolved.
 *
 * - a file: appended to (a restarted consumer keeps what an earlier run
 *   committed), commit = write + fsync;
 * - stdout / stderr: commit = handed to the pipe (not durable past the reader);
 * - a Redis stream: one entry per line with the JSON in one field,
 *   commit = the pipelined XADDs have been answered.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type Redis from 'ioredis';

export interface DurableOutput {
  /** what the output is, for messages ("alerts.ndjson", "stdout", "redis stream alerts") */
  readonly target: string;
  /** queue one line (without newline) */
  write(line: string): void;
  /** resolves once every line written before the call is durable */
  commit(): Promise<void>;
  close(): Promise<void>;
}

/** Appends to a file; commit writes the queued lines and fsyncs. */
export class FileOutput implements DurableOutput {
  private queued: string[] = [];
  private tail: Promise<void> = Promise.resolve();

  private constructor(
    readonly target: string,
    private readonly fh: FileHandle,
  ) {}

  static async open(path: string): Promise<FileOutput> {
    return new FileOutput(path, await open(path, 'a'));
  }

  write(line: string): void {
    this.queued.push(line);
  }

  commit(): Promise<void> {
    const lines = this.queued;
    this.queued = [];
    // commits run one after another so the file keeps the order of the writes
    this.tail = this.tail.then(async () => {
      if (lines.length > 0) await this.fh.write(`${lines.join('\n')}\n`);
      await this.fh.sync();
    });
    return this.tail;
  }

  async close(): Promise<void> {
    await this.commit();
    await this.fh.close();
  }
}

/** stdout or stderr: commit resolves once the lines are handed to the pipe. */
export class PipeOutput implements DurableOutput {
  private queued: string[] = [];

  constructor(
    readonly target: string,
    private readonly stream: NodeJS.WriteStream,
  ) {}

  write(line: string): void {
    this.queued.push(line);
  }

  commit(): Promise<void> {
    const lines = this.queued;
    this.queued = [];
    if (lines.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.stream.write(`${lines.join('\n')}\n`, (e) => (e ? reject(e) : resolve())));
  }

  close(): Promise<void> {
    return this.commit();
  }
}

/** One Redis stream entry per line, `field` = the JSON text; commit waits for the XADD replies. */
export class RedisStreamOutput implements DurableOutput {
  readonly target: string;
  private queued: string[] = [];

  constructor(
    private readonly client: Redis,
    readonly stream: string,
    private readonly field: string,
  ) {
    this.target = `redis stream ${stream}`;
  }

  write(line: string): void {
    this.queued.push(line);
  }

  async commit(): Promise<void> {
    const lines = this.queued;
    this.queued = [];
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
