import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { PROJECT_ROOT } from '../core/paths';
import { datasetToCsv } from '../data/csv';
import type { Dataset } from '../data/simulate';
import type { DataFingerprint, FileFingerprint, GitState } from './run-record';

const sha256 = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/**
 * The commit the code runs from, and whether the working tree differs from it.
 *
 * @param root the repository (default: the project)
 * @returns null outside a git checkout or without git (a copied tree, a package)
 */
export function gitState(root: string = PROJECT_ROOT): GitState | null {
  const git = (args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  try {
    const commit = git(['rev-parse', 'HEAD']).trim();
    // untracked files count (a new source file changes the run); ignored ones (artifacts/, dist/) do not
    const dirty = git(['status', '--porcelain']).trim() !== '';
    return { commit, dirty };
  } catch {
    return null;
  }
}

/** A path as recorded: relative to the project when inside it, as given otherwise. */
export function recordedPath(path: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(PROJECT_ROOT, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** Size and SHA-256 of a file's bytes. @throws an fs error naming the path */
export function fileFingerprint(path: string): FileFingerprint {
  const bytes = readFileSync(path);
  return { path: recordedPath(path), bytes: bytes.length, sha256: sha256(bytes) };
}

/** The fingerprint of input files, in the order given. */
export function filesFingerprint(paths: readonly string[]): DataFingerprint {
  return { kind: 'files', files: paths.map(fileFingerprint) };
}

/**
 * The fingerprint of a simulated data set: the SHA-256 of its `traffic.csv`
 * form, so a data set kept in memory (a sweep) and the same one written by
 * notebook 01 have the same fingerprint.
 */
export function datasetFingerprint(data: Dataset): DataFingerprint {
  return { kind: 'simulation', rows: data.X.rows, features: data.X.cols, sha256: sha256(datasetToCsv(data)) };
}

/** The fingerprint of `traffic.csv` as written (what `npm start` reads back after notebook 01). */
export function trafficFileFingerprint(path: string, rows: number, features: number): DataFingerprint {
  return { kind: 'simulation', rows, features, sha256: sha256(readFileSync(path)) };
}

/** `sha256:` of bytes already read (a model file without a checksum of its own). */
export function contentChecksum(bytes: Buffer | string): string {
  return sha256(bytes);
}
