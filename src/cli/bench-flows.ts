/**
 * `npm run bench:flows`: packets to flows, our meter beside nfstream 6.6 on the same
 * pcap file, each in its own process on one core, median of --runs runs in alternation.
 * Three figures of ours:
 * - metering only: `readFlows` counting the flows, as nfstream's loop below only
 *   iterates its flows (the process is timed from inside, as nfstream's is);
 * - the command a user runs (`node dist/cli/flows.js`, timed from outside, start-up
 *   included), writing CSV and NDJSON to /dev/null: formatting 100 fields per flow is a
 *   cost nfstream's figure does not carry.
 * nfstream is timed inside Python from the streamer's creation to its last flow.
 *
 *   npm run bench:flows -- [--input FILE] [--repeat N] [--runs N]
 *
 * --input: a pcap or pcapng file, plain or gzip (default data/lab/mixed.pcap.gz); a
 * gzip file is unpacked to a temporary pcap first (nfstream reads plain files only).
 * --repeat N: the capture N times over in one file, each copy's times shifted past the
 * idle timeout so its flows are new flows (real packets, moved in time), for a run long
 * enough to time. Exit codes: 0 done, 2 bad usage, 4 input unreadable, 1 failure.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { integerOption, parseOptions } from './args';
import { UsageError } from './command';
import { readCapture } from '../capture/capture-reader';
import { textTable } from '../notebook/tables';
import { ROOT, VENV_PYTHON } from './project';
import { readFlows } from '../capture/flow-input';
import { formatCount } from '../core/count-text';

const USAGE = `usage: npm run bench:flows -- [--input FILE] [--repeat N] [--runs N]

Meters a capture into flows with our meter (npm run flows, one thread) and with nfstream
6.6 (pip install -r requirements-bench.txt), and prints packets/s and flows/s of both.

  --input FILE   pcap or pcapng, plain or gzip (default data/lab/mixed.pcap.gz)
  --repeat N     the capture N times over, each copy moved past the idle timeout (default: enough
                 copies for about 500,000 packets)
  --runs N       runs of each meter; the median is reported (default 3)

Exit codes: 0 done, 2 bad usage, 4 input unreadable or not a capture, 1 failure.`;

const IDLE_S = 120;

/** writes `times` copies of the capture's packets as one pcap (µs), copy k shifted by k x (span + idle + 1 s) */
async function writeRepeated(input: string, out: string, times: number): Promise<{ packets: number }> {
  const frames: Array<{ link: number; s: number; ns: number; data: Buffer; orig: number }> = [];
  await readCapture(createReadStream(input), {
    frame: (link, s, ns, data, offset, cap, orig) => frames.push({ link, s, ns, data: Buffer.from(data.subarray(offset, offset + cap)), orig }),
    skip: () => undefined,
  });
  if (frames.length === 0) throw new UsageError(`${input} holds no packets`);
  const links = new Set(frames.map((f) => f.link));
  if (links.size > 1) throw new UsageError(`${input} has several link types (${[...links].join(', ')}); a pcap file holds one`);
  const span = frames[frames.length - 1]!.s - frames[0]!.s + IDLE_S + 1;
  const fd = openSync(out, 'w');
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(frames[0]!.link, 20);
  writeSync(fd, header);
  const rec = Buffer.alloc(16);
  for (let k = 0; k < times; k++) {
    const parts: Buffer[] = [];
    for (const f of frames) {
      rec.writeUInt32LE(f.s + k * span, 0);
      rec.writeUInt32LE(Math.floor(f.ns / 1000), 4);
      rec.writeUInt32LE(f.data.length, 8);
      rec.writeUInt32LE(f.orig, 12);
      parts.push(Buffer.from(rec), f.data);
    }
    writeSync(fd, Buffer.concat(parts));
  }
  closeSync(fd);
  return { packets: frames.length * times };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseOptions(argv, { input: { type: 'string' }, repeat: { type: 'string' }, runs: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const input = values.input ?? join(ROOT, 'data', 'lab', 'mixed.pcap.gz');
  if (!existsSync(input)) {
    process.stderr.write(`bench:flows: cannot read input ${input}: no such file\n`);
    return 4;
  }
  const runs = values.runs === undefined ? 3 : integerOption('--runs', values.runs);
  const dir = mkdtempSync(join(tmpdir(), 'bench-flows-'));
  try {
    let packetsOnce = 0;
    await readCapture(createReadStream(input), { frame: () => void packetsOnce++, skip: () => undefined });
    const repeat = values.repeat === undefined ? Math.max(1, Math.ceil(500_000 / Math.max(1, packetsOnce))) : integerOption('--repeat', values.repeat);
    const file = join(dir, 'bench.pcap');
    const { packets } = await writeRepeated(input, file, repeat);
    process.stderr.write(`[bench:flows] ${input}: ${formatCount(packetsOnce)} packets x ${repeat} = ${formatCount(packets)} packets in ${file}\n`);

    const hasNfstream = existsSync(VENV_PYTHON) && spawnSync(VENV_PYTHON, ['-c', 'import nfstream'], { stdio: 'ignore' }).status === 0;
    const meterOnly: number[] = [];
    const meterWindows: number[] = [];
    const csv: number[] = [];
    const ndjson: number[] = [];
    const theirs: number[] = [];
    let ourFlows = 0;
    let theirFlows = 0;
    for (let r = 0; r < runs; r++) {
      for (const windows of [false, true]) {
        const p = spawnSync(process.execPath, [__filename, '--meter-only', file, ...(windows ? ['--windows'] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
        if (p.status !== 0) throw new Error(`the metering run failed on ${file} (exit ${p.status})`);
        const out = JSON.parse(p.stdout) as { flows: number; seconds: number };
        ourFlows = out.flows;
        (windows ? meterWindows : meterOnly).push(out.seconds);
      }
      for (const format of ['csv', 'ndjson'] as const) {
        const summary = join(dir, 'summary.json');
        const t0 = performance.now();
        const p = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'flows.js'), '--input', file, '--out', '/dev/null', '--output-format', format, '--quiet', '--summary-json', summary], { stdio: ['ignore', 'ignore', 'inherit'] });
        const seconds = (performance.now() - t0) / 1000;
        if (p.status !== 0) throw new Error(`npm run flows failed on ${file} (exit ${p.status})`);
        if ((JSON.parse(readFileSync(summary, 'utf8')) as { flows: number }).flows !== ourFlows) throw new Error('npm run flows and readFlows disagree on the flow count');
        (format === 'csv' ? csv : ndjson).push(seconds);
      }
      if (hasNfstream) {
        const p = spawnSync(VENV_PYTHON, [join(ROOT, 'scripts', 'bench_nfstream.py'), file], { encoding: 'utf8' });
        if (p.status !== 0) throw new Error(`nfstream failed: ${(p.stderr ?? '').trim().split('\n').pop()}`);
        const out = JSON.parse(p.stdout) as { flows: number; seconds: number };
        theirs.push(out.seconds);
        theirFlows = out.flows;
      }
    }
    const row = (meter: string, xs: number[], flows: number) => ({ meter, seconds: median(xs).toFixed(2), 'packets/s': formatCount(packets / median(xs)), 'flows/s': formatCount(flows / median(xs)), flows: formatCount(flows) });
    const rows = [
      row('ours: metering only (readFlows, flows counted)', meterOnly, ourFlows),
      row('ours: metering + window features', meterWindows, ourFlows),
      row('ours: npm run flows --output-format csv > /dev/null', csv, ourFlows),
      row('ours: npm run flows (NDJSON) > /dev/null', ndjson, ourFlows),
      ...(hasNfstream
        ? [row('nfstream 6.6.0 (n_meters=1, statistics, no dissection), flows iterated', theirs, theirFlows)]
        : []),
    ];
    process.stdout.write(`${textTable(rows, { caption: `${formatCount(packets)} packets, median of ${runs} runs each` })}\n`);
    if (hasNfstream) process.stdout.write(`metering only, ours / nfstream: ${(median(theirs) / median(meterOnly)).toFixed(1)}x the packets per second${theirFlows === ourFlows ? '' : ` (flow counts differ: ${ourFlows} vs ${theirFlows})`}\n`);
    else process.stdout.write('nfstream not installed in .venv (pip install -r requirements-bench.txt): our figures only\n');
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** the child of a metering-only run: prints {"flows","seconds"} */
async function meterOnlyRun(file: string, windows: boolean): Promise<void> {
  const t0 = performance.now();
  let flows = 0;
  await readFlows(createReadStream(file, { highWaterMark: 1 << 20 }), () => void flows++, { name: file, windows: windows ? {} : false });
  process.stdout.write(`${JSON.stringify({ flows, seconds: (performance.now() - t0) / 1000 })}\n`);
}

if (require.main === module && process.argv[2] === '--meter-only') {
  meterOnlyRun(process.argv[3]!, process.argv[4] === '--windows').catch((e) => {
    process.stderr.write(`bench:flows: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
} else if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e) => {
      process.stderr.write(`bench:flows: ${(e as Error).message}\n`);
      process.exitCode = e instanceof UsageError ? 2 : 1;
    },
  );
}
