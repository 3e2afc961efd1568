/**
 * How every command-line tool ends: one line `<command>: <message>` on stderr and
 * a documented exit code, never a stack trace for a failure the tool expects.
 *
 * A tool's `main(argv)` returns its exit code, or throws a {@link CliError}
 * (which carries the code) for an expected failure; a `ParameterError` (a bad
 * `--set`, `--params` or `ANOMALY_PARAMS`) or a value a model refuses, is bad usage (exit 2). Anything else
 * is a bug: exit 1 with the message only, and the stack as well when the
 * environment variable `DEBUG` is set (to anything but "" or "0").
 */
import { ParameterError } from '../params/params';

/** Exit codes shared by every command (each command documents the ones it uses). */
export const EXIT_OK = 0;
/** an unexpected failure: a bug */
export const EXIT_INTERNAL = 1;
/** bad usage: unknown option, bad or missing value, bad parameters */
export const EXIT_USAGE = 2;
/** an output cannot be opened or written (missing directory, no permission, full disk) */
export const EXIT_OUTPUT = 5;

/** An expected failure: `message` is printed as one line after the command's name, then the process exits with `exitCode`. */
export class CliError extends Error {
  /**
   * @param message - one line naming the input, path or value at fault
   * @param exitCode - the documented exit code (never 0; 1 is kept for bugs)
   */
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Bad usage (exit 2): an unknown option, a missing or malformed value. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = 'UsageError';
  }
}

/**
 * Turn a failed write (an fs error naming its path) into a {@link CliError}
 * with {@link EXIT_OUTPUT}; anything else is rethrown as it is.
 *
 * @param what - what was being written, e.g. `the sweep results`
 */
export function writeFailure(error: unknown, what: string): never {
  const e = error as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) {
    const reason = (e.message ?? '').replace(/, \w+( '.*')?$/, '');
    throw new CliError(`cannot write ${what}${e.path ? ` to ${e.path}` : ''}: ${reason}`, EXIT_OUTPUT);
  }
  throw error;
}

/** True when `DEBUG` asks for stack traces of unexpected failures. */
export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.DEBUG;
  return v !== undefined && v !== '' && v !== '0';
}

/**
 * The exit code and the stderr text for an error that reached the top of a command.
 *
 * @param command - the name printed first, e.g. `stream`
 * @param error - whatever was thrown
 * @param debug - add the stack of an unexpected failure (default: {@link debugEnabled})
 * @param help - how to get the usage (e.g. `npm run stream -- --help`), named after a usage error
 * @returns `code` (2 for usage and parameter errors, the error's own code for a
 *   {@link CliError}, 1 otherwise) and `text` (one line, plus the stack in debug mode)
 */
export function describeError(command: string, error: unknown, debug = debugEnabled(), help?: string): { code: number; text: string } {
  const hint = help ? ` (see ${help})` : '';
  if (error instanceof UsageError || error instanceof ParameterError) return { code: EXIT_USAGE, text: `${command}: ${error.message}${hint}\n` };
  if (error instanceof CliError) return { code: error.exitCode, text: `${command}: ${error.message}\n` };
  const message = error instanceof Error ? error.message : String(error);
  const stack = debug && error instanceof Error && error.stack ? `\n${error.stack}` : '';
  const debugHint = debug ? '' : ' (set DEBUG=1 for the stack trace)';
  return { code: EXIT_INTERNAL, text: `${command}: unexpected failure: ${message}${debugHint}${stack}\n` };
}

/**
 * Run a command's `main` with the process arguments and end the process with
 * its exit code; any error is reported by {@link describeError}.
 *
 * @param command - the name used in messages (e.g. `stream`, `start`)
 * @param main - the command; receives `process.argv.slice(2)`, returns the exit code
 * @param options.help - how to get the usage, named after a usage error
 * @param options.forceExit - end with `process.exit` (for commands whose child
 *   processes or handles would otherwise keep the process alive); default false:
 *   set `process.exitCode` and let pending output drain
 */
export function runCommand(command: string, main: (argv: string[]) => number | Promise<number>, options: { help?: string; forceExit?: boolean } = {}): void {
  const finish = (code: number) => {
    if (options.forceExit) process.exit(code);
    process.exitCode = code;
  };
  Promise.resolve()
    .then(() => main(process.argv.slice(2)))
    .then(finish, (e: unknown) => {
      const { code, text } = describeError(command, e, debugEnabled(), options.help);
      process.stderr.write(text);
      finish(code);
    });
}
