import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBundle, saveBundle } from '../src/persist/bundle';
import { DEFAULT_PARAMS } from '../src/params/params';
import { bundleFromPipeline, runPipeline } from '../src/workflow/pipeline';
import { simulateBatch } from '../src/data/simulate';
import { processBatch } from '../src/stream/batch';
import { fromRows } from '../src/core/matrix';
import type { StreamSummary } from '../src/stream/loop';

/** Drives the real command (dist/cli/stream.js) as a subprocess. */

const CLI = join(__dirname, '..', 'dist', 'cli', 'stream.js');
const dir = mkdtempSync(join(tmpdir(), 'stream-cli-'));
const params = { ...DEFAULT_PARAMS, nNormal: 4000, nAnomalous: 200, nEstimators: 60 };
const modelPath = join(dir, 'model.json');
saveBundle(modelPath, bundleFromPipeline(runPipeline(params)));
const model = loadBundle(modelPath);

// a mixed stream: normal rows, injected anomalies, and every kind of bad line
const batch = simulateBatch(params, 0, { size: 600, anomalyShare: 0.1 });
const goodRows = Array.from({ length: batch.X.rows }, (_, i) => Array.from(batch.X.data.subarray(i * 5, i * 5 + 5)));
const BAD: Array<[string, RegExp]> = [
  ['1,2,3,4', /expected 5 fields/],
  ['1,2,3,4,5,6', /expected 5 fields/],
  ['1,2,abc,4,5', /field f3 is not a number: "abc"/],
  ['1,2,3,Infinity,5', /field f4 is not finite/],
  ['1,2,3,4,1e999', /field f5 is not finite/],
  ['NaN,2,3,4,5', /field f1 is not a number/],
  [',2,3,4,5', /field f1 is empty/],
  ['', /empty line/],
  ['9'.repeat(300), /line longer than 200 bytes/],
];

interface Expected {
  text: string;
  /** 1-based line number -> what must happen */
  good: Map<number, number[]>;
  bad: Map<number, RegExp>;
  lines: number;
}

function csvStream(): Expected {
  const lines = ['f1,f2,f3,f4,f5'];
  const good = new Map<number, number[]>();
  const bad = new Map<number, RegExp>();
  goodRows.forEach((row, i) => {
    lines.push(row.map(String).join(',') + (i % 50 === 7 ? '\r' : '')); // some CRLF lines
    good.set(lines.length, row);
    if (i % 67 === 3) {
      const [text, reason] = BAD[(i / 67) | 0 % BAD.length] ?? BAD[i % BAD.length];
      lines.push(text);
      bad.set(lines.length, reason);
    }
  });
  for (const [text, reason] of BAD) {
    lines.push(text);
    bad.set(lines.length, reason);
  }
  return { text: `${lines.join('\n')}\n`, good, bad, lines: lines.length };
}

function run(args: string[], input?: string | Buffer): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Alert {
  line: number;
  batch: number;
  timestamp: string;
  score: number;
  decision: number;
  record: Record<string, number>;
}
const ndjson = <T>(text: string): T[] => text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);

