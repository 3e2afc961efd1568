import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS, ParameterError, validateParams } from '../src/params/params';
import { simulateTraffic } from '../src/data/simulate';
import { resolveNotebookParams } from '../src/notebook/setup';
import { StaleArtifactError, Workspace } from '../src/persist/workspace';

/** The lab route: a notebook adopts the parameters recorded by the run it builds on, unless the user sets them. */

const noEnv = { ANOMALY_PARAMS: '', ANOMALY_PARAMS_FILE: '' };

function workspaceWith(recorded: Record<string, unknown>): Workspace {
  const ws = new Workspace(mkdtempSync(join(tmpdir(), 'setup-')));
  // written as notebook 01 writes it (a stage file with its header), with a small data set
  const params = validateParams({ ...DEFAULT_PARAMS, ...recorded }, 'test');
  ws.saveTraffic(params, simulateTraffic({ ...params, nNormal: 20, nAnomalous: 2 }));
  return ws;
}

describe('resolveNotebookParams', () => {
  it('adopts the recorded values that differ from the defaults, and names where they came from', () => {
    const ws = workspaceWith({ anomalyMean: 2.5, nEstimators: 50 });
    const { loaded, adopted } = resolveNotebookParams({ buildsOn: 'params.json', env: noEnv }, ws);
    expect(adopted).toEqual({ anomalyMean: 2.5, nEstimators: 50 });
    expect(loaded.params).toEqual({ ...DEFAULT_PARAMS, anomalyMean: 2.5, nEstimators: 50 });
    expect(loaded.origin.anomalyMean).toMatch(/params\.json \(the run of 01_simulate_traffic\.ipynb\)/);
    expect(loaded.origin.seed).toBe('default');
  });

  it('lets the environment and code overrides win over the recorded run', () => {
    const ws = workspaceWith({ anomalyMean: 2.5, contamination: 0.1 });
    const { loaded, adopted } = resolveNotebookParams(
      { buildsOn: 'params.json', env: { ANOMALY_PARAMS: '{"anomalyMean":3}' }, overrides: { contamination: 0.02 } },
      ws,
    );
    expect(loaded.params.anomalyMean).toBe(3);
    expect(loaded.params.contamination).toBe(0.02);
    expect(loaded.origin.anomalyMean).toBe('ANOMALY_PARAMS');
    expect(adopted).toEqual({});
  });

  it('adopts nothing without buildsOn or when the artifact is missing', () => {
    const ws = workspaceWith({ anomalyMean: 2.5 });
    expect(resolveNotebookParams({ env: noEnv }, ws).loaded.params).toEqual(DEFAULT_PARAMS);
    expect(resolveNotebookParams({ buildsOn: 'forest.json', env: noEnv }, ws).adopted).toEqual({});
  });

  it('reads the params field of a stage artifact', () => {
    const ws = workspaceWith({});
    ws.writeJson('forest.json', { params: { ...DEFAULT_PARAMS, maxSamples: 64 }, forest: {} });
    expect(resolveNotebookParams({ buildsOn: 'forest.json', env: noEnv }, ws).adopted).toEqual({ maxSamples: 64 });
  });

  it('refuses an unreadable or invalid artifact with its name', () => {
    const ws = workspaceWith({});
    ws.writeText('preprocess.json', '{ not json');
    expect(() => resolveNotebookParams({ buildsOn: 'preprocess.json', env: noEnv }, ws)).toThrow(StaleArtifactError);
    ws.writeJson('predictions.json', { params: { ...DEFAULT_PARAMS, contamination: 7 } });
    expect(() => resolveNotebookParams({ buildsOn: 'predictions.json', env: noEnv }, ws)).toThrow(ParameterError);
    expect(() => resolveNotebookParams({ buildsOn: 'predictions.json', env: noEnv }, ws)).toThrow(/predictions\.json/);
  });
});
