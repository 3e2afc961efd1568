import { loadParams, parseAssignments, ParamsError, PARAMS_ENV, PARAMS_FILE_ENV, type LoadedParams } from '../core/params';

export interface CommonArgs {
  /** `--set key=value` assignments, in order */
  sets: string[];
  /** `--params file.json` */
  paramsFile?: string;
  help: boolean;
  /** flags and positional arguments not understood here */
  rest: string[];
}

/** Parse the options every command shares: --set key=value (repeatable), --params FILE, --help. */
export function parseCommonArgs(argv: readonly string[]): CommonArgs {
  const out: CommonArgs = { sets: [], help: false, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (name: string): string => {
      const v = argv[++i];
      if (v === undefined) throw new ParamsError(`${name} needs a value`);
      return v;
    };
    if (a === '--set') out.sets.push(value('--set'));
    else if (a.startsWith('--set=')) out.sets.push(a.slice('--set='.length));
    else if (a === '--params') out.paramsFile = value('--params');
    else if (a.startsWith('--params=')) out.paramsFile = a.slice('--params='.length);
    else if (a === '--help' || a === '-h') out.help = true;
    else out.rest.push(a);
  }
  return out;
}

/** Load parameters from the environment, --params and --set; any problem is a ParamsError. */
export function paramsFromArgs(args: CommonArgs): LoadedParams {
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
