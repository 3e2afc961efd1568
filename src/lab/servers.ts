/**
 * The lab's servers, all in the server namespace and bound to the lab address
 * (and, for Redis, to the namespace's own loopback, where the readiness PING
 * goes): the Node web server of http-server.ts on :80, dnsmasq with a few
 * local records on :53, and Redis on :6379 started by the project's
 * startRedisServer (system redis-server >= 7 or the embedded valkey-server).
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { distFile } from '../core/paths';
import { startRedisServer, type RedisServerHandle } from '../stream/redis-server';
import { LAB_EXIT_FAILED, LabError } from './lab-error';
import { lastLine, ProcessSet, sleep } from './processes';
import { SERVER_IP } from './topology';

/** The DNS zone dnsmasq answers for (everything else under lab.internal is NXDOMAIN; nothing is forwarded). */
export const DNS_RECORDS = {
  hosts: ['www.lab.internal', 'api.lab.internal', 'cache.lab.internal', 'mail.lab.internal'],
  cname: ['files.lab.internal', 'www.lab.internal'],
  mx: ['lab.internal', 'mail.lab.internal'],
  txt: ['lab.internal', 'v=spf1 ip4:10.10.0.1 -all'],
} as const;

const failed = (what: string) => (message: string) => new LabError(`${what} failed: ${message}`, LAB_EXIT_FAILED);

export interface LabServers {
  http: ChildProcess;
  dns: ChildProcess;
  redis: RedisServerHandle;
  /** the web server's counters (printed on SIGTERM), filled by stop() */
  httpStats?: Record<string, number>;
  stop(): Promise<void>;
}

/** Wait for a line matching `re` on the child's stdout or stderr, or fail. */
function waitForOutput(child: ChildProcess, re: RegExp, what: string, timeoutMs = 10_000): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(failed(what)(`not ready within ${timeoutMs} ms${lastLine(text) ? `: ${lastLine(text)}` : ''}`)), timeoutMs);
    const onData = (d: Buffer | string) => {
      text += d.toString();
      if (re.test(text)) {
        clearTimeout(timer);
        resolve(text);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(failed(what)(e.message));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(failed(what)(`exited with code ${code}${lastLine(text) ? `: ${lastLine(text)}` : ''}`));
    });
  });
}

/**
 * Start the three servers and check each answers (over the namespace's
 * loopback route to 10.10.0.1: not on br0, so not in any capture).
 *
 * @param tmp - the run's private folder (dnsmasq's pid file)
 */
export async function startServers(procs: ProcessSet, redis: { server: string; client: string }, tmp: string): Promise<LabServers> {
  const http = procs.start(process.execPath, [distFile('lab/http-server.js'), SERVER_IP, '80']);
  await waitForOutput(http, /^listening /m, 'the web server');
  const pid = join(tmp, 'dnsmasq.pid');
  writeFileSync(pid, '');
  const r = DNS_RECORDS;
  const dns = procs.start('dnsmasq', [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--bind-interfaces',
    `--listen-address=${SERVER_IP}`,
    '--port=53',
    '--local=/lab.internal/',
    '--domain-needed',
    '--user=root',
    '--group=root',
    `--pid-file=${pid}`,
    '--log-facility=-',
    ...r.hosts.map((h) => `--host-record=${h},${SERVER_IP}`),
    `--cname=${r.cname.join(',')}`,
    `--mx-host=${r.mx.join(',')},10`,
    `--txt-record=${r.txt.join(',')}`,
  ]);
  await waitForOutput(dns, /started, version/, 'dnsmasq');
  await procs.check('dig', [`@${SERVER_IP}`, '+tries=3', '+time=1', '+short', 'www.lab.internal'], failed('the DNS check (dig www.lab.internal)'));
  let redisHandle: RedisServerHandle;
  try {
    redisHandle = await startRedisServer({ command: redis.server, port: 6379, extraArgs: ['--bind', SERVER_IP, '127.0.0.1', '--protected-mode', 'no'] });
  } catch (e) {
    throw failed('Redis')((e as Error).message);
  }
  // the data the normal clients read
  const seedData = Array.from({ length: 50 }, (_, i) => `SET user:${i + 1} "{\\"id\\":${i + 1},\\"plan\\":\\"${['free', 'pro', 'team'][i % 3]}\\"}"`).join('\n');
  await procs.check(redis.client, ['-h', '127.0.0.1', '-p', '6379'], failed('loading the Redis data'), { input: `${seedData}\n` });
  await procs.check('curl', ['-sS', '--fail', '-o', '/dev/null', `http://${SERVER_IP}/`], failed('the web check (curl /)'));
  const servers: LabServers = {
    http,
    dns,
    redis: redisHandle,
    stop: async () => {
      const stats = new Promise<string>((resolve) => {
        let out = '';
        http.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
        http.once('exit', () => resolve(out));
      });
      if (http.exitCode === null) http.kill('SIGTERM');
      if (dns.exitCode === null) dns.kill('SIGTERM');
      await redisHandle.stop();
      const line = await Promise.race([stats, sleep(3000).then(() => '')]);
      try {
        servers.httpStats = JSON.parse(line.trim().split('\n').pop() ?? '') as Record<string, number>;
      } catch {
        servers.httpStats = undefined;
      }
    },
  };
  return servers;
}
