/**
 * The attack episodes of the mixed capture: one row per episode, each from its
 * own host (namespace and address), run one after the other (never
 * overlapping) with real tools. Rates are bounded on purpose: on a veth pair
 * an unbounded scan of 4,000 ports took 0.14 s and an upload of 300 MB 0.8 s
 * in the prototype, too fast to look like anything on a network.
 */
import { createRng } from '../core/rng';
import { LAB_USER } from './http-server';
import { LAB_PREFIX, SERVER_IP } from './topology';

export interface EpisodeContext {
  quick: boolean;
  seed: number;
  /** the file the exfiltration uploads */
  dumpFile: string;
}

export interface EpisodeSpec {
  /** the label in truth.csv */
  name: string;
  /** the program run */
  tool: string;
  /** truth.csv's tool column: the program and its mode ("nmap -sS") */
  toolLabel: string;
  /** the source address, the host's only address */
  ip: string;
  /** the host's veth on the bridge */
  port: string;
  /** one line for the README and the summary */
  what: string;
  /** the arguments of `tool` */
  args(ctx: EpisodeContext): string[];
  /** kill the tool after this long: it failed */
  timeoutMs(quick: boolean): number;
  /** exit codes that mean the tool ran (hping3 ends with 1 when some probes got no answer) */
  okCodes?: readonly number[];
}

/** Bytes the exfiltration uploads, and its rate (curl --limit-rate). */
export const EXFIL = { default: { bytes: 24 * 1024 * 1024, rate: '4M' }, quick: { bytes: 6 * 1024 * 1024, rate: '3M' } } as const;

const COMMON_PASSWORDS = 'password 123456 12345678 qwerty letmein welcome admin dragon monkey football iloveyou sunshine princess master shadow trustno1 baseball superman michael secret'.split(' ');

/** The passwords the brute force tries: common ones, then seeded variants; never the right one. */
export function bruteForcePasswords(seed: number, n: number): string[] {
  const rng = createRng(seed, 'lab/brute-force');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const base = COMMON_PASSWORDS[i < COMMON_PASSWORDS.length ? i : rng.int(COMMON_PASSWORDS.length)];
    out.push(i < COMMON_PASSWORDS.length ? base : `${base}${rng.int(10_000)}`);
  }
  return out;
}

const nmapBase = (ip: string) => ['-Pn', '-n', '-e', 'eth0', '-S', ip, '--max-retries', '1'];

