import { describe, expect, it } from 'vitest';
import { formatFixed, pyFloatRepr, pyStr } from '../src/core/pyformat';

describe("formatFixed is Python's format(x, '.Nf')", () => {
  it.each([
    [0.125, 2, '0.12'], // exact tie: half to even (toFixed gives 0.13)
    [0.375, 2, '0.38'],
    [2.5, 0, '2'],
    [3.5, 0, '4'],
    [0.5, 0, '0'],
    [1.005, 2, '1.00'], // 1.005 is really 1.00499999999999989...
    [0.6666666666666666, 4, '0.6667'],
    [1, 2, '1.00'],
    [0, 4, '0.0000'],
    [-0.001, 2, '-0.00'],
    [-0, 2, '-0.00'],
    [123456.789, 1, '123456.8'],
    [1e22, 2, '10000000000000000000000.00'],
    [5e-324, 3, '0.000'],
  ])('format(%s, ".%sf") == %s', (x, d, expected) => {
    expect(formatFixed(x, d)).toBe(expected);
  });
});

describe("pyFloatRepr is Python's repr(float)", () => {
  it.each([
    [5, '5.0'],
    [1000, '1000.0'],
    [0.1, '0.1'],
    [1e-4, '0.0001'],
    [1e-5, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [1e16, '1e+16'],
    [1234567890123456, '1234567890123456.0'],
    [-2.5, '-2.5'],
    [0, '0.0'],
    [123.456, '123.456'],
  ])('repr(%s) == %s', (x, expected) => {
    expect(pyFloatRepr(x)).toBe(expected);
  });
  it('labels print like Python: ints bare, non-integers as floats', () => {
    expect(pyStr(-1)).toBe('-1');
    expect(pyStr(0.5)).toBe('0.5');
    expect(pyStr('attack')).toBe('attack');
  });
});
