/**
 * `npm run lab`: open JupyterLab on the notebooks with the TypeScript kernel.
 *
 *   npm run lab -- [--set key=value]... [--params FILE] [any jupyter lab option]
 *
 * Parameters given here reach every notebook's first cell (through ANOMALY_PARAMS).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describeOverrides, paramsEnv, paramsFromArgs, parseCommonArgs } from './args';
import { jupyterEnv, ROOT, VENV_BIN } from './project';
import { setup } from './setup';

function main(): void {
  let args;
  let loaded;
  try {
    args = parseCommonArgs(process.argv.slice(2));
    if (args.help) {
      console.log('usage: npm run lab -- [--set key=value]... [--params FILE] [jupyter lab options]');
      return;
    }
    loaded = paramsFromArgs(args);
  } catch (e) {
    console.error(`npm run lab: ${(e as Error).message}`);
    process.exit(2);
  }
  setup();
  console.log(`parameters: ${describeOverrides(loaded)}; opening notebooks/01_simulate_traffic.ipynb (kernel: TypeScript)`);
  const child = spawn(
    join(VENV_BIN, 'jupyter'),
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
  child.on('exit', (code) => process.exit(code ?? 0));
}

main();
