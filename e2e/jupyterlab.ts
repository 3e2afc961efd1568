import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jupyterEnv, ROOT, VENV_BIN } from '../src/cli/project';

/** A JupyterLab server from the project's .venv on 127.0.0.1, a free port and a random token. */
export interface Lab {
  url: string;
  token: string;
  /** the artifacts folder the kernels write to (fresh, empty) */
  artifacts: string;
  log: () => string;
  stop: () => Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function settings(dir: string, plugin: string, file: string, value: unknown): void {
  mkdirSync(join(dir, plugin), { recursive: true });
  writeFileSync(join(dir, plugin, `${file}.jupyterlab-settings`), JSON.stringify(value));
}

export async function startLab(): Promise<Lab> {
  const work = mkdtempSync(join(tmpdir(), 'lab-e2e-'));
  const artifacts = join(work, 'artifacts');
  const userSettings = join(work, 'settings');
  // render every cell (no virtual scrolling, so a tall viewport shows the whole notebook)
  // and no news/update pop-ups over the screenshots
  settings(userSettings, '@jupyterlab/notebook-extension', 'tracker', { windowingMode: 'none', scrollPastEnd: false });
  settings(userSettings, '@jupyterlab/apputils-extension', 'notification', { fetchNews: 'false', checkForUpdates: false });
  // running cells changes the notebooks: never write them back over the committed ones
  settings(userSettings, '@jupyterlab/docmanager-extension', 'plugin', { autosave: false });
  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  const child: ChildProcess = spawn(
    join(VENV_BIN, 'jupyter'),
    [
      'lab',
      '--no-browser',
      '--ServerApp.ip=127.0.0.1',
      `--ServerApp.port=${port}`,
      '--ServerApp.port_retries=0',
      `--IdentityProvider.token=${token}`,
      `--ServerApp.root_dir=${ROOT}`,
      `--LabApp.user_settings_dir=${userSettings}`,
      `--LabApp.workspaces_dir=${join(work, 'workspaces')}`,
      '--LabApp.expose_app_in_browser=True',
      // checkpoints (written when a notebook is opened) go to the temp folder, not notebooks/
      `--FileCheckpoints.checkpoint_dir=${join(work, 'checkpoints')}`,
      // CI machines run as root; Jupyter refuses that without being told
      ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
    ],
    {
      cwd: ROOT,
      detached: true, // own process group: stopped with its kernels
      stdio: ['ignore', 'pipe', 'pipe'],
      env: jupyterEnv({
        ANOMALY_ARTIFACTS_DIR: artifacts,
        ANOMALY_PARAMS: '',
        ANOMALY_PARAMS_FILE: '',
        JUPYTER_CONFIG_DIR: join(work, 'config'),
        JUPYTER_RUNTIME_DIR: join(work, 'runtime'),
      }),
    },
  );
  let log = '';
  child.stdout?.on('data', (d) => (log += d));
  child.stderr?.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  child.on('exit', () => (exited = true));

  const stop = async () => {
    if (exited) return;
    try {
      await fetch(`${url}/api/shutdown`, { method: 'POST', headers: { Authorization: `token ${token}` } });
    } catch {
      // already down
    }
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (!exited && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`JupyterLab exited during start-up:\n${log.slice(-3000)}`);
    try {
      const r = await fetch(`${url}/api/status`, { headers: { Authorization: `token ${token}` } });
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`JupyterLab did not answer within 60 s:\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, token, artifacts, log: () => log, stop };
}
