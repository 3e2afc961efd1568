import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The tests' committed inputs: test/fixtures (see test/fixtures/README.md for where each came from). */
export const FIXTURES_DIR = join(__dirname, 'fixtures');

/** Path of a file under test/fixtures; throws a clear message when it is not there. */
export function fixturePath(...parts: string[]): string {
  const p = join(FIXTURES_DIR, ...parts);
  if (!existsSync(p)) {
    throw new Error(`Missing test fixture ${p}: it is committed with the repository (test/fixtures/README.md says how to regenerate it).`);
  }
  return p;
}

export function readFixtureJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(readFileSync(fixturePath(...parts), 'utf8')) as T;
}

export function readFixtureText(...parts: string[]): string {
  return readFileSync(fixturePath(...parts), 'utf8');
}
