import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';
import { writeFileAtomic } from './atomic-write';
import { hmacSignature, isWellFormedSignature, signatureMatches, type ModelKey } from './signing';
import { IsolationForest, type IsolationForestJSON } from '../model/forest';
import type { DetectionSummary } from '../eval/metrics';
import { validateParams, type Params } from '../params/params';
import { PCAModel, StandardScaler, type PCAJSON, type StandardScalerJSON } from '../model/preprocess';
import { RecordEncoder, type RecordEncoderJSON } from '../model/encoder';
import { LIBRARY_NAME, LIBRARY_VERSION } from '../core/version';

/** Marks a file as one of our model bundles. */
export const BUNDLE_FORMAT = 'netflow-anomaly-model';
/** Bump when the bundle layout changes; the loader reads this version and the older ones in BUNDLE_READABLE_VERSIONS. */
export const BUNDLE_SCHEMA_VERSION = 2;
/** 2 added the optional encoder; a version-1 bundle is a valid version-2 bundle without one. */
export const BUNDLE_READABLE_VERSIONS: readonly number[] = [1, 2];

/** Training-set metrics stored with the model (the report text is not stored: it is derived). */
export type TrainingMetrics = Omit<DetectionSummary, 'report'>;

export interface ModelBundle {
  format: typeof BUNDLE_FORMAT;
  schemaVersion: number;
  library: { name: string; version: string };
  /** ISO time the bundle was written: informational, outside the checksum */
  createdAt: string;
  params: Params;
  featureNames: string[];
  scaler: StandardScalerJSON;
  pca: PCAJSON;
  forest: IsolationForestJSON;
  /** decision threshold on scoreSamples (the forest's offset) */
  threshold: number;
  trainingMetrics: TrainingMetrics;
  /** (version 2) mixed records -> numbers before the scaler; featureNames are then its input columns */
  encoder?: RecordEncoderJSON;
  /** "sha256:<hex>" of the canonical JSON of every other field but createdAt (and signature) */
  checksum: string;
  /** optional "hmac-sha256:<hex>" of the same canonical JSON under a secret key (see persist/signing) */
  signature?: string;
}

/** A bundle read back and turned into working objects. */
export interface LoadedModel {
  bundle: ModelBundle;
  params: Params;
  featureNames: string[];
  scaler: StandardScaler;
  pca: PCAModel;
  forest: IsolationForest;
  threshold: number;
  checksum: string;
  encoder?: RecordEncoder;
}

/** SIGNATURE: a key was given and the bundle is unsigned or signed with another key (or its signature is malformed). */
export type ArtifactErrorCode = 'MISSING' | 'CORRUPT' | 'FORMAT' | 'VERSION' | 'CHECKSUM' | 'SHAPE' | 'SIGNATURE';

export class ArtifactError extends Error {
  constructor(
    readonly code: ArtifactErrorCode,
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
    this.name = 'ArtifactError';
  }
}

/**
 * JSON with object keys sorted at every level and no white space: the same
 * value always gives the same bytes, whatever order its keys were written in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} has no JSON form`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
}

/** The canonical JSON that the checksum and the signature cover: every field but checksum, signature and createdAt. */
export function bundleContent(bundle: Omit<ModelBundle, 'checksum'> | ModelBundle): string {
  const { checksum: _c, createdAt: _t, signature: _s, ...content } = bundle as ModelBundle;
  return canonicalJson(content);
}

export function bundleChecksum(bundle: Omit<ModelBundle, 'checksum'> | ModelBundle): string {
  return `sha256:${createHash('sha256').update(bundleContent(bundle)).digest('hex')}`;
}

/** The bundle with `signature` set: HMAC-SHA256 under `key` of what the checksum covers. */
export function signBundle(bundle: ModelBundle, key: ModelKey): ModelBundle {
  return { ...bundle, signature: hmacSignature(bundleContent(bundle), key) };
}

export interface BundleParts {
  params: Params;
  featureNames: string[];
  scaler: StandardScaler;
  pca: PCAModel;
  forest: IsolationForest;
  trainingMetrics: DetectionSummary | TrainingMetrics;
  encoder?: RecordEncoder;
}

