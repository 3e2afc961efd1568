/**
 * Option parsing shared by the command-line tools, on `node:util` `parseArgs`,
 * with one-line messages (a {@link UsageError}, exit 2) for unknown options,
 * missing values and values of the wrong form.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadParams, parseAssignments, PARAMS_ENV, PARAMS_FILE_ENV, type LoadedParams } from '../params/params';
import { UsageError } from './command';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
/** What {@link parseOptions} returns: parseArgs' typed `values` and `positionals`. */
export type ParsedOptions<O extends OptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: boolean }>>;

/** The first quoted name in one of parseArgs' messages ("Unknown option '--x'..."). */
const quoted = (message: string): string => /'([^']+)'/.exec(message)?.[1] ?? '';

/**
 * Parse `argv` strictly against `options`: every option must be declared.
 *
 * @param argv - the arguments after the script name
 * @param options - parseArgs option declarations (`type: 'string' | 'boolean'`, `multiple`, `short`)
 * @param allowPositionals - accept arguments that are not options (default false)
 * @returns parseArgs' `values` and `positionals`
 * @throws UsageError naming the unknown option, the option whose value is
 *   missing, or the unexpected argument
 */
export function parseOptions<O extends OptionsConfig>(argv: readonly string[], options: O, allowPositionals = false): ParsedOptions<O> {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals });
  } catch (e) {
    const err = e as Error & { code?: string };
    const name = quoted(err.message);
    switch (err.code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
        throw new UsageError(`unknown option ${name}`);
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
        throw new UsageError(`unexpected argument ${JSON.stringify(name)}`);
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
        const flag = name.split(' ')[0];
        if (/does not take an argument/.test(err.message)) throw new UsageError(`${flag} takes no value`);
        if (/ambiguous/.test(err.message)) throw new UsageError(`${flag} needs a value (write ${flag}=VALUE for a value that starts with "-")`);
        throw new UsageError(`${flag} needs a value`);
      }
      default:
        throw e;
    }
  }
}

/**
 * An integer option value.
 *
 * @param flag - the option, named in the message
 * @param value - the text given
 * @param min - the smallest allowed value (default 1)
 * @throws UsageError when `value` is not an integer >= `min`
 */
export function integerOption(flag: string, value: string, min = 1): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min) {
    const what = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    throw new UsageError(`${flag} must be ${what}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * A finite number option value greater than `above`.
 *
 * @throws UsageError naming the option and the value
 */
export function numberOption(flag: string, value: string, above: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !(n > above)) throw new UsageError(`${flag} must be a number > ${above}, got ${JSON.stringify(value)}`);
  return n;
}

/** The options every experiment command shares (`start`, `lab`, `sweep`). */
export const COMMON_OPTIONS = {
  set: { type: 'string', multiple: true },
  params: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionsConfig;

/**
 * `--mlflow URL`: also log the run to an MLflow tracking server (the commands
 * that record runs: `start`, `sweep`, `evaluate`; MLFLOW_TRACKING_URI does the same).
 */
export const MLFLOW_OPTION = { mlflow: { type: 'string' } } as const satisfies OptionsConfig;

export interface CommonArgs {
  /** `--set key=value` assignments, in order */
  sets: string[];
  /** `--params file.json` */
  paramsFile?: string;
  help: boolean;
  /** options and positional arguments not understood here, as given (in order) */
  rest: string[];
}

/**
 * Parse the options every command shares: --set key=value (repeatable), --params
 * FILE, --help; leave everything else, untouched and in order, in `rest` (for a
 * command that passes it on, like `lab` to `jupyter lab`, or checks it itself).
 *
 * @throws UsageError when --set or --params lacks its value
 */
export function parseCommonArgs(argv: readonly string[]): CommonArgs {
  const { tokens } = parseArgs({ args: [...argv], options: COMMON_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const out: CommonArgs = { sets: [], help: false, rest: [] };
  const used = new Set<number>();
  for (const t of tokens) {
    if (t.kind === 'option-terminator') break; // the terminator and all after it stay in rest
    if (t.kind !== 'option' || !(t.name in COMMON_OPTIONS)) continue;
    used.add(t.index);
    if (t.name === 'help') {
      if (t.value !== undefined) throw new UsageError(`${t.rawName} takes no value`);
      out.help = true;
      continue;
    }
    if (t.value === undefined) throw new UsageError(`${t.rawName} needs a value`);
    if (!t.inlineValue) used.add(t.index + 1);
    if (t.name === 'set') out.sets.push(t.value);
    else out.paramsFile = t.value;
  }
  out.rest = argv.filter((_, i) => !used.has(i));
  return out;
}

/** Load parameters from the environment, --params and --set; any problem is a ParameterError. */
export function paramsFromArgs(args: Pick<CommonArgs, 'sets' | 'paramsFile'>): LoadedParams {
  return loadParams({ file: args.paramsFile, overrides: args.sets.length ? parseAssignments(args.sets) : undefined, overridesSource: '--set' });
}

/**
 * The environment that makes kernels (or child processes) see exactly these
 * parameters: every non-default value as one ANOMALY_PARAMS JSON object.
 */
export function paramsEnv(loaded: LoadedParams): Record<string, string> {
  const overrides: Record<string, unknown> = {};
  for (const [k, origin] of Object.entries(loaded.origin)) {
    if (origin !== 'default') overrides[k] = loaded.params[k as keyof typeof loaded.params];
  }
  return { [PARAMS_ENV]: JSON.stringify(overrides), [PARAMS_FILE_ENV]: '' };
}

/** "contamination=0.1, nEstimators=200" or "defaults" */
export function describeOverrides(loaded: LoadedParams): string {
  const parts = Object.entries(loaded.origin)
    .filter(([, origin]) => origin !== 'default')
    .map(([k]) => `${k}=${JSON.stringify(loaded.params[k as keyof typeof loaded.params])}`);
  return parts.length ? parts.join(', ') : 'defaults';
}

/**
 * An option whose value is one of a fixed set.
 *
 * @param flag - the option, named in the message
 * @param value - the text given (undefined: not given)
 * @param allowed - the accepted values
 * @param fallback - the value when the option is not given (omit to make it required to be one of `allowed` when given, and undefined otherwise)
 * @throws UsageError `--flag must be a, b or c, got "x"`
 */
export function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T;
export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T;
export function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback?: T): T | undefined {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    const list = allowed.length > 1 ? `${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}` : allowed.join('');
    throw new UsageError(`${flag} must be ${list}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/**
 * Where each option's value came from, as a run record keeps it: `command line`
 * when `argv` gives the option (`--name`, `--name=...`), `default` otherwise.
 */
export function optionOrigins(argv: readonly string[], names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, argv.some((a) => a === `--${n}` || a.startsWith(`--${n}=`)) ? 'command line' : 'default']));
}
