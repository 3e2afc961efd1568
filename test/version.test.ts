import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as lib from '../src';
import { LIBRARY_NAME, LIBRARY_VERSION } from '../src/core/version';

describe('package', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
  it('the version written into bundles is package.json version', () => {
    expect(LIBRARY_NAME).toBe(pkg.name);
    expect(LIBRARY_VERSION).toBe(pkg.version);
  });
  it('src/index.ts exports each step of the pipeline', () => {
    for (const name of [
      'loadParams',
      'simulateTraffic',
      'simulateBatch',
      'StandardScaler',
      'PCAModel',
      'IsolationForest',
      'MlIsolationForestAdapter',
      'classificationReport',
      'confusionMatrix',
      'rocAuc',
      'averagePrecision',
      'createBundle',
      'saveBundle',
      'loadBundle',
      'processBatch',
      'processStream',
      'runPipeline',
    ]) {
      expect(lib, name).toHaveProperty(name);
    }
  });
  it('src/index.ts lists the public API name by name: no export *, no internals or test hooks', () => {
    const index = readFileSync(join(__dirname, '..', 'src', 'index.ts'), 'utf8');
    expect(index).not.toMatch(/export \*/);
    // internals, and the scoring names that the one pipeline replaced
    for (const name of ['canonicalJson', 'bundleContent', 'pathLengthSums', 'kernelRowsWalked', 'completeLayout', 'serveJobs', 'npSum', 'InlineScorer', 'WorkerScorer', 'SCORER_WORKER_FILE', 'isMalformedEntry', 'scoreRows', 'scoreRequest', 'startGroupConsumer', 'createRecordParser']) {
      expect(lib, name).not.toHaveProperty(name);
    }
    for (const name of ['shapValues' in lib.IsolationForest.prototype ? 'IsolationForest' : 'missing shapValues', 'readModelKey', 'RecordEncoder', 'runFailoverDrill', 'explainRecords', 'evaluateRealTraffic', 'ScoringPipeline', 'scoreRecords', 'startScoringLoop', 'findRedisServer']) {
      expect(lib, name).toHaveProperty(name);
    }
  });
});
