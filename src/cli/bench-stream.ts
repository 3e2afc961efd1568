/**
 * `npm run bench:stream`: end-to-end throughput of the stream command
 * (`node dist/cli/stream.js`, timed from spawn to exit: start-up, model load,
 * parse, scale, score, alerts written to a file). One table per kind:
 *
 *   1. the 5-feature reference CSV (5% anomalies, six decimals, like a log) piped
 *      through stdin, at N/4 and N rows to show that memory does not grow with the input;
 *   2. raw NSL-KDD lines (KDDTest+ repeated) piped through stdin, with a bundle
 *      that carries an encoder (one-hot + log1p, trained on normal records in the bench);
 *   3. both inputs through Redis Streams: `dist/cli/publish.js` and a consumer group
 *      of 1 and of 2 consumer processes, clocked from publish start to the last XACK;
 *   4. `--explain 3` on the NSL-KDD lines through stdin (every alert explained by
 *      exact TreeSHAP, its 3 strongest features).
 *
 * Every figure comes from the run: the wall clock of the child process and the
 * child's own --summary-json (records scored, alerts, peak RSS, batch latency).
 *
 *   npm run bench:stream -- [--rows 1000000] [--nsl-kdd-lines 250000] [--skip-redis]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { saveBundle } from '../persist/bundle';
import { DEFAULT_PARAMS } from '../params/params';
import { bundleFromPipeline, runPipeline } from '../workflow/pipeline';
import { simulateBatch } from '../data/simulate';
import { textTable, type TableRow } from '../notebook/tables';
import type { StreamSummary } from '../stream/loop';
import type { PublishSummary } from '../stream/redis-publisher';
import { integerOption, parseOptions } from './args';
import { ROOT, VENV_PYTHON } from './project';
import { benchPythonReady } from './setup';
import { CliError, runCommand } from './command';
import { loadNslKdd } from '../data/nslkdd-files';
import { NSL_KDD_SCHEMA } from '../data/flows';
import { readTextFile } from '../data/textfile';
import { prepareRealTraffic, realTrafficBundle } from '../workflow/real-traffic';
import { formatCount } from '../core/count-text';

/** Exit code when a measured stream run fails or miscounts. */
export const EXIT_RUN_FAILED = 3;

/** One input of the bench: a model bundle and a file of records for it. */
interface BenchInput {
  /** short name for file and stream names */
  key: string;
  /** what the tables call it */
  label: string;
  model: string;
  path: string;
  /** records in the file (what every run must score) */
  records: number;
  /** lines in the file: records + header */
  lines: number;
}

const mib = (path: string) => (statSync(path).size / 2 ** 20).toFixed(1);
const threadsLabel = (n: number) => `${n} thread${n > 1 ? 's' : ''}`;

