/**
 * HMAC-SHA256 signatures for model bundles, and the signing key.
 *
 * A bundle's sha256 checksum catches accidents (truncation, a hand edit), but
 * anyone who edits a bundle can recompute it. A signature made with a secret
 * key can only be recomputed by someone holding that key, so a loader given the
 * key knows the bundle was written by a key holder and not changed since.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Environment variable holding the signing key itself (its UTF-8 bytes). */
export const MODEL_KEY_ENV = 'ANOMALY_MODEL_KEY';
/** Signatures are stored as `hmac-sha256:<64 hex digits>`. */
export const SIGNATURE_PREFIX = 'hmac-sha256:';
/**
 * Shortest key accepted (bytes). HMAC-SHA256 keys shorter than this are easy to
 * guess; `openssl rand -hex 32` gives 64 characters.
 */
export const MIN_KEY_BYTES = 16;

/** A secret key: bytes, or a string taken as its UTF-8 bytes. */
export type ModelKey = Uint8Array | string;

/** The signing key could not be read: missing, empty, too short or unreadable. `source` is the file path or the variable name. */
export class ModelKeyError extends Error {
  constructor(
    message: string,
    readonly source: string,
  ) {
    super(message);
    this.name = 'ModelKeyError';
  }
}

const SIGNATURE_PATTERN = /^hmac-sha256:[0-9a-f]{64}$/;

/** Is `value` a signature in the stored form `hmac-sha256:<64 lowercase hex digits>`? */
export function isWellFormedSignature(value: unknown): value is string {
  return typeof value === 'string' && SIGNATURE_PATTERN.test(value);
}

/**
 * HMAC-SHA256 of `content` under `key`.
 * @returns `hmac-sha256:<hex>`
 */
export function hmacSignature(content: string, key: ModelKey): string {
  return `${SIGNATURE_PREFIX}${createHmac('sha256', key).update(content, 'utf8').digest('hex')}`;
}

/**
 * Does `signature` sign `content` under `key`? The comparison takes the same
 * time wherever the first differing byte is, so timing reveals nothing about
 * the correct signature. A malformed signature is simply not a match.
 */
export function signatureMatches(content: string, signature: string, key: ModelKey): boolean {
  if (!isWellFormedSignature(signature)) return false;
  const expected = Buffer.from(hmacSignature(content, key).slice(SIGNATURE_PREFIX.length), 'hex');
  const given = Buffer.from(signature.slice(SIGNATURE_PREFIX.length), 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export interface ReadModelKeyOptions {
  /** a file holding the key (its bytes, a trailing newline ignored); wins over the environment */
  keyFile?: string;
  /** environment to read ANOMALY_MODEL_KEY from (default process.env) */
  env?: Record<string, string | undefined>;
}

/** A trailing newline is part of how files are written (`echo`, editors), not of the key. */
function stripTrailingNewlines(bytes: Buffer): Buffer {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  return bytes.subarray(0, end);
}

function checkLength(key: Buffer, where: string, source: string): Buffer {
  if (key.length === 0) throw new ModelKeyError(`${where} is empty; put a secret key in it (e.g. openssl rand -hex 32)`, source);
  if (key.length < MIN_KEY_BYTES) {
    throw new ModelKeyError(`${where} holds ${key.length} bytes; a key needs at least ${MIN_KEY_BYTES} (e.g. openssl rand -hex 32)`, source);
  }
  return key;
}

/**
 * The key to sign or verify model bundles with: the content of `keyFile` when
 * given, else the value of ANOMALY_MODEL_KEY, else undefined (no signing, no
 * signature check). The same text gives the same key from either source.
 *
 * @param options - `keyFile`: path of a key file; `env`: where to look for ANOMALY_MODEL_KEY
 * @returns the key bytes, or undefined when neither source is given
 * @throws ModelKeyError naming the file or the variable when the file is
 *   missing or unreadable, or the key is empty or shorter than MIN_KEY_BYTES
 */
export function readModelKey(options: ReadModelKeyOptions = {}): Buffer | undefined {
  const { keyFile } = options;
  if (keyFile !== undefined) {
    if (keyFile === '') throw new ModelKeyError('the key file path is empty', keyFile);
    let raw: Buffer;
    try {
      raw = readFileSync(keyFile);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'it is a directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
      throw new ModelKeyError(`cannot read the model key file ${keyFile}: ${why}`, keyFile);
    }
    return checkLength(stripTrailingNewlines(raw), `the model key file ${keyFile}`, keyFile);
  }
  const env = options.env ?? process.env;
  const value = env[MODEL_KEY_ENV];
  if (value === undefined) return undefined;
  // set but empty is refused rather than read as "no key": it would silently turn verification off
  return checkLength(stripTrailingNewlines(Buffer.from(value, 'utf8')), `${MODEL_KEY_ENV}`, MODEL_KEY_ENV);
}