export function createBundle(parts: BundleParts, createdAt: Date = new Date()): ModelBundle {
  const { report: _r, ...metrics } = parts.trainingMetrics as DetectionSummary;
  const content: Omit<ModelBundle, 'checksum'> = {
    format: BUNDLE_FORMAT,
    schemaVersion: BUNDLE_SCHEMA_VERSION,
    library: { name: LIBRARY_NAME, version: LIBRARY_VERSION },
    createdAt: createdAt.toISOString(),
    params: { ...parts.params },
    featureNames: [...parts.featureNames],
    scaler: parts.scaler.toJSON(),
    pca: parts.pca.toJSON(),
    forest: parts.forest.toJSON(),
    threshold: parts.forest.offset,
    trainingMetrics: metrics,
    ...(parts.encoder ? { encoder: parts.encoder.toJSON() } : {}),
  };
  const bundle = { ...content, checksum: bundleChecksum(content) };
  validateShapes(bundle, 'createBundle'); // never write a bundle the loader would refuse
  return bundle;
}

/** The bytes written to disk: fixed key order, two-space indent, trailing newline. */
export function serializeBundle(bundle: ModelBundle): string {
  return `${JSON.stringify(bundle, null, 2)}\n`;
}

export interface SavedBundle {
  path: string;
  bytes: number;
  checksum: string;
  /** set when the bundle was signed */
  signature?: string;
}

/** Options of saveBundle / loadBundle / parseBundle. */
export interface BundleKeyOptions {
  /**
   * Secret key (readModelKey reads one from a file or ANOMALY_MODEL_KEY).
   * saveBundle signs with it; loadBundle then refuses a bundle that is unsigned
   * or signed with another key. Without a key nothing is signed and a signed
   * bundle still loads (its checksum is still checked).
   */
  key?: ModelKey;
}

/** Write atomically (temp file + rename) so a crash never leaves half a bundle; sign it when given a key. */
export function saveBundle(path: string, bundle: ModelBundle, options: BundleKeyOptions = {}): SavedBundle {
  const written = options.key === undefined ? bundle : signBundle(bundle, options.key);
  const bytes = writeFileAtomic(path, serializeBundle(written));
  return { path, bytes, checksum: written.checksum, ...(written.signature && { signature: written.signature }) };
}

function checkSignature(b: ModelBundle, source: string, key: ModelKey | undefined): void {
  const refuse = (msg: string): never => {
    throw new ArtifactError('SIGNATURE', source, msg);
  };
  if (b.signature !== undefined && !isWellFormedSignature(b.signature)) refuse(`malformed signature ${JSON.stringify(b.signature)} (expected "hmac-sha256:" and 64 hex digits)`);
  if (key === undefined) return;
  if (b.signature === undefined) refuse('bundle is unsigned but a signing key was given; re-save it with the key (saveBundle(path, bundle, { key }))');
  if (!signatureMatches(bundleContent(b), b.signature!, key)) {
    refuse('signature does not match the given key: the bundle was signed with another key, or changed and re-checksummed by someone without the key');
  }
}

function validateShapes(b: ModelBundle, source: string): void {
  const shape = (msg: string): never => {
    throw new ArtifactError('SHAPE', source, msg);
  };
  for (const part of ['scaler', 'pca', 'forest', 'trainingMetrics'] as const) {
    if (typeof b[part] !== 'object' || b[part] === null || Array.isArray(b[part])) shape(`${part} is missing or not an object`);
  }
  const d = b.params.nFeatures;
  // with an encoder, featureNames are its input columns and the scaler onwards see its output columns
  const encoder = b.encoder === undefined ? undefined : RecordEncoder.fromJSON(b.encoder);
  if (encoder && encoder.inputNames.join(',') !== (b.featureNames ?? []).join(',')) shape(`encoder columns ${encoder.inputNames.join(',')} differ from featureNames`);
  const w = encoder ? encoder.outputWidth : d;
  const count = (v: unknown) => (Array.isArray(v) ? v.length : 'no');
  if (!Array.isArray(b.featureNames) || b.featureNames.length !== d || !b.featureNames.every((n) => typeof n === 'string' && n !== '')) {
    shape(`featureNames must be ${d} non-empty names (params.nFeatures), got ${JSON.stringify(b.featureNames)}`);
  }
  if (new Set(b.featureNames).size !== d) shape(`featureNames must be distinct, got ${JSON.stringify(b.featureNames)}`);
  const expected = encoder ? `the encoder's output has ${w}` : `params.nFeatures is ${d}`;
  if (count(b.scaler.mean) !== w) shape(`scaler has ${count(b.scaler.mean)} features, ${expected}`);
  if (count(b.pca.mean) !== w) shape(`pca has ${count(b.pca.mean)} features, ${expected}`);
  if (count(b.pca.components) !== b.params.pcaComponents) {
    shape(`pca has ${count(b.pca.components)} components, params.pcaComponents is ${b.params.pcaComponents}`);
  }
  if (b.forest.nFeatures !== w) shape(`forest has ${b.forest.nFeatures} features, ${expected}`);
  if (b.forest.nEstimators !== b.params.nEstimators) shape(`forest has ${b.forest.nEstimators} trees, params.nEstimators is ${b.params.nEstimators}`);
  if (b.threshold !== b.forest.offset) shape(`threshold ${b.threshold} differs from the forest's offset ${b.forest.offset}`);
}

