import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { describe, expect, it } from 'vitest';
import { useThrowawayRedis } from './throwaway-redis';
import { filterFlowRecords } from '../src/data/flows';
import { loadNslKdd } from '../src/data/nslkdd-files';
import { readTextFile } from '../src/data/textfile';
import { saveBundle } from '../src/persist/bundle';
import type { AlertLine } from '../src/scoring/alert-lines';
import { readCompleteNdjson, runFailoverDrill, type LedgerLine } from '../src/stream/failover-drill';
import type { StreamSummary } from '../src/stream/loop';
import { startRedisServer } from '../src/stream/redis-server';
import { prepareRealTraffic, realTrafficBundle } from '../src/workflow/real-traffic';

/**
 * The stream command's modes compose: raw NSL-KDD lines through a Redis
 * consumer group give the pipe command's alerts (records, scores,
 * explanations), the model key is enforced in every mode with the same exit
 * code, and nothing is lost when a consumer or Redis itself is killed.
 * Real processes throughout: dist/cli/stream.js, publish.js, a real server.
 */

const DIST = join(__dirname, '..', 'dist', 'cli');
const dir = mkdtempSync(join(tmpdir(), 'stream-modes-'));
const KEY = 'k'.repeat(32);
const OTHER_KEY = 'o'.repeat(32);

// an NSL-KDD bundle with an encoder (one-hot + log1p), trained on normal records
const nsl = loadNslKdd();
const train = filterFlowRecords(nsl.train, (i) => i < 6000);
const bundle = realTrafficBundle(prepareRealTraffic(train, nsl.test, { trainOn: 'normal', log1p: true }), train, 7, { nEstimators: 50, maxSamples: 256, contamination: 0.05 });
const modelPath = join(dir, 'nsl.json');
saveBundle(modelPath, bundle);
const signedPath = join(dir, 'nsl-signed.json');
saveBundle(signedPath, bundle, { key: KEY });
const keyFile = join(dir, 'model.key');
writeFileSync(keyFile, `${KEY}\n`);

/** raw KDDTest+ lines (43 fields: the 41 features, the label, the difficulty), no header */
const testLines = readTextFile(nsl.testPath).trimEnd().split('\n');
const linesFile = (name: string, n: number): string => {
  const path = join(dir, name);
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) out.push(testLines[i % testLines.length]);
  writeFileSync(path, `${out.join('\n')}\n`);
  return path;
};

const redis = useThrowawayRedis();

interface Run {
  code: number | null;
  stderr: string;
}

function start(script: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Run> } {
  const base = { ...process.env };
  delete base.ANOMALY_MODEL_KEY; // set but empty would be refused as a key
  const child = spawn(process.execPath, [join(DIST, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...base, ...env } });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.resume();
  const done = (async () => {
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, stderr };
  })();
  return { child, done };
}

async function finish(run: { child: ChildProcess; done: Promise<Run> }, ms = 120_000): Promise<Run> {
  const t = setTimeout(() => run.child.kill('SIGKILL'), ms);
  const r = await run.done;
  clearTimeout(t);
  return r;
}

const publish = (stream: string, input: string) => finish(start('publish.js', ['--redis', redis.url, '--stream', stream, '--input', input, '--records-per-entry', '100', '--quiet']));

const groupArgs = (stream: string, name: string, extra: string[] = []) => [
  '--redis', redis.url, '--stream', stream, '--group', 'g', '--consumer', name,
  '--alerts', join(dir, `${stream}-${name}-alerts.ndjson`), '--rejects', join(dir, `${stream}-${name}-rejects.ndjson`),
  '--ledger', join(dir, `${stream}-${name}-ledger.ndjson`), '--summary-json', join(dir, `${stream}-${name}-summary.json`),
  '--progress-ms', '0', '--exit-when-idle', '800', ...extra,
];

/** the pipe command's alerts on a file, by line */
async function pipeAlerts(input: string, extra: string[] = []): Promise<Map<number, AlertLine>> {
  const alerts = join(dir, `pipe-${Math.random().toString(36).slice(2)}.ndjson`);
  const r = await finish(start('stream.js', ['--model', modelPath, '--input', input, '--alerts', alerts, '--quiet', ...extra]));
  expect(r.code, r.stderr).toBe(0);
  return new Map(readCompleteNdjson<AlertLine>(alerts).map((a) => [a.line, a]));
}

