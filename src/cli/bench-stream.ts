/**
 * `npm run bench:stream`: end-to-end throughput of the stream command. Writes
 * CSV files of the reference distributions (5% anomalies, six decimals, like a
 * log), pipes each through `dist/cli/stream.js` (parse + scale + score + alerts
 * to a file) and prints rows/s and peak memory, at two input sizes to show that
 * memory does not grow with the input. At the full size it also runs with
 * `--explain 3` (every alert explained by exact TreeSHAP, its 3 strongest features).
 *
 *   npm run bench:stream -- [--rows 1000000]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { saveBundle } from '../persist/bundle';
import { DEFAULT_PARAMS } from '../core/params';
import { bundleFromPipeline, runPipeline } from '../workflow/pipeline';
import { simulateBatch } from '../data/simulate';
import { textTable, type TableRow } from '../notebook/tables';
import type { StreamSummary } from '../stream/loop';
import { integerOption, parseOptions } from './args';
import { CliError, runCommand } from './command';
import { loadNslKdd } from '../data/nslkdd-files';
import { readTextFile } from '../data/textfile';
import { prepareRealTraffic, realTrafficBundle } from '../workflow/real-traffic';

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

/** `--explain 3` runs (each alert also explained: its 3 strongest features) beside the plain ones: [threads, explain K]. */
const RUNS: ReadonlyArray<readonly [number, number]> = [[2, 0], [1, 0], [2, 3], [1, 3]];

