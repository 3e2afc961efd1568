/**
 * The failures the traffic lab expects, each with the exit code the
 * `traffic-lab` command documents. Anything else thrown from the lab is a bug
 * (exit 1).
 */

/** a tool or package is missing, not root, or the namespace cannot be made */
export const LAB_EXIT_ENVIRONMENT = 3;
/** a server did not start, or a client or attack tool failed */
export const LAB_EXIT_FAILED = 4;
/** the output folder cannot be written */
export const LAB_EXIT_OUTPUT = 5;
/** stopped by SIGINT / SIGTERM (128 + SIGINT) */
export const LAB_EXIT_INTERRUPTED = 130;

/** An expected failure: a one-line message and the command's exit code. */
export class LabError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'LabError';
  }
}
