import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunNotFoundError, RunStore, newRunId } from '../src/experiments/run-store';
import { checkRunRecord, RunRecordError, type RunRecord } from '../src/experiments/run-record';
import { compareRuns, differingParams, runTableRows, selectRuns } from '../src/experiments/run-table';
import { RunRecorder } from '../src/experiments/recorder';
import { datasetFingerprint, trafficFileFingerprint } from '../src/experiments/provenance';
import { runsChartSpec } from '../src/notebook/runs-view';
import { simulateTraffic } from '../src/data/simulate';
import { datasetToCsv } from '../src/data/csv';
import { DEFAULT_PARAMS } from '../src/params/params';
import { distFile, PROJECT_ROOT } from '../src/core/paths';

/**
 * The run log (issue 19): records appended by concurrent processes, read back
 * whole; the run table and the comparison on a fixture of runs; the `npm run
 * runs` command; pandas reading the log.
 */

const FIXTURE = join(PROJECT_ROOT, 'test', 'fixtures', 'runs', 'runs.ndjson');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'runs-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fixtureDir(name: string): string {
  const d = join(dir, name);
  mkdirSync(join(d, 'runs'), { recursive: true });
  copyFileSync(FIXTURE, join(d, 'runs', 'runs.ndjson'));
  return d;
}

function runsCli(artifacts: string, args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, ANOMALY_ARTIFACTS_DIR: artifacts };
  delete env.DEBUG;
  return spawnSync(process.execPath, [distFile('cli/runs.js'), ...args], { env, encoding: 'utf8' });
}

function record(over: Partial<RunRecord> = {}): RunRecord {
  return {
    format: 'netflow-anomaly-run',
    version: 1,
    id: newRunId(),
    time: new Date().toISOString(),
    durationMs: 1,
    command: 'sweep',
    argv: [],
    git: null,
    library: '0.1.0',
    params: { ...DEFAULT_PARAMS },
    origin: {},
    data: null,
    metrics: { f1: 0.5 },
    model: null,
    status: 'ok',
    ...over,
  };
}