async function pipeThrough(model: string, csv: string, dir: string, threads: number, explain = 0): Promise<{ seconds: number; summary: StreamSummary }> {
  const summaryPath = join(dir, `summary-${threads}.json`);
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [join(__dirname, 'stream.js'), '--model', model, '--alerts', join(dir, 'alerts.ndjson'), '--summary-json', summaryPath, '--progress-ms', '0', '--threads', String(threads), ...(explain > 0 ? ['--explain', String(explain)] : [])],
    { stdio: ['pipe', 'inherit', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  createReadStream(csv, { highWaterMark: 1 << 20 }).pipe(child.stdin);
  const [code] = (await once(child, 'close')) as [number];
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) {
    process.stderr.write(stderr);
    throw new CliError(`the stream command failed with exit code ${code} on ${csv} (its stderr is above)`, EXIT_RUN_FAILED);
  }
  return { seconds, summary: JSON.parse(readFileSync(summaryPath, 'utf8')) as StreamSummary };
}

/**
 * Records/s through Redis: `consumers` group members (dist/cli/stream.js --redis) are
 * started and registered, then the CSV is published (100 records per entry) and the
 * clock runs from the publisher's start until the group has read and acknowledged
 * every entry (XINFO GROUPS: lag 0, pending 0). Start-up of the consumers is not
 * in the figure (they are long-running); the publisher's is.
 */
async function throughRedis(model: string, csv: string, dir: string, rows: number): Promise<TableRow[]> {
  const { startRedisServer, redisServerVersion } = await import('../stream/redis-server');
  const { default: Redis } = await import('ioredis');
  if (redisServerVersion() === undefined) {
    console.log('  redis-server is not installed: Redis rows skipped (Debian/Ubuntu: sudo apt-get install redis-server)');
    return [];
  }
  const server = await startRedisServer();
  const client = new Redis(server.url, { protocol: 2 });
  const out: TableRow[] = [];
  const field = (info: unknown[], name: string) => info[info.indexOf(name) + 1];
  const spawned: ChildProcess[] = [];
  try {
    for (const [consumers, threads] of [
      [1, 2],
      [2, 1],
    ] as const) {
      const stream = `bench-${consumers}`;
      const children = Array.from({ length: consumers }, (_, k) => {
        const args = ['--model', model, '--redis', server.url, '--stream', stream, '--group', 'g', '--consumer', `c${k}`, '--alerts', join(dir, `redis-alerts-${consumers}-${k}.ndjson`), '--rejects', join(dir, `redis-rejects-${consumers}-${k}.ndjson`)];
        const child = spawn(process.execPath, [join(__dirname, 'stream.js'), ...args, '--progress-ms', '0', '--threads', String(threads), '--exit-when-idle', '5000', '--summary-json', join(dir, `redis-summary-${consumers}-${k}.json`)], { stdio: ['ignore', 'ignore', 'pipe'] });
        spawned.push(child);
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        return { child, exit: once(child, 'close').then(([code]) => ({ code: code as number, stderr })) };
      });
      // wait until every consumer has joined the group (model loaded, first read issued)
      for (let t = 0; ; t++) {
        const info = (await client.call('XINFO', 'CONSUMERS', stream, 'g').catch(() => [])) as unknown[];
        if (info.length >= consumers) break;
        if (t > 600) throw new Error(`consumers did not join group g on ${stream} within 60 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const started = performance.now();
      const pub = spawn(process.execPath, [join(__dirname, 'publish.js'), '--redis', server.url, '--stream', stream, '--input', csv, '--records-per-entry', '100', '--summary-json', join(dir, `publish-${consumers}.json`), '--quiet'], { stdio: ['ignore', 'inherit', 'inherit'] });
      const [pubCode] = (await once(pub, 'close')) as [number];
      if (pubCode !== 0) throw new Error(`publish failed (exit ${pubCode})`);
      const publishSeconds = (performance.now() - started) / 1000;
      const entries = Math.ceil(rows / 100);
      for (;;) {
        const groups = (await client.call('XINFO', 'GROUPS', stream)) as unknown[][];
        const g = groups[0];
        if (Number(field(g, 'entries-read')) >= entries && Number(field(g, 'lag')) === 0 && Number(field(g, 'pending')) === 0) break;
        // consumers stop after 5 s without entries: a publisher that starts slower than that (a loaded machine) would strand the rest
        if (children.every((c) => c.child.exitCode !== null)) throw new Error(`every consumer stopped before the group finished: ${JSON.stringify(g)}`);
        if (performance.now() - started > 600_000) throw new Error(`the group did not finish within 10 minutes: ${JSON.stringify(g)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const seconds = (performance.now() - started) / 1000;
      let scored = 0;
      let peak = 0;
      for (const [k, c] of children.entries()) {
        const { code, stderr } = await c.exit;
        if (code !== 0) throw new Error(`consumer c${k} failed (exit ${code}):\n${stderr}`);
        const s = JSON.parse(readFileSync(join(dir, `redis-summary-${consumers}-${k}.json`), 'utf8')) as { recordsScored: number; peakRssMB: number };
        scored += s.recordsScored;
        peak = Math.max(peak, s.peakRssMB);
      }
      if (scored !== rows) throw new Error(`expected ${rows} records scored through Redis, got ${scored}`);
      out.push({
        path: `redis, ${consumers} consumer${consumers > 1 ? 's' : ''} x ${threads} thread${threads > 1 ? 's' : ''}`,
        rows: rows.toLocaleString('en-US'),
        'wall s': seconds.toFixed(2),
        'records/s end to end': Math.round(rows / seconds).toLocaleString('en-US'),
        'publish records/s': Math.round(rows / publishSeconds).toLocaleString('en-US'),
        'peak MiB': peak.toFixed(0),
      });
      console.log(`  ${rows.toLocaleString('en-US')} rows through Redis, ${consumers} consumer(s): ${seconds.toFixed(2)} s`);
    }
  } finally {
    for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM'); // after a failure: no orphans
    client.disconnect();
    await server.stop();
  }
  return out;
}

/** Exit code when a measured stream run fails or miscounts. */
export const EXIT_RUN_FAILED = 3;

const USAGE = `usage: npm run bench:stream -- [--rows N]

Pipes CSV files of N/4 and N rows (default N = 1,000,000, at least 1000) of the reference
distributions through the stream command, on 2 threads and on 1, and prints rows/s and
peak memory.

Exit codes: 0 done, 2 bad usage, 3 a measured run failed or miscounted, 1 unexpected
failure (a bug; set DEBUG=1 for the stack trace).`;

/** The same measurement on raw NSL-KDD records, with a bundle that carries an encoder. */
async function benchNslKdd(dir: string, rows: number): Promise<TableRow[]> {
  const { train, test, testPath } = loadNslKdd();
  const model = join(dir, 'nslkdd-model.json');
  saveBundle(model, realTrafficBundle(prepareRealTraffic(train, test, { trainOn: 'normal', encoding: 'onehot', log1p: true }), train, 0));
  const lines = readTextFile(testPath).trimEnd().split('\n');
  const csv = join(dir, 'nslkdd.csv');
  const out = createWriteStream(csv);
  for (let written = 0; written < rows; written += lines.length) {
    if (!out.write(`${lines.slice(0, Math.min(lines.length, rows - written)).join('\n')}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const table: TableRow[] = [];
  for (const [threads, explain] of RUNS) {
    const { seconds, summary } = await pipeThrough(model, csv, dir, threads, explain);
    if (summary.recordsScored !== rows) throw new CliError(`expected ${rows} NSL-KDD records scored, got ${summary.recordsScored}`, EXIT_RUN_FAILED);
    table.push({
      rows: rows.toLocaleString('en-US'),
      'input MiB': (statSync(csv).size / 2 ** 20).toFixed(1),
      threads,
      explain: explain > 0 ? `top ${explain}` : '-',
      'wall s': seconds.toFixed(2),
      'rows/s end to end': Math.round(rows / seconds).toLocaleString('en-US'),
      'peak MiB': summary.peakRssMB.toFixed(0),
      alerts: summary.recordsAnomalous.toLocaleString('en-US'),
    });
    console.log(`  NSL-KDD ${rows.toLocaleString('en-US')} rows, ${threads} thread(s)${explain > 0 ? `, --explain ${explain}` : ''}: ${seconds.toFixed(2)} s`);
  }
  return table;
}

/** `npm run bench:stream` on `argv`; @returns the exit code (see USAGE) */
export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseOptions(argv, { help: { type: 'boolean', short: 'h' }, rows: { type: 'string' } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const rows = integerOption('--rows', values.rows ?? '1000000', 1000);
  const dir = mkdtempSync(join(tmpdir(), 'netflow-bench-stream-'));
  try {
    const model = join(dir, 'model.json');
    saveBundle(model, bundleFromPipeline(runPipeline(DEFAULT_PARAMS)));
    const table: TableRow[] = [];
    for (const n of [Math.round(rows / 4), rows]) {
      const csv = join(dir, `input-${n}.csv`);
      await writeCsv(csv, n);
      for (const [threads, explain] of n === rows ? RUNS : RUNS.filter(([, k]) => k === 0)) {
        const { seconds, summary } = await pipeThrough(model, csv, dir, threads, explain);
        if (summary.recordsScored !== n || summary.linesRead !== n + 1) {
          throw new CliError(`expected ${n} records scored of ${n + 1} lines, got ${summary.recordsScored} of ${summary.linesRead}`, EXIT_RUN_FAILED);
        }
        table.push({
          rows: n.toLocaleString('en-US'),
          'input MiB': (statSync(csv).size / 2 ** 20).toFixed(1),
          threads,
          explain: explain > 0 ? `top ${explain}` : '-',
          'wall s': seconds.toFixed(2),
          'rows/s end to end': Math.round(n / seconds).toLocaleString('en-US'),
          'peak MiB': summary.peakRssMB.toFixed(0),
          alerts: summary.recordsAnomalous.toLocaleString('en-US'),
          'batch p50 ms': summary.batchLatencyMs?.p50.toFixed(2) ?? '-',
          'batch p99 ms': summary.batchLatencyMs?.p99.toFixed(2) ?? '-',
        });
        console.log(`  ${n.toLocaleString('en-US')} rows, ${threads} thread(s)${explain > 0 ? `, --explain ${explain}` : ''}: ${seconds.toFixed(2)} s`);
      }
    }
    console.log(`\n${textTable(table, { caption: 'stream command: CSV piped through stdin, parse + scale + score + alerts (wall time includes start-up and model load)' })}`);
    const redisRows = await throughRedis(model, join(dir, `input-${rows}.csv`), dir, rows);
    if (redisRows.length > 0) {
      console.log(`\n${textTable(redisRows, { caption: 'through Redis Streams: publish (100 records per entry) + consumer group (read, parse, score, alerts fsynced, XACK); clock from publish start to the last XACK' })}`);
    }
    console.log(`\n${textTable(await benchNslKdd(dir, rows), { caption: 'raw NSL-KDD lines (KDDTest+ repeated; text categories encoded with the bundle\'s encoder): one-hot + log1p model trained on normal records' })}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}

if (require.main === module) runCommand('bench:stream', main, { help: 'npm run bench:stream -- --help' });
