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
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { saveBundle } from '../persist/bundle';
import { DEFAULT_PARAMS } from '../core/params';
import { bundleFromPipeline, runPipeline } from '../workflow/pipeline';
import { simulateBatch } from '../data/simulate';
import { textTable, type TableRow } from '../notebook/tables';
import type { StreamSummary } from './stream';
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
  if (code !== 0) throw new Error(`stream command failed (exit ${code}):\n${stderr}`);
  return { seconds, summary: JSON.parse(readFileSync(summaryPath, 'utf8')) as StreamSummary };
}

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
    if (summary.recordsScored !== rows) throw new Error(`expected ${rows} NSL-KDD records scored, got ${summary.recordsScored}`);
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

async function main(): Promise<void> {
  const i = process.argv.indexOf('--rows');
  const rows = i >= 0 ? Number(process.argv[i + 1]) : 1_000_000;
  if (!Number.isInteger(rows) || rows < 1000) throw new Error(`--rows must be an integer >= 1000, got ${process.argv[i + 1]}`);
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
        if (summary.recordsScored !== n || summary.linesRead !== n + 1) throw new Error(`expected ${n} records scored, got ${summary.recordsScored}`);
        table.push({
          rows: n.toLocaleString('en-US'),
          'input MiB': (statSync(csv).size / 2 ** 20).toFixed(1),
          threads,
          explain: explain > 0 ? `top ${explain}` : '-',
          'wall s': seconds.toFixed(2),
          'rows/s end to end': Math.round(n / seconds).toLocaleString('en-US'),
          'peak MiB': summary.peakRssMB.toFixed(0),
          alerts: summary.recordsAnomalous.toLocaleString('en-US'),
          'batch p50 ms': summary.batchLatencyMs.p50.toFixed(2),
          'batch p99 ms': summary.batchLatencyMs.p99.toFixed(2),
        });
        console.log(`  ${n.toLocaleString('en-US')} rows, ${threads} thread(s)${explain > 0 ? `, --explain ${explain}` : ''}: ${seconds.toFixed(2)} s`);
      }
    }
    console.log(`\n${textTable(table, { caption: 'stream command: CSV piped through stdin, parse + scale + score + alerts (wall time includes start-up and model load)' })}`);
    console.log(`\n${textTable(await benchNslKdd(dir, rows), { caption: 'raw NSL-KDD lines (KDDTest+ repeated; text categories encoded with the bundle\'s encoder): one-hot + log1p model trained on normal records' })}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`npm run bench:stream: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
