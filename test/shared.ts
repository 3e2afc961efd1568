import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The team's read-only inputs live in ../shared beside the clone (override with SHARED_DIR). */
export const SHARED_DIR = resolve(process.env.SHARED_DIR ?? join(__dirname, '..', '..', 'shared'));

/** Path of a file under ../shared; throws a clear message when it is not there. */
export function sharedPath(...parts: string[]): string {
  const p = join(SHARED_DIR, ...parts);
  if (!existsSync(p)) {
    throw new Error(
      `Missing shared test input ${p}. The tests read the team's fixtures from ../shared beside the repository ` +
        `(or from SHARED_DIR); clone the project next to the shared folder or set SHARED_DIR.`,
    );
  }
  return p;
}

export function readSharedJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(readFileSync(sharedPath(...parts), 'utf8')) as T;
}

export function readSharedText(...parts: string[]): string {
  return readFileSync(sharedPath(...parts), 'utf8');
}
