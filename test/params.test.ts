import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyOverrides,
  DEFAULT_PARAMS,
  describeParams,
  loadParams,
  parseAssignments,
  PARAMS_ENV,
  PARAMS_FILE_ENV,
  ParameterError,
  resolveMaxSamples,
  validateParams,
} from '../src/params/params';

describe('defaults are the reference script', () => {
  it('seed 42, 10000 + 500 rows of 5 features, N(0,1) / N(5,2), 100 trees, contamination 0.05', () => {
    expect(DEFAULT_PARAMS).toMatchObject({
      seed: 42,
      nNormal: 10000,
      nAnomalous: 500,
      nFeatures: 5,
      normalMean: 0,
      normalStd: 1,
      anomalyMean: 5,
      anomalyStd: 2,
      nEstimators: 100,
      maxSamples: 'auto',
      contamination: 0.05,
      pcaComponents: 2,
      streamBatchSize: 500,
      streamBatches: 10,
    });
    expect(loadParams({ env: {} }).params).toEqual(DEFAULT_PARAMS);
  });
  it('every parameter is described', () => {
    for (const d of describeParams()) expect(d.description.length).toBeGreaterThan(5);
  });
});

describe('overrides from a JSON file and the environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'params-'));
  const file = join(dir, 'p.json');
  writeFileSync(file, JSON.stringify({ contamination: 0.1, nEstimators: 50 }));
  it('file, then env JSON, then code; origins recorded', () => {
    const { params, origin } = loadParams({ file, env: { [PARAMS_ENV]: '{"nEstimators": 200}' }, overrides: { seed: 7 } });
    expect(params.contamination).toBe(0.1);
    expect(params.nEstimators).toBe(200);
    expect(params.seed).toBe(7);
    expect(origin.contamination).toBe(file);
    expect(origin.nEstimators).toBe(PARAMS_ENV);
    expect(origin.seed).toBe('code');
    expect(origin.nNormal).toBe('default');
  });
  it(`${PARAMS_FILE_ENV} names a file`, () => {
    expect(loadParams({ env: { [PARAMS_FILE_ENV]: file } }).params.contamination).toBe(0.1);
  });
  it('invalid JSON in the environment or the file is named', () => {
    expect(() => loadParams({ env: { [PARAMS_ENV]: '{contamination: 0.1}' } })).toThrow(/ANOMALY_PARAMS is not valid JSON/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"seed": ');
    expect(() => loadParams({ file: bad, env: {} })).toThrow(new RegExp(`Parameters file ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not valid JSON`));
    expect(() => loadParams({ file: join(dir, 'missing.json'), env: {} })).toThrow(/Cannot read parameters file/);
  });
});

describe('validation names the key and the value', () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ contamination: 0.7 }, /contamination = 0\.7 .*\(0, 0\.5\]/],
    [{ contamination: 0 }, /contamination = 0 /],
    [{ contamination: 'high' }, /contamination = "high"/],
    [{ nNormal: -5 }, /nNormal = -5 .*integer from 1/],
    [{ nAnomalous: 2.5 }, /nAnomalous = 2\.5/],
    [{ nEstimators: '100' }, /nEstimators = "100"/],
    [{ normalStd: 0 }, /normalStd = 0 .*> 0/],
    [{ maxSamples: 1 }, /maxSamples = 1 /],
    [{ maxSamples: 'all' }, /maxSamples = "all"/],
    [{ pcaComponents: 6 }, /pcaComponents = 6 .*nFeatures \(5\)/],
    [{ streamAnomalyShare: 1 }, /streamAnomalyShare = 1 /],
    [{ seed: null }, /seed = null/],
  ];
  it.each(bad)('%j is refused', (override, message) => {
    expect(() => applyOverrides(DEFAULT_PARAMS, override, 'test')).toThrow(message);
    try {
      applyOverrides(DEFAULT_PARAMS, override, 'test');
    } catch (e) {
      expect(e).toBeInstanceOf(ParameterError);
      expect((e as ParameterError).key).toBe(Object.keys(override)[0]);
      expect((e as ParameterError).value).toEqual(Object.values(override)[0]);
    }
  });
  it('unknown keys are refused with the list of known ones', () => {
    expect(() => applyOverrides(DEFAULT_PARAMS, { contamnation: 0.1 }, 'ANOMALY_PARAMS')).toThrow(
      /Unknown parameter "contamnation" \(value 0\.1\) from ANOMALY_PARAMS; known parameters: seed, nNormal/,
    );
  });
  it('a non-object is refused', () => {
    expect(() => applyOverrides(DEFAULT_PARAMS, [1, 2], 'x')).toThrow(/must be a JSON object/);
  });
  it('validateParams wants every key', () => {
    const { seed: _seed, ...rest } = DEFAULT_PARAMS;
    expect(() => validateParams(rest, 'bundle')).toThrow(/Missing parameter "seed" in bundle/);
    expect(validateParams({ ...DEFAULT_PARAMS }, 'bundle')).toEqual(DEFAULT_PARAMS);
  });
});

describe('--set key=value assignments', () => {
  it('parses numbers as numbers and bare words as strings', () => {
    expect(parseAssignments(['contamination=0.1', 'nEstimators=200', 'maxSamples=auto'])).toEqual({
      contamination: 0.1,
      nEstimators: 200,
      maxSamples: 'auto',
    });
  });
  it('refuses a missing =', () => {
    expect(() => parseAssignments(['contamination'])).toThrow(/Expected key=value, got "contamination"/);
  });
});

describe('maxSamples resolution follows scikit-learn', () => {
  it("'auto' = min(256, n); counts are capped at n; fractions floor(f * n)", () => {
    expect(resolveMaxSamples('auto', 10500)).toBe(256);
    expect(resolveMaxSamples('auto', 100)).toBe(100);
    expect(resolveMaxSamples(512, 300)).toBe(300);
    expect(resolveMaxSamples(0.1, 10500)).toBe(1050);
  });
});
