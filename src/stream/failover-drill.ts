/**
 * A failover drill for a Redis Streams consumer group: publish a capture, run
 * N real consumers (`dist/cli/stream.js --redis ...`, separate processes),
 * SIGKILL one while it holds unacknowledged entries, let the others take them
 * over (XAUTOCLAIM after `claimIdleMs`), wait for the group to drain, and
 * account for every published record by entry id + record index.
 *
 * It is what the SIGKILL test and notebook 11 run: the accounting is computed
 * from what the consumers durably wrote (ledgers, alerts, rejects) and what
 * Redis holds (the stream, the pending list, the dead-letter stream), never
 * from what the consumers claim in their summaries.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import type { AlertLine } from '../scoring/alert-lines';
import type { StreamSummary } from './loop';
import { publishLines, type PublishSummary } from './redis-publisher';
import { connectRedis } from './redis-source';
import { startRedisServer, type RedisServerHandle } from './redis-server';

/** The compiled stream command, from src/stream (tests) and dist/stream (notebooks) alike. */
const STREAM_CLI = join(__dirname, '..', '..', 'dist', 'cli', 'stream.js');

export interface FailoverDrillOptions {
  /** the model bundle the consumers load (required) */
  modelPath: string;
  /** the capture to publish: a CSV (with or without header) or NDJSON file (required) */
  input: string;
  /** folder for each consumer's alerts, rejects, ledger and summary (created; its STREAM-C-* files of an earlier drill are replaced; required) */
  workDir: string;
  /** an existing Redis to use; default: start a throwaway local redis-server and stop it afterwards */
  redisUrl?: string;
  /** stream key (default 'flows'); its dead-letter stream is `STREAM:dead` */
  stream?: string;
  /** consumer group (default 'scorers') */
  group?: string;
  /** number of consumer processes, at least 2 (default 2); the first one is killed */
  consumers?: number;
  /** records packed per stream entry (default 100) */
  recordsPerEntry?: number;
  /** entries per XREADGROUP of each consumer (default 4: small reads keep entries in flight, so the kill finds some pending) */
  entriesPerRead?: number;
  /** a survivor claims entries pending at another consumer for longer than this (default 1000 ms) */
  claimIdleMs?: number;
  /** consumers exit once idle this long with nothing pending in the group (default 1500 ms) */
  exitWhenIdleMs?: number;
  /** kill the victim once its ledger shows this many finished entries (default 5) */
  killAfterEntries?: number;
  /** give up (kill everything, throw) after this long (default 120000 ms) */
  timeoutMs?: number;
  /** the stream command (default: dist/cli/stream.js of this project) */
  streamCli?: string;
}

/** One line of a consumer's --ledger: an entry it finished (wrote, then acknowledged). */
export interface LedgerLine {
  entry: string;
  line: number;
  records: number;
  scored: number;
  anomalous: number;
  rejected: number;
  deliveries: number;
  consumer: string;
}

/** One line of a consumer's --rejects. */
export interface RejectLine {
  entry: string;
  index: number;
  line: number;
  reason: string;
  deliveries: number;
}

export interface DrillConsumer {
  name: string;
  /** true for the consumer the drill killed */
  killed: boolean;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** its stderr (summary and warnings; empty-ish for the killed one) */
  stderr: string;
  /** entries it finished, from its ledger */
  entriesFinished: number;
  /** entries it finished that had been delivered before (taken over, or its own re-read) */
  entriesRedelivered: number;
  /** records in the entries it finished */
  records: number;
  /** of those, records in entries delivered before (taken over from the killed consumer) */
  recordsRedelivered: number;
  /** its --summary-json (undefined for the killed consumer: it never wrote one) */
  summary?: StreamSummary;
  /** its output files */
  files: { alerts: string; rejects: string; ledger: string; summary: string };
}

