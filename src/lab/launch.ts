/**
 * Starting the lab in namespaces of its own, from the normal (host) side:
 *
 *   unshare --net --pid --fork --kill-child --mount-proc -- node <entry> ...
 *
 * The lab then runs as PID 1 of a new PID namespace, in a new network
 * namespace (only loopback; nothing of the host's network is visible) and a
 * private mount namespace (its own /proc, its own /etc/resolv.conf). When it
 * ends, however it ends, the kernel kills every process left in its PID
 * namespace, and the network namespaces go with their last process. If this
 * launcher is killed, unshare's --kill-child SIGKILLs the lab; if it is
 * interrupted or times out, it closes the lab's stdin, which the lab takes as
 * "stop now" (it then kills what it started and exits 130).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { LAB_EXIT_ENVIRONMENT, LAB_EXIT_FAILED, LabError } from './lab-error';
import { lastLine } from './processes';

const UNSHARE = ['--net', '--pid', '--fork', '--kill-child', '--mount-proc'];
/** The environment variable through which the lab learns its launcher's namespaces (it must be in other ones). */
export const OUTER_NAMESPACES_ENV = 'TRAFFIC_LAB_OUTER_NAMESPACES';

/** This process's network and mount namespaces, e.g. "net:[4026531840] mnt:[4026531841]". */
export function currentNamespaces(): string {
  return `${readlinkSync('/proc/self/ns/net')} ${readlinkSync('/proc/self/ns/mnt')}`;
}

/** True when this process's network and mount namespaces both differ from the launcher's. */
export function outsideLauncherNamespaces(env: NodeJS.ProcessEnv = process.env): boolean {
  const outer = env[OUTER_NAMESPACES_ENV];
  if (!outer) return false;
  const [net, mnt] = outer.split(' ');
  const [ownNet, ownMnt] = currentNamespaces().split(' ');
  return net !== ownNet && mnt !== ownMnt;
}

/**
 * Check that namespaces can be created here (root, a kernel and container that allow it).
 *
 * @throws LabError (exit 3) with unshare's own message
 */
export function checkNamespaces(): void {
  if (process.platform !== 'linux') throw new LabError(`the traffic lab needs Linux network namespaces (this is ${process.platform})`, LAB_EXIT_ENVIRONMENT);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) throw new LabError('the traffic lab must run as root (it creates network namespaces and captures packets)', LAB_EXIT_ENVIRONMENT);
  const r = spawnSync('unshare', [...UNSHARE, 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) throw new LabError(`cannot create the lab namespaces (unshare ${UNSHARE.join(' ')}): ${r.error?.message ?? (lastLine(r.stderr) || `exit ${r.status}`)}`, LAB_EXIT_ENVIRONMENT);
}

/**
 * Run `node entry args` inside new namespaces and wait for it.
 *
 * @param timeoutMs - close the lab's stdin after this long, SIGKILL it 15 s later
 * @returns the lab's exit code
 */
export function runInNamespaces(entry: string, args: readonly string[], timeoutMs: number): Promise<number> {
  const child = spawn('unshare', [...UNSHARE, '--', process.execPath, entry, ...args], {
    stdio: ['pipe', 'inherit', 'inherit'],
    env: { ...process.env, [OUTER_NAMESPACES_ENV]: currentNamespaces() },
  });
  child.stdin!.on('error', () => {}); // the lab has exited
  let timedOut = false;
  let killer: NodeJS.Timeout | undefined;
  const stopLab = () => {
    child.stdin!.end();
    killer ??= setTimeout(() => child.kill('SIGKILL'), 15_000);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stopLab();
  }, timeoutMs);
  process.on('SIGINT', stopLab);
  process.on('SIGTERM', stopLab);
  return new Promise((resolve, reject) => {
    child.once('error', (e) => reject(new LabError(`cannot start unshare: ${e.message}`, LAB_EXIT_ENVIRONMENT)));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (killer) clearTimeout(killer);
      process.off('SIGINT', stopLab);
      process.off('SIGTERM', stopLab);
      if (timedOut) reject(new LabError(`the lab did not finish within ${Math.round(timeoutMs / 1000)} s: stopped`, LAB_EXIT_FAILED));
      else resolve(code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : 1));
    });
  });
}
