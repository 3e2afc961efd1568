/**
 * `npm run runs`: the run log as a table, or runs side by side.
 *
 *   npm run runs [-- --all] [--command C] [--group G] [--limit N] [--json]
 *   npm run runs -- --compare ID ID ... [--differences] [--json]
 */
import { RunNotFoundError, RunStore } from '../experiments/run-store';
import { RUN_COMMANDS, type RunCommand } from '../experiments/run-record';
import { selectRuns } from '../experiments/run-table';
import { comparisonTable, runTable } from '../notebook/runs-view';
import { textTable } from '../notebook/tables';
import { integerOption, oneOf, parseOptions } from './args';
import { CliError, runCommand, UsageError } from './command';

/** Exit code when a run id is unknown or ambiguous, or the log cannot be read. */
export const EXIT_RUNS_INPUT = 4;

const USAGE = `usage: npm run runs -- [--all] [--command C] [--group G] [--limit N] [--json]
       npm run runs -- --compare ID ID ... [--differences] [--json]

Lists the runs recorded in artifacts/runs/runs.ndjson (every npm start, npm run sweep,
npm run evaluate and notebook run appends one), newest first: the parameters that differ
between the runs listed, the main metrics and the model checksum.

  --all            also the notebooks an npm start executed (recorded as its children)
  --command C      only the runs of one command: ${RUN_COMMANDS.join(', ')}
  --group G        only the runs of one sweep (its group id), or the children of run G
  --limit N        at most N runs (default 20)
  --compare ID...  the given runs side by side (ids or unique prefixes), every parameter and
                   metric, with ≠ on the lines that differ
  --differences    with --compare: only the lines that differ
  --json           the records themselves, as a JSON array (for scripts)

The log is one JSON record per line: pandas reads it with pd.read_json(path, lines=True).

Exit codes: 0 done, 2 bad usage, 4 an unknown or ambiguous run id, or an unreadable log,
1 unexpected failure (a bug; set DEBUG=1 for the stack trace).`;

const OPTIONS = {
  all: { type: 'boolean' },
  command: { type: 'string' },
  group: { type: 'string' },
  limit: { type: 'string' },
  compare: { type: 'boolean' },
  differences: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `npm run runs` on `argv`; @returns the exit code (see USAGE) */
export function main(argv: readonly string[]): number {
  const { values, positionals } = parseOptions(argv, OPTIONS, true);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const store = new RunStore();
  let log;
  try {
    log = store.read();
  } catch (e) {
    throw new CliError(`cannot read ${store.show()}: ${(e as Error).message}`, EXIT_RUNS_INPUT);
  }
  const skipped = Object.entries(log.skipped).filter(([, n]) => n > 0);
  if (skipped.length > 0) process.stderr.write(`runs: skipped ${skipped.map(([why, n]) => `${n} ${why}`).join(', ')} line(s) of ${store.show()}\n`);
  if (values.compare) {
    if (positionals.length < 1) throw new UsageError('--compare needs at least one run id');
    let runs;
    try {
      runs = positionals.map((id) => store.find(id));
    } catch (e) {
      if (e instanceof RunNotFoundError) throw new CliError(e.message, EXIT_RUNS_INPUT);
      throw e;
    }
    if (values.json) {
      console.log(JSON.stringify(runs, null, 1));
      return 0;
    }
    const t = comparisonTable(runs, values.differences ?? false);
    console.log(textTable(t.rows, t));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} (run ids go after --compare)`);
  if (values.differences) throw new UsageError('--differences only with --compare');
  const command = values.command === undefined ? undefined : oneOf<RunCommand>('--command', values.command, RUN_COMMANDS);
  const limit = values.limit === undefined ? 20 : integerOption('--limit', values.limit);
  const matching = selectRuns(log.runs, { all: values.all, command, group: values.group });
  const runs = matching.slice(0, limit);
  if (values.json) {
    console.log(JSON.stringify(runs, null, 1));
    return 0;
  }
  const t = runTable(runs, store.show());
  console.log(textTable(t.rows, t));
  if (matching.length > runs.length) console.log(`(${matching.length - runs.length} older run(s) not shown: --limit ${matching.length})`);
  return 0;
}

if (require.main === module) runCommand('runs', main, { help: 'npm run runs -- --help' });
