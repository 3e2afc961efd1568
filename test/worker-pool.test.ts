import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { distFile } from '../src/core/paths';
import { WorkerPool } from '../src/core/worker-pool';
import { type Matrix } from '../src/core/matrix';
import { DEFAULT_PARAMS } from '../src/core/params';
import { simulateTraffic } from '../src/data/simulate';
import { IsolationForest, type IsolationForestOptions } from '../src/model/forest';
import { closeScoringWorkers, createScoringPool, MIN_ROWS_PER_THREAD } from '../src/model/forest-parallel';
import { kernelRowsWalked } from '../src/model/kernel/forest-kernel';

/**
 * The worker pool under concurrency and failure: every job settles on its own
 * reply, a dead worker rejects its jobs with its file and cause named and is
 * replaced, and nothing hangs. The workers are real threads running real
 * files: a small entry written here (on the compiled pool module) for the
 * generic cases, the compiled forest worker for scoring.
 */

const dir = mkdtempSync(join(tmpdir(), 'worker-pool-'));
const missing = join(dir, 'no-such-worker.js');

/** A worker entry for the generic tests: echoes after a delay, throws, or exits on request. */
const echoFile = join(dir, 'echo-worker.js');
writeFileSync(
  echoFile,
  `const { serveJobs } = require(${JSON.stringify(distFile('core/worker-pool.js'))});
const { threadId } = require('node:worker_threads');
serveJobs(async (job) => {
  if (job.op === 'throw') throw new RangeError('bad job ' + job.value);
  if (job.op === 'exit') process.exit(job.code);
  if (job.op === 'crash') setTimeout(() => { throw new Error('crashed outside any job'); }, 0);
  await new Promise((r) => setTimeout(r, job.delayMs ?? 0));
  return { value: job.value, threadId };
});
`,
);

/** An entry that (wrongly) serves twice, as a worker would that loaded a second entry as a module. */
const twiceFile = join(dir, 'twice-worker.js');
writeFileSync(
  twiceFile,
  `const { serveJobs } = require(${JSON.stringify(distFile('core/worker-pool.js'))});
serveJobs(() => 'first');
serveJobs(() => 'second');
`,
);

interface EchoJob {
  op: 'echo' | 'throw' | 'exit' | 'crash';
  value?: number;
  delayMs?: number;
  code?: number;
}
interface EchoReply {
  value: number;
  threadId: number;
}

describe('WorkerPool: each job settles on its own reply', () => {
  const pool = new WorkerPool<EchoJob, EchoReply>({ file: echoFile, maxWorkers: 2 });
  afterAll(() => pool.close());

  it('many overlapping jobs, finishing out of order, each get their own result', async () => {
    // later jobs finish first (shorter delays), on both workers at once
    const values = Array.from({ length: 40 }, (_, i) => i);
    const results = await Promise.all(values.map((value) => pool.run({ op: 'echo', value, delayMs: 40 - value })));
    expect(results.map((r) => r.value)).toEqual(values);
    expect(new Set(results.map((r) => r.threadId)).size).toBe(2);
    // and jobs pinned to one worker, interleaved with jobs on the other
    const a = Promise.all([0, 1, 2].map((v) => pool.worker(0).run({ op: 'echo', value: v, delayMs: 10 - 3 * v })));
    const b = Promise.all([3, 4, 5].map((v) => pool.worker(1).run({ op: 'echo', value: v, delayMs: 1 })));
    expect((await a).map((r) => r.value)).toEqual([0, 1, 2]);
    expect((await b).map((r) => r.value)).toEqual([3, 4, 5]);
  });

  it("a handler's error rejects that job only, with its class and message; the worker goes on", async () => {
    const w = pool.worker(0);
    const [bad, good] = await Promise.allSettled([w.run({ op: 'throw', value: 7 }), w.run({ op: 'echo', value: 8 })]);
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(RangeError);
    expect((bad as PromiseRejectedResult).reason.message).toBe('bad job 7');
    expect(good).toEqual({ status: 'fulfilled', value: { value: 8, threadId: expect.any(Number) } });
    expect(pool.worker(0)).toBe(w);
    expect(pool.stats.died).toBe(0);
  });
});

