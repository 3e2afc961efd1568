import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../core/paths';
import { artifactsDir } from '../persist/workspace';
import { checkRunRecord, parseRunLine, type RunLineProblem, type RunRecord } from './run-record';

/** The run log, relative to the artifacts folder. */
export const RUN_LOG = join('runs', 'runs.ndjson');

/**
 * A new run id: the UTC start time to the second (so ids sort by time) and 48
 * random bits (so two runs started in the same second by two processes still
 * differ).
 */
export function newRunId(start: Date = new Date()): string {
  const iso = start.toISOString(); // 2026-12-02T01:37:43.123Z
  return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}-${randomBytes(3).toString('hex')}`;
}

/** No run, or more than one, matches the id (or id prefix) asked for. */
export class RunNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunNotFoundError';
  }
}

/** What {@link RunStore.read} found: the records in the order they were written, and the lines it skipped by reason. */
export interface RunLog {
  runs: RunRecord[];
  skipped: Record<RunLineProblem, number>;
  path: string;
}

/**
 * The run log: one JSON record per line in `artifacts/runs/runs.ndjson`,
 * append-only, readable with `pandas.read_json(path, lines=True)`.
 *
 * Safe for concurrent writers on a local file system: each record is written
 * by one `write(2)` on a descriptor opened with O_APPEND, and the kernel
 * positions and writes an appending write as one step, so two runs finishing
 * at once each leave a whole line (never interleaved bytes, never a lost
 * record). A process killed mid-write leaves at worst a torn last line, which
 * the reader skips and counts. (Network file systems do not give O_APPEND
 * this guarantee.)
 */
export class RunStore {
  /** the run log's path */
  readonly path: string;

  /** @param dir the artifacts folder (default: ANOMALY_ARTIFACTS_DIR or `<project>/artifacts`) */
  constructor(readonly dir: string = artifactsDir()) {
    this.path = join(dir, RUN_LOG);
  }

  /**
   * The log's path as shown to a user: relative to the working directory when
   * the log is inside the project (`artifacts/runs/runs.ndjson` from the
   * project, `../artifacts/...` from a notebook), absolute otherwise.
   */
  show(): string {
    const inProject = !relative(PROJECT_ROOT, this.path).startsWith('..');
    return inProject ? relative(process.cwd(), this.path) : this.path;
  }

  /**
   * Append one record (checked first) as one line, and flush it to disk.
   *
   * @throws RunRecordError for a record the log does not accept; an fs error naming the path when it cannot be written
   */
  append(record: RunRecord): void {
    checkRunRecord(record);
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    mkdirSync(join(this.dir, 'runs'), { recursive: true });
    const fd = openSync(this.path, 'a');
    try {
      const written = writeSync(fd, line, 0, line.length);
      // a regular file takes an appending write whole or fails; a short write would leave a torn line
      if (written !== line.length) throw Object.assign(new Error(`short write (${written} of ${line.length} bytes), ${this.path}`), { code: 'EIO', path: this.path });
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Every record in the log, in the order written (a missing log is an empty one). */
  read(): RunLog {
    const skipped: Record<RunLineProblem, number> = { 'not-json': 0, 'not-a-run': 0, 'other-version': 0 };
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { runs: [], skipped, path: this.path };
      throw e;
    }
    const runs: RunRecord[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const r = parseRunLine(line);
      if (typeof r === 'string') skipped[r] += 1;
      else runs.push(r);
    }
    return { runs, skipped, path: this.path };
  }

  /**
   * The run whose id is `id` or starts with it (as git takes a commit prefix).
   *
   * @throws RunNotFoundError when none or several match
   */
  find(id: string): RunRecord {
    const { runs } = this.read();
    const exact = runs.find((r) => r.id === id);
    if (exact) return exact;
    const matches = runs.filter((r) => r.id.startsWith(id));
    if (matches.length === 1) return matches[0];
    if (matches.length === 0) throw new RunNotFoundError(`no run ${JSON.stringify(id)} in ${this.show()} (${runs.length} runs; list them with npm run runs)`);
    throw new RunNotFoundError(`${JSON.stringify(id)} matches ${matches.length} runs in ${this.show()} (${matches.slice(0, 3).map((r) => r.id).join(', ')}${matches.length > 3 ? ', ...' : ''}): give more of the id`);
  }
}
