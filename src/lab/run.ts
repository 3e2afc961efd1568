/**
 * The lab itself, run inside the namespaces that launch.ts creates: build the
 * network, start the servers, capture normal traffic, then capture normal
 * traffic with the attack episodes one after another, write the two captures
 * and truth.csv, check the labels against the capture, and take everything
 * down.
 */
import { mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRng } from '../core/rng';
import { Capture, countBadChecksums, countFlows, readPackets, type CaptureStats, type PacketLine } from './capture';
import { customerDump, EPISODES, EXFIL, type EpisodeContext, type EpisodeSpec } from './episodes';
import { outsideLauncherNamespaces } from './launch';
import { LAB_EXIT_ENVIRONMENT, LAB_EXIT_FAILED, LAB_EXIT_INTERRUPTED, LAB_EXIT_OUTPUT, LabError } from './lab-error';
import { NORMAL_CLIENTS, NORMAL_UPLOAD_SIZES, NormalTraffic, type NormalStats } from './normal';
import { lastLine, ProcessSet, sleep } from './processes';
import { startServers, type LabServers } from './servers';
import { addHost, BRIDGE, createServerSide, inFreshNamespace, removeHostLink, SERVER_IP, waitBridgeReady, type LabHost } from './topology';

export interface LabOptions {
  /** the output folder (absolute) */
  out: string;
  seed: number;
  quick: boolean;
  redis: { server: string; client: string };
  log: (line: string) => void;
  /** aborted on SIGINT / SIGTERM / the launcher going away */
  signal: AbortSignal;
}

/** How long each part lasts (ms). */
export function labTiming(quick: boolean) {
  return quick
    ? { normalMs: 15_000, leadMs: 3_000, trailMs: 3_000, gapMs: [1_000, 2_000] as const, tailMs: 1_000 }
    : { normalMs: 120_000, leadMs: 5_000, trailMs: 5_000, gapMs: [2_000, 4_000] as const, tailMs: 1_000 };
}

export interface EpisodeRecord {
  spec: EpisodeSpec;
  startMs: number;
  endMs: number;
  toolMs: number;
  exitCode: number | null;
}

export interface CaptureSummary {
  file: string;
  packets: number;
  flows: number;
  bytes: number;
  stats: CaptureStats;
  normal: NormalStats;
}

export interface LabResult {
  normal: CaptureSummary;
  mixed: CaptureSummary;
  episodes: (EpisodeRecord & { packetsFrom: number; packetsTo: number; flows: number })[];
  httpStats?: Record<string, number>;
  badChecksums: number;
  elapsedMs: number;
}

/** truth.csv: one row per episode of mixed.pcap (the capture column is the file name, as capture/ground-truth.ts matches it), epoch ms. */
export function truthCsv(episodes: readonly EpisodeRecord[]): string {
  const rows = episodes.map((e) => ['mixed.pcap', e.spec.name, e.spec.toolLabel, e.spec.ip, String(e.startMs), String(e.endMs)].join(','));
  return `capture,episode,tool,src_ip,start_ms,end_ms\n${rows.map((r) => `${r}\n`).join('')}`;
}

/**
 * Packets sent from an episode's address outside its window, and packets in
 * the normal capture from any episode address: both must be none.
 */
export function labelProblems(episodes: readonly EpisodeRecord[], mixed: readonly PacketLine[], normal: readonly PacketLine[]): string[] {
  const problems: string[] = [];
  for (const e of episodes) {
    const outside = mixed.filter((p) => p.from === e.spec.ip && (p.ms < e.startMs || p.ms > e.endMs));
    if (outside.length > 0) problems.push(`${outside.length} packets from ${e.spec.ip} (${e.spec.name}) fall outside [${e.startMs}, ${e.endMs}], first at ${outside[0].ms.toFixed(3)}`);
  }
  const attackers = new Set(episodes.map((e) => e.spec.ip));
  const leaked = normal.filter((p) => (p.from !== undefined && attackers.has(p.from)) || (p.to !== undefined && attackers.has(p.to)));
  if (leaked.length > 0) problems.push(`${leaked.length} packets of episode addresses in the normal capture`);
  return problems;
}

const interrupted = () => new LabError('interrupted: every lab process was stopped', LAB_EXIT_INTERRUPTED);

