/**
 * A shared, replayable source of raw record lines with acknowledgements: the
 * contract the group consumer (`npm run stream -- --redis ...`) scores from.
 * Redis Streams implement it (redis-source.ts); a Kafka consumer group (entry id
 * = partition:offset, ack = commit of the offset below the lowest unfinished
 * one) or NATS JetStream (pull consumer, ack = AckAck, max deliveries and the
 * dead-letter advisory built in) would plug in behind the same interface.
 *
 * Delivery is at least once: an entry is handed to one consumer of the group
 * and stays pending until acked; if its consumer dies, another one takes it
 * over. The consumer acknowledges only after its alerts and rejects are
 * durably written, so a crash can repeat an entry but never lose one; the
 * entry id plus the record's index in it names each record across redeliveries.
 */

/** One delivered entry: a chunk of consecutive source lines. */
export interface SourceEntry {
  /** the broker's position of the entry (Redis: "1718000000000-0"); unique within the source */
  readonly id: string;
  /** how many times the entry has been handed out, this time included (1 = first delivery) */
  readonly deliveries: number;
  /** source line number of lines[0] (1-based, as the publisher counted them) */
  readonly firstLine: number;
  /** raw record lines (CSV or NDJSON text, no newline); the consumer parses them */
  readonly lines: readonly string[];
  /** the CSV header these lines follow, when the published input had one */
  readonly header?: string;
}

/** Why an entry reached this consumer. */
export type DeliveryKind = 'own-pending' | 'new' | 'claimed';

export interface SourceBatch {
  kind: DeliveryKind;
  entries: SourceEntry[];
  /** ids that were pending but whose entries were deleted from the stream (trimmed): acked, nothing to score */
  deleted: string[];
}

/** Counters a source keeps for the consumer's summary. */
export interface SourceStats {
  ownPendingEntries: number;
  newEntries: number;
  claimedEntries: number;
  deletedEntries: number;
  ackedEntries: number;
  deadLetteredEntries: number;
}

export interface RecordSource {
  /** human-readable name, e.g. "redis://127.0.0.1:6379 stream flows, group scorers, consumer c1" */
  readonly description: string;
  readonly stats: SourceStats;
  /** connect and join the group (creating it if missing) */
  open(): Promise<void>;
  /**
   * The next entries for this consumer, at most `maxEntries`: first its own
   * entries left pending by an earlier run, then entries idle too long at dead
   * consumers (when a claim is due), then new ones. Waits up to the source's
   * block time; an empty batch means nothing arrived.
   */
  read(maxEntries: number): Promise<SourceBatch>;
  /** acknowledge finished entries: they will not be delivered again */
  ack(ids: readonly string[]): Promise<void>;
  /** set an entry aside with a reason (in a dead-letter stream/topic) and acknowledge it, atomically where the broker allows */
  deadLetter(entry: SourceEntry, reason: string): Promise<void>;
  /** true when the group has no pending entries at all (every delivered entry acked, by anyone) */
  drained(): Promise<boolean>;
  /** stop a blocked read and disconnect */
  close(): Promise<void>;
}
