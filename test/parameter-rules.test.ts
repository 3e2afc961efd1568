import { describe, expect, it } from 'vitest';
import { checkRule, describeConstraint, describeRule, ParameterError, showValue, type ParameterRule } from '../src/params/constraints';
import { FITTED_MAX_SAMPLES_RULE, FOREST_PARAMETER_RULES, type ForestParameterKey } from '../src/params/forest-params';
import { PCA_PARAMETER_RULES } from '../src/params/preprocess-params';
import { IsolationForest, type IsolationForestJSON, type IsolationForestOptions } from '../src/model/forest';
import { PCAModel } from '../src/model/preprocess';
import { applyOverrides, DEFAULT_PARAMS, PARAM_RULES } from '../src/params/params';
import { createMatrix } from '../src/core/matrix';
import { createRng } from '../src/core/rng';

/**
 * Values on, just inside and just outside every bound of every constraint of a
 * rule, the allowed strings and near misses, and values of the wrong type: the
 * tests below run fit, fromJSON and the parser on all of them and compare each
 * verdict with the rule's.
 */
function probes(rule: ParameterRule): unknown[] {
  const out: unknown[] = [NaN, Infinity, -Infinity, null, undefined, '', '1', true, [], {}, -1, 0, 0.5, 1, 2];
  for (const c of rule.constraints) {
    if (c.kind === 'options') for (const v of c.values) out.push(v, `${v}x`, v.toUpperCase(), ` ${v}`);
    if (c.kind === 'string') out.push('abc', ' ');
    if (c.kind === 'interval') {
      const step = c.type === 'integer' ? 1 : 1e-9;
      for (const b of [c.min, c.max]) if (b !== null) out.push(b, b - step, b + step, b + 0.5, b - 0.5);
      if (c.min !== null && c.max !== null) out.push((c.min + c.max) / 2, Math.floor((c.min + c.max) / 2));
    }
  }
  return out;
}

const rng = createRng(11, 'rules');
const X = createMatrix(40, 2, Float64Array.from({ length: 80 }, () => rng.normal()));
const base: IsolationForestOptions = { nEstimators: 3, maxSamples: 'auto', contamination: 0.1, seed: 1 };
const savedJson: IsolationForestJSON = IsolationForest.fit(X, base).toJSON();
const forestKeys = Object.keys(FOREST_PARAMETER_RULES) as ForestParameterKey[];

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('the tables are frozen', () => {
  it('no caller can loosen a rule for everyone at run time', () => {
    const c = FOREST_PARAMETER_RULES.contamination.constraints[1] as { max: number };
    expect(() => (c.max = 1)).toThrow(TypeError);
    expect(() => (FOREST_PARAMETER_RULES.maxSamples.constraints as unknown[]).push({ kind: 'string' })).toThrow(TypeError);
    expect(() => ((PARAM_RULES as Record<string, unknown>).seed = undefined)).toThrow(TypeError);
    expect(checkRule(FOREST_PARAMETER_RULES.contamination, 0.9)).toBeDefined();
  });
});

describe('constraint wording', () => {
  it('names bounds and open/closed ends', () => {
    expect(describeRule(FOREST_PARAMETER_RULES.maxSamples)).toBe('"auto", an integer from 2 to 10,000,000, or a number in (0, 1)');
    expect(describeRule(FOREST_PARAMETER_RULES.contamination)).toBe('"auto" or a number in (0, 0.5]');
    expect(describeRule(PCA_PARAMETER_RULES.nComponents)).toBe('an integer >= 1');
    expect(describeConstraint({ kind: 'interval', type: 'real', min: 0, max: null, closed: 'neither' })).toBe('a number > 0');
    expect(showValue(NaN)).toBe('NaN');
    expect(showValue(undefined)).toBe('undefined');
  });
});

