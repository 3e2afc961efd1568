import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { basename } from 'node:path';
import type { RunRecord } from './run-record';

/** Environment variable MLflow's own clients read for the tracking server. */
export const MLFLOW_ENV = 'MLFLOW_TRACKING_URI';

/** A tracking server that cannot be reached or refuses a request; the message names the URL and the call. */
export class MlflowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MlflowError';
  }
}

/** What one run became on the server. */
export interface MlflowLogged {
  experimentId: string;
  runId: string;
  /** the run's artifact location, as the server gave it */
  artifactUri: string;
  /** files uploaded as artifacts (empty when the server does not serve artifacts) */
  artifacts: string[];
}

/** MLflow's experiment name for a command's runs. */
export function mlflowExperimentName(command: RunRecord['command']): string {
  return `netflow-anomaly-${command}`;
}

/**
 * One HTTP request on a connection of its own (no keep-alive): a pooled
 * connection that the server closes while idle (uvicorn after 5 s) fails the
 * next request that reuses it ("other side closed"), and a POST such as
 * runs/create cannot simply be sent again. `timeoutMs` bounds each wait for
 * the server, so one that accepts and never answers fails the call.
 */
function send(method: 'GET' | 'POST' | 'PUT', url: string, body: Buffer | undefined, contentType: string | undefined, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const headers: Record<string, string | number> = {};
    if (contentType) headers['content-type'] = contentType;
    if (body) headers['content-length'] = body.length;
    const req = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, { method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'TIMEOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

/** The reason of a failed request, as one short phrase. */
function failure(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code === 'TIMEOUT' ? err.message : (err.code ?? err.message);
}

interface ApiError {
  error_code?: string;
  message?: string;
}

/**
 * A client of MLflow's tracking REST API (version 2.0 of its paths, which
 * MLflow 2 and 3 servers serve): experiments by name, runs with params,
 * metrics and tags, and artifact upload through a server that proxies its
 * artifact store (`mlflow server`, whose default is to serve artifacts).
 *
 * Each call has a timeout, so a server that accepts the connection and never
 * answers fails the call instead of holding the command.
 */
export class MlflowClient {
  readonly url: string;

  /**
   * @param url the tracking server, e.g. `http://127.0.0.1:5000`
   * @param timeoutMs per request
   */
  constructor(url: string, readonly timeoutMs = 30_000) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new MlflowError(`MLflow tracking URI ${JSON.stringify(url)} is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new MlflowError(`MLflow tracking URI ${JSON.stringify(url)} is not http(s): this client talks to a tracking server's REST API`);
    this.url = url.replace(/\/+$/, '');
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown, query?: Record<string, string>): Promise<T> {
    const q = query ? `?${new URLSearchParams(query).toString()}` : '';
    const where = `${this.url}/api/2.0/mlflow/${path}`;
    let res: { status: number; text: string };
    try {
      res = await send(method, `${where}${q}`, body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8'), body === undefined ? undefined : 'application/json', this.timeoutMs);
    } catch (e) {
      throw new MlflowError(`MLflow at ${this.url} unreachable (${path}: ${failure(e)})`);
    }
    const text = res.text;
    let json: unknown;
    try {
      json = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new MlflowError(`MLflow at ${this.url}: ${path} answered HTTP ${res.status} with something that is not JSON (is this a tracking server?)`);
    }
    if (res.status < 200 || res.status >= 300) {
      const err = json as ApiError;
      throw Object.assign(new MlflowError(`MLflow at ${this.url}: ${path} failed with HTTP ${res.status}${err.error_code ? ` ${err.error_code}` : ''}${err.message ? `: ${err.message.split('\n')[0]}` : ''}`), { errorCode: err.error_code });
    }
    return json as T;
  }

  /** The experiment's id, created when it does not exist yet (safe when two runs create it at once). */
  async experimentId(name: string): Promise<string> {
    const get = async () => {
      try {
        const r = await this.call<{ experiment: { experiment_id: string } }>('GET', 'experiments/get-by-name', undefined, { experiment_name: name });
        return r.experiment.experiment_id;
      } catch (e) {
        if ((e as { errorCode?: string }).errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
        throw e;
      }
    };
    const found = await get();
    if (found !== undefined) return found;
    try {
      return (await this.call<{ experiment_id: string }>('POST', 'experiments/create', { name })).experiment_id;
    } catch (e) {
      // another run created it between our two calls
      if ((e as { errorCode?: string }).errorCode === 'RESOURCE_ALREADY_EXISTS') {
        const again = await get();
        if (again !== undefined) return again;
      }
      throw e;
    }
  }

  /**
   * Log one run record: a run in the command's experiment, named by the record's
   * id, with every parameter, every metric, tags for the commit, the model
   * checksum and the data fingerprint, and the given files as artifacts.
   *
   * @param files files to upload as the run's artifacts (e.g. the model bundle)
   * @throws MlflowError naming the server and the call that failed
   */
  async logRun(record: RunRecord, files: readonly string[] = []): Promise<MlflowLogged> {
    const experimentId = await this.experimentId(mlflowExperimentName(record.command));
    const start = Date.parse(record.time);
    const tags: { key: string; value: string }[] = [
      { key: 'netflow.run_id', value: record.id },
      { key: 'netflow.command', value: record.command },
      { key: 'netflow.status', value: record.status },
      { key: 'mlflow.source.name', value: `npm ${record.command === 'start' ? 'start' : record.command === 'notebook' ? 'notebook' : `run ${record.command}`}` },
    ];
    if (record.label) tags.push({ key: 'netflow.label', value: record.label });
    if (record.parent) tags.push({ key: 'netflow.parent', value: record.parent });
    if (record.group) tags.push({ key: 'netflow.group', value: record.group });
    if (record.git) {
      tags.push({ key: 'mlflow.source.git.commit', value: record.git.commit });
      tags.push({ key: 'netflow.git_dirty', value: String(record.git.dirty) });
    }
    if (record.model) tags.push({ key: 'netflow.model_checksum', value: record.model.checksum });
    if (record.data) tags.push({ key: 'netflow.data', value: JSON.stringify(record.data).slice(0, 5000) });
    const created = await this.call<{ run: { info: { run_id: string; artifact_uri: string } } }>('POST', 'runs/create', { experiment_id: experimentId, run_name: record.id, start_time: start, tags });
    const runId = created.run.info.run_id;
    const artifactUri = created.run.info.artifact_uri;
    const params = Object.entries(record.params).map(([key, v]) => ({ key, value: v === null ? 'null' : String(v) }));
    const timestamp = start + record.durationMs;
    const metrics = Object.entries(record.metrics).map(([key, value]) => ({ key, value, timestamp, step: 0 }));
    // log-batch takes at most 100 params and 1000 metrics per request
    for (let i = 0; i < Math.max(params.length, metrics.length); i += 100) {
      await this.call('POST', 'runs/log-batch', { run_id: runId, params: params.slice(i, i + 100), metrics: metrics.slice(i, i + 100) });
    }
    const artifacts: string[] = [];
    const proxied = /^mlflow-artifacts:\/(.*)$/.exec(artifactUri);
    if (proxied) {
      for (const file of files) {
        const name = basename(file);
        const path = proxied[1].replace(/^\/+/, '');
        const url = `${this.url}/api/2.0/mlflow-artifacts/artifacts/${path}/${encodeURIComponent(name)}`;
        let body: Buffer;
        try {
          body = readFileSync(file);
        } catch (e) {
          throw new MlflowError(`MLflow at ${this.url}: cannot read ${file} to upload it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
        let res: { status: number; text: string };
        try {
          res = await send('PUT', url, body, 'application/octet-stream', this.timeoutMs);
        } catch (e) {
          throw new MlflowError(`MLflow at ${this.url}: uploading ${name} failed (${failure(e)})`);
        }
        if (res.status < 200 || res.status >= 300) throw new MlflowError(`MLflow at ${this.url}: uploading ${name} failed with HTTP ${res.status}`);
        artifacts.push(name);
      }
    }
    await this.call('POST', 'runs/update', { run_id: runId, status: record.status === 'ok' ? 'FINISHED' : 'FAILED', end_time: timestamp });
    return { experimentId, runId, artifactUri, artifacts };
  }

  /** A run as the server has it: its params, metrics and tags by key (what the tests read back). */
  async getRun(runId: string): Promise<{ status: string; params: Record<string, string>; metrics: Record<string, number>; tags: Record<string, string>; runName: string }> {
    const r = await this.call<{ run: { info: { status: string; run_name: string }; data: { params?: { key: string; value: string }[]; metrics?: { key: string; value: number }[]; tags?: { key: string; value: string }[] } } }>('GET', 'runs/get', undefined, { run_id: runId });
    const byKey = <V>(xs: { key: string; value: V }[] | undefined) => Object.fromEntries((xs ?? []).map((x) => [x.key, x.value]));
    return { status: r.run.info.status, runName: r.run.info.run_name, params: byKey(r.run.data.params), metrics: byKey(r.run.data.metrics), tags: byKey(r.run.data.tags) };
  }

  /** The paths of a run's top-level artifacts, as the server lists them. */
  async listArtifacts(runId: string): Promise<{ path: string; size?: number }[]> {
    const r = await this.call<{ files?: { path: string; file_size?: number }[] }>('GET', 'artifacts/list', undefined, { run_id: runId });
    return (r.files ?? []).map((f) => ({ path: f.path, ...(f.file_size !== undefined ? { size: Number(f.file_size) } : {}) }));
  }

  /** The ids of the runs in an experiment whose `netflow.run_id` tag is `id`. */
  async findRuns(experimentName: string, id: string): Promise<string[]> {
    const experimentId = await this.experimentId(experimentName);
    const r = await this.call<{ runs?: { info: { run_id: string } }[] }>('POST', 'runs/search', { experiment_ids: [experimentId], filter: `tags.\`netflow.run_id\` = '${id.replace(/'/g, '')}'`, max_results: 100 });
    return (r.runs ?? []).map((x) => x.info.run_id);
  }
}