describe('WorkerPool: a dead worker rejects its jobs and is replaced', () => {
  it('a worker that exits mid-job rejects every job it held, naming the file and exit code; the next call works', async () => {
    const pool = new WorkerPool<EchoJob, EchoReply>({ file: echoFile, maxWorkers: 1 });
    const first = pool.worker(0);
    const held = [pool.run({ op: 'echo', value: 1, delayMs: 200 }), pool.run({ op: 'exit', code: 3 }), pool.run({ op: 'echo', value: 2 })];
    const settled = await Promise.allSettled(held);
    // the first job was still waiting on its timer when the second ended the thread
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      expect((s as PromiseRejectedResult).reason.message).toContain(`worker thread ${echoFile} exited with code 3`);
    }
    expect(first.alive).toBe(false);
    await expect(first.run({ op: 'echo', value: 3 })).rejects.toThrow(/exited with code 3/); // a stale handle does not hang
    expect(await pool.run({ op: 'echo', value: 4 })).toEqual({ value: 4, threadId: expect.any(Number) });
    expect(pool.worker(0)).not.toBe(first);
    expect(pool.stats).toMatchObject({ spawned: 2, died: 1, succeeded: 1, failed: 3 });
    await pool.close();
  });

  it('an uncaught error outside a job kills the worker with that cause named', async () => {
    const pool = new WorkerPool<EchoJob, EchoReply>({ file: echoFile, maxWorkers: 1 });
    await expect(Promise.all([pool.run({ op: 'crash', delayMs: 500 }), pool.run({ op: 'echo', value: 1 })])).rejects.toThrow(
      `worker thread ${echoFile} failed: crashed outside any job`,
    );
    expect(await pool.run({ op: 'echo', value: 5 })).toMatchObject({ value: 5 });
    await pool.close();
  });

  it('a worker file that does not exist rejects with the path and cause, every time, never hanging', async () => {
    const pool = new WorkerPool<EchoJob, EchoReply>({ file: missing, maxWorkers: 2 });
    for (let attempt = 0; attempt < 2; attempt++) {
      const settled = await Promise.allSettled([pool.run({ op: 'echo', value: 1 }), pool.run({ op: 'echo', value: 2 }), pool.run({ op: 'echo', value: 3 })]);
      for (const s of settled) expect((s as PromiseRejectedResult).reason.message).toMatch(new RegExp(`worker thread ${missing} failed: Cannot find module`));
    }
    expect(pool.size).toBe(0);
    expect(pool.stats).toMatchObject({ succeeded: 0, failed: 6 });
  });

  it('an entry that serves twice fails loudly instead of answering every job twice', async () => {
    const pool = new WorkerPool<EchoJob, string>({ file: twiceFile });
    await expect(pool.run({ op: 'echo' })).rejects.toThrow(/twice-worker\.js failed: serveJobs: this thread already serves jobs/);
  });

  it('close() rejects the jobs still out and leaves the pool usable', async () => {
    const pool = new WorkerPool<EchoJob, EchoReply>({ file: echoFile, maxWorkers: 2 });
    const slow = pool.run({ op: 'echo', value: 1, delayMs: 10_000 });
    const outcome = slow.catch((e: Error) => e); // handled before close() rejects it
    await pool.close();
    expect(await outcome).toEqual(expect.objectContaining({ message: expect.stringContaining(`worker thread ${echoFile} was terminated by WorkerPool.close()`) }));
    expect(await pool.run({ op: 'echo', value: 2 })).toMatchObject({ value: 2 });
    await pool.close();
  });

  it('refuses a slot outside the pool and a non-positive size', () => {
    const pool = new WorkerPool<EchoJob, EchoReply>({ file: echoFile, maxWorkers: 2 });
    expect(() => pool.worker(2)).toThrow(/slot 2 outside 0..1/);
    expect(() => new WorkerPool({ file: echoFile, maxWorkers: 0 })).toThrow(/maxWorkers must be a positive integer, got 0/);
    expect(() => new WorkerPool({ file: 'dist/model/forest-worker.js' })).toThrow(/file must be an absolute path \(use distFile\(\)\), got dist\/model\/forest-worker\.js/);
  });
});