/** an alert without what only says where and when it was scored */
const content = (a: AlertLine) => ({ line: a.line, score: a.score, decision: a.decision, record: a.record, explain: a.explain });

describe('raw NSL-KDD lines through a consumer group: the pipe command\'s alerts', () => {
  it('the same records, scores, decisions and --explain 3 drivers; nothing rejected', async () => {
    const input = linesFile('nsl-5000.txt', 5000);
    const expected = await pipeAlerts(input, ['--explain', '3']);
    expect(expected.size).toBeGreaterThan(500); // KDDTest+ is mostly attacks
    expect((await publish('nsl', input)).code).toBe(0);
    const r = await finish(start('stream.js', ['--model', modelPath, ...groupArgs('nsl', 'c1', ['--explain', '3'])]));
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(dir, 'nsl-c1-summary.json'), 'utf8')) as StreamSummary;
    expect(s).toMatchObject({ linesRead: 5000, recordsScored: 5000, recordsRejected: 0, recordsDeadLettered: 0, explain: 3, stoppedBy: 'idle' });
    const alerts = readCompleteNdjson<AlertLine>(join(dir, 'nsl-c1-alerts.ndjson'));
    expect(alerts).toHaveLength(expected.size);
    for (const a of alerts) {
      expect(a.explain).toHaveLength(3);
      expect(a.entry).toMatch(/^\d+-\d+$/);
      expect(a.consumer).toBe('c1');
      expect(content(a)).toEqual(content(expected.get(a.line)!));
    }
  }, 120_000);
});

describe('the model key in every mode', () => {
  const pipe = (model: string, extra: string[], env?: Record<string, string>) => finish(start('stream.js', ['--model', model, '--input', linesFile('nsl-10.txt', 10), '--quiet', '--alerts', join(dir, 'k.ndjson'), ...extra], env));
  const group = (model: string, extra: string[], env?: Record<string, string>) => finish(start('stream.js', ['--model', model, ...groupArgs('keys', 'k', extra)], env));

  it('a bundle signed with another key, or unsigned while a key is required: exit 3 in both modes, before any record is read', async () => {
    expect((await publish('keys', linesFile('nsl-100.txt', 100))).code).toBe(0);
    for (const mode of [pipe, group]) {
      const wrongEnv = await mode(signedPath, [], { ANOMALY_MODEL_KEY: OTHER_KEY });
      expect(wrongEnv.code, wrongEnv.stderr).toBe(3);
      expect(wrongEnv.stderr).toMatch(/^stream: cannot use the model: .*signed with another key/m);
      const unsigned = await mode(modelPath, ['--key-file', keyFile]);
      expect(unsigned.code, unsigned.stderr).toBe(3);
      expect(unsigned.stderr).toMatch(/^stream: cannot use the model: .*(unsigned|not signed)/m);
      expect(unsigned.stderr.trim().split('\n')).toHaveLength(1);
    }
    // nothing was consumed by the refused consumers
    const groups = (await redis.client.call('XINFO', 'GROUPS', 'keys')) as unknown[];
    expect(groups).toHaveLength(0);
    // the right key scores, in both modes, from the file or the environment
    expect((await pipe(signedPath, ['--key-file', keyFile])).code).toBe(0);
    const ok = await group(signedPath, [], { ANOMALY_MODEL_KEY: KEY });
    expect(ok.code, ok.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(dir, 'keys-k-summary.json'), 'utf8')) as StreamSummary;
    expect(s.recordsScored).toBe(100);
  }, 120_000);
});

