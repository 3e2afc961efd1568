import { resolve } from 'node:path';

/**
 * The project's root folder. This module lives at `src/core/` (tests run the
 * TypeScript) and at `dist/core/` (everything else runs the compiled form), so
 * two levels up is the root either way.
 */
export const PROJECT_ROOT = resolve(__dirname, '..', '..');

/**
 * Absolute path of a compiled file under `dist/`, e.g. a worker's entry point.
 * Workers always run compiled JavaScript, also when the caller is a test that
 * imported the TypeScript source.
 */
export function distFile(relativePath: string): string {
  return resolve(PROJECT_ROOT, 'dist', relativePath);
}
