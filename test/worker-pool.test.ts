import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { distFile } from '../src/core/paths';
import { JobTimeoutError, WorkerPool } from '../src/core/worker-pool';
import { type Matrix } from '../src/core/matrix';
import { DEFAULT_PARAMS } from '../src/params/params';
import { simulateTraffic } from '../src/data/simulate';
import { IsolationForest, type IsolationForestOptions } from '../src/model/forest';
import { closeScoringWorkers, createScoringPool, MIN_ROWS_PER_THREAD, type ScoringPool } from '../src/model/forest-parallel';
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

/**
 * An entry that hangs on the jobs asking for it: 'spin' loops forever on the
 * thread (a busy worker, deaf to every later message), 'stall' awaits a
 * promise that never settles (the thread stays free for other jobs);
 * anything else is echoed after its delay, with the thread id and, for a job
 * that brought a buffer, the buffer's first byte.
 */
const hangFile = join(dir, 'hang-worker.js');
writeFileSync(
  hangFile,
  `const { serveJobs } = require(${JSON.stringify(distFile('core/worker-pool.js'))});
const { threadId } = require('node:worker_threads');
serveJobs(async (job) => {
  if (job.op === 'spin') for (;;);
  if (job.op === 'stall') await new Promise(() => {});
  await new Promise((r) => setTimeout(r, job.delayMs ?? 0));
  return { value: job.value, threadId, firstByte: job.bytes ? new Uint8Array(job.bytes)[0] : undefined };
});
`,
);

interface HangJob {
  op: 'echo' | 'spin' | 'stall';
  value?: number;
  delayMs?: number;
  bytes?: ArrayBuffer;
}
interface HangReply {
  value: number;
  threadId: number;
  firstByte?: number;
}

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