/**
 * Parse and check a bundle: JSON, format marker, schema version, checksum, then
 * shapes and every model's own fields. Any failure is an ArtifactError whose
 * message says what is wrong; nothing half-checked is returned.
 */
export function parseBundle(text: string, source = 'model bundle', options: BundleKeyOptions = {}): LoadedModel {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ArtifactError('CORRUPT', source, `not valid JSON (truncated or corrupt file?): ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ArtifactError('FORMAT', source, 'not a model bundle (expected a JSON object)');
  const b = raw as ModelBundle;
  if (b.format !== BUNDLE_FORMAT) {
    throw new ArtifactError('FORMAT', source, `not a model bundle: format is ${JSON.stringify(b.format)}, expected "${BUNDLE_FORMAT}"`);
  }
  if (!BUNDLE_READABLE_VERSIONS.includes(b.schemaVersion) || (b.schemaVersion < 2 && b.encoder !== undefined)) {
    throw new ArtifactError(
      'VERSION',
      source,
      `bundle schema version ${JSON.stringify(b.schemaVersion)} is not supported; this library (${LIBRARY_VERSION}) reads versions ${BUNDLE_READABLE_VERSIONS.join(' and ')} (an encoder needs version 2). Re-create it with notebook 07 or npm run evaluate -- --save-model FILE.`,
    );
  }
  if (typeof b.checksum !== 'string' || !b.checksum.startsWith('sha256:')) throw new ArtifactError('CHECKSUM', source, 'bundle has no sha256 checksum');
  let actual: string;
  try {
    actual = bundleChecksum(b);
  } catch (e) {
    throw new ArtifactError('CORRUPT', source, (e as Error).message);
  }
  if (actual !== b.checksum) {
    throw new ArtifactError('CHECKSUM', source, `checksum mismatch: the file says ${b.checksum} but its content hashes to ${actual}; it was modified after it was written`);
  }
  checkSignature(b, source, options.key);
  try {
    const params = validateParams(b.params, `${source} params`);
    validateShapes(b, source);
    const scaler = StandardScaler.fromJSON(b.scaler);
    const pca = PCAModel.fromJSON(b.pca);
    const forest = IsolationForest.fromJSON(b.forest);
    const encoder = b.encoder === undefined ? undefined : RecordEncoder.fromJSON(b.encoder);
    return { bundle: b, params, featureNames: b.featureNames, scaler, pca, forest, threshold: b.threshold, checksum: b.checksum, ...(encoder ? { encoder } : {}) };
  } catch (e) {
    if (e instanceof ArtifactError) throw e;
    throw new ArtifactError('SHAPE', source, (e as Error).message);
  }
}

/** Messages name files relative to the working directory (no machine-specific absolute paths in notebook output). */
function shownPath(path: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith(`..${sep}..`) ? path : rel;
}

/** Read, check (and with `options.key`, verify the signature of) a bundle file; errors name the path. */
export function loadBundle(path: string, options: BundleKeyOptions = {}): LoadedModel {
  const shown = shownPath(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ArtifactError('MISSING', shown, err.code === 'ENOENT' ? 'no such file: run notebook 07 (save the model) first' : err.message);
  }
  return parseBundle(text, shown, options);
}

// The key helpers, for users of the library (index.ts re-exports this module, not persist/signing).
export { MODEL_KEY_ENV, ModelKeyError, readModelKey, type ModelKey, type ReadModelKeyOptions } from './signing';
