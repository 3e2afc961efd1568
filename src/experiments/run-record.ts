/**
 * One experiment run, as the run log keeps it: what was run (command, its
 * arguments, the code's commit), with which parameters (every one, and where
 * each came from), on which data (a fingerprint), and what came out (metrics,
 * the model's checksum, the time it took).
 *
 * A record is one JSON object on one line of `artifacts/runs/runs.ndjson`
 * (see run-store.ts); `format` and `version` mark it, as they mark the other
 * stage files, so a reader can refuse a record it does not understand.
 */

/** Marker of a run record (`format` member). */
export const RUN_FORMAT = 'netflow-anomaly-run';
/** Version of the record's shape; a reader skips (and counts) records of other versions. */
export const RUN_VERSION = 1;

/** Commands that record runs. A notebook records under its own name (`label`). */
export type RunCommand = 'start' | 'sweep' | 'evaluate' | 'notebook';
export const RUN_COMMANDS: readonly RunCommand[] = ['start', 'sweep', 'evaluate', 'notebook'];

/** A parameter value as recorded: what a parameter file or `--set` can hold. */
export type RunParamValue = string | number | boolean | null;

/** One input file, identified by its content. */
export interface FileFingerprint {
  /** the path as given (relative to the project when inside it) */
  path: string;
  bytes: number;
  /** `sha256:<hex>` of the file's bytes (of the file as stored: a .gz is hashed compressed) */
  sha256: string;
}

/**
 * Which data a run saw. For simulated traffic, `sha256` is the hash of the
 * data set written as `traffic.csv` (the same bytes whether the data set was
 * written to disk or kept in memory), so two runs on the same simulated data
 * have the same fingerprint; for files, each file's checksum.
 */
export type DataFingerprint =
  | { kind: 'simulation'; rows: number; features: number; sha256: string }
  | { kind: 'files'; files: FileFingerprint[] };

/** The model a run produced. */
export interface ModelFingerprint {
  path: string;
  /** the bundle's own checksum (model.json), else `sha256:` of the file's bytes */
  checksum: string;
}

export interface GitState {
  commit: string;
  /** true when tracked or untracked files differ from the commit (artifacts/ and other ignored files do not count) */
  dirty: boolean;
}

export type RunStatus = 'ok' | 'failed';

export interface RunRecord {
  format: typeof RUN_FORMAT;
  version: typeof RUN_VERSION;
  /** sortable and unique: `YYYYMMDD-HHMMSS-<6 hex>` (UTC start time, then random) */
  id: string;
  /** the run this one belongs to (a notebook executed by `npm start` names the start run) */
  parent?: string;
  /** runs made together (the values of one sweep) share a group */
  group?: string;
  /** ISO time the run started */
  time: string;
  durationMs: number;
  command: RunCommand;
  /** what within the command: the notebook's name, the swept parameter, `capture` for captures */
  label?: string;
  /** the command's arguments as given */
  argv: string[];
  git: GitState | null;
  library: string;
  /** every parameter of the run */
  params: Record<string, RunParamValue>;
  /** where each parameter's value came from (`default`, `--set`, a file, `run <id>`, ...) */
  origin: Record<string, string>;
  data: DataFingerprint | null;
  /** the run's numbers; names use letters, digits, `_ - . /` only (MLflow's rule) */
  metrics: Record<string, number>;
  model: ModelFingerprint | null;
  status: RunStatus;
  /** the one-line reason of a failed run */
  error?: string;
  /** the run this one re-ran with the same parameters (`npm start -- --from-run ID`) */
  reproduces?: string;
}

/** Metric and parameter names accepted by the run log (MLflow accepts the same set). */
export const RUN_NAME_PATTERN = /^[A-Za-z0-9_\-. /]{1,250}$/;

/** A record that cannot be written: a bad metric name or value, or a shape the log does not accept. */
export class RunRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunRecordError';
  }
}

/**
 * Check a record before it is written, so the log only ever holds records a
 * reader can use.
 *
 * @throws RunRecordError naming the member at fault
 */
export function checkRunRecord(r: RunRecord): void {
  if (r.format !== RUN_FORMAT || r.version !== RUN_VERSION) throw new RunRecordError(`run ${r.id}: not a version ${RUN_VERSION} run record`);
  if (!/^\d{8}-\d{6}-[0-9a-f]{6}$/.test(r.id)) throw new RunRecordError(`run id ${JSON.stringify(r.id)} is not YYYYMMDD-HHMMSS-xxxxxx`);
  if (!RUN_COMMANDS.includes(r.command)) throw new RunRecordError(`run ${r.id}: unknown command ${JSON.stringify(r.command)}`);
  for (const [k, v] of Object.entries(r.metrics)) {
    if (!RUN_NAME_PATTERN.test(k)) throw new RunRecordError(`run ${r.id}: metric name ${JSON.stringify(k)} has characters other than letters, digits and _ - . / (or is empty)`);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RunRecordError(`run ${r.id}: metric ${k} is ${String(v)}, not a finite number`);
  }
  for (const [k, v] of Object.entries(r.params)) {
    if (!RUN_NAME_PATTERN.test(k)) throw new RunRecordError(`run ${r.id}: parameter name ${JSON.stringify(k)} has characters other than letters, digits and _ - . /`);
    if (v !== null && !['string', 'number', 'boolean'].includes(typeof v)) throw new RunRecordError(`run ${r.id}: parameter ${k} is not a string, number, boolean or null`);
  }
}

/** Why a line of the run log was not read as a record. */
export type RunLineProblem = 'not-json' | 'not-a-run' | 'other-version';

/**
 * Read one line of the run log.
 *
 * @returns the record, or the reason it is not one (a torn last line after a
 *   crash is `not-json`; a record from a newer library is `other-version`)
 */
export function parseRunLine(line: string): RunRecord | RunLineProblem {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'not-json';
  }
  if (typeof v !== 'object' || v === null || (v as { format?: unknown }).format !== RUN_FORMAT) return 'not-a-run';
  const r = v as RunRecord;
  if (r.version !== RUN_VERSION) return 'other-version';
  if (typeof r.id !== 'string' || typeof r.time !== 'string' || typeof r.params !== 'object' || r.params === null || typeof r.metrics !== 'object' || r.metrics === null) return 'not-a-run';
  return r;
}