/**
 * How two score arrays differ: toEqual on 300,000-element typed arrays takes
 * seconds, this takes a millisecond and still names the first differing row.
 */
function mismatch(got: Float64Array, want: Float64Array): { length: number; differing: number; firstRow: number } {
  let differing = 0;
  let firstRow = -1;
  for (let i = 0; i < Math.min(got.length, want.length); i++) {
    if (!Object.is(got[i], want[i])) {
      differing++;
      if (firstRow < 0) firstRow = i;
    }
  }
  return { length: got.length, differing, firstRow };
}

/** the mismatch of two identical arrays of n rows */
const identical = (n: number) => ({ length: n, differing: 0, firstRow: -1 });

/** rows such that a call really uses 2 threads (the gate is MIN_ROWS_PER_THREAD rows per thread) */
function traffic(rows: number, seed: number): Matrix {
  return simulateTraffic({ ...DEFAULT_PARAMS, seed, nNormal: rows - Math.floor(rows / 20), nAnomalous: Math.floor(rows / 20) }).X;
}

describe('forest scoring on the pool: concurrent calls of different sizes', () => {
  const sizes = [310_000, 2 * MIN_ROWS_PER_THREAD + 1_234, 205_001];
  const data = sizes.map((n, k) => traffic(n, 100 + k));
  const options: IsolationForestOptions = { nEstimators: 100, maxSamples: 'auto', contamination: 0.05, seed: 42 };
  const forests = [IsolationForest.fit(data[0], options), IsolationForest.fit(data[1], { ...options, seed: 7, nEstimators: 60 })];
  afterAll(() => closeScoringWorkers());

  it('overlapping scoreSamplesAsync calls (two forests, three sizes, 2 and 3 threads) equal scoreSamples', async () => {
    expect(sizes.every((n) => n >= 2 * MIN_ROWS_PER_THREAD)).toBe(true);
    const three = createScoringPool({ maxWorkers: 2 }); // a third range even on a 2-core machine
    const calls: Array<[IsolationForest, Matrix, number, typeof three | undefined]> = [];
    for (const f of forests) for (const X of data) calls.push([f, X, 2, undefined], [f, X, 3, three]);
    calls.push([forests[0], data[0], 2, undefined]); // the reported case: the same call twice at once
    const results = await Promise.all(calls.map(([f, X, threads, pool]) => f.scoreSamplesAsync(X, { threads, pool })));
    const single = new Map<string, Float64Array>();
    calls.forEach(([f, X], k) => {
      const key = `${forests.indexOf(f)}/${data.indexOf(X)}`;
      if (!single.has(key)) single.set(key, f.scoreSamples(X));
      expect(mismatch(results[k], single.get(key)!), `call ${k}`).toEqual(identical(X.rows));
    });
    // really on the workers: one job per range after the caller's first
    const jobs = forests.length * sizes.reduce((s, n) => s + Math.min(3, Math.floor(n / MIN_ROWS_PER_THREAD)) - 1, 0);
    expect(three.stats).toMatchObject({ submitted: jobs, succeeded: jobs, failed: 0, died: 0 });
    await three.close();
  }, 120_000);

  it('overlapping fitAsync calls build the models fit builds (same trees, same offset)', async () => {
    const variants: IsolationForestOptions[] = [options, { ...options, contamination: 0.1, seed: 3 }, { ...options, nEstimators: 40, maxSamples: 512 }];
    const calls = variants.map((o, k) => [data[k], o] as const);
    const [models, scored] = await Promise.all([Promise.all(calls.map(([X, o]) => IsolationForest.fitAsync(X, o, { threads: 2 }))), forests[0].scoreSamplesAsync(data[2], { threads: 2 })]);
    calls.forEach(([X, o], k) => {
      const expected = IsolationForest.fit(X, o);
      expect(models[k].offset, `fit ${k}`).toBe(expected.offset);
      expect(models[k].toJSON(), `fit ${k}`).toEqual(expected.toJSON());
    });
    expect(mismatch(scored, forests[0].scoreSamples(data[2]))).toEqual(identical(data[2].rows));
  }, 120_000);

  it('a missing worker file rejects with its path named; later calls (default pool) still work', async () => {
    const broken = createScoringPool({ file: missing, maxWorkers: 1 });
    const [f, X] = [forests[0], data[0]];
    await expect(f.scoreSamplesAsync(X, { threads: 2, pool: broken })).rejects.toThrow(new RegExp(`worker thread ${missing} failed: Cannot find module`));
    await expect(IsolationForest.fitAsync(X, options, { threads: 2, pool: broken })).rejects.toThrow(/no-such-worker\.js failed/);
    await expect(f.scoreSamplesAsync(X, { threads: 2, pool: broken })).rejects.toThrow(/no-such-worker\.js failed/); // again, not a hang
    expect(mismatch(await f.scoreSamplesAsync(X, { threads: 2 }), f.scoreSamples(X))).toEqual(identical(X.rows));
  }, 120_000);

  it('workers terminated mid-call reject that call; the same pool then starts fresh workers and works', async () => {
    const pool = createScoringPool({ maxWorkers: 1 });
    const [f, X] = [forests[1], data[0]];
    const call = f.scoreSamplesAsync(X, { threads: 2, pool }); // the caller's range is scored synchronously: the job is out now
    const outcome = call.catch((e: Error) => e); // handled before close() rejects it
    expect(pool.worker(0).inFlight).toBe(1);
    await pool.close();
    expect(String(await outcome)).toMatch(/forest-worker\.js was terminated by WorkerPool\.close\(\)/);
    expect(mismatch(await f.scoreSamplesAsync(X, { threads: 2, pool }), f.scoreSamples(X))).toEqual(identical(X.rows));
    expect(pool.stats).toMatchObject({ spawned: 2, died: 1 });
    await pool.close();
  }, 120_000);

  it('threads must be a positive integer', async () => {
    await expect(forests[0].scoreSamplesAsync(data[0], { threads: 0 })).rejects.toThrow(/threads must be a positive integer, got 0/);
  });
});

