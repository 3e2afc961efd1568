import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../core/paths';

/** Paths of the project that the command-line tools share. */
export const ROOT = PROJECT_ROOT;
export const VENV = join(ROOT, '.venv');
export const VENV_BIN = join(VENV, process.platform === 'win32' ? 'Scripts' : 'bin');
export const VENV_PYTHON = join(VENV_BIN, process.platform === 'win32' ? 'python.exe' : 'python');
export const NODE_BIN = join(ROOT, 'node_modules', '.bin');
export const TSLAB = join(NODE_BIN, process.platform === 'win32' ? 'tslab.cmd' : 'tslab');
export const NOTEBOOKS = join(ROOT, 'notebooks');
export const ARTIFACTS = join(ROOT, 'artifacts');

/** Environment for Jupyter processes: the venv and node_modules/.bin first on PATH. */
export function jupyterEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: [VENV_BIN, NODE_BIN, process.env.PATH ?? ''].join(process.platform === 'win32' ? ';' : ':'),
    // keep Jupyter's own state inside the project so runs do not depend on ~/.jupyter
    JUPYTER_PLATFORM_DIRS: '1',
    ...extra,
  };
}

/** An external command (python, pip, tslab, ...) that could not start or failed; the message is one line naming it. */
export class ExternalCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExternalCommandError';
  }
}

/** Run a command, inheriting output; throw an {@link ExternalCommandError} with the command line when it fails. */
export function run(cmd: string, args: string[], options: SpawnSyncOptions = {}): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.error) throw new ExternalCommandError(`${cmd} could not start: ${r.error.message}`);
  if (r.status !== 0) throw new ExternalCommandError(`${[cmd, ...args].join(' ')} failed with exit code ${r.status ?? r.signal}`);
}
