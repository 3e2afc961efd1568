/**
 * Every process the lab starts goes through one {@link ProcessSet}: it can run
 * a program in a host's network namespace (nsenter, which execs the program,
 * so the pid we hold is the program's), bound it by a timeout, and kill
 * whatever is still running at the end, on error or on Ctrl-C. The lab also
 * runs as the init of its own PID namespace, so anything that escaped this
 * set dies with it (src/lab/launch.ts).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** How a finished program ended. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** the last 64 KB of its stdout and stderr */
  stdout: string;
  stderr: string;
  /** epoch ms just before the spawn, and when it exited */
  startMs: number;
  endMs: number;
  timedOut: boolean;
}

export interface RunOptions {
  /** run inside the network namespace of this process (a host's holder) */
  netnsPid?: number;
  /** text written to the program's stdin (closed after it) */
  input?: string;
  /** SIGTERM after this long, SIGKILL 2 s later (default 30 s) */
  timeoutMs?: number;
}

const KEEP = 64 * 1024;
const keepTail = (s: string) => (s.length > KEEP ? s.slice(s.length - KEEP) : s);

/** The command line that runs `command args` in the network namespace of `netnsPid` (or here). */
export function inNetns(netnsPid: number | undefined, command: string, args: readonly string[]): [string, string[]] {
  return netnsPid === undefined ? [command, [...args]] : ['nsenter', [`--net=/proc/${netnsPid}/ns/net`, '--', command, ...args]];
}

/** The last non-empty line of a program's output, for one-line error messages. */
export function lastLine(...texts: string[]): string {
  for (const text of texts) {
    const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    if (lines.length > 0) return lines[lines.length - 1].slice(0, 300);
  }
  return '';
}

export class ProcessSet {
  private readonly live = new Set<ChildProcess>();
  private closed = false;

  /** Start a long-running program (a server, a capture, a namespace holder); it is killed by {@link killAll}. */
  start(command: string, args: readonly string[], options: { netnsPid?: number; stdio?: SpawnOptions['stdio'] } = {}): ChildProcess {
    if (this.closed) throw new Error(`the lab is stopping: not starting ${command}`);
    const [cmd, argv] = inNetns(options.netnsPid, command, args);
    const child = spawn(cmd, argv, { stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'] });
    this.live.add(child);
    child.once('exit', () => this.live.delete(child));
    child.once('error', () => this.live.delete(child));
    return child;
  }

  /** Run a program to its end (or its timeout) and collect its output; never rejects for a failed program, only reports it. */
  run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const startMs = Date.now();
    let child: ChildProcess;
    try {
      child = this.start(command, args, { netnsPid: options.netnsPid, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    } catch (e) {
      return Promise.resolve({ code: null, signal: null, stdout: '', stderr: (e as Error).message, startMs, endMs: Date.now(), timedOut: false });
    }
    return new Promise((resolve) => {
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout = keepTail(stdout + d)));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = keepTail(stderr + d)));
      if (options.input !== undefined) {
        child.stdin!.on('error', () => {}); // a program that exits before reading all its input
        child.stdin!.end(options.input);
      }
      let killer: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
        killer = setTimeout(() => child.kill('SIGKILL'), 2000);
      }, options.timeoutMs ?? 30_000);
      const finish = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
        clearTimeout(timer);
        if (killer) clearTimeout(killer);
        resolve({ code, signal, stdout, stderr: error ? `${stderr}${error.message}` : stderr, startMs, endMs: Date.now(), timedOut });
      };
      child.once('error', (e) => finish(null, null, e));
      child.once('close', (code, signal) => finish(code, signal));
    });
  }

  /**
   * Run a program that must succeed (exit 0), e.g. one `ip` step.
   *
   * @throws Error with `fail(message)` applied: the caller turns it into its LabError
   */
  async check(command: string, args: readonly string[], fail: (message: string) => Error, options: RunOptions = {}): Promise<RunResult> {
    const r = await this.run(command, args, options);
    if (r.code !== 0) {
      const how = r.timedOut ? `did not finish within ${options.timeoutMs ?? 30_000} ms` : r.code === null ? `ended by ${r.signal ?? 'an error'}` : `exited with code ${r.code}`;
      const detail = lastLine(r.stderr, r.stdout);
      throw fail(`${[command, ...args].join(' ')} ${how}${detail ? `: ${detail}` : ''}`);
    }
    return r;
  }

  /** How many started programs are still running. */
  get running(): number {
    return this.live.size;
  }

  /** SIGTERM every program still running, SIGKILL what is left after `graceMs`; resolves when all have exited. */
  async killAll(graceMs = 2000): Promise<void> {
    this.closed = true;
    const children = [...this.live];
    if (children.length === 0) return;
    const exited = children.map((c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r()))));
    for (const c of children) c.kill('SIGTERM');
    const killer = setTimeout(() => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }, graceMs);
    await Promise.all(exited);
    clearTimeout(killer);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