/** Every published record in exactly one of scored / rejected / deadLettered / missing. */
export interface DrillRecords {
  published: number;
  scored: number;
  rejected: number;
  deadLettered: number;
  /** in no ledger and not dead-lettered: must be 0 */
  missing: number;
  /** scored or rejected records of entries finished on their first delivery */
  firstDelivery: number;
  /** scored or rejected records of entries that were delivered again (taken over from the killed consumer) */
  redelivered: number;
  /** of those, records whose results were written twice (the killed consumer wrote but did not acknowledge) */
  writtenTwice: number;
}

export interface FailoverDrillResult {
  stream: string;
  group: string;
  /** the Redis used (a started one is stopped by the time this returns) */
  redisUrl: string;
  publish: PublishSummary;
  /** entries in the stream */
  entries: number;
  /** the kill: when it happened, what the victim held */
  kill: { consumer: string; entriesFinishedBefore: number; pendingEntries: number; afterMs: number };
  consumers: DrillConsumer[];
  records: DrillRecords;
  /** alerts over all consumers: lines written, distinct records (entry/index), records alerted more than once */
  alerts: { lines: number; records: number; duplicated: number; duplicatedWithoutRedelivery: number };
  /** rejects over all consumers, likewise */
  rejects: { lines: number; records: number; duplicated: number };
  /** entries in the dead-letter stream */
  deadLetterEntries: number;
  /** the group afterwards (XPENDING count, XINFO GROUPS lag): both 0 when drained */
  pendingAfter: number;
  lagAfter: number | null;
  seconds: number;
}

/** The failover drill could not run or its group did not drain; everything it started is stopped. */
export class FailoverDrillError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FailoverDrillError';
  }
}

/**
 * The complete lines of an NDJSON file, parsed; a process killed mid-write may
 * leave an unterminated last line, which is not a record it finished.
 *
 * @param path - the file; a missing file gives []
 */
export function readCompleteNdjson<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as T);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('close', () => resolve()));
}

/** entry fields as an object (XRANGE gives a flat [k, v, k, v] list) */
const fieldsOf = (f: string[]): Record<string, string> => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]]));

/**
 * Run the drill (see the module comment).
 *
 * @param options - see FailoverDrillOptions
 * @returns the accounting; `records.missing` 0, `pendingAfter` 0 and `lagAfter` 0 mean nothing was lost
 * @throws RedisServerMissingError when no redisUrl is given and redis-server is not installed;
 *   FailoverDrillError when the victim could not be caught holding entries, a survivor fails,
 *   or the group does not drain within timeoutMs. All processes it started are stopped first.
 */
