/**
 * The lab's private network, built inside the lab's own network namespace
 * (the "server" namespace, where the lab process itself runs):
 *
 *   server namespace: br0 10.10.0.1/24 (HTTP :80, DNS :53, Redis :6379; tcpdump -i br0)
 *     ├─ veth n1 ── eth0 10.10.0.11  (a namespace of its own: normal client c1)
 *     ├─ ...        eth0 10.10.0.20  (c10)
 *     ├─ veth a1 ── eth0 10.10.0.101 (attacker of episode 1)
 *     └─ ...        eth0 10.10.0.106
 *
 * Each host is a namespace held by one `unshare -n sleep` process; programs run
 * in it through nsenter. One namespace per source address means every tool
 * sends from its own address with no binding or source NAT (source NAT on
 * loopback split connections into two half-flows in the prototype), and
 * slowhttptest, which cannot bind an address, gets one too. A host's veth is
 * deleted when its episode ends, so no packet from its address can appear
 * after the recorded window. IPv6 is disabled in every namespace (no
 * link-local fe80:: addresses, no neighbour discovery), MAC addresses are
 * fixed (02:00:0a:0a:00:XX), and segmentation/receive offloads and transmit
 * checksum offload are off on every interface: no 64 KB frames, and the
 * kernel writes real checksums before the capture sees the packet.
 */
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { LAB_EXIT_ENVIRONMENT, LabError } from './lab-error';
import { ProcessSet, sleep } from './processes';

export const LAB_PREFIX = '10.10.0';
export const SERVER_IP = `${LAB_PREFIX}.1`;
export const BRIDGE = 'br0';
/** offloads that make frames larger than the MTU or leave checksums to the (absent) hardware */
const OFFLOADS_OFF = ['tso', 'off', 'gso', 'off', 'gro', 'off', 'tx', 'off'];

const setupError = (message: string) => new LabError(`network setup failed: ${message}`, LAB_EXIT_ENVIRONMENT);

/** One host of the lab: its own network namespace behind one veth pair. */
export interface LabHost {
  name: string;
  ip: string;
  mac: string;
  /** the veth end in the server namespace, a port of br0 */
  port: string;
  /** the process whose network namespace is the host's */
  holderPid: number;
  /** false once its link was removed */
  up: boolean;
}

const macOf = (prefix: string, ip: string) => `${prefix}:${Number(ip.split('.')[3]).toString(16).padStart(2, '0')}`;

/**
 * True when this process runs in a namespace the lab created: PID 1 of its
 * PID namespace, and no network interface but loopback. The lab refuses to
 * touch a network it did not create.
 */
export function inFreshNamespace(): boolean {
  if (process.pid !== 1) return false;
  const devices = readFileSync('/proc/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0].trim())
    .filter((d) => d !== '');
  return devices.length === 1 && devices[0] === 'lo';
}

/** sysctl without procps: a file under /proc/sys of the current network namespace (absent when the kernel has no IPv6). */
function writeSysctl(path: string, value: string): void {
  try {
    writeFileSync(`/proc/sys/${path}`, value);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

const DISABLE_IPV6 = 'for f in /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/default/disable_ipv6; do [ -e $f ] && echo 1 > $f; done; true';

/**
 * Set up the server namespace: loopback (MTU 1500, no TSO/GSO: the measured
 * 64 KB-frame pitfall), no IPv6, and br0 (no multicast snooping) with the server address.
 */
export async function createServerSide(procs: ProcessSet): Promise<void> {
  writeSysctl('net/ipv6/conf/all/disable_ipv6', '1');
  writeSysctl('net/ipv6/conf/default/disable_ipv6', '1');
  writeSysctl('net/ipv6/conf/lo/disable_ipv6', '1');
  await procs.check('ip', ['link', 'set', 'lo', 'mtu', '1500', 'up'], setupError);
  await procs.check('ethtool', ['-K', 'lo', 'tso', 'off', 'gso', 'off'], setupError);
  // no multicast snooping: with it the bridge joins 224.0.0.106 (multicast router discovery) and the kernel
  // sends IGMPv3 reports for it from the server address, up to a second after br0 comes up (into a capture)
  await procs.check('ip', ['link', 'add', BRIDGE, 'address', macOf('02:00:0a:0a:00', SERVER_IP), 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0'], setupError);
  await procs.check('ip', ['addr', 'add', `${SERVER_IP}/24`, 'dev', BRIDGE], setupError);
  await procs.check('ip', ['link', 'set', BRIDGE, 'mtu', '1500', 'up'], setupError);
  await procs.check('ethtool', ['-K', BRIDGE, ...OFFLOADS_OFF], setupError);
}

/** Wait until `pid` sits in a network namespace other than ours (unshare has unshared and exec'd). */
async function waitNewNetns(pid: number): Promise<void> {
  const own = readlinkSync('/proc/self/ns/net');
  for (let i = 0; i < 200; i++) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/net`) !== own) return;
    } catch {
      // not yet visible
    }
    await sleep(10);
  }
  throw setupError(`the namespace of host pid ${pid} did not appear`);
}

/**
 * Create one host: a namespace, a veth pair into br0, its address and MAC.
 *
 * @param port - the veth name on the bridge side (<= 15 characters)
 */
export async function addHost(procs: ProcessSet, name: string, ip: string, port: string): Promise<LabHost> {
  const holder = procs.start('unshare', ['--net', 'sleep', '86400'], { stdio: 'ignore' });
  if (holder.pid === undefined) throw setupError(`cannot start the namespace of ${name}`);
  const pid = holder.pid;
  await waitNewNetns(pid);
  const inHost = { netnsPid: pid };
  await procs.check('sh', ['-c', `${DISABLE_IPV6}; ip link set lo up`], setupError, inHost);
  const mac = macOf('02:00:0a:0a:00', ip);
  await procs.check('ip', ['link', 'add', port, 'address', macOf('02:01:0a:0a:00', ip), 'type', 'veth', 'peer', 'name', 'eth0', 'address', mac, 'netns', String(pid)], setupError);
  await procs.check('ip', ['link', 'set', port, 'master', BRIDGE, 'mtu', '1500', 'up'], setupError);
  await procs.check('ethtool', ['-K', port, ...OFFLOADS_OFF], setupError);
  await procs.check('ip', ['addr', 'add', `${ip}/24`, 'dev', 'eth0'], setupError, inHost);
  await procs.check('ip', ['link', 'set', 'eth0', 'mtu', '1500', 'up'], setupError, inHost);
  await procs.check('ethtool', ['-K', 'eth0', ...OFFLOADS_OFF], setupError, inHost);
  return { name, ip, mac, port, holderPid: pid, up: true };
}

/** Delete a host's veth pair: from now on nothing can come from its address. */
export async function removeHostLink(procs: ProcessSet, host: LabHost): Promise<void> {
  if (!host.up) return;
  await procs.check('ip', ['link', 'del', host.port], setupError);
  host.up = false;
}

/** Wait until every bridge port is forwarding (no STP: at once, but the kernel sets it asynchronously). */
export async function waitBridgeReady(procs: ProcessSet, hosts: readonly LabHost[]): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await procs.run('ip', ['-o', 'link', 'show', 'master', BRIDGE]);
    const upCount = r.stdout.split('\n').filter((l) => /state UP/.test(l)).length;
    if (upCount >= hosts.length) return;
    await sleep(50);
  }
  throw setupError('the bridge ports did not come up');
}
