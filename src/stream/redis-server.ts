/**
 * A throwaway local Redis for tests, benchmarks and notebooks: Debian's
 * `redis-server` on 127.0.0.1 and a free port, without persistence, stopped by
 * its pid. Production runs point the commands at a real, persistent Redis
 * instead (see README, "Past one machine: Redis Streams").
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';

/** redis-server is not installed (or not on PATH). */
export class RedisServerMissingError extends Error {
  constructor(command: string) {
    super(`${command} not found: install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)`);
    this.name = 'RedisServerMissingError';
  }
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
  /** the executable (default `redis-server`) */
  command?: string;
  /** give up waiting for PING after this long (default 10000 ms) */
  timeoutMs?: number;
  /** extra `--name value` arguments, e.g. ['--maxmemory', '1gb'] */
  extraArgs?: string[];
}

/**
 * The installed redis-server's version ("7.0.15"), or undefined when it is not
 * installed. Lets notebooks and tests say how to install it instead of failing.
 */
export function redisServerVersion(command = 'redis-server'): string | undefined {
  const r = spawnSync(command, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return /v=(\S+)/.exec(r.stdout)?.[1] ?? r.stdout.trim();
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
 * Start `redis-server --port P --bind 127.0.0.1 --save '' --appendonly no` on a
 * free port and wait until it answers PING.
 *
 * @param options - see StartRedisOptions
 * @returns a handle with the URL and `stop()`
 * @throws RedisServerMissingError when the executable is not installed; Error
 *   with redis-server's own output when it exits or does not answer in time
 */
export async function startRedisServer(options: StartRedisOptions = {}): Promise<RedisServerHandle> {
  const command = options.command ?? 'redis-server';
  if (redisServerVersion(command) === undefined) throw new RedisServerMissingError(command);
  const timeoutMs = options.timeoutMs ?? 10_000;
  let lastError = '';
  // the free port can be taken between the probe and redis binding it: try a few
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
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
    if (!/address already in use/i.test(output)) break;
  }
  throw new Error(lastError);
}
