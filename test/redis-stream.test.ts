import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useThrowawayRedis } from './throwaway-redis';
import { loadBundle, saveBundle } from '../src/persist/bundle';
import { DEFAULT_PARAMS } from '../src/params/params';
import { bundleFromPipeline, runPipeline } from '../src/workflow/pipeline';
import { simulateBatch } from '../src/data/simulate';
import { processBatch } from '../src/stream/batch';
import { fromRows } from '../src/core/matrix';
import { startRedisServer } from '../src/stream/redis-server';
import type { AlertLine } from '../src/scoring/alert-lines';
import type { StreamSummary } from '../src/stream/loop';
import { readCompleteNdjson, runFailoverDrill, type LedgerLine, type RejectLine } from '../src/stream/failover-drill';

/**
 * The Redis consumer group end to end, against a real redis-server started by
 * the test (127.0.0.1, free port, no persistence) and the real commands
 * (dist/cli/publish.js, dist/cli/stream.js --redis) as subprocesses.
 */

const DIST = join(__dirname, '..', 'dist', 'cli');
const dir = mkdtempSync(join(tmpdir(), 'redis-stream-'));
const params = { ...DEFAULT_PARAMS, nNormal: 4000, nAnomalous: 200, nEstimators: 60 };
const modelPath = join(dir, 'model.json');
saveBundle(modelPath, bundleFromPipeline(runPipeline(params)));
const model = loadBundle(modelPath);

const redis = useThrowawayRedis();

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function startCli(script: string, args: string[], input?: string): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [join(DIST, script), ...args], { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.resume();
  if (input !== undefined) child.stdin!.end(input);
  const done = (async () => {
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    return { code, signal, stderr };
  })();
  return { child, done };
}

/** wait for a run, killing it after `ms` so a hang fails the test instead of stalling it */
async function finish(run: { child: ChildProcess; done: Promise<Run> }, ms: number): Promise<Run> {
  const t = setTimeout(() => run.child.kill('SIGKILL'), ms);
  const r = await run.done;
  clearTimeout(t);
  return r;
}

const ndjson = readCompleteNdjson;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pendingCount(stream: string, group: string): Promise<number> {
  const r = (await redis.client.call('XPENDING', stream, group)) as [number];
  return Number(r[0]);
}

const BAD: Array<[string, RegExp]> = [
  ['1,2,3,4', /expected 5 fields/],
  ['1,2,abc,4,5', /field f3 is not a number: "abc"/],
  ['1,2,3,Infinity,5', /field f4 is not finite/],
  [',2,3,4,5', /field f1 is empty/],
  ['', /empty line/],
  ['1,2,3,4,5,6', /expected 5 fields/],
];

/** A CSV capture: header + `records` lines, every 97th one bad; line numbers are 1-based file lines. */
function capture(records: number, seed: number): { text: string; good: Map<number, number[]>; bad: Map<number, RegExp> } {
  const good = new Map<number, number[]>();
  const bad = new Map<number, RegExp>();
  const lines = ['f1,f2,f3,f4,f5'];
  let k = 0;
  while (lines.length - 1 < records) {
    const b = simulateBatch(params, seed + k++, { size: 10_000, anomalyShare: 0.05 });
    for (let i = 0; i < b.X.rows && lines.length - 1 < records; i++) {
      const n = lines.length + 1;
      if (n % 97 === 0) {
        const [text, reason] = BAD[(n / 97) % BAD.length];
        lines.push(text);
        bad.set(n, reason);
      } else {
        const text = Array.from(b.X.data.subarray(i * 5, i * 5 + 5), (v) => v.toFixed(6));
        lines.push(text.join(','));
        good.set(n, text.map(Number));
      }
    }
  }
  return { text: `${lines.join('\n')}\n`, good, bad };
}

function expectedAlerts(good: Map<number, number[]>): Map<number, { score: number; decision: number }> {
  const lines = [...good.keys()];
  const r = processBatch(model, fromRows(lines.map((l) => good.get(l)!)), { project: false });
  return new Map(r.anomalies.map((a) => [lines[a.index], { score: a.score, decision: a.decision }]));
}

type Ledger = LedgerLine;
type Reject = RejectLine;