function checkRun(expected: Expected, alertsText: string, rejectsText: string, summary: StreamSummary): void {
  // every line is accounted for exactly once
  expect(summary.linesRead).toBe(expected.lines);
  expect(summary.headerLines).toBe(1);
  expect(summary.recordsScored).toBe(expected.good.size);
  expect(summary.recordsRejected).toBe(expected.bad.size);
  expect(summary.linesNotProcessed).toBe(0);
  expect(summary.linesRead).toBe(summary.headerLines + summary.recordsScored + summary.recordsRejected);
  // rejects: line numbers and reasons
  const rejects = ndjson<{ line: number; reason: string; text: string }>(rejectsText);
  expect(rejects.map((r) => r.line).sort((a, b) => a - b)).toEqual([...expected.bad.keys()].sort((a, b) => a - b));
  for (const r of rejects) expect(r.reason, `line ${r.line}`).toMatch(expected.bad.get(r.line)!);
  // alerts: exactly the rows the library flags, with identical scores
  const lines = [...expected.good.keys()];
  const direct = processBatch(model, fromRows(lines.map((l) => expected.good.get(l)!)));
  const flagged = new Map(direct.anomalies.map((a) => [lines[a.index], a]));
  const alerts = ndjson<Alert>(alertsText);
  expect(alerts.length).toBe(flagged.size);
  expect(summary.recordsAnomalous).toBe(flagged.size);
  expect(flagged.size).toBeGreaterThanOrEqual(55); // the 60 injected anomalies are nearly all caught
  for (const a of alerts) {
    const d = flagged.get(a.line);
    expect(d, `line ${a.line} was alerted but the library does not flag it`).toBeDefined();
    expect(a.score).toBe(d!.score);
    expect(a.decision).toBe(d!.decision);
    expect(Object.values(a.record)).toEqual(expected.good.get(a.line));
    expect(Object.keys(a.record)).toEqual(model.featureNames);
    expect(Number.isInteger(a.batch)).toBe(true);
    expect(Number.isNaN(Date.parse(a.timestamp))).toBe(false);
  }
}

