/**
 * `npm run traffic-lab -- --out DIR`: real, labelled network traffic from a
 * private lab network (Linux, root). See data/lab/README.md.
 *
 *   npm run traffic-lab -- --out DIR [--seed N] [--quick]
 *
 * The command checks its tools, then re-runs itself inside new namespaces
 * (src/lab/launch.ts) with the internal option --inside-namespace, where the
 * lab runs (src/lab/run.ts). Only the lab process in those namespaces takes
 * that option: it refuses to run anywhere else.
 */
import { mkdirSync, accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { distFile } from '../core/paths';
import { EPISODES } from '../lab/episodes';
import { LAB_EXIT_INTERRUPTED, LabError } from '../lab/lab-error';
import { checkNamespaces, runInNamespaces } from '../lab/launch';
import { checkLabTools, LAB_DEBIAN_PACKAGES } from '../lab/packages';
import { labTiming, runLab, type LabResult } from '../lab/run';
import { integerOption, parseOptions } from './args';
import { CliError, EXIT_OUTPUT, runCommand, UsageError } from './command';

const USAGE = `usage: npm run traffic-lab -- --out DIR [--seed N] [--quick]

Builds a private network in namespaces of its own (10.10.0.0/24: a server, 5 normal
clients, 6 attackers), starts real servers (HTTP with a login, dnsmasq, Redis), captures
on the server side with tcpdump and writes into DIR:
  normal.pcap   normal clients only (${labTiming(false).normalMs / 1000} s; --quick: ${labTiming(true).normalMs / 1000} s)
  mixed.pcap    normal clients plus the attack episodes, one after another
  truth.csv     capture,episode,tool,src_ip,start_ms,end_ms (epoch ms; unlisted addresses are normal)
Episodes: ${EPISODES.map((e) => `${e.name} (${e.tool})`).join(', ')}.

Options:
  --out DIR   output folder (created if missing)
  --seed N    seed of the normal clients' schedule, the passwords and the data (default 42)
  --quick     shorter captures and episodes (under 90 s; the test uses it)
  --help      this text

Needs Linux, root, and: ${LAB_DEBIAN_PACKAGES.join(' ')} (Debian packages), plus a Redis
server >= 7 (system redis-server + redis-cli, or npm run setup's embedded valkey).
Runs in about 3.5 minutes, stopped at 5 (--quick: about 65 s, stopped at 90); every process it starts ends with it.

Exit codes: 0 done, 2 bad usage, 3 a missing tool, not root, or the namespaces cannot be
created, 4 a server or tool failed (or the lab overran its time), 5 DIR cannot be written,
130 interrupted, 1 unexpected failure (a bug; set DEBUG=1 for the stack trace).`;

const OPTIONS = {
  out: { type: 'string' },
  seed: { type: 'string' },
  quick: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'inside-namespace': { type: 'boolean' },
} as const;

/** The launcher's overall bound: the lab's own plan plus a margin. */
const TIME_LIMIT_MS = { quick: 88_000, default: 300_000 };

const asCli = (e: unknown): never => {
  if (e instanceof LabError) throw new CliError(e.message, e.exitCode);
  throw e;
};

/** `npm run traffic-lab` on `argv`; @returns the exit code (see USAGE) */
export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseOptions(argv, OPTIONS);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.out === undefined) throw new UsageError('--out DIR is required');
  const seed = values.seed === undefined ? 42 : integerOption('--seed', values.seed, 0);
  const quick = values.quick === true;
  const out = resolve(values.out);
  if (values['inside-namespace']) return inside(out, seed, quick).catch(asCli);
  try {
    checkNamespaces();
    checkLabTools();
  } catch (e) {
    asCli(e);
  }
  try {
    mkdirSync(out, { recursive: true });
    accessSync(out, constants.W_OK);
  } catch (e) {
    throw new CliError(`cannot write to ${out}: ${(e as Error).message}`, EXIT_OUTPUT);
  }
  const args = ['--inside-namespace', '--out', out, '--seed', String(seed), ...(quick ? ['--quick'] : [])];
  return runInNamespaces(distFile('cli/traffic-lab.js'), args, quick ? TIME_LIMIT_MS.quick : TIME_LIMIT_MS.default).catch(asCli);
}

/** The lab side: run it, print what it made. */
async function inside(out: string, seed: number, quick: boolean): Promise<number> {
  const redis = checkLabTools();
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // the launcher closes our stdin to stop us (Ctrl-C, its time limit, or its own end)
  process.stdin.on('end', stop).on('close', stop).on('error', stop).resume();
  try {
    const result = await runLab({ out, seed, quick, redis, log: (l) => console.log(l), signal: abort.signal });
    printSummary(result, seed, quick);
    return 0;
  } catch (e) {
    if (abort.signal.aborted && !(e instanceof LabError && e.exitCode !== LAB_EXIT_INTERRUPTED)) throw new CliError('interrupted: every lab process was stopped', LAB_EXIT_INTERRUPTED);
    throw e;
  } finally {
    process.stdin.destroy();
  }
}

function printSummary(r: LabResult, seed: number, quick: boolean): void {
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  const line = (name: string, c: LabResult['normal']) =>
    `${name.padEnd(11)} ${String(c.packets).padStart(7)} packets ${String(c.flows).padStart(6)} flows ${mb(c.bytes).padStart(9)}  normal actions ${c.normal.events} (${c.normal.failed} failed), dropped by kernel ${c.stats.droppedByKernel}`;
  console.log(`\ntraffic lab (seed ${seed}${quick ? ', quick' : ''}) done in ${(r.elapsedMs / 1000).toFixed(1)} s`);
  console.log(line('normal.pcap', r.normal));
  console.log(line('mixed.pcap', r.mixed));
  console.log('episode       tool         source       window(s) tool(s) pkts-from pkts-to  flows');
  for (const e of r.episodes) {
    console.log(
      `${e.spec.name.padEnd(13)} ${e.spec.tool.padEnd(12)} ${e.spec.ip.padEnd(12)} ${((e.endMs - e.startMs) / 1000).toFixed(1).padStart(9)} ${(e.toolMs / 1000).toFixed(1).padStart(7)} ${String(e.packetsFrom).padStart(9)} ${String(e.packetsTo).padStart(7)} ${String(e.flows).padStart(6)}`,
    );
  }
  if (r.httpStats) console.log(`web server: ${Object.entries(r.httpStats).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`checksums: all valid; labels: every packet from an episode address lies inside its window`);
}

if (require.main === module) runCommand('traffic-lab', main, { help: 'npm run traffic-lab -- --help', forceExit: true });
