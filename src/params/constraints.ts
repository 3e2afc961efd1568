/**
 * Declarative parameter rules, in the spirit of scikit-learn's
 * `_parameter_constraints`: each parameter lists the forms it may take (an
 * interval of integers or reals, a set of strings, any non-empty string) and a
 * value is valid when it satisfies at least one of them.
 *
 * One table per model is the single source of truth: the model's `fit`, its
 * `fromJSON` (what a saved file may contain) and the experiment parameter
 * parser all check values against the same table, so nothing can be fitted that
 * cannot be loaded back, and the messages always say the same thing.
 */

/** Which side of an interval includes its bound (scikit-learn's `closed`). */
export type Closed = 'both' | 'left' | 'right' | 'neither';

/** A range of numbers; `integer` excludes fractions (JavaScript has one number type: 2.0 is the integer 2). */
export interface IntervalConstraint {
  kind: 'interval';
  type: 'integer' | 'real';
  /** lower bound, or null for none */
  min: number | null;
  /** upper bound, or null for none */
  max: number | null;
  closed: Closed;
}

/** One of a fixed set of strings, e.g. "auto". */
export interface OptionsConstraint {
  kind: 'options';
  values: readonly string[];
}

/** Any non-empty string (e.g. a textual seed). */
export interface StringConstraint {
  kind: 'string';
}

export type Constraint = IntervalConstraint | OptionsConstraint | StringConstraint;

/** The rule of one parameter: what it means and the forms it may take. */
export interface ParameterRule {
  /** one line, for tables, --help and messages */
  description: string;
  /** the value is valid when it satisfies at least one of these */
  constraints: readonly Constraint[];
}

/** A model's rule table: one rule per parameter name. */
export type ParameterRules<K extends string = string> = Readonly<Record<K, ParameterRule>>;

/**
 * Freeze a rule table to the last constraint, so no caller can loosen a rule
 * for everyone else at run time (the tables are shared module state).
 */
export function freezeRules<K extends string>(rules: Record<K, ParameterRule>): ParameterRules<K> {
  for (const rule of Object.values(rules) as ParameterRule[]) {
    for (const c of rule.constraints) {
      if (c.kind === 'options') Object.freeze(c.values);
      Object.freeze(c);
    }
    Object.freeze(rule.constraints);
    Object.freeze(rule);
  }
  return Object.freeze(rules);
}

/** Integers from `min` to `max` (null: unbounded), bounds included unless `closed` says otherwise. */
export function integerInterval(min: number | null, max: number | null, closed: Closed = 'both'): IntervalConstraint {
  return { kind: 'interval', type: 'integer', min, max, closed };
}

/** Finite numbers from `min` to `max` (null: unbounded); `closed` says which bounds belong. */
export function realInterval(min: number | null, max: number | null, closed: Closed): IntervalConstraint {
  return { kind: 'interval', type: 'real', min, max, closed };
}

export function stringOptions(...values: string[]): OptionsConstraint {
  return { kind: 'options', values };
}

export const NON_EMPTY_STRING: StringConstraint = { kind: 'string' };

const includesLeft = (c: Closed) => c === 'both' || c === 'left';
const includesRight = (c: Closed) => c === 'both' || c === 'right';

/** Does `value` satisfy this one constraint? */
export function satisfies(value: unknown, c: Constraint): boolean {
  switch (c.kind) {
    case 'options':
      return typeof value === 'string' && c.values.includes(value);
    case 'string':
      return typeof value === 'string' && value !== '';
    case 'interval': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return false;
      if (c.type === 'integer' && !Number.isInteger(value)) return false;
      if (c.min !== null && (includesLeft(c.closed) ? value < c.min : value <= c.min)) return false;
      if (c.max !== null && (includesRight(c.closed) ? value > c.max : value >= c.max)) return false;
      return true;
    }
  }
}

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 20 });

/** Human wording of one constraint, e.g. `an integer from 2 to 10,000,000`, `a number in (0, 0.5]`, `"auto"`. */
export function describeConstraint(c: Constraint): string {
  if (c.kind === 'options') return c.values.map((v) => JSON.stringify(v)).join(' or ');
  if (c.kind === 'string') return 'a non-empty string';
  const noun = c.type === 'integer' ? 'an integer' : 'a number';
  const { min, max, closed } = c;
  const left = includesLeft(closed);
  const right = includesRight(closed);
  if (min === null && max === null) return c.type === 'integer' ? 'any integer' : 'any finite number';
  if (max === null) return `${noun} ${left ? '>=' : '>'} ${fmt(min!)}`;
  if (min === null) return `${noun} ${right ? '<=' : '<'} ${fmt(max)}`;
  if (c.type === 'integer' && left && right) return `${noun} from ${fmt(min)} to ${fmt(max)}`;
  return `${noun} in ${left ? '[' : '('}${fmt(min)}, ${fmt(max)}${right ? ']' : ')'}`;
}

/** Every allowed form, joined: `"auto", an integer from 2 to 10, or a number in (0, 1)`. */
export function describeRule(rule: ParameterRule): string {
  const parts = rule.constraints.map(describeConstraint);
  if (parts.length <= 1) return parts.join('');
  if (parts.length === 2) return `${parts[0]} or ${parts[1]}`;
  return `${parts.slice(0, -1).join(', ')}, or ${parts[parts.length - 1]}`;
}

/** A value as messages show it: strings quoted, undefined and NaN spelled out. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Check one value against its rule: undefined when valid, otherwise the reason
 * in the form `must be <every allowed form>` (callers prefix the parameter name,
 * the value and where it came from).
 */
export function checkRule(rule: ParameterRule, value: unknown): string | undefined {
  if (rule.constraints.some((c) => satisfies(value, c))) return undefined;
  return `must be ${describeRule(rule)}`;
}

/**
 * A parameter value that is refused: by a model (fit, fromJSON) or by the
 * experiment parameter loader (a file, ANOMALY_PARAMS, --set). The one error
 * for a bad parameter, wherever it is checked. A RangeError, so callers that
 * already expect one from fit keep working; `key`, `value` and `allowed` let a
 * caller rebuild the message in its own words, `source` names where the value
 * came from (a file, an environment variable, `--set`).
 */
export class ParameterError extends RangeError {
  constructor(
    message: string,
    readonly key?: string,
    readonly value?: unknown,
    readonly allowed?: string,
    readonly source?: string,
  ) {
    super(message);
    this.name = 'ParameterError';
  }
}

/**
 * Check every rule of `rules` on `values` (a missing key is checked as
 * undefined, so it is refused like any other wrong value); throw a
 * ParameterError `<owner>: <key> = <value> is not allowed; must be ...` for the
 * first that fails.
 */
export function validateParameters<K extends string>(rules: ParameterRules<K>, values: unknown, owner: string): void {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new ParameterError(`${owner}: the options must be an object, got ${showValue(values)}`, '', values, 'an object');
  }
  for (const key of Object.keys(rules) as K[]) {
    const value = (values as Record<string, unknown>)[key];
    const reason = checkRule(rules[key], value);
    if (reason) throw new ParameterError(`${owner}: ${key} = ${showValue(value)} is not allowed; ${reason}`, key, value, describeRule(rules[key]));
  }
}