export const EPISODES: readonly EpisodeSpec[] = [
  {
    name: 'syn-scan',
    tool: 'nmap',
    toolLabel: 'nmap -sS',
    ip: `${LAB_PREFIX}.101`,
    port: 'a1',
    what: 'nmap -sS (half-open SYN scan) of ports 1-2000 (quick: 1-1000), --max-rate 400 packets/s',
    args: (c) => ['-sS', ...nmapBase(`${LAB_PREFIX}.101`), '--max-rate', '400', '-p', c.quick ? '1-1000' : '1-2000', SERVER_IP],
    timeoutMs: () => 60_000,
  },
  {
    name: 'version-scan',
    tool: 'nmap',
    toolLabel: 'nmap -sV',
    ip: `${LAB_PREFIX}.102`,
    port: 'a2',
    what: "nmap -sV --version-light (service/version detection) of nmap's default ports, the 1,000 most common (quick: 200), --max-rate 200",
    args: (c) => ['-sV', '--version-light', ...nmapBase(`${LAB_PREFIX}.102`), '--max-rate', '200', ...(c.quick ? ['--top-ports', '200'] : []), SERVER_IP],
    timeoutMs: () => 90_000,
  },
  {
    name: 'syn-flood',
    tool: 'hping3',
    toolLabel: 'hping3 -S',
    ip: `${LAB_PREFIX}.103`,
    port: 'a3',
    what: 'hping3 -S to port 80, 4000 SYNs (quick: 1500), one every 1 ms (-i u1000)',
    args: (c) => ['-S', '-p', '80', '-a', `${LAB_PREFIX}.103`, '-I', 'eth0', '-c', c.quick ? '1500' : '4000', '-i', 'u1000', '-q', SERVER_IP],
    timeoutMs: () => 60_000,
    okCodes: [0, 1],
  },
  {
    name: 'brute-force',
    tool: 'curl',
    toolLabel: 'curl POST /login',
    ip: `${LAB_PREFIX}.104`,
    port: 'a4',
    what: `curl POST /login as ${LAB_USER}/admin/root with 200 wrong passwords (quick: 60), 40 per second (--rate 40/s), one connection per attempt (Connection: close), as password-guessing tools do`,
    args: (c) => {
      const ip = `${LAB_PREFIX}.104`;
      const users = [LAB_USER, 'admin', 'root'];
      const passwords = bruteForcePasswords(c.seed, c.quick ? 60 : 200);
      const args = ['--rate', '40/s'];
      passwords.forEach((pw, i) => {
        if (i > 0) args.push('--next');
        args.push('-sS', '--max-time', '10', '--interface', ip, '-A', 'Mozilla/5.0 (compatible; login-check)', '-H', 'Connection: close', '-o', '/dev/null', '-w', '%{http_code}\\n');
        args.push('-d', `user=${users[i % users.length]}`, '--data-urlencode', `password=${pw}`, `http://${SERVER_IP}/login`);
      });
      return args;
    },
    timeoutMs: () => 60_000,
  },
  {
    name: 'slow-http',
    tool: 'slowhttptest',
    toolLabel: 'slowhttptest -H',
    ip: `${LAB_PREFIX}.105`,
    port: 'a5',
    what: 'slowhttptest -H (slowloris: headers never finished), 300 connections at 100/s (quick: 120 at 60/s), for 15 s (quick: 6 s)',
    args: (c) => ['-H', '-c', c.quick ? '120' : '300', '-r', c.quick ? '60' : '100', '-i', '5', '-x', '24', '-p', '3', '-l', c.quick ? '6' : '15', '-u', `http://${SERVER_IP}/`],
    timeoutMs: (quick) => (quick ? 30_000 : 45_000),
  },
  {
    name: 'exfiltration',
    tool: 'curl',
    toolLabel: 'curl POST /upload',
    ip: `${LAB_PREFIX}.106`,
    port: 'a6',
    what: `curl POST /upload of a ${EXFIL.default.bytes >> 20} MiB CSV dump (quick: ${EXFIL.quick.bytes >> 20} MiB) at --limit-rate ${EXFIL.default.rate} (quick: ${EXFIL.quick.rate})`,
    args: (c) => {
      const x = c.quick ? EXFIL.quick : EXFIL.default;
      return ['-sS', '--fail', '--max-time', '60', '--interface', `${LAB_PREFIX}.106`, '--limit-rate', x.rate, '-H', 'Content-Type: text/csv', '--data-binary', `@${c.dumpFile}`, '-o', '/dev/null', `http://${SERVER_IP}/upload`];
    },
    timeoutMs: () => 60_000,
  },
];

const FIRST = 'james mary robert patricia john jennifer michael linda david elizabeth william barbara richard susan joseph jessica thomas sarah'.split(' ');
const LAST = 'smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez wilson anderson thomas taylor moore'.split(' ');
const CITY = 'berlin paris madrid rome vienna lisbon dublin oslo prague warsaw'.split(' ');

/** A seeded customer-table dump of `bytes` bytes, what the exfiltration sends. */
export function customerDump(seed: number, bytes: number): Buffer {
  const rng = createRng(seed, 'lab/exfiltration');
  const parts: string[] = ['id,first_name,last_name,email,city,iban,balance\n'];
  let size = parts[0].length;
  for (let id = 1; size < bytes; id++) {
    const f = FIRST[rng.int(FIRST.length)];
    const l = LAST[rng.int(LAST.length)];
    const iban = `DE${String(10 + rng.int(90))}${String(rng.int(1e9)).padStart(9, '0')}${String(rng.int(1e9)).padStart(9, '0')}`;
    const line = `${id},${f},${l},${f}.${l}${rng.int(100)}@example.com,${CITY[rng.int(CITY.length)]},${iban},${(rng.next() * 20_000).toFixed(2)}\n`;
    parts.push(line);
    size += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}