describe('nothing lost with the encoder bundle', () => {
  it('200,000 raw NSL-KDD lines, two consumers, one SIGKILLed holding entries: every record scored once or recognisably redelivered', async () => {
    const input = linesFile('nsl-200k.txt', 200_000);
    const expected = await pipeAlerts(input);
    const drill = await runFailoverDrill({ modelPath, input, workDir: join(dir, 'drill'), redisUrl: redis.url, stream: 'nsl200k', group: 'scorers', killAfterEntries: 20, timeoutMs: 150_000 });
    expect(drill.entries).toBe(2000);
    expect(drill.kill.pendingEntries).toBeGreaterThan(0);
    expect(drill.records).toMatchObject({ published: 200_000, scored: 200_000, rejected: 0, deadLettered: 0, missing: 0 });
    expect(drill.pendingAfter).toBe(0);
    expect(drill.alerts.records).toBe(expected.size);
    expect(drill.alerts.duplicatedWithoutRedelivery).toBe(0);
    for (const c of drill.consumers) {
      for (const a of readCompleteNdjson<AlertLine>(c.files.alerts)) expect(content(a)).toEqual(content(expected.get(a.line)!));
    }
  }, 200_000);

  it('Redis itself SIGKILLed mid-run and restarted from its append-only file: a second consumer drains the group, every record scored once or recognisably redelivered', async () => {
    const aofDir = mkdtempSync(join(tmpdir(), 'stream-modes-aof-'));
    const persist = ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', aofDir];
    let server = await startRedisServer({ extraArgs: persist });
    const url = server.url;
    try {
      const input = linesFile('nsl-30k.txt', 30_000);
      const expected = await pipeAlerts(input);
      const pub = await finish(start('publish.js', ['--redis', url, '--stream', 'aof', '--input', input, '--records-per-entry', '100', '--quiet']));
      expect(pub.code, pub.stderr).toBe(0);
      const args = (name: string, extra: string[]) => [
        '--model', modelPath, '--redis', url, '--stream', 'aof', '--group', 'g', '--consumer', name,
        '--alerts', join(dir, `aof-${name}-alerts.ndjson`), '--ledger', join(dir, `aof-${name}-ledger.ndjson`), '--rejects', join(dir, `aof-${name}-rejects.ndjson`),
        '--progress-ms', '0', '--entries-per-read', '2', '--claim-idle-ms', '1000', ...extra,
      ];
      // --explain 1 slows the consumer down to tens of entries per second: Redis dies mid-run
      const first = start('stream.js', args('a', ['--explain', '1', '--exit-when-idle', '1500']));
      const ledgerA = join(dir, 'aof-a-ledger.ndjson');
      const deadline = performance.now() + 60_000;
      let finishedBefore = 0;
      while (performance.now() < deadline && (finishedBefore = readLedger(ledgerA).length) < 20) await new Promise((r) => setTimeout(r, 20));
      expect(finishedBefore).toBeGreaterThanOrEqual(20);
      expect(finishedBefore).toBeLessThan(300);
      process.kill(server.pid, 'SIGKILL');
      await server.stop();
      server = await startRedisServer({ extraArgs: persist, port: server.port });
      const a = await finish(first, 120_000); // it reconnects and goes on, or stops on the lost connection (exit 4)
      expect([0, 4], a.stderr).toContain(a.code);
      const b = await finish(start('stream.js', args('b', ['--exit-when-idle', '2000'])), 120_000);
      expect(b.code, b.stderr).toBe(0);

      const c = new Redis(url, { protocol: 2 });
      try {
        expect(Number(((await c.call('XPENDING', 'aof', 'g')) as [number])[0])).toBe(0);
        const ids = (await c.xrange('aof', '-', '+')).map(([id]) => id);
        expect(ids).toHaveLength(300);
        const ledger = [...readLedger(ledgerA), ...readLedger(join(dir, 'aof-b-ledger.ndjson'))];
        expect(new Set(ledger.map((l) => l.entry))).toEqual(new Set(ids)); // every entry finished by a or b
        for (const l of ledger) expect(l.scored).toBe(l.records);
      } finally {
        c.disconnect();
      }
      const alerts = [...readCompleteNdjson<AlertLine>(join(dir, 'aof-a-alerts.ndjson')), ...readCompleteNdjson<AlertLine>(join(dir, 'aof-b-alerts.ndjson'))];
      const byRecord = new Map<string, AlertLine[]>();
      for (const al of alerts) byRecord.set(`${al.entry}/${al.index}`, [...(byRecord.get(`${al.entry}/${al.index}`) ?? []), al]);
      expect(new Set(alerts.map((al) => al.line))).toEqual(new Set(expected.keys()));
      for (const al of alerts) expect({ ...content(al), explain: undefined }).toEqual({ ...content(expected.get(al.line)!), explain: undefined });
      for (const [key, copies] of byRecord) {
        if (copies.length > 1) expect(Math.max(...copies.map((x) => x.deliveries ?? 1)), `${key} alerted twice without a redelivery`).toBeGreaterThan(1);
      }
    } finally {
      await server.stop();
    }
  }, 240_000);
});

function readLedger(path: string): LedgerLine[] {
  try {
    return readCompleteNdjson<LedgerLine>(path);
  } catch {
    return [];
  }
}