describe('IsolationForest: fit, fromJSON and the parameter parser follow one rule table', () => {
  for (const key of forestKeys) {
    const rule = FOREST_PARAMETER_RULES[key];
    it(`${key}: fit refuses exactly what the rule refuses, naming the key, the value and the allowed forms`, () => {
      let accepted = 0;
      let refused = 0;
      for (const value of probes(rule)) {
        const verdict = checkRule(rule, value);
        const err = thrown(() => IsolationForest.fit(X, { ...base, [key]: value } as IsolationForestOptions));
        if (verdict) {
          refused++;
          expect(err, `fit must refuse ${key} = ${showValue(value)}`).toBeInstanceOf(ParameterError);
          expect((err as ParameterError).key).toBe(key);
          expect((err as Error).message).toContain(`IsolationForest.fit: ${key} = ${showValue(value)} is not allowed; must be ${describeRule(rule)}`);
        } else if (key === 'maxSamples' && typeof value === 'number' && Math.floor(value * X.rows) < 1 && !Number.isInteger(value)) {
          // allowed by the rule, but no row per tree for 40 rows: refused with that reason
          expect((err as Error).message).toMatch(/= 0 rows per tree for 40 training rows; a tree needs at least 1/);
        } else {
          accepted++;
          expect(err, `fit must accept ${key} = ${showValue(value)}`).toBeUndefined();
        }
      }
      expect(accepted).toBeGreaterThan(1);
      expect(refused).toBeGreaterThan(5);
    });

    it(`${key}: every value fit accepts gives a forest that loads back; fromJSON refuses what the rule refuses`, () => {
      for (const value of probes(rule)) {
        if (checkRule(rule, value)) continue;
        let forest: IsolationForest;
        try {
          forest = IsolationForest.fit(X, { ...base, [key]: value } as IsolationForestOptions);
        } catch {
          continue; // the rows-per-tree refusal above
        }
        const back = IsolationForest.fromJSON(JSON.parse(JSON.stringify(forest.toJSON())));
        expect(back.scoreSamples(X)).toEqual(forest.scoreSamples(X));
      }
      // maxSamples is stored as the fitted whole count, checked by its own rule
      const storedRule = key === 'maxSamples' ? FITTED_MAX_SAMPLES_RULE : rule;
      for (const value of probes(storedRule)) {
        if (!checkRule(storedRule, value)) continue;
        const err = thrown(() => IsolationForest.fromJSON({ ...savedJson, [key]: value }));
        expect(err, `fromJSON must refuse ${key} = ${showValue(value)}`).toBeInstanceOf(TypeError);
        expect((err as Error).message).toContain(`invalid IsolationForest: ${key} = ${showValue(value)} is not allowed; must be ${describeRule(storedRule)}`);
      }
    });

    // seed is the exception: the experiment's seed also seeds the data, and is checked by the narrower rule below
    if (key !== 'seed') {
      it(`${key}: the parameter parser uses the same rule`, () => {
        expect(PARAM_RULES[key as keyof typeof PARAM_RULES]).toBe(rule);
        for (const value of probes(rule)) {
          const verdict = checkRule(rule, value);
          const err = thrown(() => applyOverrides(DEFAULT_PARAMS, { [key]: value }, 'test'));
          if (verdict) {
            expect(err, `the parser must refuse ${key} = ${showValue(value)}`).toBeInstanceOf(ParameterError);
            expect((err as Error).message).toContain(`${key} = ${showValue(value)} from test: must be ${describeRule(rule)}`);
          } else if (value !== undefined) {
            expect(err).toBeUndefined();
          }
        }
      });
    }
  }

  it('the issue: contamination 0.9 and maxSamples 0 are refused by fit, not only on load', () => {
    expect(() => IsolationForest.fit(X, { ...base, contamination: 0.9 })).toThrow(
      'IsolationForest.fit: contamination = 0.9 is not allowed; must be "auto" or a number in (0, 0.5]',
    );
    expect(() => IsolationForest.fit(X, { ...base, maxSamples: 0 })).toThrow(/maxSamples = 0 is not allowed/);
    expect(() => IsolationForest.fit(X, { contamination: 0.1 } as IsolationForestOptions)).toThrow(/nEstimators = undefined is not allowed/);
  });

  it('maxSamples: a fraction giving one row per tree fits (as in scikit-learn) and loads back; the count 1 stays refused', () => {
    expect(describeRule(FITTED_MAX_SAMPLES_RULE)).toBe('an integer from 1 to 10,000,000');
    for (const fraction of [0.025, 0.03, 0.0499]) {
      const forest = IsolationForest.fit(X, { ...base, maxSamples: fraction });
      expect(forest.maxSamples, `maxSamples ${fraction}`).toBe(1);
      const back = IsolationForest.fromJSON(JSON.parse(JSON.stringify(forest.toJSON())));
      expect(back.toJSON()).toEqual(forest.toJSON());
      expect(back.scoreSamples(X)).toEqual(new Float64Array(X.rows).fill(-0.5));
    }
    expect(IsolationForest.fit(X, { ...base, maxSamples: 0.05 }).maxSamples).toBe(2);
    expect(() => IsolationForest.fit(X, { ...base, maxSamples: 0.0249 })).toThrow(/maxSamples = 0.0249 gives floor\(0.0249 \* 40\) = 0 rows per tree/);
    expect(() => IsolationForest.fit(X, { ...base, maxSamples: 1 })).toThrow(/maxSamples = 1 is not allowed; must be "auto", an integer from 2 to 10,000,000, or a number in \(0, 1\)/);
    expect(thrown(() => applyOverrides(DEFAULT_PARAMS, { maxSamples: 0.025 }, 'test'))).toBeUndefined();
  });

  it('the parser seed (data and trees) is a narrower rule than the forest seed (which also takes strings)', () => {
    for (const value of probes(PARAM_RULES.seed)) {
      if (!checkRule(PARAM_RULES.seed, value)) expect(checkRule(FOREST_PARAMETER_RULES.seed, value)).toBeUndefined();
    }
  });
});

describe('PCA: fit, fromJSON and the parser', () => {
  const Z = createMatrix(30, 4, Float64Array.from({ length: 120 }, () => rng.normal()));
  const pca = PCAModel.fit(Z, 2);
  it('fit refuses what the rule refuses, and more components than features', () => {
    for (const value of probes(PCA_PARAMETER_RULES.nComponents)) {
      const verdict = checkRule(PCA_PARAMETER_RULES.nComponents, value);
      const err = thrown(() => PCAModel.fit(Z, value as number));
      if (verdict) expect((err as Error).message).toContain(`PCA.fit: nComponents = ${showValue(value)} is not allowed; must be an integer >= 1`);
      else if ((value as number) > 4) expect((err as Error).message).toContain('must be at most the number of features, 4');
      else expect(err).toBeUndefined();
    }
  });
  it('fromJSON refuses more stored components than features', () => {
    const json = pca.toJSON();
    const wide = { ...json, components: [...json.components, ...json.components, json.components[0]], explainedVariance: [1, 1, 1, 1, 1], explainedVarianceRatio: [0, 0, 0, 0, 0] };
    expect(() => PCAModel.fromJSON(wide)).toThrow('PCA: 5 components stored; nComponents must be at most the number of features, 4');
  });
  it('every pcaComponents the parser accepts, PCA accepts', () => {
    for (const value of probes(PARAM_RULES.pcaComponents)) {
      if (!checkRule(PARAM_RULES.pcaComponents, value)) expect(checkRule(PCA_PARAMETER_RULES.nComponents, value)).toBeUndefined();
    }
  });
});
