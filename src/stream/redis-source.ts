/**
 * Redis Streams behind the RecordSource contract: a consumer group shares one
 * stream; XREADGROUP hands each entry to one consumer, it stays in the group's
 * pending list until XACK, and XAUTOCLAIM moves entries idle too long at a dead
 * consumer to a live one. An entry is a chunk of consecutive raw lines (see
 * ENTRY_FIELDS), written by RedisStreamPublisher.
 */
import Redis from 'ioredis';
import type { RecordSource, SourceChunk, SourceStats } from './source';
import { joinLines, TextLines } from '../data/line-splitter';

/** Field names of a stream entry. */
export const ENTRY_FIELDS = {
  /** source line number of the first line */
  line: 'line',
  /** the lines, joined by "\n" */
  data: 'data',
  /** the CSV header the lines follow (absent for headerless CSV and NDJSON) */
  header: 'header',
} as const;

/** Redis cannot be reached, refused a command, or the URL is unusable. */
export class RedisSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisSourceError';
  }
}

/**
 * Connect to `url` (redis://[user:pass@]host:port[/db] or rediss://), failing
 * with one clear message instead of retrying forever when nothing answers.
 *
 * @param url - the server
 * @param name - CLIENT SETNAME value, shown by CLIENT LIST (default none)
 */
export async function connectRedis(url: string, name?: string): Promise<Redis> {
  if (!/^rediss?:\/\/[^/\s]+/.test(url)) throw new RedisSourceError(`--redis must be a URL like redis://127.0.0.1:6379, got ${JSON.stringify(url)}`);
  let lastError: Error | undefined;
  const client = new Redis(url, {
    lazyConnect: true,
    // RESP2: ioredis 6 speaks RESP3 by default, where XREADGROUP's map reply comes flattened
    // ([stream, entries]) instead of RESP2's [[stream, entries]]; pin the documented shape
    protocol: 2,
    connectionName: name,
    maxRetriesPerRequest: 3,
    // a few quick reconnects survive a blip; after that commands fail and the caller stops cleanly
    retryStrategy: (times) => (times > 5 ? null : Math.min(100 * times, 1000)),
  });
  client.on('error', (e: Error) => (lastError = e)); // reported through the failing command, not as an unhandled event
  try {
    await client.connect();
  } catch (e) {
    client.disconnect();
    throw new RedisSourceError(`cannot connect to ${url}: ${(lastError ?? (e as Error)).message}`);
  }
  return client;
}

export interface RedisSourceOptions {
  /** redis://HOST:PORT */
  url: string;
  stream: string;
  group: string;
  consumer: string;
  /** claim entries pending at other consumers for longer than this (default 30000 ms) */
  claimIdleMs?: number;
  /** how long one read waits for new entries (default 500 ms) */
  blockMs?: number;
  /** entries per XREADGROUP (default 64; with 100 records per entry, about 6400 records) */
  entriesPerRead?: number;
  /** stream that receives entries delivered too often, with the reason (default `${stream}:dead`) */
  deadLetterStream?: string;
}

type RawEntry = [id: string, fields: string[] | null];

function asEntries(reply: unknown): RawEntry[] {
  // XREADGROUP: [[stream, [[id, [f, v, ...]], ...]]] or null
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const first = reply[0] as [string, RawEntry[]];
  return first[1] ?? [];
}

/** Why an entry reached this consumer. */
type DeliveryKind = 'own-pending' | 'new' | 'claimed';

/** Decode an entry's fields; an entry without the publisher's fields (another writer's) is marked malformed. */
function decode(id: string, fields: readonly string[], deliveries: number): SourceChunk {
  let line = NaN;
  let data: string | undefined;
  let header: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const k = fields[i];
    if (k === ENTRY_FIELDS.line) line = Number(fields[i + 1]);
    else if (k === ENTRY_FIELDS.data) data = fields[i + 1];
    else if (k === ENTRY_FIELDS.header) header = fields[i + 1];
  }
  const ok = data !== undefined && Number.isInteger(line) && line > 0;
  return {
    id,
    deliveries,
    firstLine: ok ? line : 0,
    lines: new TextLines(data === undefined ? [] : data.split('\n')),
    header,
    ...(ok ? {} : { malformed: 'not a publisher entry: fields line and data missing or invalid' }),
  };
}