describe('RunStore', () => {
  it('appends records and reads them back in order; a missing log is empty', () => {
    const store = new RunStore(join(dir, 'a'));
    expect(store.read().runs).toEqual([]);
    const a = record();
    const b = record({ metrics: { f1: 0.75 } });
    store.append(a);
    store.append(b);
    expect(store.read().runs).toEqual([a, b]);
    expect(readFileSync(store.path, 'utf8').split('\n')).toHaveLength(3); // two lines and the final newline
  });

  it('finds a run by id or unique prefix, and names the problem otherwise', () => {
    const store = new RunStore(fixtureDir('find'));
    expect(store.find('20261201-100000-cccccc').params.contamination).toBe(0.1);
    expect(store.find('20261201-10').id).toBe('20261201-100000-cccccc');
    expect(() => store.find('20261201-09')).toThrow(/matches 2 runs .*20261201-090000-aaaaaa, 20261201-090130-bbbbbb.*give more of the id/);
    expect(() => store.find('2025')).toThrow(RunNotFoundError);
    expect(() => store.find('2025')).toThrow(/no run "2025" in .*runs\.ndjson \(6 runs/);
  });

  it('skips and counts a torn last line and records of another version, keeping the rest', () => {
    const d = fixtureDir('torn');
    const path = join(d, 'runs', 'runs.ndjson');
    appendFileSync(path, `${JSON.stringify({ ...record(), version: 2 })}\n{"format":"netflow-anomaly-run","version":1,"id":"2026`);
    const log = new RunStore(d).read();
    expect(log.runs).toHaveLength(6);
    expect(log.skipped).toEqual({ 'not-json': 1, 'not-a-run': 0, 'other-version': 1 });
  });

  it('refuses a record a reader could not use: bad metric names or values', () => {
    expect(() => checkRunRecord(record({ metrics: { 'detection@1%': 0.5 } }))).toThrow(RunRecordError);
    expect(() => checkRunRecord(record({ metrics: { f1: Number.NaN } }))).toThrow(/metric f1 is NaN, not a finite number/);
    expect(() => checkRunRecord(record({ id: 'x' }))).toThrow(/is not YYYYMMDD-HHMMSS-xxxxxx/);
    const store = new RunStore(join(dir, 'refused'));
    expect(() => store.append(record({ metrics: { f1: Number.POSITIVE_INFINITY } }))).toThrow(RunRecordError);
    expect(existsSync(store.path)).toBe(false);
  });

  it('eight processes appending 50 records of about 8 KB each at once leave 400 whole records', async () => {
    const d = join(dir, 'concurrent');
    const script = `
      const { RunStore, newRunId } = require(${JSON.stringify(distFile('experiments/run-store.js'))});
      const store = new RunStore(${JSON.stringify(d)});
      const pad = 'x'.repeat(8000);
      for (let i = 0; i < 50; i++) {
        store.append({ format: 'netflow-anomaly-run', version: 1, id: newRunId(), time: new Date().toISOString(), durationMs: i,
          command: 'sweep', label: process.argv[1] + '/' + i, argv: [pad], git: null, library: '0.1.0', params: { writer: Number(process.argv[1]), i },
          origin: {}, data: null, metrics: { i }, model: null, status: 'ok' });
      }`;
    const writers = Array.from({ length: 8 }, (_, w) =>
      new Promise<number>((resolve, reject) => {
        const p = spawn(process.execPath, ['-e', script, String(w)], { stdio: 'inherit' });
        p.on('error', reject);
        p.on('exit', (code) => resolve(code ?? -1));
      }),
    );
    expect(await Promise.all(writers)).toEqual(Array(8).fill(0));
    const log = new RunStore(d).read();
    expect(log.skipped).toEqual({ 'not-json': 0, 'not-a-run': 0, 'other-version': 0 });
    expect(log.runs).toHaveLength(400);
    expect(new Set(log.runs.map((r) => r.id)).size).toBe(400);
    for (let w = 0; w < 8; w++) {
      // each writer's records are all there, in its own order
      expect(log.runs.filter((r) => r.params.writer === w).map((r) => r.params.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    }
  });
});

describe('the run table and the comparison, on a fixture of runs', () => {
  const runs = () => new RunStore(fixtureDir(`t${Math.random()}`)).read().runs;

  it('lists runs newest first, hides the notebooks a start ran unless asked, and shows only the parameters that differ', () => {
    const all = runs();
    const top = selectRuns(all);
    expect(top.map((r) => r.id.slice(-6))).toEqual(['ffffff', 'eeeeee', 'dddddd', 'cccccc', 'aaaaaa']);
    expect(selectRuns(all, { all: true })).toHaveLength(6);
    expect(selectRuns(all, { group: '20261201-110000-999999' }).map((r) => r.params.nEstimators)).toEqual([100, 10]);
    expect(selectRuns(all, { group: '20261201-090000-aaaaaa' }).map((r) => r.label)).toEqual(['05_evaluate']);
    expect(selectRuns(all, { command: 'start', limit: 2 }).map((r) => r.id.slice(-6))).toEqual(['ffffff', 'cccccc']);
    expect(selectRuns(all, { all: true, dataKind: 'simulation' })).toHaveLength(6);
    expect(selectRuns(all, { all: true, dataKind: 'files' })).toEqual([]);
    expect(differingParams(top)).toEqual(['anomalyMean', 'nEstimators', 'contamination']);
    const t = runTableRows(top);
    expect(t.metrics).toEqual(['rocAuc', 'averagePrecision', 'precision', 'recall', 'f1', 'nFlagged']);
    expect(t.rows[3]).toEqual({ run: '20261201-100000-cccccc', time: '2026-12-01 10:00:00', command: 'start', status: 'ok', anomalyMean: 5, nEstimators: 100, contamination: 0.1, rocAuc: 0.999999, averagePrecision: 0.999972, precision: 0.47619, recall: 1, f1: 0.645161, nFlagged: 1050, model: '0123456789ab' });
    expect(t.rows[0].status).toBe('failed');
    expect(t.rows[0].rocAuc).toBe('');
  });

  it('compares runs side by side and marks exactly the lines that differ', () => {
    const all = runs();
    const [a, c] = [all[0], all[2]];
    const rows = compareRuns([a, c]);
    const differing = rows.filter((r) => r.differs).map((r) => r.field);
    expect(differing).toEqual(['time', 'commit', 'param contamination', 'metric precision', 'metric f1', 'metric nFlagged', 'model', 'duration (s)']);
    expect(rows.find((r) => r.field === 'param contamination')!.values).toEqual([0.05, 0.1]);
    expect(rows.find((r) => r.field === 'commit')!.values).toEqual(['283fa8e7ab', '283fa8e7ab (dirty)']);
    expect(compareRuns([a, c], true).every((r) => r.differs)).toBe(true);
  });

  it('npm run runs prints the table, the comparison, JSON, and fails with one line and exit 4 on an unknown id', () => {
    const d = fixtureDir('cli');
    const list = runsCli(d, []);
    expect(list.status).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^5 runs in .*runs\.ndjson, newest first \(parameters that differ: anomalyMean, nEstimators, contamination\)$/);
    expect(lines[1].trim().split(/\s+/)).toEqual(['run', 'time', '(UTC)', 'command', 'status', 'anomalyMean', 'nEstimators', 'contamination', 'rocAuc', 'averagePrecision', 'precision', 'recall', 'f1', 'nFlagged', 'model']);
    expect(lines[5].trim().split(/\s+/)).toEqual(['20261201-100000-cccccc', '2026-12-01', '10:00:00', 'start', 'ok', '5', '100', '0.1', '0.999999', '0.999972', '0.4762', '1.0000', '0.6452', '1050', '0123456789ab']);
    expect(runsCli(d, ['--all']).stdout).toMatch(/notebook 05_evaluate/);
    expect(runsCli(d, ['--limit', '2']).stdout).toMatch(/\(3 older run\(s\) not shown: --limit 5\)/);

    const cmp = runsCli(d, ['--compare', '20261201-0900', '20261201-10', '--differences']);
    expect(cmp.status).toBe(0);
    const c = cmp.stdout.trim().split('\n');
    expect(c[0]).toBe('2 runs side by side (≠: 8 lines differ)');
    expect(c.find((l) => l.includes('param contamination'))!.trim().split(/\s+/)).toEqual(['≠', 'param', 'contamination', '0.05', '0.1']);
    expect(c).toHaveLength(2 + 8);

    const json = runsCli(d, ['--compare', '20261201-0900', '--json']);
    expect(JSON.parse(json.stdout)[0].id).toBe('20261201-090000-aaaaaa');

    for (const [args, code, message] of [
      [['--compare', '2025'], 4, /^runs: no run "2025" in .*\n$/],
      [['--compare', '20261201-09'], 4, /^runs: "20261201-09" matches 2 runs/],
      [['--compare'], 2, /^runs: --compare needs at least one run id/],
      [['--limit', '0'], 2, /^runs: --limit/],
      [['--command', 'train'], 2, /^runs: --command must be start, sweep, evaluate or notebook, got "train"/],
      [['--bogus'], 2, /^runs: unknown option --bogus/],
    ] as const) {
      const r = runsCli(d, [...args]);
      expect(r.status, args.join(' ')).toBe(code);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });

  it('an empty folder lists no runs and says so', () => {
    const r = runsCli(join(dir, 'empty'), []);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/0 runs in .*\n.*\n\(no runs recorded in .*runs\.ndjson yet\)/);
  });

  it('the chart across runs draws one point per run and leaves out sweeps over another parameter', () => {
    const spec = runsChartSpec(runs(), 'nEstimators', 'f1') as unknown as { data: { values: { value: number; series: string }[] } };
    // the two sweep runs and the three ungrouped runs with an f1 (the failed run has none)
    expect(spec.data.values.map((v) => v.value).sort((x, y) => x - y)).toEqual([10, 100, 100, 100, 100]);
    const other = runsChartSpec(runs(), 'contamination', 'f1') as unknown as { data: { values: { series: string }[] } };
    expect(other.data.values.every((v) => v.series === 'single runs')).toBe(true);
    expect(other.data.values).toHaveLength(3);
  });
});

describe('recording', () => {
  it('a data set kept in memory and the same one written as traffic.csv have the same fingerprint', () => {
    const data = simulateTraffic({ ...DEFAULT_PARAMS, nNormal: 300, nAnomalous: 20 });
    const path = join(dir, 'traffic.csv');
    writeFileSync(path, datasetToCsv(data));
    expect(trafficFileFingerprint(path, 320, 5)).toEqual(datasetFingerprint(data));
  });

  it('a run has one record: a second finish is refused', async () => {
    const r = RunRecorder.start({ command: 'sweep', params: {}, origin: {}, store: new RunStore(join(dir, 'once')), mlflow: null });
    const { record: rec } = await r.finish({ metrics: { f1: 1 } });
    expect(rec.git?.commit).toMatch(/^[0-9a-f]{40}$/);
    await expect(r.finish()).rejects.toThrow(/finished already/);
    expect(new RunStore(join(dir, 'once')).read().runs).toHaveLength(1);
  });

  it('three sweeps started at once each leave a complete group of records', async () => {
    const d = join(dir, 'sweeps');
    const env: NodeJS.ProcessEnv = { ...process.env, ANOMALY_ARTIFACTS_DIR: d };
    delete env.MLFLOW_TRACKING_URI;
    const sweeps = ['0.02,0.05', '0.03,0.1', '0.04,0.2'].map(
      (values) =>
        new Promise<{ code: number; out: string }>((resolve, reject) => {
          const p = spawn(process.execPath, [distFile('cli/sweep.js'), `contamination=${values}`, '--set', 'nNormal=1000', '--set', 'nAnomalous=50'], { env });
          let out = '';
          p.stdout.on('data', (b) => (out += b));
          p.stderr.on('data', (b) => (out += b));
          p.on('error', reject);
          p.on('exit', (code) => resolve({ code: code ?? -1, out }));
        }),
    );
    const results = await Promise.all(sweeps);
    for (const r of results) expect(r.code, r.out).toBe(0);
    const log = new RunStore(d).read();
    expect(log.runs).toHaveLength(6);
    const groups = new Map<string, number[]>();
    for (const r of log.runs) groups.set(r.group!, [...(groups.get(r.group!) ?? []), r.params.contamination as number]);
    expect([...groups.values()].map((v) => v.sort((a, b) => a - b)).sort((a, b) => a[0] - b[0])).toEqual([[0.02, 0.05], [0.03, 0.1], [0.04, 0.2]]);
    for (const r of log.runs) {
      expect(r.command).toBe('sweep');
      expect(r.origin.contamination).toBe('sweep contamination');
      expect(r.origin.nNormal).toBe('--set');
      expect(r.data).toMatchObject({ kind: 'simulation', rows: 1050, features: 5 });
      expect(Object.keys(r.metrics)).toEqual(['rocAuc', 'averagePrecision', 'precision', 'recall', 'f1', 'nFlagged']);
    }
    // the three sweeps simulated the same data
    expect(new Set(log.runs.map((r) => (r.data as { sha256: string }).sha256)).size).toBe(1);
  });
});

const VENV_PYTHON = join(PROJECT_ROOT, '.venv', 'bin', 'python');
const hasPandas = existsSync(VENV_PYTHON) && spawnSync(VENV_PYTHON, ['-c', 'import pandas'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasPandas)(`pandas reads the run log${hasPandas ? '' : ' (skipped: no pandas in .venv)'}`, () => {
  it('pd.read_json(lines=True) and json_normalize give one row per run with its parameters and metrics as columns', () => {
    const d = fixtureDir('pandas');
    const py = `
import json, sys, pandas as pd
df = pd.read_json(sys.argv[1], lines=True)
flat = pd.json_normalize(df.to_dict('records'))
print(json.dumps({"rows": len(df), "ids": list(df["id"]), "contamination": list(flat["params.contamination"]), "f1": [None if pd.isna(v) else v for v in flat["metrics.f1"]]}))`;
    const r = spawnSync(VENV_PYTHON, ['-c', py, join(d, 'runs', 'runs.ndjson')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.rows).toBe(6);
    expect(out.ids[2]).toBe('20261201-100000-cccccc');
    expect(out.contamination).toEqual([0.05, 0.05, 0.1, 0.05, 0.05, 0.05]);
    expect(out.f1[2]).toBe(0.645161);
    expect(out.f1[5]).toBeNull();
  });
});