export async function runFailoverDrill(options: FailoverDrillOptions): Promise<FailoverDrillResult> {
  const t0 = performance.now();
  const stream = options.stream ?? 'flows';
  const group = options.group ?? 'scorers';
  const n = options.consumers ?? 2;
  if (!Number.isInteger(n) || n < 2) throw new FailoverDrillError(`consumers must be an integer >= 2, got ${n}`);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = t0 + timeoutMs;
  const cli = options.streamCli ?? STREAM_CLI;
  if (!existsSync(cli)) throw new FailoverDrillError(`the stream command ${cli} is missing: run npm run build`);
  if (!existsSync(options.input)) throw new FailoverDrillError(`cannot read input ${options.input}: no such file`);
  mkdirSync(options.workDir, { recursive: true });

  let server: RedisServerHandle | undefined;
  let client: Redis | undefined;
  const children: ChildProcess[] = [];
  try {
    if (options.redisUrl === undefined) server = await startRedisServer();
    const url = options.redisUrl ?? server!.url;
    client = await connectRedis(url, 'failover-drill');
    const publish = await publishLines(client, createReadStream(options.input, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>, {
      stream,
      format: /\.(nd)?jsonl?$/i.test(options.input) ? 'ndjson' : 'csv',
      recordsPerEntry: options.recordsPerEntry ?? 100,
    });

    const names = Array.from({ length: n }, (_, i) => String.fromCharCode(97 + (i % 26)) + (i >= 26 ? String(i) : ''));
    const files = names.map((c) => {
      const f = (kind: string, ext: string) => join(options.workDir, `${stream}-${c}-${kind}.${ext}`);
      return { alerts: f('alerts', 'ndjson'), rejects: f('rejects', 'ndjson'), ledger: f('ledger', 'ndjson'), summary: f('summary', 'json') };
    });
    // the outputs are appended to (that is what makes them durable): start from empty files, not a previous drill's
    for (const f of files) for (const path of Object.values(f)) rmSync(path, { force: true });
    const stderr = names.map(() => '');
    names.forEach((c, i) => {
      const args = [
        cli, '--model', options.modelPath, '--redis', url, '--stream', stream, '--group', group, '--consumer', c,
        '--alerts', files[i].alerts, '--rejects', files[i].rejects, '--ledger', files[i].ledger, '--summary-json', files[i].summary,
        '--progress-ms', '0', '--threads', '1',
        '--claim-idle-ms', String(options.claimIdleMs ?? 1000),
        '--entries-per-read', String(options.entriesPerRead ?? 4),
        '--exit-when-idle', String(options.exitWhenIdleMs ?? 1500),
      ];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr!.on('data', (d) => (stderr[i] += d));
      children.push(child);
    });

    // freeze the victim once it has finished some entries, look at what it holds, kill it if it holds any
    const victim = children[0];
    const killAfter = options.killAfterEntries ?? 5;
    let kill: FailoverDrillResult['kill'] | undefined;
    while (performance.now() < deadline && victim.exitCode === null) {
      const done = readCompleteNdjson<LedgerLine>(files[0].ledger).length;
      if (done >= killAfter) {
        victim.kill('SIGSTOP');
        const held = (await client.call('XPENDING', stream, group, '-', '+', 10_000, names[0])) as unknown[];
        if (held.length > 0) {
          victim.kill('SIGKILL');
          kill = { consumer: names[0], entriesFinishedBefore: readCompleteNdjson<LedgerLine>(files[0].ledger).length, pendingEntries: held.length, afterMs: performance.now() - t0 };
          break;
        }
        victim.kill('SIGCONT');
      }
      await sleep(5);
    }
    if (!kill) {
      throw new FailoverDrillError(
        victim.exitCode !== null
          ? `consumer ${names[0]} exited (code ${victim.exitCode}) before it could be killed holding entries: publish more records or lower killAfterEntries${stderr[0] ? `; it said: ${stderr[0].trim().split('\n').pop()}` : ''}`
          : `consumer ${names[0]} was not caught holding unacknowledged entries within ${timeoutMs} ms`,
      );
    }

    // the survivors drain the group (they exit on idle with nothing pending); bounded by the deadline
    const remaining = Math.max(0, deadline - performance.now());
    let timedOut = false;
    const guard = setTimeout(() => {
      timedOut = true;
      for (const c of children) c.kill('SIGKILL');
    }, remaining);
    await Promise.all(children.map(exited));
    clearTimeout(guard);
    if (timedOut) throw new FailoverDrillError(`the group ${group} on ${stream} did not drain within ${timeoutMs} ms (consumers killed)`);
    for (let i = 1; i < n; i++) {
      if (children[i].exitCode !== 0) {
        throw new FailoverDrillError(`consumer ${names[i]} failed (exit ${children[i].exitCode ?? children[i].signalCode}): ${stderr[i].trim().split('\n').pop() ?? ''}`);
      }
    }

    const pendingAfter = Number(((await client.call('XPENDING', stream, group)) as [number])[0]);
    // XINFO GROUPS: [name, g, ..., lag, n|nil, ...] per group; lag is nil when Redis cannot tell (entries deleted)
    const groups = (await client.call('XINFO', 'GROUPS', stream)) as unknown[][];
    const info = groups.find((g) => g[g.indexOf('name') + 1] === group);
    const lagRaw = info === undefined || info.indexOf('lag') < 0 ? null : info[info.indexOf('lag') + 1];
    const lagAfter = lagRaw === null || lagRaw === undefined ? null : Number(lagRaw);

    // the accounting, entry by entry, from durable outputs and Redis
    const entries = await client.xrange(stream, '-', '+');
    const deadKey = `${stream}:dead`;
    const dead = new Set((await client.xrange(deadKey, '-', '+')).map(([, f]) => fieldsOf(f).id));
    const ledgers = files.map((f) => readCompleteNdjson<LedgerLine>(f.ledger));
    const finished = new Map<string, LedgerLine[]>();
    for (const l of ledgers.flat()) finished.set(l.entry, [...(finished.get(l.entry) ?? []), l]);
    const records: DrillRecords = { published: 0, scored: 0, rejected: 0, deadLettered: 0, missing: 0, firstDelivery: 0, redelivered: 0, writtenTwice: 0 };
    for (const [id, f] of entries) {
      const data = fieldsOf(f).data;
      const count = data === undefined ? 0 : data.split('\n').length;
      records.published += count;
      const copies = finished.get(id);
      if (copies) {
        const first = copies[0];
        if (copies.some((c) => c.scored !== first.scored || c.rejected !== first.rejected || c.records !== count)) {
          throw new FailoverDrillError(`entry ${id} was finished ${copies.length} times with different results: ${JSON.stringify(copies)}`);
        }
        records.scored += first.scored;
        records.rejected += first.rejected;
        if (copies.some((c) => c.deliveries > 1)) records.redelivered += count;
        else records.firstDelivery += count;
        if (copies.length > 1) records.writtenTwice += count;
      } else if (dead.has(id)) records.deadLettered += count;
      else records.missing += count;
    }

    const alerts = files.flatMap((f) => readCompleteNdjson<AlertLine>(f.alerts));
    const byAlert = new Map<string, AlertLine[]>();
    for (const a of alerts) byAlert.set(`${a.entry}/${a.index}`, [...(byAlert.get(`${a.entry}/${a.index}`) ?? []), a]);
    const dupAlerts = [...byAlert.values()].filter((c) => c.length > 1);
    const rejects = files.flatMap((f) => readCompleteNdjson<RejectLine>(f.rejects));
    const rejectKeys = new Set(rejects.map((r) => `${r.entry}/${r.index}`));

    const consumers: DrillConsumer[] = names.map((name, i) => {
      // the file is opened at start and written at the end: a killed consumer leaves it empty
      const text = existsSync(files[i].summary) ? readFileSync(files[i].summary, 'utf8') : '';
      const summary = text.trim() === '' ? undefined : (JSON.parse(text) as StreamSummary);
      return {
        name,
        killed: i === 0,
        exitCode: children[i].exitCode,
        signal: children[i].signalCode,
        stderr: stderr[i],
        entriesFinished: ledgers[i].length,
        entriesRedelivered: ledgers[i].filter((l) => l.deliveries > 1).length,
        records: ledgers[i].reduce((s, l) => s + l.records, 0),
        recordsRedelivered: ledgers[i].reduce((s, l) => s + (l.deliveries > 1 ? l.records : 0), 0),
        summary,
        files: files[i],
      };
    });

    return {
      stream,
      group,
      redisUrl: url,
      publish,
      entries: entries.length,
      kill,
      consumers,
      records,
      alerts: {
        lines: alerts.length,
        records: byAlert.size,
        duplicated: dupAlerts.length,
        // a repeat is recognisable only when one of its copies says the entry was delivered before
        duplicatedWithoutRedelivery: dupAlerts.filter((c) => !c.some((a) => (a.deliveries ?? 1) > 1)).length,
      },
      rejects: { lines: rejects.length, records: rejectKeys.size, duplicated: rejects.length - rejectKeys.size },
      deadLetterEntries: await client.xlen(deadKey),
      pendingAfter,
      lagAfter,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    // no orphans, also on failure: SIGKILL anything still running (a stopped victim included), then wait
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    await Promise.all(children.map(exited));
    client?.disconnect();
    await server?.stop();
  }
}