/**
 * A Redis consumer-group member. Uses two connections: one for the blocking
 * XREADGROUP, one for acks, claims and dead letters, so that acknowledging
 * finished work never waits behind a blocked read.
 */
export class RedisStreamSource implements RecordSource {
  readonly acknowledges = true;
  readonly headerPerChunk = true;
  readonly stats: SourceStats = { ownPendingEntries: 0, newEntries: 0, claimedEntries: 0, deletedEntries: 0, ackedEntries: 0, deadLetteredEntries: 0 };
  readonly description: string;
  readonly deadLetterStream: string;
  private reader: Redis | undefined;
  private writer: Redis | undefined;
  private phase: 'own' | 'live' = 'own';
  private ownCursor = '0';
  private claimCursor = '0-0';
  private nextClaimAt = 0;
  private readonly claimIdleMs: number;
  private readonly blockMs: number;
  private readonly entriesPerRead: number;
  /** delivered here and not yet acked or dead-lettered: never re-claimed from ourselves */
  private readonly outstanding = new Set<string>();

  constructor(readonly options: RedisSourceOptions) {
    this.claimIdleMs = options.claimIdleMs ?? 30_000;
    this.blockMs = options.blockMs ?? 500;
    this.entriesPerRead = options.entriesPerRead ?? 64;
    this.deadLetterStream = options.deadLetterStream ?? `${options.stream}:dead`;
    this.description = `${options.url} stream ${options.stream}, group ${options.group}, consumer ${options.consumer}`;
  }

  async open(): Promise<void> {
    const { url, stream, group, consumer } = this.options;
    this.reader = await connectRedis(url, `${consumer}-read`);
    this.writer = await connectRedis(url, `${consumer}-write`);
    try {
      // from id 0: a group created after the publisher started still sees the whole stream
      await this.writer.call('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM');
    } catch (e) {
      if (!/BUSYGROUP/.test((e as Error).message)) throw new RedisSourceError(`cannot create group ${group} on stream ${stream}: ${(e as Error).message}`);
    }
    this.nextClaimAt = performance.now(); // claim once right away: a restart after a crash finds work at once
  }

