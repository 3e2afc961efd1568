import { describe, expect, it } from 'vitest';
import { InputError, RecordParser } from '../src/data/records';
import { LineSplitter } from '../src/data/line-splitter';
import { parseDecimal } from '../src/data/decimal';
import { createRng } from '../src/core/rng';
import { DriftWindow, LatencyStats } from '../src/stream/stats';

const names = ['f1', 'f2', 'f3'];

describe('parseDecimal is exactly Number() (blank text excepted)', () => {
  it('on edge cases', () => {
    for (const c of ['0', '-0', '1.', '.5', '1e5', '1E-5', '-12.345', '+3', '0x10', 'Infinity', '1e999', '12345678901234567890', '1e22', '1e23', '9007199254740993', '00012.5000', '-.5e-3', '5e-324', '0.1e-22', '123456789012345', '1234567890123456']) {
      expect(Object.is(parseDecimal(c, 0, c.length), Number(c)), c).toBe(true);
    }
    for (const c of ['', ' ', '.', '1e', '--1', '1.2.3', 'nan', 'abc']) expect(parseDecimal(c, 0, c.length), JSON.stringify(c)).toBeNaN();
  });
  it('on 100,000 random decimals in every notation, inside a longer string', () => {
    const rng = createRng(1, 'decimals');
    for (let k = 0; k < 100_000; k++) {
      const x = (rng.next() - 0.5) * 10 ** (rng.int(30) - 15);
      const forms = [x.toFixed(rng.int(12)), String(x), x.toExponential(rng.int(17)), x.toPrecision(1 + rng.int(21))];
      for (const f of forms) {
        const s = `a,${f},b`;
        expect(parseDecimal(s, 2, 2 + f.length)).toBe(Number(f));
      }
    }
  });
});

describe('RecordParser', () => {
  const row = new Float64Array(3);
  it('CSV without a header; a damaged first row is a reject, not a header', () => {
    const p = new RecordParser(names, 'csv');
    expect(p.parse('1,2,abc', row, 0)).toEqual({ kind: 'reject', reason: 'field f3 is not a number: "abc"' });
    expect(p.hasHeader).toBe(false);
    expect(p.parse('4,5,6', row, 0)).toEqual({ kind: 'record' });
    expect(Array.from(row)).toEqual([4, 5, 6]);
  });
  it('CSV header in any order, extra columns ignored with a warning', () => {
    const p = new RecordParser(names, 'csv');
    expect(p.parse('f3, note ,f1,f2', row, 0)).toEqual({ kind: 'header' });
    expect(p.warnings).toEqual(['CSV columns not used by the model, ignored: note']);
    expect(p.parse('3,hello,1,2', row, 0)).toEqual({ kind: 'record' });
    expect(Array.from(row)).toEqual([1, 2, 3]);
    expect(p.parse('3,x,1', row, 0)).toEqual({ kind: 'reject', reason: 'expected 4 fields (as in the header), got 3' });
    expect(p.parse('3,x,1,2,9', row, 0)).toEqual({ kind: 'reject', reason: 'expected 4 fields (as in the header), got 5' });
    expect(p.parse(' 3 ,x, 1,2', row, 0)).toEqual({ kind: 'record' }); // spaces around numbers are fine
  });
  it('a header without a model feature stops the stream', () => {
    expect(() => new RecordParser(names, 'csv').parse('f1,f2,bytes', row, 0)).toThrow(InputError);
    expect(() => new RecordParser(names, 'csv').parse('f1,f1,f2,f3', row, 0)).toThrow(/names column "f1" twice/);
  });
  it('NDJSON objects and arrays', () => {
    const p = new RecordParser(names, 'ndjson');
    expect(p.parse('{"f2": 2, "f1": 1, "f3": 3, "x": 0}', row, 0)).toEqual({ kind: 'record' });
    expect(Array.from(row)).toEqual([1, 2, 3]);
    expect(p.parse('[7, 8, 9]', row, 0)).toEqual({ kind: 'record' });
    expect(p.parse('[7, 8, null]', row, 0)).toEqual({ kind: 'reject', reason: 'field f3 is not a number: "null"' });
    expect(p.parse('{"f1": 1, "f2": 2}', row, 0)).toEqual({ kind: 'reject', reason: 'missing feature f3' });
    expect((p.parse('{"f1": ', row, 0) as { reason: string }).reason).toMatch(/^invalid JSON/);
    expect(p.parse('   ', row, 0)).toEqual({ kind: 'reject', reason: 'empty line' });
  });
});

describe('LineSplitter', () => {
  const split = (chunks: Buffer[], max = 1000) => {
    const out: string[] = [];
    const s = new LineSplitter(max);
    for (const c of chunks) s.push(c, (l) => out.push(l), () => out.push('<too long>'));
    s.end((l) => out.push(l), () => out.push('<too long>'));
    return out;
  };
  it('joins lines cut across chunks, strips CR, keeps a last line without newline', () => {
    expect(split([Buffer.from('ab'), Buffer.from('c\r\nde'), Buffer.from('f\n\ng')])).toEqual(['abc', 'def', '', 'g']);
  });
  it('never cuts a UTF-8 character in two', () => {
    const bytes = Buffer.from('é,ü\n€\n');
    expect(split([bytes.subarray(0, 1), bytes.subarray(1, 5), bytes.subarray(5)])).toEqual(['é,ü', '€']);
  });
  it('reports an over-long line once and keeps no more than the bound in memory', () => {
    const s = new LineSplitter(10);
    const out: string[] = [];
    const on = (l: string) => out.push(l);
    const tooLong = () => out.push('<too long>');
    s.push(Buffer.from('12345'), on, tooLong);
    for (let i = 0; i < 100; i++) s.push(Buffer.from('x'.repeat(1000)), on, tooLong);
    expect(s.pendingBytes).toBe(0);
    s.push(Buffer.from('yy\nok\n'), on, tooLong);
    s.push(Buffer.from(`${'z'.repeat(11)}\n`), on, tooLong);
    expect(out).toEqual(['<too long>', 'ok', '<too long>']);
  });
});

describe('stream statistics', () => {
  it('latency percentiles over the kept batches', () => {
    const l = new LatencyStats(100);
    expect(l.percentile(50)).toBeNaN();
    for (let i = 1; i <= 100; i++) l.add(i);
    expect([l.percentile(50), l.percentile(99), l.percentile(100)]).toEqual([50, 99, 100]);
    for (let i = 0; i < 100; i++) l.add(1000); // only the last 100 are kept
    expect(l.percentile(50)).toBe(1000);
  });
  it('drift: warns once when a full window is above factor x expected, clears once', () => {
    const w = new DriftWindow(1000, 0.05, 2);
    expect(w.add(500, 400).drifting).toBe(false); // window not full yet
    const s = w.add(500, 100);
    expect(s).toMatchObject({ drifting: true, changed: true, records: 1000 });
    expect(s.rate).toBe(0.5);
    expect(w.add(500, 200).changed).toBe(false);
    expect(w.add(1000, 10)).toMatchObject({ drifting: false, changed: true, records: 1000 });
  });
});