describe('npm run stream: every record scored or set aside with its reason', () => {
  const expected = csvStream();
  const common = ['--model', modelPath, '--max-line-bytes', '200', '--batch-size', '128', '--progress-ms', '0'];

  it('via stdin, alerts on stdout and rejects in a file', () => {
    const rejects = join(dir, 'stdin-rejects.ndjson');
    const summaryPath = join(dir, 'stdin-summary.json');
    const r = run([...common, '--rejects', rejects, '--summary-json', summaryPath], expected.text);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as StreamSummary;
    checkRun(expected, r.stdout, readFileSync(rejects, 'utf8'), summary);
    expect(summary.stoppedBy).toBe('end of input');
    expect(summary.modelChecksum).toBe(model.checksum);
    expect(r.stderr).toMatch(/lines read [\d,]+ = header 1 \+ scored [\d,]+ \+ rejected \d+/);
    expect(r.stderr).toMatch(/batch latency p50 [\d.]+ ms, p99 [\d.]+ ms/);
  });

  it('via a file, on one thread, alerts in a file: the same alerts', () => {
    const input = join(dir, 'input.csv');
    writeFileSync(input, expected.text);
    const alerts = join(dir, 'file-alerts.ndjson');
    const summaryPath = join(dir, 'file-summary.json');
    const r = run([...common, '--input', input, '--alerts', alerts, '--summary-json', summaryPath, '--threads', '1']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as StreamSummary;
    // rejects went to stderr as NDJSON lines
    const rejectLines = r.stderr.split('\n').filter((l) => l.startsWith('{')).join('\n');
    checkRun(expected, readFileSync(alerts, 'utf8'), rejectLines, summary);
  });

  it('CSV header in another order with an extra column; NDJSON objects and arrays', () => {
    const order = ['f3', 'extra', 'f1', 'f5', 'f2', 'f4'];
    const rows = goodRows.slice(0, 200);
    const csv = [order.join(','), ...rows.map((row) => order.map((c) => (c === 'extra' ? 'x' : String(row[Number(c[1]) - 1]))).join(','))].join('\n');
    const a = run(['--model', modelPath, '--progress-ms', '0'], csv);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toContain('CSV columns not used by the model, ignored: extra');
    const direct = processBatch(model, fromRows(rows));
    const expectedScores = direct.anomalies.map((x) => x.score);
    expect(ndjson<Alert>(a.stdout).map((x) => x.score)).toEqual(expectedScores);

    const json = rows.map((row, i) => (i % 2 ? JSON.stringify(row) : JSON.stringify({ note: 'x', f1: row[0], f2: row[1], f3: row[2], f4: row[3], f5: row[4] }))).join('\n');
    const bad = ['{"f1": 1, "f2": 2', '{"f1":1,"f2":2,"f3":3,"f4":4}', '[1,2,3]', '{"f1":"1","f2":2,"f3":3,"f4":4,"f5":5}', '"text"'].join('\n');
    const b = run(['--model', modelPath, '--format', 'ndjson', '--progress-ms', '0', '--rejects', '-'], `${json}\n${bad}\n`);
    expect(b.code, b.stderr).toBe(0);
    expect(ndjson<Alert>(b.stdout.split('\n').filter((l) => l.includes('"score"')).join('\n')).map((x) => x.score)).toEqual(expectedScores);
    const rejects = ndjson<{ line: number; reason: string }>(b.stdout.split('\n').filter((l) => l.includes('"reason"')).join('\n'));
    expect(rejects.map((x) => [x.line, x.reason.split(':')[0]])).toEqual([
      [201, 'invalid JSON'],
      [202, 'missing feature f5'],
      [203, 'expected an array of 5 numbers, got 3 values'],
      [204, 'field f1 is not a number'],
      [205, 'expected a JSON object keyed by feature name or an array, got "\\"text\\""'],
    ]);
    expect(b.stderr).toContain('JSON keys not used by the model, ignored: note');
  });
});

describe('exit codes', () => {
  it('2: bad usage', () => {
    expect(run(['--model', modelPath, '--batch-size', '0']).code).toBe(2);
    expect(run(['--input', 'x.csv']).stderr).toContain('--model FILE is required');
    expect(run(['--model', modelPath, '--bogus']).code).toBe(2);
  });
  it('3: a missing, corrupt or tampered bundle stops before any input is read', () => {
    const tampered = join(dir, 'tampered.json');
    writeFileSync(tampered, readFileSync(modelPath, 'utf8').replace(/"threshold": [^,]+,/, '"threshold": -0.9,'));
    const corrupt = join(dir, 'corrupt.json');
    writeFileSync(corrupt, readFileSync(modelPath, 'utf8').slice(0, 500));
    for (const [path, message] of [
      [join(dir, 'nope.json'), /no such file/],
      [tampered, /checksum mismatch/],
      [corrupt, /not valid JSON/],
    ] as const) {
      const r = run(['--model', path], '1,2,3,4,5\n');
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toContain('lines read');
    }
  });
  it('3 with --key-file: an unsigned bundle, one signed with another key, or an unreadable key file; the right key scores', () => {
    const keyA = join(dir, 'a.key');
    const keyB = join(dir, 'b.key');
    writeFileSync(keyA, 'team-a-model-signing-key-0123456789\n');
    writeFileSync(keyB, 'team-b-model-signing-key-0123456789\n');
    const signed = join(dir, 'signed.json');
    saveBundle(signed, loadBundle(modelPath).bundle, { key: readFileSync(keyA, 'utf8').trim() });
    const row = `${goodRows[0].join(',')}\n`;
    for (const [model, key, message] of [
      [modelPath, keyA, /unsigned/],
      [signed, keyB, /another key/],
      [signed, join(dir, 'no.key'), /cannot read the model key file .*no\.key: no such file/],
    ] as const) {
      const r = run(['--model', model, '--key-file', key, '--quiet'], row);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
    const ok = run(['--model', signed, '--key-file', keyA, '--quiet'], row);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain('lines read');
    // without a key the signed bundle still loads (its checksum is still checked)
    expect(run(['--model', signed, '--quiet'], row).code).toBe(0);
  });
  it('4: more rejects than --max-rejects, a header without a model feature, an unreadable input', () => {
    const many = run(['--model', modelPath, '--max-rejects', '2', '--rejects', join(dir, 'r.ndjson')], '1,2\n'.repeat(10));
    expect(many.code).toBe(4);
    expect(many.stderr).toContain('(max rejects)');
    const header = run(['--model', modelPath], 'f1,f2,f3,f4,bytes\n1,2,3,4,5\n');
    expect(header.code).toBe(4);
    expect(header.stderr).toContain("CSV header lacks the model's feature f5");
    // the header line is the reject; the record after it was read in the same chunk, and not processed
    expect(header.stderr).toContain('lines read 2 = header 0 + scored 0 + rejected 1 + dead-lettered 0 + not processed 1');
    expect(run(['--model', modelPath, '--input', join(dir, 'missing.csv')]).code).toBe(4);
  });
});

describe('signals, closed pipes and drift', () => {
  it('SIGTERM flushes the batch in progress and prints the summary', async () => {
    const summaryPath = join(dir, 'term.json');
    const child = spawn(process.execPath, [CLI, '--model', modelPath, '--summary-json', summaryPath, '--alerts', join(dir, 'term-alerts.ndjson'), '--max-wait-ms', '60000', '--progress-ms', '0']);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.write(goodRows.slice(0, 300).map((r) => r.join(',')).join('\n') + '\n');
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(0);
    const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as StreamSummary;
    expect(summary.stoppedBy).toBe('signal');
    expect(summary.recordsScored).toBe(300); // the partial batch was scored, not lost
    expect(stderr).toContain('done (signal)');
  }, 30_000);

  it('a reader that closes the pipe ends the command quietly with the counts so far', async () => {
    const summaryPath = join(dir, 'pipe.json');
    const child = spawn(process.execPath, [CLI, '--model', modelPath, '--summary-json', summaryPath, '--batch-size', '64', '--progress-ms', '0']);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const anomalous = simulateBatch(params, 5, { size: 20_000, anomalyShare: 0.5 });
    const text = Array.from({ length: anomalous.X.rows }, (_, i) => Array.from(anomalous.X.data.subarray(i * 5, i * 5 + 5)).join(',')).join('\n');
    child.stdin.on('error', () => {}); // the child may stop reading first
    child.stdin.end(text);
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(0);
    const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as StreamSummary;
    expect(summary.stoppedBy).toBe('closed output pipe');
    expect(summary.linesRead).toBe(summary.headerLines + summary.recordsScored + summary.recordsRejected + summary.linesNotProcessed);
    expect(stderr).not.toMatch(/EPIPE|Error/);
  }, 30_000);

  it('warns when a window of records is far more anomalous than the model expects', () => {
    const normal = simulateBatch(params, 1, { size: 3000 });
    const attack = simulateBatch(params, 2, { size: 3000, anomalyShare: 0.6 });
    const rows = (b: typeof normal) => Array.from({ length: b.X.rows }, (_, i) => Array.from(b.X.data.subarray(i * 5, i * 5 + 5)).join(','));
    const r = run(['--model', modelPath, '--drift-window', '1000', '--batch-size', '250', '--alerts', join(dir, 'drift.ndjson'), '--progress-ms', '0'], [...rows(normal), ...rows(attack), ...rows(normal)].join('\n'));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/drift: [\d.]+% of the last 1,000 records are anomalous, above 2 x the expected 5\.00%/);
    expect(r.stderr).toContain('drift cleared');
  });
});

/** A stack trace line ("    at fn (file:1:2)") anywhere in `text`. */
const STACK = /^\s+at .+[:(]/m;

/** The exit code of `child`, or 'hung' if it is still running after `ms` (then it is killed). */
function exitOf(child: ChildProcess, ms: number): Promise<number | null | 'hung'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('hung');
    }, ms);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe('output errors: exit 5, one line naming the path, the summary, no stack trace', () => {
  const missing = join(dir, 'no-such-dir', 'out.ndjson');

  for (const flag of ['--alerts', '--rejects', '--summary-json']) {
    it(`${flag} in a missing directory fails before any input is read (input: a FIFO nobody writes)`, async () => {
      // Opening a FIFO for reading blocks until a writer opens it, and this test
      // never opens one: a command that touched its input would hang here.
      const fifo = join(dir, `fifo${flag}`);
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      const child = spawn(process.execPath, [CLI, '--model', modelPath, '--input', fifo, flag, missing, '--progress-ms', '0']);
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const code = await exitOf(child, 15_000);
      expect(code, stderr).toBe(5);
      const what = { '--alerts': 'alerts', '--rejects': 'rejects', '--summary-json': 'the summary' }[flag];
      expect(stderr).toContain(`stream: cannot write ${what} to ${missing} (${flag}): ENOENT: no such file or directory\n`);
      expect(stderr).toContain('done (output error)');
      expect(stderr).toContain('lines read 0 = header 0 + scored 0 + rejected 0 + dead-lettered 0 + not processed 0');
      expect(stderr).not.toMatch(STACK);
      expect(existsSync(missing)).toBe(false);
    }, 30_000);
  }

  it('stdin is not read either: the command ends although stdin stays open and empty', async () => {
    const child = spawn(process.execPath, [CLI, '--model', modelPath, '--alerts', missing, '--progress-ms', '0'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await exitOf(child, 15_000); // stdin is never written nor closed
    expect(code, stderr).toBe(5);
    expect(stderr.split('\n').filter((l) => l.startsWith('stream:'))).toEqual([`stream: cannot write alerts to ${missing} (--alerts): ENOENT: no such file or directory`]);
    child.stdin.destroy();
  }, 30_000);

  it('a full disk (/dev/full) on --alerts: exit 5 and the summary with the counts', () => {
    const summaryPath = join(dir, 'full-summary.json');
    const expected = csvStream();
    const r = run(['--model', modelPath, '--alerts', '/dev/full', '--rejects', join(dir, 'full-rejects.ndjson'), '--summary-json', summaryPath, '--progress-ms', '0'], expected.text);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain('stream: cannot write alerts to /dev/full: ENOSPC: no space left on device\n');
    expect(r.stderr).not.toMatch(STACK);
    const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as StreamSummary;
    expect(summary.stoppedBy).toBe('output error');
    expect(summary.error).toBe('cannot write alerts to /dev/full: ENOSPC: no space left on device');
    expect(summary.linesRead).toBe(summary.headerLines + summary.recordsScored + summary.recordsRejected + summary.linesNotProcessed);
    expect(r.stderr).toMatch(/lines read [\d,]+ = header 1 \+ scored [\d,]+ \+ rejected \d+ \+ dead-lettered 0 \+ not processed [\d,]+/);
  });

  it('a reader that closes the rejects pipe: exit 5 (rejected lines would go unrecorded)', async () => {
    const child = spawn(process.execPath, [CLI, '--model', modelPath, '--rejects', '-', '--alerts', join(dir, 'rp-alerts.ndjson'), '--progress-ms', '0']);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.on('error', () => {}); // the child may stop reading first
    child.stdin.end('1,2\n'.repeat(200_000));
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await exitOf(child, 20_000);
    expect(code, stderr).toBe(5);
    expect(stderr).toContain('stream: cannot write rejects to stdout: the reader closed the pipe (EPIPE)\n');
    expect(stderr).toContain('done (output error)');
    expect(stderr).not.toMatch(STACK);
  }, 30_000);
});

describe('lines read after the stop are "not processed"', () => {
  it('counted apart from the rejects and not towards --max-rejects', () => {
    const rejectsPath = join(dir, 'np-rejects.ndjson');
    const summaryPath = join(dir, 'np-summary.json');
    const r = run(['--model', modelPath, '--max-rejects', '2', '--rejects', rejectsPath, '--summary-json', summaryPath, '--progress-ms', '0'], '1,2\n'.repeat(10));
    expect(r.code).toBe(4);
    const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as StreamSummary;
    expect(summary.stoppedBy).toBe('max rejects');
    expect(summary.linesRead).toBe(10);
    expect(summary.recordsRejected).toBe(3); // the third one is over the limit and stops the command
    expect(summary.linesNotProcessed).toBe(7);
    expect(summary.rejectReasons).toEqual({ 'expected 5 fields, got 2': 3 });
    expect(ndjson<{ line: number }>(readFileSync(rejectsPath, 'utf8')).map((x) => x.line)).toEqual([1, 2, 3]);
    expect(r.stderr).toContain('lines read 10 = header 0 + scored 0 + rejected 3 + dead-lettered 0 + not processed 7');
  });
});