  /**
   * The next entries for this consumer: first its own entries left pending by
   * an earlier run, then entries idle too long at dead consumers (when a claim
   * is due), then new ones. Waits up to the block time; [] = nothing arrived.
   */
  async read(): Promise<SourceChunk[]> {
    const { stream, group, consumer } = this.options;
    const maxEntries = this.entriesPerRead;
    const r = this.reader!;
    if (this.phase === 'own') {
      // our own entries left pending by an earlier run of this consumer name come first
      // history reads return our pending entries after the given id: walk them with a cursor
      // (entries of the previous page are still being scored, so they are still pending)
      const raw = asEntries(await r.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', maxEntries, 'STREAMS', stream, this.ownCursor));
      if (raw.length > 0) this.ownCursor = raw[raw.length - 1][0];
      const fresh = raw.filter(([id]) => !this.outstanding.has(id));
      if (fresh.length > 0) {
        const entries = await this.withDeliveries('own-pending', fresh);
        this.stats.ownPendingEntries += entries.length;
        return entries;
      }
      this.phase = 'live';
    }
    if (performance.now() >= this.nextClaimAt) {
      const reply = (await this.writer!.call('XAUTOCLAIM', stream, group, consumer, this.claimIdleMs, this.claimCursor, 'COUNT', maxEntries)) as [string, RawEntry[], string[]?];
      this.claimCursor = reply[0];
      // a full pass over the pending list: wait before the next one
      if (this.claimCursor === '0-0') this.nextClaimAt = performance.now() + Math.max(100, this.claimIdleMs / 2);
      // Redis 7 drops deleted (trimmed) entries from the pending list itself and reports their ids
      this.stats.deletedEntries += reply[2]?.length ?? 0;
      const claimed = reply[1].filter(([id, fields]) => fields !== null && !this.outstanding.has(id));
      if (claimed.length > 0) {
        const entries = await this.withDeliveries('claimed', claimed);
        this.stats.claimedEntries += entries.length;
        return entries;
      }
    }
    const raw = asEntries(await r.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', maxEntries, 'BLOCK', this.blockMs, 'STREAMS', stream, '>'));
    const entries = raw.map(([id, fields]) => {
      this.outstanding.add(id);
      return decode(id, fields ?? [], 1);
    });
    this.stats.newEntries += entries.length;
    return entries;
  }

  /** look the delivery counts up (XPENDING) for entries that may have been delivered before */
  private async withDeliveries(_kind: DeliveryKind, raw: RawEntry[]): Promise<SourceChunk[]> {
    const { stream, group, consumer } = this.options;
    const deleted = raw.filter(([, f]) => f === null).map(([id]) => id);
    const live = raw.filter(([, f]) => f !== null);
    const counts = new Map<string, number>();
    if (live.length > 0) {
      const rows = (await this.writer!.call('XPENDING', stream, group, live[0][0], live[live.length - 1][0], live.length + this.outstanding.size, consumer)) as Array<[string, string, number, number]>;
      for (const [id, , , n] of rows) counts.set(id, Number(n));
    }
    if (deleted.length > 0) {
      // pending ids whose entries were trimmed away: nothing left to score, so they leave the pending list
      await this.writer!.call('XACK', stream, group, ...deleted);
      this.stats.deletedEntries += deleted.length;
    }
    return live.map(([id, fields]) => {
      this.outstanding.add(id);
      return decode(id, fields!, counts.get(id) ?? 1);
    });
  }

  async ack(chunks: readonly SourceChunk[]): Promise<void> {
    const { stream, group } = this.options;
    const ids = chunks.map((c) => c.id as string);
    for (let i = 0; i < ids.length; i += 1000) {
      const part = ids.slice(i, i + 1000);
      await this.writer!.call('XACK', stream, group, ...part);
      for (const id of part) this.outstanding.delete(id);
      this.stats.ackedEntries += part.length;
    }
  }

  async deadLetter(entry: SourceChunk, reason: string): Promise<void> {
    const { stream, group, consumer } = this.options;
    const id = entry.id as string; // every chunk of this source has one
    const fields: Array<string | number> = ['stream', stream, 'group', group, 'id', id, 'consumer', consumer, 'deliveries', entry.deliveries, 'reason', reason, ENTRY_FIELDS.line, entry.firstLine, 'records', entry.lines.count, ENTRY_FIELDS.data, joinLines(entry.lines)];
    if (entry.header !== undefined) fields.push(ENTRY_FIELDS.header, entry.header);
    // one transaction: the entry is never both acked and missing from the dead-letter stream
    const res = await this.writer!.multi().xadd(this.deadLetterStream, '*', ...fields).xack(stream, group, id).exec();
    const failed = res?.find(([err]) => err);
    if (!res || failed) throw new RedisSourceError(`cannot dead-letter entry ${entry.id} to ${this.deadLetterStream}: ${failed?.[0]?.message ?? 'transaction aborted'}`);
    this.outstanding.delete(id);
    this.stats.deadLetteredEntries++;
  }

  async drained(): Promise<boolean> {
    const summary = (await this.writer!.call('XPENDING', this.options.stream, this.options.group)) as [number, ...unknown[]];
    return Number(summary[0]) === 0;
  }

  /** the entry id and the record's index in it name a record across redeliveries */
  origin(chunk: SourceChunk, index: number): string {
    return `"entry":${JSON.stringify(chunk.id)},"index":${index},"stream":${JSON.stringify(this.options.stream)},"consumer":${JSON.stringify(this.options.consumer)},"deliveries":${chunk.deliveries},`;
  }

  /** a blocked XREADGROUP returns within the block time by itself */
  interrupt(): void {}

  async close(): Promise<void> {
    for (const c of [this.reader, this.writer]) {
      if (!c) continue;
      try {
        await c.quit();
      } catch {
        c.disconnect();
      }
    }
  }

  /** the writer connection, for outputs that go to Redis too (alerts/rejects streams) */
  get client(): Redis {
    if (!this.writer) throw new Error('RedisStreamSource: open() first');
    return this.writer;
  }
}