/** Run the whole lab; the caller must already be inside the lab's namespaces. */
export async function runLab(options: LabOptions): Promise<LabResult> {
  const t0 = Date.now();
  if (!inFreshNamespace() || !outsideLauncherNamespaces()) throw new LabError('refusing to run: not inside a fresh network namespace of the lab (start it with npm run traffic-lab)', LAB_EXIT_ENVIRONMENT);
  const { log, signal } = options;
  const timing = labTiming(options.quick);
  const procs = new ProcessSet();
  let tmp: string;
  try {
    tmp = mkdtempSync(join(options.out, '.traffic-lab-'));
  } catch (e) {
    throw new LabError(`cannot write to ${options.out}: ${(e as Error).message}`, LAB_EXIT_OUTPUT);
  }
  let servers: LabServers | undefined;
  let normalTraffic: NormalTraffic | undefined;
  const captures: Capture[] = [];
  const check = () => {
    if (signal.aborted) throw interrupted();
  };
  const onAbort = () => void procs.killAll(500);
  signal.addEventListener('abort', onAbort);
  try {
    // the lab's own resolver, in the lab's own mount namespace: curl's lookups go to dnsmasq
    writeFileSync(join(tmp, 'resolv.conf'), `nameserver ${SERVER_IP}\noptions timeout:2 attempts:2\n`);
    await procs.check('mount', ['--bind', join(tmp, 'resolv.conf'), '/etc/resolv.conf'], (m) => new LabError(`network setup failed: ${m}`, LAB_EXIT_ENVIRONMENT));
    await createServerSide(procs);
    const hosts = new Map<string, LabHost>();
    for (const c of NORMAL_CLIENTS) hosts.set(c.name, await addHost(procs, c.name, c.ip, `n${c.name.slice(1)}`));
    for (const e of EPISODES) hosts.set(e.name, await addHost(procs, e.name, e.ip, e.port));
    await waitBridgeReady(procs, [...hosts.values()]);
    check();
    log(`network: ${BRIDGE} ${SERVER_IP}/24, ${NORMAL_CLIENTS.length} client hosts, ${EPISODES.length} attacker hosts`);

    const uploadFiles = NORMAL_UPLOAD_SIZES.map((size, i) => {
      const file = join(tmp, `upload-${i}.bin`);
      writeFileSync(file, customerDump(options.seed + 1000 + i, size));
      return file;
    });
    const exfil = options.quick ? EXFIL.quick : EXFIL.default;
    const dumpFile = join(tmp, 'customers.csv');
    writeFileSync(dumpFile, customerDump(options.seed, exfil.bytes));

    servers = await startServers(procs, options.redis, tmp);
    check();
    log(`servers: http ${SERVER_IP}:80, dnsmasq ${SERVER_IP}:53, redis ${SERVER_IP}:6379 (${options.redis.server.split('/').pop()})`);
    const normalCtx = { redisCli: options.redis.client, uploadFiles };

    // 1. normal traffic only
    const normalRaw = join(tmp, 'normal.pcap');
    let cap = await Capture.start(procs, BRIDGE, normalRaw);
    captures.push(cap);
    log(`normal capture: ${timing.normalMs / 1000} s`);
    normalTraffic = new NormalTraffic(procs, hosts, normalCtx, options.seed, 'normal');
    normalTraffic.start(timing.normalMs - 1500);
    await sleepUnless(timing.normalMs, signal);
    const normalStats = await normalTraffic.stop();
    normalTraffic = undefined;
    check();
    await sleep(500);
    const normalCapture = await cap.stop();
    captures.pop();
    failOnNormal(normalStats, 'normal');

    // 2. normal traffic with the episodes, one after another
    const mixedRaw = join(tmp, 'mixed.pcap');
    cap = await Capture.start(procs, BRIDGE, mixedRaw);
    captures.push(cap);
    log('mixed capture: normal traffic and the episodes');
    normalTraffic = new NormalTraffic(procs, hosts, normalCtx, options.seed, 'mixed');
    normalTraffic.start();
    await sleepUnless(timing.leadMs, signal);
    const gaps = createRng(options.seed, 'lab/episode-gaps');
    const ctx: EpisodeContext = { quick: options.quick, seed: options.seed, dumpFile };
    const records: EpisodeRecord[] = [];
    for (const [i, spec] of EPISODES.entries()) {
      check();
      if (i > 0) await sleepUnless(timing.gapMs[0] + gaps.int(timing.gapMs[1] - timing.gapMs[0] + 1), signal);
      const host = hosts.get(spec.name)!;
      const startMs = Date.now();
      const r = await procs.run(spec.tool, spec.args(ctx), { netnsPid: host.holderPid, timeoutMs: spec.timeoutMs(options.quick) });
      check();
      const ok = (spec.okCodes ?? [0]).includes(r.code ?? -1) && !r.timedOut;
      if (!ok) {
        const how = r.timedOut ? `did not finish within ${spec.timeoutMs(options.quick)} ms` : `exited with ${r.code ?? r.signal}`;
        throw new LabError(`episode ${spec.name}: ${spec.tool} ${how}${lastLine(r.stderr, r.stdout) ? `: ${lastLine(r.stderr, r.stdout)}` : ''}`, LAB_EXIT_FAILED);
      }
      // let the last FIN/ACK/RST exchanges end, then cut the host off: nothing can come from its address after endMs
      await sleepUnless(timing.tailMs, signal);
      await removeHostLink(procs, host);
      const endMs = Date.now();
      records.push({ spec, startMs, endMs, toolMs: r.endMs - r.startMs, exitCode: r.code });
      log(`  ${spec.name.padEnd(13)} ${spec.tool.padEnd(12)} ${spec.ip.padEnd(12)} ${((endMs - startMs) / 1000).toFixed(1)} s`);
    }
    await sleepUnless(timing.trailMs, signal);
    const mixedStats = await normalTraffic.stop();
    normalTraffic = undefined;
    check();
    await sleep(500);
    const mixedCapture = await cap.stop();
    captures.pop();
    failOnNormal(mixedStats, 'mixed');
    await servers.stop();
    const httpStats = servers.httpStats;
    servers = undefined;

    // 3. outputs: the captures (checksums checked), truth.csv, the label check
    let badChecksums = 0;
    for (const raw of [normalRaw, mixedRaw]) badChecksums += await countBadChecksums(raw);
    if (badChecksums > 0) throw new LabError(`${badChecksums} packets with wrong checksums in the captures (transmit checksum offload still on?)`, LAB_EXIT_FAILED);
    const normalPackets = await readPackets(normalRaw);
    const mixedPackets = await readPackets(mixedRaw);
    const problems = labelProblems(records, mixedPackets, normalPackets);
    if (problems.length > 0) throw new Error(`the labels do not match the capture: ${problems.join('; ')}`);
    const finalNormal = join(options.out, 'normal.pcap');
    const finalMixed = join(options.out, 'mixed.pcap');
    writeFileSync(join(tmp, 'truth.csv'), truthCsv(records));
    renameSync(normalRaw, finalNormal);
    renameSync(mixedRaw, finalMixed);
    renameSync(join(tmp, 'truth.csv'), join(options.out, 'truth.csv'));
    const summary = (file: string, packets: PacketLine[], stats: CaptureStats, normal: NormalStats): CaptureSummary => ({ file, packets: packets.length, flows: countFlows(packets), bytes: statSync(file).size, stats, normal });
    return {
      normal: summary(finalNormal, normalPackets, normalCapture, normalStats),
      mixed: summary(finalMixed, mixedPackets, mixedCapture, mixedStats),
      episodes: records.map((e) => {
        const mine = mixedPackets.filter((p) => p.from === e.spec.ip || p.to === e.spec.ip);
        return { ...e, packetsFrom: mine.filter((p) => p.from === e.spec.ip).length, packetsTo: mine.filter((p) => p.to === e.spec.ip).length, flows: countFlows(mine) };
      }),
      httpStats,
      badChecksums,
      elapsedMs: Date.now() - t0,
    };
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (normalTraffic) await normalTraffic.stop().catch(() => undefined);
    for (const c of captures) await c.stop().catch(() => undefined);
    if (servers) await servers.stop().catch(() => undefined);
    await procs.killAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Most normal actions must succeed: a few may fail while the flood or slowloris runs, as on a real network. */
function failOnNormal(stats: NormalStats, capture: string): void {
  if (stats.events === 0 || stats.failed > stats.events / 2) {
    throw new LabError(`normal clients in the ${capture} capture: ${stats.failed} of ${stats.events} actions failed${stats.firstFailure ? `, first: ${stats.firstFailure}` : ''}`, LAB_EXIT_FAILED);
  }
}

/** Sleep `ms`, ending early (with an interruption error) when `signal` aborts. */
async function sleepUnless(ms: number, signal: AbortSignal): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (signal.aborted) throw interrupted();
    await sleep(Math.min(100, until - Date.now()));
  }
}
