import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ArtifactError,
  BUNDLE_SCHEMA_VERSION,
  bundleChecksum,
  canonicalJson,
  loadBundle,
  parseBundle,
  saveBundle,
  serializeBundle,
  type ModelBundle,
} from '../src/persist/bundle';
import { DEFAULT_PARAMS } from '../src/params/params';
import { bundleFromPipeline, runPipeline } from '../src/workflow/pipeline';

const params = { ...DEFAULT_PARAMS, nNormal: 3000, nAnomalous: 150, nEstimators: 40 };
const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
const when = new Date('2026-01-02T03:04:05.000Z');
const result = runPipeline(params);
const bundle = bundleFromPipeline(result, when);
const text = serializeBundle(bundle);

function expectRefused(content: string, code: ArtifactError['code'], message: RegExp): void {
  const path = join(dir, `bad-${code}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, content);
  let err: unknown;
  try {
    loadBundle(path);
  } catch (e) {
    err = e;
  }
  expect(err, 'the loader must refuse this file').toBeInstanceOf(ArtifactError);
  expect((err as ArtifactError).code).toBe(code);
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message).toContain(basename(path));
}

/** Edit a parsed bundle and re-sign it, so the check under test is not the checksum. */
function resigned(edit: (b: ModelBundle) => void): string {
  const b = JSON.parse(text) as ModelBundle;
  edit(b);
  b.checksum = bundleChecksum(b);
  return serializeBundle(b);
}

describe('model bundle', () => {
  it('holds params, feature names, scaler, PCA, forest, threshold, metrics, version, time, checksum', () => {
    expect(Object.keys(bundle)).toEqual([
      'format',
      'schemaVersion',
      'library',
      'createdAt',
      'params',
      'featureNames',
      'scaler',
      'pca',
      'forest',
      'threshold',
      'trainingMetrics',
      'checksum',
    ]);
    expect(bundle.schemaVersion).toBe(BUNDLE_SCHEMA_VERSION);
    expect(bundle.threshold).toBe(result.forest.offset);
    expect(bundle.trainingMetrics.rocAuc).toBe(result.metrics.rocAuc);
    expect(bundle.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('same parameters -> byte-identical bundle apart from createdAt', () => {
    const again = serializeBundle(bundleFromPipeline(runPipeline(params), new Date('2030-01-01T00:00:00.000Z')));
    const strip = (s: string) => s.replace(/"createdAt": "[^"]*"/, '');
    expect(again).not.toBe(text);
    expect(strip(again)).toBe(strip(text));
  });

  it('save + load round trip gives identical scores without refitting', () => {
    const path = join(dir, 'model.json');
    const saved = saveBundle(path, bundle);
    expect(saved.bytes).toBe(Buffer.byteLength(readFileSync(path)));
    const model = loadBundle(path);
    expect(model.checksum).toBe(bundle.checksum);
    expect(model.params).toEqual(params);
    const scaled = model.scaler.transform(result.data.X);
    expect(scaled.data).toEqual(result.scaled.data);
    expect(model.pca.transform(scaled).data).toEqual(result.projected.data);
    expect(model.forest.scoreSamples(scaled)).toEqual(result.scores);
  });

  it('canonical JSON ignores key order', () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
    expect(() => canonicalJson({ x: NaN })).toThrow(/no JSON form/);
  });
});

describe('the loader refuses bad files with a clear error', () => {
  it('a missing file says which notebook writes it', () => {
    expect(() => loadBundle(join(dir, 'nope.json'))).toThrow(/no such file: run notebook 07/);
  });
  it('truncated', () => expectRefused(text.slice(0, Math.floor(text.length / 2)), 'CORRUPT', /not valid JSON \(truncated or corrupt file\?\)/));
  it('corrupt bytes', () => expectRefused(`\u0000garbage${text}`, 'CORRUPT', /not valid JSON/));
  it('not a bundle', () => expectRefused('{"hello": 1}', 'FORMAT', /not a model bundle: format is undefined/));
  it('wrong schema version', () =>
    expectRefused(text.replace(`"schemaVersion": ${BUNDLE_SCHEMA_VERSION}`, '"schemaVersion": 99'), 'VERSION', /schema version 99 is not supported/));
  it('tampered: a threshold changed by hand', () =>
    expectRefused(text.replace(/"threshold": -?[0-9.e-]+/, '"threshold": -0.3'), 'CHECKSUM', /checksum mismatch/));
  it('tampered: one character of the forest changed', () => {
    const at = text.indexOf('"threshold": "') + 20;
    const flipped = text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    expectRefused(flipped, 'CHECKSUM', /modified after it was written/);
  });
  it('checksum removed', () =>
    expectRefused(text.replace(/"checksum": "[^"]*"/, '"checksum": ""'), 'CHECKSUM', /no sha256 checksum/));
  it('shapes that disagree (re-signed, so only the shape check can catch it)', () => {
    expectRefused(resigned((b) => b.featureNames.pop()), 'SHAPE', /featureNames must be 5 non-empty names/);
    expectRefused(resigned((b) => b.scaler.mean.push(0)), 'SHAPE', /scaler has 6 features/);
    expectRefused(resigned((b) => b.pca.components.pop()), 'SHAPE', /pca has 1 components/);
    expectRefused(resigned((b) => (b.forest.nEstimators = 3)), 'SHAPE', /forest has 3 trees/);
    expectRefused(resigned((b) => (b.threshold = 0)), 'SHAPE', /threshold 0 differs/);
    expectRefused(resigned((b) => (b.params.contamination = 0.9)), 'SHAPE', /contamination = 0\.9/);
    expectRefused(resigned((b) => (b.forest.threshold = b.forest.threshold.slice(8))), 'SHAPE', /threshold holds/);
    expectRefused(resigned((b) => delete (b as Partial<ModelBundle>).pca), 'SHAPE', /pca is missing/);
  });
  it('parseBundle names its source', () => {
    expect(() => parseBundle('[]', 'my-model')).toThrow(/^my-model: not a model bundle/);
  });
});
