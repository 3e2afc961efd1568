import { describe, expect, it } from 'vitest';
import { formatCount } from '../src/core/count-text';
import { createRng } from '../src/core/rng';

describe('formatCount', () => {
  it('writes what Math.round(n).toLocaleString("en-US") writes', () => {
    const edge = [0, -0, 0.4, -0.4, 0.5, -0.5, 1, -1, 12, 123, 999.4, 999.5, -999.5, -999.6, 1000, 1234, -1234, 12345, 123456, 1234567, -9876543.6, 2 ** 53, 1e20, 1e21 - 65536, 1e21, -1.5e22, NaN, Infinity, -Infinity];
    const rng = createRng(7, 'formatCount');
    const values = [...edge, ...Array.from({ length: 2000 }, (_, k) => (rng.next() - 0.5) * 10 ** (k % 19))];
    for (const v of values) expect(formatCount(v), String(v)).toBe(Math.round(v).toLocaleString('en-US'));
  });
});
