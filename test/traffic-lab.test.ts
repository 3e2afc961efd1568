import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EPISODES, bruteForcePasswords, customerDump } from '../src/lab/episodes';
import { LAB_PASSWORD } from '../src/lab/http-server';
import { NORMAL_CLIENTS, clientEvents } from '../src/lab/normal';
import { countFlows, parsePacketLine } from '../src/lab/capture';
import { truthCsv } from '../src/lab/run';
import { readFlowFile } from '../src/capture/flow-input';
import { labelFlows, readGroundTruth } from '../src/capture/ground-truth';
import { labFiles } from '../src/capture/lab-files';
import { evaluateCaptures } from '../src/workflow/capture-evaluation';
import { LAB_DEBIAN_PACKAGES, LAB_TOOLS, which } from '../src/lab/packages';

/** Drives the real command (dist/cli/traffic-lab.js, built by pretest) as a subprocess. */
const CLI = join(__dirname, '..', 'dist', 'cli', 'traffic-lab.js');

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root';
  const r = spawnSync('unshare', ['--net', '--pid', '--fork', '--kill-child', '--mount-proc', 'true'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `unshare cannot create namespaces here (${r.error?.message ?? r.stderr.trim()})`;
  // a user's machine need not have the lab's tools; CI does (the test below checks that .ci/run installs them)
  const missing = LAB_TOOLS.find((t) => which(t.command) === undefined);
  if (missing) return `${missing.command} is not installed (Debian package ${missing.debianPackage}; the lab needs ${LAB_DEBIAN_PACKAGES.join(' ')})`;
  return undefined;
}
const skip = skipReason();
if (skip) console.warn(`traffic-lab: the lab run is skipped: ${skip}`);

/** `tcpdump -r F -nn -tt` lines (the test reads captures its own way, not through the lab's parser). */
function tcpdumpLines(file: string): string[] {
  const r = spawnSync('tcpdump', ['-r', file, '-nn', '-tt'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** [seconds, sender] of one line: an IP packet's source address, an ARP request's "tell X", an ARP reply's "X is-at". */
function sender(line: string): [number, string | undefined] {
  const t = Number(line.split(' ')[0]);
  const ip = / IP (\d+\.\d+\.\d+\.\d+)(?:\.\d+)? > /.exec(line);
  if (ip) return [t, ip[1]];
  const req = / ARP, Request who-has \S+ tell (\d+\.\d+\.\d+\.\d+)/.exec(line);
  if (req) return [t, req[1]];
  const rep = / ARP, Reply (\d+\.\d+\.\d+\.\d+) is-at/.exec(line);
  return [t, rep?.[1]];
}

describe('traffic lab pieces (no root needed)', () => {
  it('.ci/run installs exactly the Debian packages the lab checks for', () => {
    const ci = readFileSync(join(__dirname, '..', '.ci', 'run'), 'utf8');
    const m = /LAB_PACKAGES="([^"]+)"/.exec(ci);
    expect(m).not.toBeNull();
    expect(m![1]!.split(' ').sort()).toEqual([...LAB_DEBIAN_PACKAGES]);
  });
  it('the normal schedule is seeded: same seed, same actions; another seed, others', () => {
    const take = (seed: number, capture: string) => {
      const it = clientEvents(seed, capture, NORMAL_CLIENTS[0]);
      return Array.from({ length: 30 }, () => it.next().value);
    };
    expect(take(42, 'normal')).toEqual(take(42, 'normal'));
    expect(take(42, 'normal')).not.toEqual(take(43, 'normal'));
    expect(take(42, 'normal')).not.toEqual(take(42, 'mixed'));
    const times = take(42, 'normal').map((e) => e!.atMs);
    expect(times.every((t, i) => i === 0 || t > times[i - 1])).toBe(true);
  });
  it('the brute force never tries the right password; the dump is seeded and sized', () => {
    const pw = bruteForcePasswords(42, 200);
    expect(new Set(pw).size).toBeGreaterThan(150);
    expect(pw).not.toContain(LAB_PASSWORD);
    const a = customerDump(42, 100_000);
    expect(a.length).toBe(100_000);
    expect(a.equals(customerDump(42, 100_000))).toBe(true);
    expect(a.toString('latin1', 0, 50)).toMatch(/^id,first_name,last_name,email,city,iban,balance\n1,/);
  });
  it('reads tcpdump lines and counts flows both ways as one', () => {
    const a = parsePacketLine('1700000000.123456 IP 10.10.0.11.40000 > 10.10.0.1.80: tcp 0')!;
    expect(a).toMatchObject({ ms: 1700000000123.456, from: '10.10.0.11', to: '10.10.0.1', proto: 'tcp', sport: 40000, dport: 80 });
    const b = parsePacketLine('1700000000.2 IP 10.10.0.1.80 > 10.10.0.11.40000: tcp 100')!;
    const c = parsePacketLine('1700000000.3 IP 10.10.0.11.40000 > 10.10.0.1.53: UDP, length 34')!;
    expect(c.proto).toBe('udp');
    expect(parsePacketLine('1700000000.4 ARP, Request who-has 10.10.0.1 tell 10.10.0.101, length 28')).toMatchObject({ from: '10.10.0.101', proto: 'arp' });
    expect(parsePacketLine('1700000000.5 ARP, Reply 10.10.0.1 is-at 02:00:0a:0a:00:01, length 28')).toMatchObject({ from: '10.10.0.1', proto: 'arp' });
    expect(countFlows([a, b, c])).toBe(2);
  });
  it('truth.csv has its header and one row per episode', () => {
    const csv = truthCsv([{ spec: EPISODES[0], startMs: 1, endMs: 2, toolMs: 1, exitCode: 0 }]);
    expect(csv).toBe(`capture,episode,tool,src_ip,start_ms,end_ms\nmixed.pcap,syn-scan,nmap -sS,${EPISODES[0].ip},1,2\n`);
  });
  it('usage errors exit 2 with one line; --help exits 0', () => {
    const missing = spawnSync(process.execPath, [CLI], { encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe('traffic-lab: --out DIR is required (see npm run traffic-lab -- --help)\n');
    const seed = spawnSync(process.execPath, [CLI, '--out', tmpdir(), '--seed', 'x'], { encoding: 'utf8' });
    expect(seed.status).toBe(2);
    expect(seed.stderr).toMatch(/^traffic-lab: --seed must be a non-negative integer, got "x"/);
    const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Exit codes: 0 done, 2 bad usage, 3 /);
  });
  it('the inner lab refuses to run outside its namespaces (exit 3)', () => {
    const r = spawnSync(process.execPath, [CLI, '--inside-namespace', '--out', tmpdir()], { encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^traffic-lab: (refusing to run|.* not found)/);
  });
});

describe.skipIf(skip !== undefined)('npm run traffic-lab -- --quick (real namespaces, servers and tools)', () => {
  const out = mkdtempSync(join(tmpdir(), 'traffic-lab-'));
  let run: { code: number | null; stdout: string; stderr: string; ms: number };
  type Row = { capture: string; episode: string; tool: string; src_ip: string; start_ms: number; end_ms: number };
  let truth: Row[] = [];

  const devices = () => readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).map((l) => l.split(':')[0].trim()).filter((d) => d !== '').sort();
  let hostDevicesBefore: string[] = [];

  beforeAll(async () => {
    hostDevicesBefore = devices();
    const t0 = Date.now();
    run = await new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, '--quick', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 }));
    });
    if (run.code === 0) {
      const [header, ...lines] = readFileSync(join(out, 'truth.csv'), 'utf8').trim().split('\n');
      const cols = header.split(',');
      truth = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], cols[i].endsWith('_ms') ? Number(v) : v])) as Row);
    }
  }, 150_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('ends with exit 0 within 90 s, leaves no process of its own or temporary folder behind, and never touched the host network', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.ms).toBeLessThan(90_000);
    expect(run.stdout).toMatch(/labels: every packet from an episode address lies inside its window/);
    // this run's lab process (--out OUT) and its dnsmasq (--pid-file=OUT/.traffic-lab-*/...) name the folder
    const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    if (ps.status === 0) expect(ps.stdout.split('\n').filter((l) => l.includes(out))).toEqual([]);
    expect(devices()).toEqual(hostDevicesBefore);
    expect(spawnSync('ls', ['-A', out], { encoding: 'utf8' }).stdout.split('\n').filter((f) => f !== '').sort()).toEqual(['mixed.pcap', 'normal.pcap', 'truth.csv']);
  });

  it('writes two valid captures that tcpdump reads', () => {
    for (const f of ['normal.pcap', 'mixed.pcap']) {
      expect(existsSync(join(out, f))).toBe(true);
      expect(tcpdumpLines(join(out, f)).length).toBeGreaterThan(0);
    }
  });

  it('truth.csv lists every episode once, in the mixed capture, from its own address, without overlaps', () => {
    expect(readFileSync(join(out, 'truth.csv'), 'utf8').split('\n')[0]).toBe('capture,episode,tool,src_ip,start_ms,end_ms');
    expect(truth.map((r) => r.episode).sort()).toEqual(EPISODES.map((e) => e.name).sort());
    expect(new Set(truth.map((r) => r.src_ip)).size).toBe(truth.length);
    for (const r of truth) {
      expect(r.capture).toBe('mixed.pcap');
      expect(r.src_ip).toMatch(/^10\./);
      expect(r.end_ms).toBeGreaterThan(r.start_ms);
    }
    const sorted = [...truth].sort((a, b) => a.start_ms - b.start_ms);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i].start_ms).toBeGreaterThan(sorted[i - 1].end_ms);
  });

  it('the flow model trained on the shipped normal capture finds every episode of this new run', async () => {
    // the detection floors on traffic made here and now: the shipped normal capture trains (and sets
    // the threshold at 1% of its validation flows), this run's mixed capture is labelled by its truth.csv.
    // --quick episodes are shorter, so the few flows at each episode's start, before the source's
    // 2-second window fills, weigh more: 85% per episode (the full run: 95%, test/lab-detection.test.ts)
    const episodes = readGroundTruth(join(out, 'truth.csv'));
    const lab = labFiles();
    const normal = (await readFlowFile(lab.normal)).flows;
    const mixed = (await readFlowFile(join(out, 'mixed.pcap'))).flows;
    const e = evaluateCaptures(
      { source: 'normal.pcap', flows: normal, labels: labelFlows(normal, readGroundTruth(lab.truth), 'normal.pcap') },
      { source: 'mixed.pcap', flows: mixed, labels: labelFlows(mixed, episodes, 'mixed.pcap') },
      { seeds: [0, 1, 2], fprTargets: [0.01] },
    );
    const d = e.detection['1%']!;
    expect(Object.keys(d.perEpisode).sort()).toEqual(EPISODES.map((x) => x.name).sort());
    for (const [episode, s] of Object.entries(d.perEpisode)) expect([episode, s.mean >= 0.85]).toEqual([episode, true]);
    expect(d.detectionRate.mean).toBeGreaterThan(0.97);
    expect(d.testFpr.mean).toBeLessThan(0.05);
  }, 120_000);

  it('every packet from an episode address falls inside its window; the normal capture has none of them', () => {
    const mixed = tcpdumpLines(join(out, 'mixed.pcap')).map(sender);
    for (const r of truth) {
      const mine = mixed.filter(([, from]) => from === r.src_ip);
      expect(mine.length, `${r.episode}: packets from ${r.src_ip}`).toBeGreaterThan(0);
      const outside = mine.filter(([t]) => t * 1000 < r.start_ms || t * 1000 > r.end_ms);
      expect(outside.length, `${r.episode}: first outside at ${outside[0]?.[0]}`).toBe(0);
    }
    const attackers = new Set(truth.map((r) => r.src_ip));
    const normalLines = tcpdumpLines(join(out, 'normal.pcap'));
    expect(normalLines.filter((l) => [...attackers].some((a) => l.includes(`${a}.`) || l.includes(`${a} `) || l.endsWith(a)))).toEqual([]);
  });

  it('every address in the captures is a lab address (10.10.0.0/24)', () => {
    for (const f of ['normal.pcap', 'mixed.pcap']) {
      const lines = tcpdumpLines(join(out, f));
      const foreign = lines.filter((l) => !/ (IP|ARP,) /.test(l) || [...l.matchAll(/\b(\d+\.\d+\.\d+\.\d+)\b/g)].some((m) => !m[1].startsWith('10.10.0.')));
      expect(foreign.slice(0, 3), f).toEqual([]);
    }
  });
});
