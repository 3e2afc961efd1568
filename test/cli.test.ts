import { describe, expect, it } from 'vitest';
import { describeOverrides, paramsEnv, parseCommonArgs, paramsFromArgs } from '../src/cli/args';
import { checkExecutedNotebook, type Notebook } from '../src/cli/notebooks';
import { runSweep, sweepPlan } from '../src/cli/sweep';
import { DEFAULT_PARAMS, loadParams } from '../src/core/params';

const nb = (cells: Notebook['cells']): Notebook => ({ cells, metadata: {} });
const code = (source: string, execution_count: number | null, outputs: NonNullable<Notebook['cells'][0]['outputs']> = []) => ({
  cell_type: 'code',
  source,
  execution_count,
  outputs,
});

describe('checkExecutedNotebook', () => {
  it('accepts a clean run', () => {
    expect(checkExecutedNotebook(nb([{ cell_type: 'markdown', source: '# hi' }, code('1', 1)]), [{ cell: 1, status: 'ok' }])).toEqual([]);
  });
  it('names a cell that never ran (kernel crash)', () => {
    const p = checkExecutedNotebook(nb([code('a()', 1), code('b()', null)]));
    expect(p).toEqual([{ cell: 1, source: 'b()', problem: 'not executed (no execution count)' }]);
  });
  it('names a cell whose reply was an error (how tslab reports type errors and throws)', () => {
    const p = checkExecutedNotebook(nb([code("const x: number = 'a'", 1)]), [{ cell: 0, status: 'error' }]);
    expect(p[0].problem).toBe('kernel replied "error"');
  });
  it('catches error outputs and uncaught asynchronous errors on stderr', () => {
    const p = checkExecutedNotebook(
      nb([
        code('x', 1, [{ output_type: 'error', ename: 'Error', evalue: 'boom' }]),
        code('y', 2, [{ output_type: 'stream', name: 'stderr', text: 'UncaughtException: Error: late\n  at ...' }]),
        code('z', 3, [{ output_type: 'stream', name: 'stderr', text: 'a harmless warning\n' }]),
      ]),
    );
    expect(p.map((x) => [x.cell, x.problem])).toEqual([
      [0, 'error output: Error: boom'],
      [1, 'uncaught error: UncaughtException: Error: late'],
    ]);
  });
});

describe('command-line parameters', () => {
  it('--set (both spellings) and --params are collected; the rest is left', () => {
    expect(parseCommonArgs(['--set', 'a=1', '--set=b=2', '--params', 'p.json', '--x', 'k=v'])).toEqual({
      sets: ['a=1', 'b=2'],
      paramsFile: 'p.json',
      help: false,
      rest: ['--x', 'k=v'],
    });
  });
  it('bad values stop with the key, the value and --set named', () => {
    expect(() => paramsFromArgs(parseCommonArgs(['--set', 'nEstimators=-1']))).toThrow(/nEstimators = -1 from --set/);
  });
  it('kernels receive exactly the non-default values', () => {
    const loaded = loadParams({ env: {}, overrides: { contamination: 0.1, seed: 42 } });
    expect(JSON.parse(paramsEnv(loaded).ANOMALY_PARAMS)).toEqual({ contamination: 0.1, seed: 42 });
    expect(describeOverrides(loaded)).toBe('seed=42, contamination=0.1');
    expect(describeOverrides(loadParams({ env: {} }))).toBe('defaults');
  });
});

describe('sweep', () => {
  it('validates every value before running', () => {
    expect(() => sweepPlan(DEFAULT_PARAMS, 'contamination=0.01,0.9')).toThrow(/contamination = 0\.9/);
    expect(() => sweepPlan(DEFAULT_PARAMS, 'contamination')).toThrow(/expected key=v1,v2/);
  });
  it('runs the library pipeline once per value: more contamination, more flags', () => {
    const base = { ...DEFAULT_PARAMS, nNormal: 2000, nAnomalous: 100, nEstimators: 20 };
    const { key, runs } = sweepPlan(base, 'contamination=0.02,0.1');
    const rows = runSweep(key, runs);
    expect(rows.map((r) => r.value)).toEqual([0.02, 0.1]);
    expect(rows.map((r) => r.nFlagged)).toEqual([42, 210]);
    expect(rows[1].recall).toBeGreaterThanOrEqual(rows[0].recall);
  });
});

describe('bench-run (one benchmark run in a fresh process)', () => {
  it('fits, scores and reports figures as one JSON line', async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { simulateTraffic } = await import('../src/data/simulate');
    const dir = mkdtempSync(join(tmpdir(), 'bench-run-'));
    const data = simulateTraffic({ ...DEFAULT_PARAMS, nNormal: 3000, nAnomalous: 150 });
    writeFileSync(join(dir, 'x.f64'), Buffer.from(data.X.data.buffer));
    writeFileSync(join(dir, 'y.i8'), Buffer.from(data.y.buffer));
    const r = spawnSync(process.execPath, [join(__dirname, '..', 'dist', 'cli', 'bench-run.js'), 'ours', '--x', join(dir, 'x.f64'), '--y', join(dir, 'y.i8'), '--cols', '5'], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.rocAuc).toBeGreaterThan(0.999);
    expect(out.nFlagged).toBe(158);
    expect(out.fitSeconds).toBeGreaterThan(0);
    expect(out.peakMB).toBeGreaterThan(10);
    expect(out.modelFormat).toBe('JSON');
  }, 60_000);
});
