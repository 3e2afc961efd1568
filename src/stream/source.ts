/**
 * Where the stream command's records come from: the contract of every source
 * the one scoring loop (stream/loop.ts) reads, the way a log shipper wires
 * any source to the same processors. A source hands over chunks of raw lines;
 * the loop parses, scores, explains, writes and then acknowledges them.
 *
 * - stdin, a file, a file followed as it grows (line-source.ts): chunks as
 *   read; acknowledging is a no-op;
 * - a Redis consumer group (redis-source.ts): one chunk per stream entry,
 *   acknowledged (XACK) only after its alerts and rejects are durably written,
 *   so a crash can repeat an entry but never lose one. A Kafka consumer group
 *   (id = partition:offset, ack = commit below the lowest unfinished offset)
 *   or NATS JetStream (ack = AckAck) would plug in behind the same interface.
 */

import type { Lines } from '../data/line-splitter';

/** One delivered chunk: consecutive source lines. */
export interface SourceChunk {
  /** the broker's position of the chunk (Redis: "1718000000000-0"), unique within the source; undefined for files and pipes */
  readonly id?: string;
  /** how many times the chunk has been handed out, this time included (1 = first delivery; always 1 for files) */
  readonly deliveries: number;
  /** source line number of the first line (1-based) */
  readonly firstLine: number;
  /** raw record lines (CSV or NDJSON text, no newline; null for a line over the length bound): a LineBlock of bytes from a file or a pipe */
  readonly lines: Lines;
  /** the CSV header these lines follow, when the source carries it per chunk (published entries) */
  readonly header?: string;
  /** set when the chunk cannot be read as records at all (an entry another program wrote): it is dead-lettered with this reason */
  readonly malformed?: string;
}

/** Counters a broker source keeps for the summary. */
export interface SourceStats {
  ownPendingEntries: number;
  newEntries: number;
  claimedEntries: number;
  deletedEntries: number;
  ackedEntries: number;
  deadLetteredEntries: number;
}

export interface RecordSource {
  /** human-readable name: "stdin", a path, "redis://127.0.0.1:6379 stream flows, group g, consumer c1" */
  readonly description: string;
  /**
   * true: chunks are acknowledged once their results are durable (sinks fsync
   * and the loop commits per read); false: nothing to acknowledge (ack is a no-op)
   */
  readonly acknowledges: boolean;
  /** true: every chunk says which CSV header its lines follow (SourceChunk.header); false: the input's first line may be a header */
  readonly headerPerChunk: boolean;
  /** counters for the summary (broker sources) */
  readonly stats?: SourceStats;
  /** connect, join the group, or open the file */
  open(): Promise<void>;
  /**
   * The next chunks: waits up to the source's own poll time. An empty list
   * means nothing arrived yet; null means the input ended.
   */
  read(): Promise<SourceChunk[] | null>;
  /** acknowledge finished chunks: they will not be delivered again (no-op for files) */
  ack(chunks: readonly SourceChunk[]): Promise<void>;
  /** set a chunk aside with a reason and acknowledge it, atomically where the broker allows; a source that cannot throws */
  deadLetter(chunk: SourceChunk, reason: string): Promise<void>;
  /** true when nothing handed out is still unacknowledged anywhere (the group has no pending entries) */
  drained(): Promise<boolean>;
  /**
   * JSON members that name record `index` of `chunk` in its alert and reject
   * lines, placed before "line" and each followed by a comma
   * (`"entry":"1-0","index":3,`); '' when the line number says it all.
   */
  origin(chunk: SourceChunk, index: number): string;
  /** how far the input is read, for progress lines ("42% of 12.3 MiB"), when known */
  progress?(): string | undefined;
  /** the loop is stopping: end a blocked read soon */
  interrupt(): void;
  close(): Promise<void>;
}