async function publish(stream: string, text: string, extra: string[] = []): Promise<Run> {
  const path = join(dir, `${stream}.csv`);
  writeFileSync(path, text);
  return finish(startCli('publish.js', ['--redis', redis.url, '--stream', stream, '--input', path, '--quiet', ...extra]), 60_000);
}

function consumerArgs(stream: string, group: string, name: string, extra: string[]): string[] {
  return [
    '--model', modelPath, '--redis', redis.url, '--stream', stream, '--group', group, '--consumer', name,
    '--alerts', join(dir, `${stream}-${name}-alerts.ndjson`), '--rejects', join(dir, `${stream}-${name}-rejects.ndjson`),
    '--ledger', join(dir, `${stream}-${name}-ledger.ndjson`), '--summary-json', join(dir, `${stream}-${name}-summary.json`),
    '--progress-ms', '0', '--threads', '1', ...extra,
  ];
}

describe('startRedisServer', () => {
  it('says how to install Redis when the executable is missing, and stops its server by pid', async () => {
    await expect(startRedisServer({ command: 'redis-server-not-installed' })).rejects.toThrow(
      'redis-server-not-installed not found (or older than Redis 7): run `npm run setup` (it installs an embedded server into .venv), or install Redis 7+ (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)',
    );
    const other = await startRedisServer();
    expect(other.port).not.toBe(redis.server.port);
    expect(() => process.kill(other.pid, 0)).not.toThrow();
    await other.stop();
    expect(() => process.kill(other.pid, 0)).toThrow(); // gone
  });
});

describe('npm run publish', () => {
  it('packs consecutive lines per entry with the first line number; a too-long line ends an entry and is reported', async () => {
    const text = 'f1,f2,f3,f4,f5\n1,2,3,4,5\n2,3,4,5,6\n3,4,5,6,7\n' + '9'.repeat(300) + '\n4,5,6,7,8\nbad\n';
    const r = await publish('pub', text, ['--records-per-entry', '2', '--max-line-bytes', '200', '--summary-json', join(dir, 'pub-summary.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('{"line":5,"reason":"line longer than 200 bytes, not published"}');
    const entries = (await redis.client.xrange('pub', '-', '+')).map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]])));
    expect(entries).toEqual([
      { line: '2', data: '1,2,3,4,5\n2,3,4,5,6', header: 'f1,f2,f3,f4,f5' },
      { line: '4', data: '3,4,5,6,7', header: 'f1,f2,f3,f4,f5' },
      { line: '6', data: '4,5,6,7,8\nbad', header: 'f1,f2,f3,f4,f5' },
    ]);
    const s = JSON.parse(readFileSync(join(dir, 'pub-summary.json'), 'utf8'));
    expect(s).toMatchObject({ linesRead: 7, headerLines: 1, recordsPublished: 5, linesTooLong: 1, entries: 3 });
  });

  it('fails with one line and exit code 5 when Redis does not answer, 2 on bad usage, 4 on a missing input', async () => {
    const down = await finish(startCli('publish.js', ['--redis', 'redis://127.0.0.1:1', '--stream', 's'], ''), 30_000);
    expect(down.code).toBe(5);
    expect(down.stderr.trim()).toMatch(/^publish: cannot connect to redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
    const usage = await finish(startCli('publish.js', ['--redis', redis.url, '--stream', 's', '--records-per-entry', '0']), 30_000);
    expect(usage.code).toBe(2);
    expect(usage.stderr.split('\n')[0]).toBe('publish: --records-per-entry must be a positive integer, got "0"');
    const missing = await finish(startCli('publish.js', ['--redis', redis.url, '--stream', 's', '--input', join(dir, 'nope.csv')]), 30_000);
    expect(missing.code).toBe(4);
    expect(missing.stderr.trim()).toBe(`publish: cannot read input ${join(dir, 'nope.csv')}: no such file`);
  });
});

