import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunStore } from '../src/experiments/run-store';
import type { RunRecord } from '../src/experiments/run-record';
import { selectNotebooks } from '../src/cli/start';
import { notebookPaths } from '../src/cli/notebooks';
import { distFile } from '../src/core/paths';

/**
 * `npm start` records its run, the notebooks it executes record theirs as its
 * children, and `--from-run ID` reproduces the default run: the same data
 * fingerprint and the same model checksum (issue 19). Notebooks 01-08 (the
 * simulation pipeline and the model bundle), twice, in a temporary artifacts folder.
 */

let dir: string;
let first: ReturnType<typeof start>;
let again: ReturnType<typeof start>;
let log: RunRecord[];

function start(args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, ANOMALY_ARTIFACTS_DIR: dir };
  for (const k of ['DEBUG', 'MLFLOW_TRACKING_URI', 'ANOMALY_PARAMS', 'ANOMALY_PARAMS_FILE', 'ANOMALY_RUN_PARENT', 'ANOMALY_MODEL_KEY']) delete env[k];
  return spawnSync(process.execPath, [distFile('cli/start.js'), ...args], { env, encoding: 'utf8', timeout: 600_000 });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'runs-start-'));
  first = start(['--notebooks', '01-08']);
  const id = new RunStore(dir).read().runs.find((r) => r.command === 'start')?.id ?? 'none';
  again = start(['--from-run', id.slice(0, 17)]);
  log = new RunStore(dir).read().runs;
}, 1_200_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm start records its run, and --from-run reproduces it', () => {
  it('both runs succeed, and the log holds two start runs', () => {
    expect(first.status, first.stderr).toBe(0);
    expect(again.status, again.stderr).toBe(0);
    expect(log.filter((r) => r.command === 'start')).toHaveLength(2);
  });

  it('the start record has every parameter with its origin, the commit, the data fingerprint, the metrics and the model checksum', () => {
    const run = log.find((r) => r.command === 'start')!;
    expect(run.label).toBe('notebooks 01-08');
    expect(run.argv).toEqual(['--notebooks', '01-08']);
    expect(run.status).toBe('ok');
    expect(Object.keys(run.params)).toHaveLength(15);
    expect(Object.values(run.origin).every((o) => o === 'default')).toBe(true);
    expect(run.git?.commit).toMatch(/^[0-9a-f]{40}$/);
    const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(run.model?.checksum).toBe(model.checksum);
    expect(run.data).toMatchObject({ kind: 'simulation', rows: 10500, features: 5 });
    const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')).metrics;
    expect(run.metrics).toEqual({ rocAuc: metrics.rocAuc, averagePrecision: metrics.averagePrecision, precision: metrics.precision, recall: metrics.recall, f1: metrics.f1, nFlagged: metrics.nFlagged, nRows: 10500, nAnomalous: 500 });
    expect(first.stdout).toMatch(new RegExp(`run +${run.id} recorded in .*runs\\.ndjson \\(npm run runs; again: npm start -- --from-run ${run.id}\\)`));
  });

  it('the notebooks it ran recorded theirs as its children: 05 with the same metrics, 06 its two sweeps', () => {
    const [startRun] = log.filter((r) => r.command === 'start');
    const children = log.filter((r) => r.parent === startRun.id);
    const n05 = children.filter((r) => r.label === '05_evaluate');
    expect(n05).toHaveLength(1);
    expect(n05[0].metrics).toEqual(startRun.metrics);
    expect(n05[0].data).toEqual(startRun.data);
    const sweeps = new Map<string, RunRecord[]>();
    for (const r of children.filter((c) => c.label === '06_visualize')) sweeps.set(r.group!, [...(sweeps.get(r.group!) ?? []), r]);
    expect([...sweeps.values()].map((g) => g.length).sort()).toEqual([6, 8]);
  });

  it('--from-run re-ran with the same parameters and says the data fingerprint and the model checksum are the same', () => {
    const [was, now] = log.filter((r) => r.command === 'start');
    expect(now.reproduces).toBe(was.id);
    expect(now.params).toEqual(was.params);
    expect(now.label).toBe('notebooks 01-08');
    expect(now.data).toEqual(was.data);
    expect(now.model?.checksum).toBe(was.model?.checksum);
    expect(again.stdout).toContain(`parameters: defaults (those of run ${was.id})`);
    expect(again.stdout).toMatch(new RegExp(`reproduces +run ${was.id}: data fingerprint the same \\(sha256:[0-9a-f]{12}\\.\\.\\.\\); model checksum the same \\(sha256:[0-9a-f]{12}\\.\\.\\.\\)`));
  });

  it('refuses --from-run with --set, an unknown run, and a bad --notebooks list, each with one line and exit 2', () => {
    for (const [args, message] of [
      [['--from-run', 'x', '--set', 'seed=1'], /^start: --from-run takes the run's own parameters, notebooks and data: not with --set/],
      [['--from-run', '1999'], /^start: --from-run: no run "1999" in .*runs\.ndjson/],
      [['--notebooks', '8-1'], /^start: --notebooks range 8-1 runs backwards/],
      [['--notebooks', '77'], /^start: --notebooks "77" names none of the notebooks/],
    ] as const) {
      const r = start([...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('--notebooks takes numbers and ranges', () => {
    const names = (spec: string) => selectNotebooks(spec).map((p) => p.split('/').pop()!.slice(0, 2));
    expect(names('01-03')).toEqual(['01', '02', '03']);
    expect(names('1,5,7')).toEqual(['01', '05', '07']);
    expect(names('11-')).toEqual(notebookPaths().map((p) => p.split('/').pop()!.slice(0, 2)).filter((n) => Number(n) >= 11));
    expect(() => selectNotebooks('a-b')).toThrow(/--notebooks takes numbers and ranges/);
  });
});
