import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describeOverrides, integerOption, numberOption, paramsEnv, parseCommonArgs, paramsFromArgs, parseOptions } from '../src/cli/args';
import { CliError, describeError, UsageError } from '../src/cli/command';
import { checkExecutedNotebook, type Notebook } from '../src/cli/notebooks';
import { sweepPlan } from '../src/cli/sweep';
import { runSweep } from '../src/workflow/sweep';
import { DEFAULT_PARAMS, loadParams, ParameterError } from '../src/params/params';

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
  it('--help / -h; a missing value; everything after -- is left as given', () => {
    expect(parseCommonArgs(['-h']).help).toBe(true);
    expect(parseCommonArgs(['--help', '--port', '8888']).rest).toEqual(['--port', '8888']);
    expect(() => parseCommonArgs(['--set'])).toThrow(new UsageError('--set needs a value'));
    expect(() => parseCommonArgs(['--params'])).toThrow(/--params needs a value/);
    expect(parseCommonArgs(['--set', 'a=1', '--', '--set', 'b=2'])).toMatchObject({ sets: ['a=1'], rest: ['--', '--set', 'b=2'] });
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

describe('parseOptions (node:util parseArgs): one-line usage errors', () => {
  const options = { model: { type: 'string' }, quiet: { type: 'boolean' }, set: { type: 'string', multiple: true } } as const;
  it('parses values, repeated options and --name=value', () => {
    const r = parseOptions(['--model', 'm.json', '--set', 'a=1', '--set=b=2', '--quiet', '--model=-'], options);
    expect(r.values).toEqual({ model: '-', set: ['a=1', 'b=2'], quiet: true });
  });
  it.each([
    [['--bogus'], 'unknown option --bogus'],
    [['-x'], 'unknown option -x'],
    [['--model'], '--model needs a value'],
    [['--model', '--quiet'], '--model needs a value (write --model=VALUE for a value that starts with "-")'],
    [['--quiet=yes'], '--quiet takes no value'],
    [['extra'], 'unexpected argument "extra"'],
  ])('%j: %s', (argv, message) => {
    let error: unknown;
    try {
      parseOptions(argv, options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(message);
    expect((error as UsageError).exitCode).toBe(2);
  });
  it('positionals only when allowed', () => {
    expect(parseOptions(['a=1,2', '--quiet'], options, true).positionals).toEqual(['a=1,2']);
  });
  it('integer and number values name the option and the value', () => {
    expect(integerOption('--runs', '3')).toBe(3);
    expect(integerOption('--max-rejects', '0', 0)).toBe(0);
    expect(() => integerOption('--runs', '0')).toThrow('--runs must be a positive integer, got "0"');
    expect(() => integerOption('--runs', '2.5')).toThrow(/got "2\.5"/);
    expect(() => integerOption('--runs', '')).toThrow(/got ""/);
    expect(() => integerOption('--rows', '999', 1000)).toThrow('--rows must be an integer >= 1000, got "999"');
    expect(numberOption('--f', '0.5', 0)).toBe(0.5);
    expect(() => numberOption('--f', 'NaN', 0)).toThrow('--f must be a number > 0, got "NaN"');
  });
});

describe('top-level error handling', () => {
  it('expected failures: one line, their own exit code', () => {
    expect(describeError('stream', new CliError('cannot write alerts to /x: ENOENT', 5))).toEqual({ code: 5, text: 'stream: cannot write alerts to /x: ENOENT\n' });
    expect(describeError('sweep', new ParameterError('Invalid parameter seed = -1'), false, 'npm run sweep -- --help')).toEqual({
      code: 2,
      text: 'sweep: Invalid parameter seed = -1 (see npm run sweep -- --help)\n',
    });
  });
  it('a bug: exit 1, the message, the stack only in debug mode', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
    const plain = describeError('start', bug, false);
    expect(plain.code).toBe(1);
    expect(plain.text).toBe("start: unexpected failure: Cannot read properties of undefined (reading 'x') (set DEBUG=1 for the stack trace)\n");
    const debug = describeError('start', bug, true);
    expect(debug.text).toContain(bug.stack!);
  });

  const dist = join(__dirname, '..', 'dist', 'cli');
  const node = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, DEBUG: '', ...env }, timeout: 60_000 });
    return { code: r.status, stderr: r.stderr, stdout: r.stdout };
  };
  const STACK = /^\s+at .+[:(]/m;

  it.each(['stream', 'sweep', 'start', 'bench', 'bench-stream', 'setup', 'bench-run'])('%s: an unknown option is one line and exit 2', (cli) => {
    const r = node([join(dist, `${cli}.js`), '--nope']);
    expect(r.code, r.stderr).toBe(2);
    const name = cli === 'bench-stream' ? 'bench:stream' : cli;
    expect(r.stderr).toMatch(new RegExp(`^${name}: unknown option --nope( \\(see npm [^)]+--help\\))?\\n$`));
  });

  it('a thrown bug in a command: exit 1 and one line; the stack with DEBUG=1', () => {
    const script = `require(${JSON.stringify(join(dist, 'command.js'))}).runCommand('demo', () => { null.x; return 0; })`;
    const plain = node(['-e', script]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/^demo: unexpected failure: Cannot read properties of null \(reading 'x'\) \(set DEBUG=1 for the stack trace\)\n$/);
    const debug = node(['-e', script], { DEBUG: '1' });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(STACK);
  });

  it('sweep: an unwritable artifacts folder stops it before any run (exit 5)', () => {
    const r = node([join(dist, 'sweep.js'), 'contamination=0.05'], { ANOMALY_ARTIFACTS_DIR: '/dev/null/artifacts' });
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toBe('sweep: cannot write the sweep results to /dev/null/artifacts: ENOTDIR: not a directory\n');
    expect(r.stdout).toBe(''); // no run started
  });

  it('bench-run: unreadable data is exit 4, a bad contestant exit 2', () => {
    const missing = node([join(dist, 'bench-run.js'), 'ours', '--x', '/nonexistent/x.f64', '--y', '/nonexistent/y.i8', '--cols', '5']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/^bench-run: cannot read \/nonexistent\/x\.f64: ENOENT/);
    expect(missing.stderr).not.toMatch(STACK);
    expect(node([join(dist, 'bench-run.js'), 'sklearn', '--x', 'a', '--y', 'b', '--cols', '5']).code).toBe(2);
  });
});