describe('npm run stream -- --redis: a consumer group', () => {
  it('200,000 records, two consumers, one killed with SIGKILL mid-stream: every record scored, rejected or dead-lettered, nothing pending', async () => {
    const { text, good, bad } = capture(200_000, 500);
    expect(good.size + bad.size).toBe(200_000);
    const input = join(dir, 'flows.csv');
    writeFileSync(input, text);
    // the drill publishes, runs a and b (the real command), kills a while it holds entries, and waits for b to drain the group
    const drill = await runFailoverDrill({ modelPath, input, workDir: join(dir, 'drill'), redisUrl: redis.url, stream: 'flows', group: 'scorers', killAfterEntries: 20, timeoutMs: 110_000 });
    expect(drill.entries).toBe(2000);
    expect(await redis.client.xlen('flows')).toBe(2000);
    const [a, b] = drill.consumers;
    expect(a.signal).toBe('SIGKILL');
    expect(drill.kill.pendingEntries).toBeGreaterThan(0);
    expect(b.exitCode, b.stderr).toBe(0);
    const sb = b.summary!;
    expect(sb.stoppedBy).toBe('idle');
    expect(sb.entries!.claimedEntries).toBeGreaterThanOrEqual(drill.kill.pendingEntries); // b took over what a held
    expect(sb.linesRead).toBe(sb.recordsScored + sb.recordsRejected + sb.recordsDeadLettered);
    expect(await pendingCount('flows', 'scorers')).toBe(0);
    expect(drill.lagAfter).toBe(0);
    expect(await redis.client.xlen('flows:dead')).toBe(0);

    // every entry was finished (written, then acked) by a or b; its records add up (the drill throws on conflicting copies)
    expect(drill.records).toMatchObject({ published: 200_000, scored: good.size, rejected: bad.size, deadLettered: 0, missing: 0 });
    const ids = (await redis.client.xrange('flows', '-', '+')).map(([id]) => id);
    const ledger = [...ndjson<Ledger>(a.files.ledger), ...ndjson<Ledger>(b.files.ledger)];
    expect([...new Set(ledger.map((l) => l.entry))].sort()).toEqual([...ids].sort());
    for (const l of ledger) expect(l.scored + l.rejected).toBe(l.records);

    // alerts: exactly the records the library flags, each named by entry + index; repeats only on redelivery
    const flagged = expectedAlerts(good);
    const alerts = [...ndjson<AlertLine>(a.files.alerts), ...ndjson<AlertLine>(b.files.alerts)];
    const byRecord = new Map<string, AlertLine[]>();
    for (const al of alerts) byRecord.set(`${al.entry}/${al.index}`, [...(byRecord.get(`${al.entry}/${al.index}`) ?? []), al]);
    expect(new Set(alerts.map((al) => al.line))).toEqual(new Set(flagged.keys()));
    expect(byRecord.size).toBe(flagged.size);
    expect(drill.alerts.records).toBe(flagged.size);
    for (const al of alerts) {
      const f = flagged.get(al.line)!;
      expect(al.score).toBe(f.score);
      expect(al.decision).toBe(f.decision);
      expect(Object.values(al.record)).toEqual(good.get(al.line));
    }
    for (const [key, copies] of byRecord) {
      if (copies.length > 1) expect(Math.max(...copies.map((c) => c.deliveries ?? 1)), `${key} alerted twice without a redelivery`).toBeGreaterThan(1);
    }
    expect(drill.alerts.duplicatedWithoutRedelivery).toBe(0);
    // rejects: every bad line once (or again on redelivery), with its reason
    const rejects = [...ndjson<Reject>(a.files.rejects), ...ndjson<Reject>(b.files.rejects)];
    expect(new Set(rejects.map((r) => r.line))).toEqual(new Set(bad.keys()));
    for (const r of rejects) expect(r.reason, `line ${r.line}`).toMatch(bad.get(r.line)!);
  }, 120_000);

  it('a restarted consumer first re-reads its own unacknowledged entries', async () => {
    const { text, good, bad } = capture(3000, 900);
    expect((await publish('restart', text, ['--records-per-entry', '100'])).code).toBe(0);
    await redis.client.call('XGROUP', 'CREATE', 'restart', 'g', '0');
    // "c" reads 10 entries and dies before acknowledging them
    const read = (await redis.client.call('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', 10, 'STREAMS', 'restart', '>')) as [[string, Array<[string, string[]]>]];
    const held = read[0][1].map(([id]) => id);
    expect(held.length).toBe(10);
    // claims are off (an hour), so only c itself can finish them; 3 per read: the re-read walks its pending list in pages
    const r = await finish(startCli('stream.js', consumerArgs('restart', 'g', 'c', ['--claim-idle-ms', '3600000', '--exit-when-idle', '500', '--entries-per-read', '3'])), 60_000);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(dir, 'restart-c-summary.json'), 'utf8')) as StreamSummary;
    expect(s.entries!.ownPendingEntries).toBe(10);
    expect(s.entries!.newEntries).toBe(20);
    expect(s.entries!.redelivered).toBe(10);
    expect(s.recordsScored).toBe(good.size);
    expect(s.recordsRejected).toBe(bad.size);
    const ledger = ndjson<Ledger>(join(dir, 'restart-c-ledger.ndjson'));
    expect(ledger.slice(0, 10).map((l) => l.entry)).toEqual(held); // re-read first, in order
    expect(ledger.slice(0, 10).every((l) => l.deliveries === 2)).toBe(true);
    expect(await pendingCount('restart', 'g')).toBe(0);
  });

  it('moves entries delivered more than --max-deliveries times, and foreign entries, to the dead-letter stream with the reason', async () => {
    const { text, good, bad } = capture(1000, 1300);
    expect((await publish('poison', text, ['--records-per-entry', '100'])).code).toBe(0);
    const foreign = await redis.client.xadd('poison', '*', 'something', 'else');
    await redis.client.call('XGROUP', 'CREATE', 'poison', 'g', '0');
    const read = (await redis.client.call('XREADGROUP', 'GROUP', 'g', 'ghost', 'COUNT', 3, 'STREAMS', 'poison', '>')) as [[string, Array<[string, string[]]>]];
    const poisoned = read[0][1].map(([id]) => id);
    // as if three consumers in a row had crashed on them: delivered 5 times so far
    await redis.client.call('XCLAIM', 'poison', 'g', 'ghost', 0, ...poisoned, 'RETRYCOUNT', 5);
    const r = await finish(startCli('stream.js', consumerArgs('poison', 'g', 'live', ['--claim-idle-ms', '0', '--max-deliveries', '3', '--exit-when-idle', '500', '--dead-letter-stream', 'poison:dlq'])), 60_000);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(dir, 'poison-live-summary.json'), 'utf8')) as StreamSummary;
    expect(s.recordsDeadLettered).toBe(300);
    expect(s.entries!.deadLetteredEntries).toBe(4);
    expect(s.linesRead).toBe(1000);
    expect(s.recordsScored + s.recordsRejected).toBe(700);
    expect(s.recordsScored + s.recordsRejected + s.recordsDeadLettered).toBe(good.size + bad.size);
    expect(await pendingCount('poison', 'g')).toBe(0);
    const dlq = (await redis.client.xrange('poison:dlq', '-', '+')).map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]])));
    expect(dlq.map((e) => e.id).sort()).toEqual([...poisoned, foreign].sort());
    for (const e of dlq.filter((x) => x.id !== foreign)) {
      expect(e.reason).toBe('delivered 6 times, more than --max-deliveries 3: the consumers that took it stopped before acknowledging it');
      expect(e.data.split('\n')).toHaveLength(100);
      expect(Number(e.line)).toBeGreaterThan(1);
      expect(e.header).toBe('f1,f2,f3,f4,f5');
    }
    expect(dlq.find((x) => x.id === foreign)!.reason).toMatch(/^not a publisher entry/);
    expect(r.stderr).toMatch(/lines read 1,000 = header 0 \+ scored [\d,]+ \+ rejected \d+ \+ dead-lettered 300 \+ not processed 0/);
  });

  it('SIGTERM: finishes, writes and acknowledges what it has read, then stops with exit 0', async () => {
    const { text } = capture(100_000, 2100);
    expect((await publish('term', text, ['--records-per-entry', '100'])).code).toBe(0);
    const run = startCli('stream.js', consumerArgs('term', 'g', 'c', ['--entries-per-read', '2', '--batch-size', '200']));
    const ledgerPath = join(dir, 'term-c-ledger.ndjson');
    const deadline = performance.now() + 60_000;
    while (ndjson<Ledger>(ledgerPath).length < 10 && performance.now() < deadline && run.child.exitCode === null) await sleep(5);
    run.child.kill('SIGTERM');
    const r = await finish(run, 30_000);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(dir, 'term-c-summary.json'), 'utf8')) as StreamSummary;
    expect(s.stoppedBy).toBe('signal');
    expect(s.entries!.newEntries).toBeLessThan(1000); // stopped mid-stream
    expect(s.entries!.ackedEntries).toBe(s.entries!.newEntries); // everything read was finished
    expect(ndjson<Ledger>(ledgerPath)).toHaveLength(s.entries!.newEntries);
    expect(await pendingCount('term', 'g')).toBe(0);
    expect(s.linesRead).toBe(s.recordsScored + s.recordsRejected);
    expect(s.linesNotProcessed).toBe(0); // a signal finishes the entries in hand
  });

  it('fails with one line and the exit codes of every mode: 4 when Redis does not answer (the input), 2 on bad usage, 3 on a bad model', async () => {
    const down = await finish(startCli('stream.js', ['--model', modelPath, '--redis', 'redis://127.0.0.1:1', '--stream', 's', '--group', 'g', '--consumer', 'c']), 30_000);
    expect(down.code).toBe(4);
    expect(down.stderr.trim()).toMatch(/^stream: cannot connect to redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED 127\.0\.0\.1:1$/);
    const usage = await finish(startCli('stream.js', ['--model', modelPath, '--redis', redis.url, '--stream', 's', '--group', 'g']), 30_000);
    expect(usage.code).toBe(2);
    expect(usage.stderr.split('\n')[0]).toBe('stream: --consumer is required with --redis (see npm run stream -- --help)');
    const both = await finish(startCli('stream.js', ['--model', modelPath, '--redis', redis.url, '--stream', 's', '--group', 'g', '--consumer', 'c', '--alerts', 'x', '--alerts-stream', 'y']), 30_000);
    expect(both.code).toBe(2);
    expect(both.stderr.split('\n')[0]).toBe('stream: give --alerts FILE or --alerts-stream NAME, not both (see npm run stream -- --help)');
    const noModel = await finish(startCli('stream.js', ['--model', join(dir, 'none.json'), '--redis', redis.url, '--stream', 's', '--group', 'g', '--consumer', 'c']), 30_000);
    expect(noModel.code).toBe(3);
    expect(noModel.stderr.trim().split('\n')).toHaveLength(1);
  });

  it("the stream command's one --help covers the group mode, with or without --redis URL", () => {
    // execFileSync throws on a non-zero exit: both print their usage and exit 0
    const plainText = execFileSync(process.execPath, [join(DIST, 'stream.js'), '--help'], { encoding: 'utf8' });
    expect(plainText).toContain('npm run stream -- --model FILE --redis URL --stream NAME --group G --consumer C [options]');
    const groupText = execFileSync(process.execPath, [join(DIST, 'stream.js'), '--redis', redis.url, '--help'], { encoding: 'utf8' });
    expect(groupText).toBe(plainText);
    for (const o of ['--claim-idle-ms', '--max-deliveries', '--dead-letter-stream', '--ledger', '--exit-when-idle', '--key-file', '--explain', '--max-rejects', '--drift-window']) expect(plainText, o).toContain(o);
  });

  it('alerts and rejects can go to Redis streams', async () => {
    const { text, good, bad } = capture(2000, 1700);
    expect((await publish('tostreams', text)).code).toBe(0);
    const args = consumerArgs('tostreams', 'g', 'c', ['--exit-when-idle', '500']).filter((_, i, all) => !['--alerts', '--rejects'].includes(all[i]) && !['--alerts', '--rejects'].includes(all[i - 1]));
    const r = await finish(startCli('stream.js', [...args, '--alerts-stream', 'tostreams:alerts', '--rejects-stream', 'tostreams:rejects']), 60_000);
    expect(r.code, r.stderr).toBe(0);
    const flagged = expectedAlerts(good);
    const alerts = (await redis.client.xrange('tostreams:alerts', '-', '+')).map(([, f]) => JSON.parse(f[1]) as AlertLine);
    expect(new Set(alerts.map((a) => a.line))).toEqual(new Set(flagged.keys()));
    expect(alerts).toHaveLength(flagged.size);
    expect(await redis.client.xlen('tostreams:rejects')).toBe(bad.size);
    expect(await pendingCount('tostreams', 'g')).toBe(0);
  });
});
