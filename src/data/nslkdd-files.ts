import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../core/paths';
import { FileReadError } from './textfile';
import { NSL_KDD_SCHEMA, readFlowRecords, type FlowRecords } from './flows';

/** The shipped NSL-KDD files: data/nsl-kdd/ in the project. */
export const NSL_KDD_DATA_DIR = join(PROJECT_ROOT, 'data', 'nsl-kdd');

/** Environment variable naming another directory with the NSL-KDD files (`npm start -- --data DIR` sets it). */
export const NSL_KDD_DIR_ENV = 'NSL_KDD_DIR';

/** The directory notebooks read: $NSL_KDD_DIR when set, else the shipped data/nsl-kdd. */
export function nslKddDataDir(): string {
  return process.env[NSL_KDD_DIR_ENV] || NSL_KDD_DATA_DIR;
}

/** File names of the protocol: train on the 20% training subset, test once on KDDTest+. */
export const NSL_KDD_FILES = { train: 'KDDTrain+_20Percent.txt', test: 'KDDTest+.txt' } as const;

/**
 * The path of an NSL-KDD file in a directory: `name` itself or `name.gz`.
 *
 * @throws FileReadError naming the directory when neither exists
 */
export function nslKddPath(dir: string, name: string): string {
  for (const candidate of [join(dir, name), join(dir, `${name}.gz`)]) if (existsSync(candidate)) return candidate;
  throw new FileReadError(join(dir, name), `no such file (nor ${name}.gz) in ${dir}`);
}

/**
 * Read the protocol's training and test files from a directory (plain or .gz).
 *
 * @param dir - directory holding KDDTrain+_20Percent.txt[.gz] and KDDTest+.txt[.gz] (default: nslKddDataDir())
 */
export function loadNslKdd(dir: string = nslKddDataDir()): { train: FlowRecords; test: FlowRecords; trainPath: string; testPath: string } {
  const trainPath = nslKddPath(dir, NSL_KDD_FILES.train);
  const testPath = nslKddPath(dir, NSL_KDD_FILES.test);
  return { train: readFlowRecords(trainPath, NSL_KDD_SCHEMA), test: readFlowRecords(testPath, NSL_KDD_SCHEMA), trainPath, testPath };
}
