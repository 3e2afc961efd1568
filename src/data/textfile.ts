import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** A file that could not be read (missing, unreadable, or a damaged gzip stream). */
export class FileReadError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'FileReadError';
  }
}

/**
 * Read a text file, plain or gzip-compressed. A gzip file is recognised by its
 * magic bytes (1f 8b), not its name, so `data.csv` that is really gzip and
 * `data.csv.gz` both work.
 *
 * @param path - file to read
 * @returns the text, decoded as UTF-8
 * @throws FileReadError naming the path when the file is missing, unreadable or not valid gzip
 */
export function readTextFile(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new FileReadError(path, err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory, not a file' : err.message);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new FileReadError(path, `not a valid gzip file (truncated or corrupt?): ${(e as Error).message}`);
    }
  }
  return bytes.toString('utf8');
}
