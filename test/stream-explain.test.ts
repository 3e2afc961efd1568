import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBundle, saveBundle } from '../src/persist/bundle';
import { DEFAULT_PARAMS } from '../src/params/params';
import { bundleFromPipeline, runPipeline } from '../src/workflow/pipeline';
import { simulateBatch } from '../src/data/simulate';
import { filterFlowRecords } from '../src/data/flows';
import { loadNslKdd } from '../src/data/nslkdd-files';
import { readTextFile } from '../src/data/textfile';
import { prepareRealTraffic, realTrafficBundle } from '../src/workflow/real-traffic';
import { alertDrivers, explainRecords } from '../src/explain/alerts';

/** `npm run stream -- --explain K` through the real command (dist/cli/stream.js). */

const CLI = join(__dirname, '..', 'dist', 'cli', 'stream.js');
const dir = mkdtempSync(join(tmpdir(), 'stream-explain-'));

interface AlertLine {
  line: number;
  score: number;
  record: Record<string, number | string>;
  explain?: Array<{ feature: string; value: number | string; contribution: number }>;
}

function run(args: string[], input: string): { status: number | null; alerts: AlertLine[]; stderr: string } {
  const alertsPath = join(dir, `alerts-${Math.random().toString(36).slice(2)}.ndjson`);
  const r = spawnSync(process.execPath, [CLI, ...args, '--alerts', alertsPath, '--quiet', '--threads', '1'], { input, encoding: 'utf8' });
  const text = r.status === 0 ? readFileSync(alertsPath, 'utf8') : '';
  return { status: r.status, stderr: r.stderr, alerts: text.trim() === '' ? [] : text.trim().split('\n').map((l) => JSON.parse(l) as AlertLine) };
}

describe('stream --explain K', () => {
  it('adds the K strongest features of each alert, as explainRecords gives them (reference bundle)', () => {
    const params = { ...DEFAULT_PARAMS, nNormal: 3000, nAnomalous: 150, nEstimators: 40 };
    const modelPath = join(dir, 'model.json');
    saveBundle(modelPath, bundleFromPipeline(runPipeline(params)));
    const model = loadBundle(modelPath);
    const batch = simulateBatch(params, 0, { size: 400, anomalyShare: 0.1 });
    const csv = ['f1,f2,f3,f4,f5', ...Array.from({ length: batch.X.rows }, (_, i) => Array.from(batch.X.data.subarray(i * 5, i * 5 + 5)).join(','))].join('\n');
    const plain = run(['--model', modelPath], csv);
    const withWhy = run(['--model', modelPath, '--explain', '3', '--batch-size', '64'], csv);
    expect(plain.status).toBe(0);
    expect(withWhy.status).toBe(0);
    expect(withWhy.alerts.length).toBeGreaterThan(10);
    // the same alerts; only the explain field is added
    expect(withWhy.alerts.map(({ explain: _e, ...rest }) => [rest.line, rest.score])).toEqual(plain.alerts.map((a) => [a.line, a.score]));
    expect(plain.alerts.every((a) => a.explain === undefined)).toBe(true);
    const e = explainRecords(model, batch.X);
    for (const a of withWhy.alerts) {
      const i = a.line - 2; // header is line 1
      expect(a.explain).toHaveLength(3);
      expect(a.explain).toEqual(alertDrivers(e, i, 3));
      for (const d of a.explain!) expect(d.value).toBe(a.record[d.feature]);
    }
  }, 60_000);

  it('names raw values and categories for an NSL-KDD bundle with an encoder', () => {
    const nsl = loadNslKdd();
    const train = filterFlowRecords(nsl.train, (i) => i < 3000);
    const modelPath = join(dir, 'nsl.json');
    saveBundle(modelPath, realTrafficBundle(prepareRealTraffic(train, nsl.test, { trainOn: 'normal', log1p: true }), train, 3, { nEstimators: 30, maxSamples: 256, contamination: 0.05 }));
    const model = loadBundle(modelPath);
    const lines = readTextFile(nsl.testPath).trimEnd().split('\n').slice(0, 300);
    const r = run(['--model', modelPath, '--explain', '2'], lines.join('\n'));
    expect(r.status).toBe(0);
    expect(r.alerts.length).toBeGreaterThan(20);
    const test = filterFlowRecords(nsl.test, (i) => i < 300);
    const e = explainRecords(model, test);
    for (const a of r.alerts) {
      const drivers = alertDrivers(e, a.line - 1, 2);
      expect(a.explain!.map((d) => [d.feature, d.value])).toEqual(drivers.map((d) => [d.feature, d.value]));
      a.explain!.forEach((d, k) => expect(d.contribution).toBeCloseTo(drivers[k].contribution, 9));
      for (const d of a.explain!) expect(d.value).toBe(a.record[d.feature]);
    }
    expect(r.alerts.some((a) => a.explain!.some((d) => typeof d.value === 'string'))).toBe(true);
  }, 60_000);

  it('refuses a bad K with exit code 2 and a one-line message', () => {
    for (const bad of ['0', 'x', '-1', '1.5']) {
      const r = spawnSync(process.execPath, [CLI, '--model', 'm.json', `--explain=${bad}`], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--explain must be a positive integer/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
