import { optionOrigins } from './args';
import { EXIT_OUTPUT } from './command';
import { filesFingerprint } from '../experiments/provenance';
import { RunRecorder, type RunOutcome } from '../experiments/recorder';
import type { RunParamValue } from '../experiments/run-record';

/**
 * Record one evaluation in the run log (and MLflow when configured): its
 * options with where each came from, the input files' checksums, the metrics
 * and the saved model.
 *
 * @param params the options as recorded (names as on the command line)
 * @param files the input files, fingerprinted in this order
 * @returns the exit code: 0, or 5 when the run log cannot be written
 */
export async function recordEvaluation(label: string, argv: readonly string[], params: Record<string, RunParamValue>, files: readonly string[], outcome: RunOutcome, mlflow: string | undefined, start: Date): Promise<number> {
  const recorder = RunRecorder.start({ command: 'evaluate', label, argv, params, origin: optionOrigins(argv, Object.keys(params)), mlflow, start });
  try {
    const { record } = await recorder.finish({ ...outcome, data: filesFingerprint(files) });
    process.stderr.write(`evaluate: run ${record.id} recorded in ${recorder.store.show()}\n`);
    return 0;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (typeof err.code !== 'string' || !/^E[A-Z]+$/.test(err.code)) throw e;
    process.stderr.write(`evaluate: cannot write the run log ${recorder.store.show()}: ${err.code ?? err.message}\n`);
    return EXIT_OUTPUT;
  }
}
