import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Write a file so that a reader sees either the old content or the new, never
 * half of it: write a temporary file beside the target, flush it to disk, then
 * rename it over the target (rename is atomic within one file system). A crash
 * or a full disk leaves at most a stray `.tmp` file, which is removed when the
 * write itself fails. Used by the model bundle and the workspace stage files.
 *
 * @param path - the file to write; missing parent folders are created
 * @param text - the content, written as UTF-8
 * @returns the number of bytes written
 */
export function writeFileAtomic(path: string, text: string): number {
  mkdirSync(dirname(path), { recursive: true });
  // unique per call: worker threads share the process id, so the pid alone is not enough
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const bytes = Buffer.from(text, 'utf8');
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    // flush before the rename, or a power loss could leave the new name with no data behind it
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  return bytes.length;
}
