/**
 * The server-side capture (tcpdump on br0, full packets) and reading a capture
 * back: the packet lines tcpdump prints, with their source and destination,
 * which the summary, the label check and the test use.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LAB_EXIT_FAILED, LabError } from './lab-error';
import { lastLine, ProcessSet } from './processes';

export interface CaptureStats {
  captured: number;
  droppedByKernel: number;
}

/** A running tcpdump writing `file`. */
export class Capture {
  private constructor(
    private readonly child: ChildProcess,
    private readonly output: () => string,
  ) {}

  /**
   * Start tcpdump on `iface` (run as root: -Z root, else it drops to the
   * tcpdump user and cannot write the lab's private folder) and wait until it
   * listens.
   */
  static async start(procs: ProcessSet, iface: string, file: string): Promise<Capture> {
    const child = procs.start('tcpdump', ['-i', iface, '-n', '-s', '0', '-B', '8192', '-U', '-Z', 'root', '-w', file]);
    let err = '';
    child.stdout!.resume();
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string) => reject(new LabError(`tcpdump on ${iface} ${why}${lastLine(err) ? `: ${lastLine(err)}` : ''}`, LAB_EXIT_FAILED));
      const timer = setTimeout(() => fail('did not start listening within 10 s'), 10_000);
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        err += d;
        if (/listening on/.test(err)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        fail(e.message);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(`exited with code ${code}`);
      });
    });
    return new Capture(child, () => err);
  }

  /** SIGINT (tcpdump flushes the file and prints its counts), then wait for it. */
  async stop(): Promise<CaptureStats> {
    const exited = new Promise<void>((r) => (this.child.exitCode !== null || this.child.signalCode !== null ? r() : this.child.once('exit', () => r())));
    this.child.kill('SIGINT');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
    const text = this.output();
    const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
    return { captured: num(/(\d+) packets? captured/), droppedByKernel: num(/(\d+) packets? dropped by kernel/) };
  }
}

/** One packet line of `tcpdump -r F -nn -tt -q`. */
export interface PacketLine {
  /** capture time, epoch ms (microsecond fraction kept) */
  ms: number;
  /** the address that sent it: an IP packet's source, an ARP request's sender ("tell X"), an ARP reply's "X is-at" */
  from?: string;
  to?: string;
  proto: 'tcp' | 'udp' | 'icmp' | 'arp' | 'other';
  sport?: number;
  dport?: number;
}

const IP_LINE = /^(\d+\.\d+) IP (\d+\.\d+\.\d+\.\d+)(?:\.(\d+))? > (\d+\.\d+\.\d+\.\d+)(?:\.(\d+))?: (\S+)/;
const ARP_REQUEST = /^(\d+\.\d+) ARP, Request who-has (\S+) tell (\S+?),/;
const ARP_REPLY = /^(\d+\.\d+) ARP, Reply (\S+) is-at/;

/** Parse one line of `tcpdump -nn -tt -q` output (undefined for a line that is not a packet). */
export function parsePacketLine(line: string): PacketLine | undefined {
  let m = IP_LINE.exec(line);
  if (m) {
    const word = m[6].toLowerCase();
    const proto = word.startsWith('tcp') ? 'tcp' : word.startsWith('udp') ? 'udp' : word.startsWith('icmp') ? 'icmp' : 'other';
    return { ms: Number(m[1]) * 1000, from: m[2], to: m[4], proto, sport: m[3] ? Number(m[3]) : undefined, dport: m[5] ? Number(m[5]) : undefined };
  }
  m = ARP_REQUEST.exec(line);
  if (m) return { ms: Number(m[1]) * 1000, from: m[3], to: m[2], proto: 'arp' };
  m = ARP_REPLY.exec(line);
  if (m) return { ms: Number(m[1]) * 1000, from: m[2], proto: 'arp' };
  const t = /^(\d+\.\d+) /.exec(line);
  return t ? { ms: Number(t[1]) * 1000, proto: 'other' } : undefined;
}

/** Every packet of a capture file, read with tcpdump. */
export async function readPackets(file: string): Promise<PacketLine[]> {
  const child = spawn('tcpdump', ['-r', file, '-nn', '-tt', '-q'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  const out: PacketLine[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    const p = parsePacketLine(line);
    if (p) out.push(p);
  }
  const code = await exited;
  if (code !== 0) throw new LabError(`tcpdump -r ${file} exited with code ${code}: ${lastLine(err)}`, LAB_EXIT_FAILED);
  return out;
}

/** Distinct flows: the 5-tuple with its two ends in a fixed order (ARP and other lines are not flows). */
export function countFlows(packets: readonly PacketLine[]): number {
  const flows = new Set<string>();
  for (const p of packets) {
    if (p.from === undefined || p.to === undefined || p.proto === 'arp') continue;
    const a = `${p.from}:${p.sport ?? ''}`;
    const b = `${p.to}:${p.dport ?? ''}`;
    flows.add(a < b ? `${p.proto} ${a} ${b}` : `${p.proto} ${b} ${a}`);
  }
  return flows.size;
}

/**
 * How many TCP/UDP/IP checksums tcpdump reports as wrong (`-vv`: "incorrect"):
 * 0 when the kernel computed them, which the lab ensures by switching
 * transmit checksum offload off (else loopback/veth captures carry partial
 * checksums).
 */
export async function countBadChecksums(file: string): Promise<number> {
  const child = spawn('tcpdump', ['-r', file, '-nn', '-vv'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let bad = 0;
  for await (const line of createInterface({ input: child.stdout })) if (/incorrect/.test(line)) bad++;
  return bad;
}
