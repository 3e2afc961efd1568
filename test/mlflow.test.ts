import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MlflowClient, MlflowError, mlflowExperimentName } from '../src/experiments/mlflow';
import { RunStore, newRunId } from '../src/experiments/run-store';
import type { RunRecord } from '../src/experiments/run-record';
import { distFile, PROJECT_ROOT } from '../src/core/paths';

/**
 * Runs logged to a real MLflow tracking server (issue 19): `mlflow server` from
 * .venv (requirements-mlflow.txt) on 127.0.0.1 and a free port, with a SQLite
 * store and an artifact folder in a temporary directory, stopped by its pid.
 * Each run is read back through the same REST API.
 */

const MLFLOW = join(PROJECT_ROOT, '.venv', 'bin', 'mlflow');
const why = existsSync(MLFLOW) ? undefined : 'no mlflow in .venv: .venv/bin/python -m pip install -r requirements-mlflow.txt';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createTcpServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function cli(script: string, args: string[], env: NodeJS.ProcessEnv) {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete e.DEBUG;
  if (!('MLFLOW_TRACKING_URI' in env)) delete e.MLFLOW_TRACKING_URI;
  return spawnSync(process.execPath, [distFile(script), ...args], { env: e, encoding: 'utf8' });
}

describe.skipIf(why !== undefined)(`runs logged to a real MLflow tracking server${why ? ` (skipped: ${why})` : ''}`, () => {
  let dir: string;
  let server: ChildProcess;
  let url: string;
  let client: MlflowClient;
  let serverLog = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlflow-test-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(MLFLOW, ['server', '--host', '127.0.0.1', '--port', String(port), '--workers', '1', '--backend-store-uri', `sqlite:///${join(dir, 'mlflow.db')}`, '--artifacts-destination', join(dir, 'mlartifacts')], {
      cwd: dir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (b) => (serverLog += b));
    server.stderr!.on('data', (b) => (serverLog += b));
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`mlflow server exited with ${server.exitCode}: ${serverLog.slice(-2000)}`);
      try {
        const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
        if (r.ok) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`mlflow server did not answer within 90 s: ${serverLog.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    client = new MlflowClient(url);
  }, 120_000);

  afterAll(() => {
    // the server forks its workers: end the whole process group
    if (server?.pid !== undefined && server.exitCode === null) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // gone already
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('npm run sweep --mlflow: every recorded run is on the server with its parameters, metrics and tags', () => {
    const artifacts = join(dir, 'sweep');
    const r = cli('cli/sweep.js', ['contamination=0.02,0.1', '--set', 'nNormal=1000', '--mlflow', url], { ANOMALY_ARTIFACTS_DIR: artifacts });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const local = new RunStore(artifacts).read().runs;
    expect(local).toHaveLength(2);
    return Promise.all(
      local.map(async (rec) => {
        const ids = await client.findRuns(mlflowExperimentName('sweep'), rec.id);
        expect(ids).toHaveLength(1);
        const run = await client.getRun(ids[0]);
        expect(run.status).toBe('FINISHED');
        expect(run.runName).toBe(rec.id);
        expect(run.params).toEqual(Object.fromEntries(Object.entries(rec.params).map(([k, v]) => [k, String(v)])));
        expect(run.metrics).toEqual(rec.metrics);
        expect(run.tags['netflow.group']).toBe(rec.group);
        expect(run.tags['mlflow.source.git.commit']).toBe(rec.git!.commit);
        expect(JSON.parse(run.tags['netflow.data'])).toEqual(rec.data);
      }),
    );
  }, 60_000);

  it('npm run evaluate --save-model --mlflow: the model bundle is uploaded as the run\'s artifact, its checksum a tag', async () => {
    const artifacts = join(dir, 'evaluate');
    const model = join(dir, 'nsl-model.json');
    const data = join(PROJECT_ROOT, 'data', 'nsl-kdd');
    const r = cli('cli/evaluate.js', ['--train', join(data, 'KDDTrain+_20Percent.txt.gz'), '--test', join(data, 'KDDTest+.txt.gz'), '--train-on', 'normal', '--log1p', '--seeds', '1', '--save-model', model, '--json'], {
      ANOMALY_ARTIFACTS_DIR: artifacts,
      MLFLOW_TRACKING_URI: url,
    });
    expect(r.status, r.stderr).toBe(0);
    const [rec] = new RunStore(artifacts).read().runs;
    expect(rec.command).toBe('evaluate');
    expect(rec.origin).toMatchObject({ train: 'command line', 'train-on': 'command line', encoding: 'default', log1p: 'command line' });
    expect(rec.metrics.rocAuc).toBe(JSON.parse(r.stdout).rocAuc.mean);
    expect(rec.metrics['detectionRate.fpr_1pct.DoS']).toBeGreaterThan(0);
    const [id] = await client.findRuns(mlflowExperimentName('evaluate'), rec.id);
    const run = await client.getRun(id);
    expect(run.metrics).toEqual(rec.metrics);
    expect(run.tags['netflow.model_checksum']).toBe(rec.model!.checksum);
    expect(await client.listArtifacts(id)).toEqual([{ path: 'nsl-model.json', size: statSync(model).size }]);
  }, 120_000);

  it('a call after the server dropped its idle connections (uvicorn: after 5 s) still succeeds: no stale pooled socket', async () => {
    const first = await client.experimentId(mlflowExperimentName('sweep'));
    await new Promise((r) => setTimeout(r, 6500));
    expect(await client.experimentId(mlflowExperimentName('sweep'))).toBe(first);
  }, 30_000);

  it('three runs logged at once into an experiment that does not exist yet all land in one experiment', async () => {
    const rec = (i: number): RunRecord => ({
      format: 'netflow-anomaly-run', version: 1, id: newRunId(), time: new Date().toISOString(), durationMs: i, command: 'notebook', label: `concurrent ${i}`, argv: [],
      git: null, library: '0.1.0', params: { i }, origin: { i: 'test' }, data: null, metrics: { f1: i / 10 }, model: null, status: 'ok',
    });
    const records = [1, 2, 3].map(rec);
    const logged = await Promise.all(records.map((r) => client.logRun(r)));
    expect(new Set(logged.map((l) => l.experimentId)).size).toBe(1);
    for (const [k, l] of logged.entries()) expect((await client.getRun(l.runId)).metrics).toEqual({ f1: records[k].metrics.f1 });
  }, 60_000);
});

describe('an MLflow server that is not there, never answers or is not MLflow', () => {
  let dir: string;
  let silent: Server;
  let html: Server;
  const sockets: import('node:net').Socket[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlflow-down-'));
    silent = createServer(() => {
      // accepts the request and never answers
    });
    silent.on('connection', (s) => sockets.push(s));
    html = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>a web page</html>'));
    await Promise.all([silent, html].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all([silent, html].map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
  });

  it('an unreachable server costs one warning line; the run is still recorded locally and the command succeeds', async () => {
    const port = await freePort(); // free now: nothing listens there
    const artifacts = join(dir, 'down');
    const r = cli('cli/sweep.js', ['contamination=0.05', '--set', 'nNormal=500', '--mlflow', `http://127.0.0.1:${port}`], { ANOMALY_ARTIFACTS_DIR: artifacts });
    expect(r.status, r.stderr).toBe(0);
    const runs = new RunStore(artifacts).read().runs;
    expect(runs).toHaveLength(1);
    expect(r.stderr).toBe(`runs: MLflow at http://127.0.0.1:${port} unreachable (experiments/get-by-name: ECONNREFUSED); run ${runs[0].id} is recorded in ${join(artifacts, 'runs', 'runs.ndjson')} only\n`);
  }, 60_000);

  it('a server that never answers fails the call after the timeout, it does not hang', async () => {
    const { port } = silent.address() as AddressInfo;
    const t0 = Date.now();
    await expect(new MlflowClient(`http://127.0.0.1:${port}`, 300).experimentId('x')).rejects.toThrow(/unreachable \(experiments\/get-by-name: no answer within 300 ms\)/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a web server that is not MLflow, and a URI that is not http, are named as such', async () => {
    const { port } = html.address() as AddressInfo;
    await expect(new MlflowClient(`http://127.0.0.1:${port}`).experimentId('x')).rejects.toThrow(/answered HTTP 200 with something that is not JSON \(is this a tracking server\?\)/);
    expect(() => new MlflowClient('file:///tmp/mlruns')).toThrow(MlflowError);
    expect(() => new MlflowClient('not a url')).toThrow(/is not a URL/);
  });
});
