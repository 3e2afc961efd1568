/**
 * `npm run setup`: everything the notebooks need beyond `npm install`.
 *
 * 1. a local Python environment (.venv) with JupyterLab and nbclient (requirements.txt),
 * 2. the tslab TypeScript kernel registered in that environment with an absolute
 *    path (its default kernelspec calls a bare `tslab`, which is not on PATH),
 * Each step is skipped when already done, so running it again is cheap.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, run, TSLAB, VENV, VENV_PYTHON } from './project';

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
  throw new Error('setup: no Python 3.9+ found (tried $PYTHON, python3, python). Install Python 3 and run `npm run setup` again.');
}

export function ensureVenv(): void {
  if (!existsSync(VENV_PYTHON)) {
    const py = findPython();
    console.log(`setup: creating ${VENV} with ${py}`);
    run(py, ['-m', 'venv', VENV]);
  }
  const reqFile = join(ROOT, 'requirements.txt');
  const stamp = join(VENV, '.requirements.sha256');
  const hash = createHash('sha256').update(readFileSync(reqFile)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return;
  console.log('setup: installing the Python side (JupyterLab, nbclient) into .venv');
  run(VENV_PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', reqFile]);
  writeFileSync(stamp, hash);
}

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
  if (!existsSync(TSLAB)) throw new Error(`setup: ${TSLAB} is missing; run \`npm install\` first`);
  console.log('setup: registering the tslab TypeScript kernel in .venv');
  run(TSLAB, ['install', `--python=${VENV_PYTHON}`, '--sys-prefix', `--binary=${TSLAB}`], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export function setup(): void {
  ensureVenv();
  ensureKernel();
}

if (require.main === module) {
  try {
    setup();
    console.log('setup: ready (.venv with JupyterLab and the TypeScript kernel)');
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