describe('WorkerPool: idle workers do not keep the process alive', () => {
  it('a process whose workers were started and never given a job, or are idle after one, exits by itself', () => {
    const pool = JSON.stringify(distFile('core/worker-pool.js'));
    for (const jobs of [0, 1]) {
      const script = `const { WorkerPool } = require(${pool});
const p = new WorkerPool({ file: ${JSON.stringify(echoFile)}, maxWorkers: 2 });
p.worker(0); p.worker(1);
if (${jobs}) p.run({ op: 'echo', value: 1 }).then((r) => console.log('job', r.value));
console.log('main done');`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 15_000 });
      expect(r.signal).toBeNull(); // not killed by the timeout: it ended on its own
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(jobs ? 'main done\njob 1\n' : 'main done\n');
    }
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

describe('WorkerPool: jobTimeoutMs terminates a stuck worker and the pool recovers', () => {
  const timeoutMessage = (ms: number) => new RegExp(`^worker thread ${hangFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was terminated: job \\d+ exceeded the job timeout of ${ms} ms \\(jobTimeoutMs\\)$`);

  it('a job spinning past the timeout is rejected with a JobTimeoutError naming the file and the timeout; the next job runs on a fresh worker', async () => {
    const pool = new WorkerPool<HangJob, HangReply>({ file: hangFile, maxWorkers: 1, jobTimeoutMs: 300 });
    const before = await pool.run({ op: 'echo', value: 1 });
    const started = Date.now();
    const err = await pool.run({ op: 'spin' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(err).toBeInstanceOf(JobTimeoutError);
    expect((err as JobTimeoutError).message).toMatch(timeoutMessage(300));
    expect(err).toMatchObject({ file: hangFile, timeoutMs: 300, jobId: 2 });
    const after = await pool.run({ op: 'echo', value: 2 });
    expect(after.value).toBe(2);
    expect(after.threadId).not.toBe(before.threadId);
    expect(pool.stats).toMatchObject({ spawned: 2, submitted: 3, succeeded: 2, failed: 1, died: 1, timedOut: 1 });
    await pool.close();
  });

  it('jobs queued behind the stuck one run in order on the fresh worker (a transferred buffer too); a job on another worker is unaffected', async () => {
    const pool = new WorkerPool<HangJob, HangReply>({ file: hangFile, maxWorkers: 2, jobTimeoutMs: 1_000 });
    const [w0, w1] = [pool.worker(0), pool.worker(1)];
    const other = (await w1.run({ op: 'echo', value: 0 })).threadId;
    const stuck = w0.run({ op: 'spin' });
    const stuckOutcome = stuck.catch((e: Error) => e);
    const bytes = new Uint8Array([42, 1, 2]).buffer;
    const queued = [w0.run({ op: 'echo', value: 1, delayMs: 30 }), w0.run({ op: 'echo', value: 2, bytes }, [bytes]), w0.run({ op: 'echo', value: 3 })];
    expect(bytes.byteLength).toBe(3); // not moved yet: it waits in the pool, not inside the stuck worker
    expect(w0.inFlight).toBe(4);
    // a job on the other worker that is running when the timeout strikes (from 500 ms to 1,300 ms)
    await new Promise((r) => setTimeout(r, 500));
    const running = w1.run({ op: 'echo', value: 9, delayMs: 800 });
    expect(await stuckOutcome).toBeInstanceOf(JobTimeoutError);
    const results = await Promise.all(queued);
    expect(results.map((r) => r.value)).toEqual([1, 2, 3]);
    expect(results[1].firstByte).toBe(42);
    const fresh = pool.worker(0);
    expect(fresh).not.toBe(w0);
    expect(w0.alive).toBe(false);
    expect(new Set(results.map((r) => r.threadId))).toEqual(new Set([(await fresh.run({ op: 'echo', value: 4 })).threadId]));
    expect(await running).toEqual({ value: 9, threadId: other });
    expect(pool.worker(1)).toBe(w1);
    // the stale handle of the terminated worker sends on to its slot's fresh worker instead of failing
    expect((await w0.run({ op: 'echo', value: 5 })).threadId).toBe(results[0].threadId);
    expect(pool.stats).toMatchObject({ spawned: 3, died: 1, timedOut: 1, failed: 1 });
    await pool.close();
  });

  it('concurrent callers: stalled and spinning jobs among many time out, every other job settles with its own result, close() resolves', async () => {
    const pool = new WorkerPool<HangJob, HangReply>({ file: hangFile, maxWorkers: 3, jobTimeoutMs: 1_000 });
    const ops: HangJob[] = Array.from({ length: 30 }, (_, i) => (i === 4 ? { op: 'spin' } : i === 11 || i === 23 ? { op: 'stall' } : { op: 'echo', value: i, delayMs: i % 7 }));
    const settled = await Promise.allSettled(ops.map((job) => pool.run(job)));
    settled.forEach((s, i) => {
      if (ops[i].op === 'echo') expect(s, `job ${i}`).toEqual({ status: 'fulfilled', value: { value: i, threadId: expect.any(Number) } });
      else {
        expect(s.status, `job ${i}`).toBe('rejected');
        expect((s as PromiseRejectedResult).reason).toBeInstanceOf(JobTimeoutError);
        expect((s as PromiseRejectedResult).reason.message).toMatch(timeoutMessage(1000));
      }
    });
    expect(pool.stats).toMatchObject({ submitted: 30, succeeded: 27, failed: 3, timedOut: 3, died: 3 });
    // a timeout right before close(): close waits for that termination too, and resolves
    const last = pool.run({ op: 'spin' }).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 1_100));
    await pool.close();
    expect(await last).toBeInstanceOf(JobTimeoutError);
    expect(pool.size).toBe(0);
    expect(await pool.run({ op: 'echo', value: 7 })).toMatchObject({ value: 7 });
    await pool.close();
  });

  it('close() while a job waits behind a stuck one rejects both, without waiting for the timeout', async () => {
    const pool = new WorkerPool<HangJob, HangReply>({ file: hangFile, maxWorkers: 1, jobTimeoutMs: 60_000 });
    const held = [pool.run({ op: 'spin' }), pool.run({ op: 'echo', value: 1 })].map((p) => p.catch((e: Error) => e));
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await pool.close();
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const e of await Promise.all(held)) expect(String(e)).toMatch(/hang-worker\.js was terminated by WorkerPool\.close\(\)/);
  });

  it('without jobTimeoutMs nothing is timed (the default); a wrong value is refused', async () => {
    const pool = new WorkerPool<HangJob, HangReply>({ file: hangFile });
    expect(pool.jobTimeoutMs).toBeUndefined();
    const stalled = pool.run({ op: 'stall' }).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 300));
    expect(pool.stats).toMatchObject({ timedOut: 0, failed: 0 });
    await pool.close();
    expect(String(await stalled)).toMatch(/was terminated by WorkerPool\.close\(\)/);
    for (const bad of [0, -5, NaN, Infinity, 2 ** 31, '100']) {
      expect(() => new WorkerPool({ file: hangFile, jobTimeoutMs: bad as number })).toThrow(/jobTimeoutMs must be a number of milliseconds in \(0, 2147483647\] or undefined \(no timeout\), got /);
    }
  });

  it('forest scoring on a pool with a (generous) timeout gives the same scores, also for overlapping calls', async () => {
    const X = traffic(2 * MIN_ROWS_PER_THREAD + 3_000, 9);
    const forest = IsolationForest.fit(X, { nEstimators: 30, maxSamples: 'auto', contamination: 0.05, seed: 5 });
    const pool: ScoringPool = new WorkerPool({ file: distFile('model/forest-worker.js'), maxWorkers: 1, jobTimeoutMs: 60_000 });
    const want = forest.scoreSamples(X);
    const got = await Promise.all([0, 1, 2].map(() => forest.scoreSamplesAsync(X, { threads: 2, pool })));
    for (const g of got) expect(mismatch(g, want)).toEqual(identical(X.rows));
    expect(pool.stats).toMatchObject({ succeeded: 3, timedOut: 0, died: 0 });
    await pool.close();
  }, 60_000);
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
