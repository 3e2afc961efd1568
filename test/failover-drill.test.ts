import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS } from '../src/params/params';
import { matrixToCsv } from '../src/data/csv';
import { simulateBatch } from '../src/data/simulate';
import { saveBundle } from '../src/persist/bundle';
import { FailoverDrillError, readCompleteNdjson, runFailoverDrill, type LedgerLine } from '../src/stream/failover-drill';
import { redisServerVersion } from '../src/stream/redis-server';
import { bundleFromPipeline, runPipeline } from '../src/workflow/pipeline';

/**
 * The failover drill against a real redis-server (started and stopped by the
 * drill) and the real stream command (dist/cli/stream.js) as subprocesses.
 */

const dir = mkdtempSync(join(tmpdir(), 'failover-drill-'));
const params = { ...DEFAULT_PARAMS, nNormal: 2000, nAnomalous: 100, nEstimators: 40 };
const modelPath = join(dir, 'model.json');
saveBundle(modelPath, bundleFromPipeline(runPipeline(params)));

/** 20,000 simulated records as CSV with a header, plus 3 bad lines at known places */
function capture(path: string): void {
  const b = simulateBatch(params, 7, { size: 20_000, anomalyShare: 0.05 });
  const lines = matrixToCsv(b.X, ['f1', 'f2', 'f3', 'f4', 'f5']).trimEnd().split('\n');
  lines.splice(501, 0, '1,2,abc,4,5');
  lines.splice(9001, 0, '1,2,3');
  lines.splice(15001, 0, '1,2,3,Infinity,5');
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** processes whose command line mentions `needle` (to prove nothing was left running) */
function running(needle: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(needle) && !l.includes('ps -eo'));
}

describe.skipIf(redisServerVersion() === undefined)('runFailoverDrill', () => {
  it('20,003 records, two consumers, one SIGKILLed holding entries: every record scored or rejected, none missing, group drained, nothing left running', async () => {
    const input = join(dir, 'capture.csv');
    capture(input);
    const workDir = join(dir, 'drill');
    const r = await runFailoverDrill({ modelPath, input, workDir, killAfterEntries: 5, timeoutMs: 90_000 });

    expect(r.publish.recordsPublished).toBe(20_003);
    expect(r.entries).toBe(201);
    expect(r.records.published).toBe(20_003);
    expect(r.records).toMatchObject({ scored: 20_000, rejected: 3, deadLettered: 0, missing: 0 });
    expect(r.records.firstDelivery + r.records.redelivered).toBe(20_003);
    expect(r.records.redelivered).toBeGreaterThanOrEqual(100 * r.kill.pendingEntries - 100); // what a held went to b (its last entry may be short)
    expect(r.records.writtenTwice).toBeLessThanOrEqual(r.records.redelivered);
    expect(r.kill.pendingEntries).toBeGreaterThan(0);
    expect(r.kill.entriesFinishedBefore).toBeGreaterThanOrEqual(5);
    expect(r.pendingAfter).toBe(0);
    expect(r.lagAfter).toBe(0);
    expect(r.deadLetterEntries).toBe(0);

    const [a, b] = r.consumers;
    expect(a).toMatchObject({ name: 'a', killed: true, signal: 'SIGKILL', summary: undefined });
    expect(b).toMatchObject({ name: 'b', killed: false, exitCode: 0 });
    expect(b.summary!.stoppedBy).toBe('idle');
    expect(b.summary!.entries!.claimedEntries).toBeGreaterThanOrEqual(r.kill.pendingEntries);
    expect(b.entriesRedelivered).toBeGreaterThanOrEqual(r.kill.pendingEntries);
    expect(a.entriesFinished + b.entriesFinished).toBeGreaterThanOrEqual(201);

    // the rejects name the three bad lines (file lines 502, 9002, 15002, the header being line 1)
    expect(r.rejects.records).toBe(3);
    const rejected = [...readCompleteNdjson<{ line: number }>(a.files.rejects), ...readCompleteNdjson<{ line: number }>(b.files.rejects)];
    expect(new Set(rejected.map((x) => x.line))).toEqual(new Set([502, 9002, 15002]));
    // repeats only after a redelivery, and each alerted record named by entry + index
    expect(r.alerts.duplicatedWithoutRedelivery).toBe(0);
    expect(r.alerts.records).toBeGreaterThan(0);
    const anomalous = new Map<string, number>();
    for (const l of [...readCompleteNdjson<LedgerLine>(a.files.ledger), ...readCompleteNdjson<LedgerLine>(b.files.ledger)]) anomalous.set(l.entry, l.anomalous);
    expect(r.alerts.records).toBe([...anomalous.values()].reduce((s, x) => s + x, 0));
    expect(r.alerts.lines).toBeGreaterThanOrEqual(r.alerts.records + r.alerts.duplicated);

    // the drill stopped its redis-server and both consumers
    expect(running(r.redisUrl.split(':').pop()!).filter((l) => l.includes('redis-server'))).toEqual([]);
    expect(running(workDir)).toEqual([]);
  }, 120_000);

  it('fails with one clear message, and leaves nothing running, when the victim cannot be caught holding entries', async () => {
    const input = join(dir, 'tiny.csv');
    writeFileSync(input, 'f1,f2,f3,f4,f5\n1,2,3,4,5\n2,3,4,5,6\n');
    const workDir = join(dir, 'tiny');
    await expect(runFailoverDrill({ modelPath, input, workDir, killAfterEntries: 5, timeoutMs: 30_000 })).rejects.toThrow(FailoverDrillError);
    expect(running(workDir)).toEqual([]);
    await expect(runFailoverDrill({ modelPath, input: join(dir, 'none.csv'), workDir })).rejects.toThrow(`cannot read input ${join(dir, 'none.csv')}: no such file`);
    await expect(runFailoverDrill({ modelPath, input, workDir, consumers: 1 })).rejects.toThrow('consumers must be an integer >= 2, got 1');
  }, 60_000);
});

it('the drill needs redis-server here (CI installs it): not silently skipped', () => {
  expect(existsSync('/usr/bin/redis-server') || redisServerVersion() !== undefined).toBe(true);
});