async function writeCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('f1,f2,f3,f4,f5\n');
  const size = 10_000;
  for (let k = 0; k * size < rows; k++) {
    const b = simulateBatch(DEFAULT_PARAMS, 1000 + k, { size: Math.min(size, rows - k * size), anomalyShare: 0.05 });
    let text = '';
    for (let i = 0; i < b.X.rows; i++) {
      const r = b.X.data;
      const o = i * 5;
      text += `${r[o].toFixed(6)},${r[o + 1].toFixed(6)},${r[o + 2].toFixed(6)},${r[o + 3].toFixed(6)},${r[o + 4].toFixed(6)}\n`;
    }
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** `lines` raw NSL-KDD lines: the test file's lines, repeated from the top as often as needed. */
async function writeNslKddLines(path: string, testPath: string, lines: number): Promise<void> {
  const source = readTextFile(testPath).trimEnd().split('\n');
  const out = createWriteStream(path);
  for (let written = 0; written < lines; written += source.length) {
    if (!out.write(`${source.slice(0, Math.min(source.length, lines - written)).join('\n')}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Newlines in a file (the alerts an NDJSON file holds), read after the clock has stopped. */
async function countLines(path: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
  }
  return n;
}

function readSummary<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The wall clock of one `stream.js` run with `input` on stdin, and its --summary-json; checks the counts and the alerts file. */
async function pipeThrough(input: BenchInput, dir: string, threads: number, explain = 0): Promise<{ seconds: number; summary: StreamSummary }> {
  const tag = `${input.key}-${threads}-${explain}`;
  const summaryPath = join(dir, `summary-${tag}.json`);
  const alertsPath = join(dir, `alerts-${tag}.ndjson`);
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [join(__dirname, 'stream.js'), '--model', input.model, '--alerts', alertsPath, '--summary-json', summaryPath, '--progress-ms', '0', '--threads', String(threads), ...(explain > 0 ? ['--explain', String(explain)] : [])],
    { stdio: ['pipe', 'inherit', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  createReadStream(input.path, { highWaterMark: 1 << 20 }).pipe(child.stdin);
  const [code] = (await once(child, 'close')) as [number];
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) {
    process.stderr.write(stderr);
    throw new CliError(`the stream command failed with exit code ${code} on ${input.path} (its stderr is above)`, EXIT_RUN_FAILED);
  }
  const summary = readSummary<StreamSummary>(summaryPath);
  if (summary.recordsScored !== input.records || summary.linesRead !== input.lines) {
    throw new CliError(`${input.label}: expected ${input.records} records scored of ${input.lines} lines, got ${summary.recordsScored} of ${summary.linesRead}`, EXIT_RUN_FAILED);
  }
  const written = await countLines(alertsPath);
  if (written !== summary.recordsAnomalous) throw new CliError(`${input.label}: the summary counts ${summary.recordsAnomalous} alerts, ${alertsPath} holds ${written}`, EXIT_RUN_FAILED);
  rmSync(alertsPath, { force: true });
  console.log(`  ${input.label}, ${formatCount(input.records)} records, ${threadsLabel(threads)}${explain > 0 ? `, --explain ${explain}` : ''}: ${seconds.toFixed(2)} s`);
  return { seconds, summary };
}

/** One table row of a piped run. */
function pipeRow(input: BenchInput, threads: number, run: { seconds: number; summary: StreamSummary }, explain?: number): TableRow {
  const { seconds, summary } = run;
  return {
    records: formatCount(input.records),
    'input MiB': mib(input.path),
    threads,
    ...(explain === undefined ? {} : { explain: `top ${explain}` }),
    'wall s': seconds.toFixed(2),
    'records/s end to end': formatCount(input.records / seconds),
    'child s': summary.seconds.toFixed(2),
    'child records/s': formatCount(summary.recordsPerSecond),
    'alerts written': formatCount(summary.recordsAnomalous),
    'peak MiB': summary.peakRssMB.toFixed(0),
    'batch p50 ms': summary.batchLatencyMs?.p50.toFixed(2) ?? '-',
    'batch p99 ms': summary.batchLatencyMs?.p99.toFixed(2) ?? '-',
  };
}

/** Consumer-group shapes on this 2-core machine: [consumer processes, scoring threads each]. */
const GROUPS: ReadonlyArray<readonly [number, number]> = [
  [1, 2],
  [2, 1],
];

/**
 * Records/s through Redis, for each input: `consumers` group members
 * (dist/cli/stream.js --redis) are started and registered, then the input is
 * published (100 records per entry) and the clock runs from the publisher's
 * start until the group has read and acknowledged every entry (XINFO GROUPS:
 * lag 0, pending 0). Start-up of the consumers is not in the figure (they are
 * long-running); the publisher's is. One server for every input; each stream is
 * deleted after its run.
 *
 * @returns the table rows, or [] (with a note) when no redis-server >= 7 is found
 */
async function throughRedis(inputs: readonly BenchInput[], dir: string): Promise<TableRow[]> {
  const { startRedisServer, redisServerVersion } = await import('../stream/redis-server');
  const version = redisServerVersion();
  if (version === undefined) {
    console.log('  no redis-server >= 7 (nor the embedded valkey-server in .venv): Redis rows skipped (npm run setup installs it; Debian/Ubuntu: sudo apt-get install redis-server)');
    return [];
  }
  const { default: Redis } = await import('ioredis');
  const server = await startRedisServer();
  console.log(`  Redis server ${version} at ${server.url}`);
  const client = new Redis(server.url, { protocol: 2 });
  const out: TableRow[] = [];
  const field = (info: unknown[], name: string) => info[info.indexOf(name) + 1];
  const spawned: ChildProcess[] = [];
  try {
    for (const input of inputs) {
      for (const [consumers, threads] of GROUPS) {
        const stream = `bench-${input.key}-${consumers}`;
        const file = (what: string, k?: number) => join(dir, `redis-${what}-${input.key}-${consumers}${k === undefined ? '' : `-${k}`}.${what === 'summary' || what === 'publish' ? 'json' : 'ndjson'}`);
        const children = Array.from({ length: consumers }, (_, k) => {
          const args = ['--model', input.model, '--redis', server.url, '--stream', stream, '--group', 'g', '--consumer', `c${k}`, '--alerts', file('alerts', k), '--rejects', file('rejects', k)];
          const child = spawn(process.execPath, [join(__dirname, 'stream.js'), ...args, '--progress-ms', '0', '--threads', String(threads), '--exit-when-idle', '5000', '--summary-json', file('summary', k)], { stdio: ['ignore', 'ignore', 'pipe'] });
          spawned.push(child);
          let stderr = '';
          child.stderr.on('data', (d) => (stderr += d));
          return { child, exit: once(child, 'close').then(([code]) => ({ code: code as number, stderr })) };
        });
        // wait until every consumer has joined the group (model loaded, first read issued)
        for (let t = 0; ; t++) {
          const info = (await client.call('XINFO', 'CONSUMERS', stream, 'g').catch(() => [])) as unknown[];
          if (info.length >= consumers) break;
          if (t > 600) throw new CliError(`consumers did not join group g on ${stream} within 60 s`, EXIT_RUN_FAILED);
          await new Promise((r) => setTimeout(r, 100));
        }
        const started = performance.now();
        const pub = spawn(process.execPath, [join(__dirname, 'publish.js'), '--redis', server.url, '--stream', stream, '--input', input.path, '--records-per-entry', '100', '--summary-json', file('publish'), '--quiet'], { stdio: ['ignore', 'inherit', 'inherit'] });
        const [pubCode] = (await once(pub, 'close')) as [number];
        if (pubCode !== 0) throw new CliError(`publish failed (exit ${pubCode}) on ${input.path}`, EXIT_RUN_FAILED);
        const publishSeconds = (performance.now() - started) / 1000;
        const published = readSummary<PublishSummary>(file('publish'));
        if (published.recordsPublished !== input.records) throw new CliError(`${input.label}: expected ${input.records} records published, got ${published.recordsPublished}`, EXIT_RUN_FAILED);
        for (;;) {
          const groups = (await client.call('XINFO', 'GROUPS', stream)) as unknown[][];
          const g = groups[0];
          if (Number(field(g, 'entries-read')) >= published.entries && Number(field(g, 'lag')) === 0 && Number(field(g, 'pending')) === 0) break;
          // consumers stop after 5 s without entries: a publisher that starts slower than that (a loaded machine) would strand the rest
          if (children.every((c) => c.child.exitCode !== null)) throw new CliError(`every consumer stopped before the group finished: ${JSON.stringify(g)}`, EXIT_RUN_FAILED);
          if (performance.now() - started > 600_000) throw new CliError(`the group did not finish within 10 minutes: ${JSON.stringify(g)}`, EXIT_RUN_FAILED);
          await new Promise((r) => setTimeout(r, 10));
        }
        const seconds = (performance.now() - started) / 1000;
        let scored = 0;
        let alerts = 0;
        let peak = 0;
        for (const [k, c] of children.entries()) {
          const { code, stderr } = await c.exit;
          if (code !== 0) throw new CliError(`consumer c${k} failed (exit ${code}):\n${stderr}`, EXIT_RUN_FAILED);
          const s = readSummary<StreamSummary>(file('summary', k));
          const written = await countLines(file('alerts', k));
          if (written !== s.recordsAnomalous) throw new CliError(`consumer c${k}: the summary counts ${s.recordsAnomalous} alerts, its file holds ${written}`, EXIT_RUN_FAILED);
          scored += s.recordsScored;
          alerts += s.recordsAnomalous;
          peak = Math.max(peak, s.peakRssMB);
          rmSync(file('alerts', k), { force: true });
        }
        if (scored !== input.records) throw new CliError(`${input.label}: expected ${input.records} records scored through Redis, got ${scored}`, EXIT_RUN_FAILED);
        await client.call('DEL', stream);
        out.push({
          input: input.label,
          group: `${consumers} consumer${consumers > 1 ? 's' : ''} x ${threadsLabel(threads)}`,
          records: formatCount(input.records),
          entries: formatCount(published.entries),
          'wall s': seconds.toFixed(2),
          'records/s end to end': formatCount(input.records / seconds),
          'publish records/s': formatCount(input.records / publishSeconds),
          'alerts written': formatCount(alerts),
          'peak MiB (largest consumer)': peak.toFixed(0),
        });
        console.log(`  ${input.label}, ${formatCount(input.records)} records through Redis, ${consumers} consumer(s) x ${threadsLabel(threads)}: ${seconds.toFixed(2)} s`);
      }
    }
  } finally {
    for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM'); // after a failure: no orphans
    client.disconnect();
    await server.stop();
  }
  return out;
}

/** The pandas + scikit-learn loop's figure on the same lines, measured now (scripts/bench_stream_pandas.py), beside the pipe's. */
interface PandasRun {
  records: number;
  alerts: number;
  seconds: number;
  records_per_second: number;
  versions: string;
}

function pandasLine(input: BenchInput, trainPath: string, dir: string, pipeRows: TableRow[]): string {
  const why = benchPythonReady('bench:stream', 'pandas, sklearn');
  if (why !== undefined) return `reference not measured: ${why}\n`;
  const py = spawnSync(VENV_PYTHON, [join(ROOT, 'scripts', 'bench_stream_pandas.py'), '--schema', JSON.stringify(NSL_KDD_SCHEMA), '--train', trainPath, '--input', input.path, '--alerts', join(dir, 'alerts-pandas.ndjson')], { encoding: 'utf8' });
  if (py.status !== 0) throw new CliError(`scripts/bench_stream_pandas.py failed (exit ${py.status}): ${(py.stderr || py.stdout).trim().split('\n').pop()}`, EXIT_RUN_FAILED);
  const r = JSON.parse(py.stdout) as PandasRun;
  if (r.records !== input.records) throw new CliError(`the pandas loop scored ${r.records} of ${input.records} records`, EXIT_RUN_FAILED);
  const ratios = pipeRows.map((row) => `${row.threads} thread${row.threads === 1 ? '' : 's'} ${(Number(String(row['child records/s']).replace(/,/g, '')) / r.records_per_second).toFixed(2)}x`).join(', ');
  return `reference, same lines, this run: a pandas + scikit-learn loop (50,000-line chunks, same encoding and forest size, alerts written; model fitted before the clock) ${formatCount(r.records_per_second)} records/s, ${formatCount(r.alerts)} alerts (${r.versions}); the stream command's child records/s is ${ratios} that\n`;
}

/** The NSL-KDD bundle of the bench: one-hot + log1p, forest of 100 trees x 256 rows fitted on the training file's normal records. */
function trainNslKddModel(path: string): { testPath: string; trainPath: string; seconds: number } {
  const started = performance.now();
  const { train, test, testPath, trainPath } = loadNslKdd();
  const prepared = prepareRealTraffic(train, test, { trainOn: 'normal', log1p: true });
  saveBundle(path, realTrafficBundle(prepared, train, NSL_KDD_SEED, { nEstimators: 100, maxSamples: 256, contamination: 0.05 }));
  return { testPath, trainPath, seconds: (performance.now() - started) / 1000 };
}

const NSL_KDD_SEED = 0;

const USAGE = `usage: npm run bench:stream -- [--rows N] [--nsl-kdd-lines M] [--skip-redis]

Times node dist/cli/stream.js end to end (spawn to exit; alerts written to a file) and
prints records/s, alerts written and peak memory, one table per kind:
  1. CSV files of N/4 and N rows (default N = 1,000,000, at least 1000) of the reference
     distributions piped through stdin, on 2 threads and on 1;
  2. M raw NSL-KDD lines (default 250,000, at least 1000; KDDTest+ repeated) piped through
     stdin, on 2 threads and on 1, with a model trained here on the normal training records;
  3. both inputs through Redis Streams (publish 100 records per entry; a consumer group of
     1 process x 2 threads and of 2 processes x 1 thread), clocked from publish start to
     the last XACK (needs redis-server >= 7 or the embedded valkey-server; --skip-redis: none);
  4. --explain 3 on the M NSL-KDD lines through stdin, on 2 threads and on 1.

Exit codes: 0 done, 2 bad usage, 3 a measured run failed or miscounted, 1 unexpected
failure (a bug; set DEBUG=1 for the stack trace).`;

/** `npm run bench:stream` on `argv`; @returns the exit code (see USAGE) */
export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseOptions(argv, {
    help: { type: 'boolean', short: 'h' },
    rows: { type: 'string' },
    'nsl-kdd-lines': { type: 'string' },
    'skip-redis': { type: 'boolean' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const rows = integerOption('--rows', values.rows ?? '1000000', 1000);
  const nslLines = integerOption('--nsl-kdd-lines', values['nsl-kdd-lines'] ?? '250000', 1000);
  const benchStarted = performance.now();
  console.log(`node ${process.version}, ${cpus().length} cores, load average ${loadavg()[0].toFixed(2)} at start`);
  const dir = mkdtempSync(join(tmpdir(), 'netflow-bench-stream-'));
  try {
    // 1. the 5-feature reference CSV through the pipe
    const refModel = join(dir, 'model.json');
    saveBundle(refModel, bundleFromPipeline(runPipeline(DEFAULT_PARAMS)));
    const refInputs: BenchInput[] = [];
    for (const n of [Math.round(rows / 4), rows]) {
      const path = join(dir, `input-${n}.csv`);
      await writeCsv(path, n);
      refInputs.push({ key: `ref${n}`, label: '5-feature CSV', model: refModel, path, records: n, lines: n + 1 });
    }
    const refTable: TableRow[] = [];
    for (const input of refInputs) for (const threads of [2, 1]) refTable.push(pipeRow(input, threads, await pipeThrough(input, dir, threads)));
    console.log(`\n${textTable(refTable, { caption: '1. 5-feature reference CSV piped through stdin: node dist/cli/stream.js timed from spawn to exit (start-up, model load, parse + scale + score, alerts written to a file); child s / child records/s: the command\'s own --summary-json' })}\n`);

    // 2. raw NSL-KDD lines through the pipe
    const nslModel = join(dir, 'nslkdd-model.json');
    const trained = trainNslKddModel(nslModel);
    console.log(`  NSL-KDD model trained in ${trained.seconds.toFixed(1)} s (not in any figure)`);
    const nslPath = join(dir, 'nslkdd.txt');
    await writeNslKddLines(nslPath, trained.testPath, nslLines);
    const nsl: BenchInput = { key: 'nslkdd', label: 'NSL-KDD lines', model: nslModel, path: nslPath, records: nslLines, lines: nslLines };
    const nslTable: TableRow[] = [];
    for (const threads of [2, 1]) nslTable.push(pipeRow(nsl, threads, await pipeThrough(nsl, dir, threads)));
    console.log(`\n${textTable(nslTable, { caption: '2. raw NSL-KDD lines (KDDTest+ repeated) piped through stdin: stream.js timed from spawn to exit (parse, one-hot + log1p encode, scale, score, alerts written to a file); model trained on the normal training records' })}`);
    console.log(pandasLine(nsl, trained.trainPath, dir, nslTable));

    // 3. both inputs through Redis Streams
    if (values['skip-redis']) console.log('3. Redis rows skipped (--skip-redis)\n');
    else {
      const redisRows = await throughRedis([refInputs[refInputs.length - 1], nsl], dir);
      if (redisRows.length > 0) {
        console.log(`\n${textTable(redisRows, { caption: '3. through Redis Streams: publish.js (100 records per entry) + a consumer group of stream.js --redis processes (read, parse, score, alerts fsynced, XACK); clock from publish start to the last XACK (consumer start-up not included)' })}\n`);
      }
    }

    // 4. --explain 3 on the NSL-KDD lines through the pipe
    const explainTable: TableRow[] = [];
    for (const threads of [2, 1]) explainTable.push(pipeRow(nsl, threads, await pipeThrough(nsl, dir, threads, 3), 3));
    console.log(`\n${textTable(explainTable, { caption: '4. --explain 3 on raw NSL-KDD lines piped through stdin: stream.js timed from spawn to exit, every alert explained by exact TreeSHAP (its 3 strongest features) and written to a file' })}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nwhole bench: ${((performance.now() - benchStarted) / 1000).toFixed(0)} s, load average ${loadavg()[0].toFixed(2)} at the end`);
  return 0;
}

if (require.main === module) runCommand('bench:stream', main, { help: 'npm run bench:stream -- --help' });
