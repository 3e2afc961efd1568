import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, sep } from 'node:path';
import { IsolationForest, type IsolationForestJSON } from '../model/forest';
import type { DetectionSummary } from '../eval/metrics';
import { validateParams, type Params } from '../core/params';
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
  /** "sha256:<hex>" of the canonical JSON of every other field but createdAt */
  checksum: string;
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

export type ArtifactErrorCode = 'MISSING' | 'CORRUPT' | 'FORMAT' | 'VERSION' | 'CHECKSUM' | 'SHAPE';

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

export function bundleChecksum(bundle: Omit<ModelBundle, 'checksum'> | ModelBundle): string {
  const { checksum: _c, createdAt: _t, ...content } = bundle as ModelBundle;
  return `sha256:${createHash('sha256').update(canonicalJson(content)).digest('hex')}`;
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
}

/** Write atomically (temp file + rename) so a crash never leaves half a bundle. */
export function saveBundle(path: string, bundle: ModelBundle): SavedBundle {
  const text = serializeBundle(bundle);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
  return { path, bytes: Buffer.byteLength(text), checksum: bundle.checksum };
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
export function parseBundle(text: string, source = 'model bundle'): LoadedModel {
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

export function loadBundle(path: string): LoadedModel {
  const shown = shownPath(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ArtifactError('MISSING', shown, err.code === 'ENOENT' ? 'no such file: run notebook 07 (save the model) first' : err.message);
  }
  return parseBundle(text, shown);
}
