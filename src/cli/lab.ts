/**
 * `npm run lab`: open JupyterLab on the notebooks with the TypeScript kernel.
 *
 *   npm run lab -- [--set key=value]... [--params FILE] [any jupyter lab option]
 *
 * Parameters given here reach every notebook's first cell (through ANOMALY_PARAMS).
 * Every other argument goes to `jupyter lab` unchanged.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describeOverrides, paramsEnv, paramsFromArgs, parseCommonArgs } from './args';
import { runCommand } from './command';
import { jupyterEnv, ROOT, VENV_BIN } from './project';
import { setup, SetupError } from './setup';

const USAGE = `usage: npm run lab -- [--set key=value]... [--params FILE] [jupyter lab options]

Opens JupyterLab (from .venv, set up first if needed) on notebooks/01_simulate_traffic.ipynb
with the TypeScript kernel; --set / --params reach every notebook's first cell.

Exit codes: jupyter lab's own (0 after a normal shutdown), 2 bad usage or parameters,
3 set-up failed or jupyter could not start, 1 unexpected failure (a bug; set DEBUG=1
for the stack trace).`;

/** `npm run lab` on `argv`; resolves with the exit code when JupyterLab ends */
export async function main(argv: readonly string[]): Promise<number> {
  const args = parseCommonArgs(argv);
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const loaded = paramsFromArgs(args);
  setup();
  console.log(`parameters: ${describeOverrides(loaded)}; opening notebooks/01_simulate_traffic.ipynb (kernel: TypeScript)`);
  const jupyter = join(VENV_BIN, 'jupyter');
  const child = spawn(
    jupyter,
    [
      'lab',
      `--ServerApp.root_dir=${ROOT}`,
      // containers often run as root, which Jupyter refuses unless told
      ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
      ...args.rest,
      join('notebooks', '01_simulate_traffic.ipynb'),
    ],
    { cwd: ROOT, stdio: 'inherit', env: jupyterEnv(paramsEnv(loaded)) },
  );
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise<number>((resolve, reject) => {
    child.on('error', (e) => reject(new SetupError(`cannot start ${jupyter}: ${e.message}`)));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

if (require.main === module) runCommand('lab', main, { help: 'npm run lab -- --help', forceExit: true });