describe("contamination 'auto' does not score the training set", () => {
  const X = traffic(2 * MIN_ROWS_PER_THREAD + 10_000, 5);
  const auto: IsolationForestOptions = { nEstimators: 50, maxSamples: 'auto', contamination: 'auto', seed: 11 };

  it('fit walks no rows with auto, every training row with a number', () => {
    let before = kernelRowsWalked();
    const forest = IsolationForest.fit(X, auto);
    expect(kernelRowsWalked() - before).toBe(0);
    expect(forest.offset).toBe(-0.5);
    // the same trees and offset as when the scores are computed (fitAndScore still scores: the pipeline uses them)
    before = kernelRowsWalked();
    expect(IsolationForest.fitAndScore(X, auto).forest.toJSON()).toEqual(forest.toJSON());
    expect(kernelRowsWalked() - before).toBe(X.rows);
    before = kernelRowsWalked();
    IsolationForest.fit(X, { ...auto, contamination: 0.05 });
    expect(kernelRowsWalked() - before).toBe(X.rows);
  });

  it('fitAsync sends no job to the pool with auto, and does with a number', async () => {
    const pool = createScoringPool({ maxWorkers: 1 });
    const before = kernelRowsWalked();
    const forest = await IsolationForest.fitAsync(X, auto, { threads: 2, pool });
    expect(kernelRowsWalked() - before).toBe(0);
    expect(pool.stats.submitted).toBe(0);
    expect(forest.toJSON()).toEqual(IsolationForest.fit(X, auto).toJSON());
    await IsolationForest.fitAsync(X, { ...auto, contamination: 0.05 }, { threads: 2, pool });
    expect(pool.stats.submitted).toBe(1);
    await pool.close();
  }, 60_000);
});
