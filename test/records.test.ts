import { describe, expect, it } from 'vitest';
import { InputError, RecordParser } from '../src/data/records';
import { LineBlock, LineSplitter } from '../src/data/line-splitter';
import { parseDecimal, parseDecimalBytes } from '../src/data/decimal';
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

describe('parseDecimalBytes gives what parseDecimal gives, or NaN (then the text decides)', () => {
  const bytesOf = (t: string) => Buffer.from(`x${t}y`);
  it('takes plain decimals and nothing else', () => {
    for (const c of ['0', '-0', '1.', '.5', '-12.345', '+3', '00012.5000', '123456789012345', '0.000000000000000000001', '255', '0.07']) {
      const b = bytesOf(c);
      expect(Object.is(parseDecimalBytes(b, 1, b.length - 1), parseDecimal(c, 0, c.length)), c).toBe(true);
    }
    for (const c of ['', ' 1', '1 ', '.', '1e5', '--1', '1.2.3', '0x10', 'Infinity', '1234567890123456', '0.00000000000000000000001', 'é']) {
      const b = bytesOf(c);
      expect(parseDecimalBytes(b, 1, b.length - 1), JSON.stringify(c)).toBeNaN();
    }
  });
  it('on 100,000 random decimals', () => {
    const rng = createRng(2, 'decimal-bytes');
    let taken = 0;
    for (let k = 0; k < 100_000; k++) {
      const x = (rng.next() - 0.5) * 10 ** (rng.int(20) - 10);
      for (const f of [x.toFixed(rng.int(12)), String(x), x.toPrecision(1 + rng.int(21))]) {
        const b = bytesOf(f);
        const v = parseDecimalBytes(b, 1, b.length - 1);
        if (Number.isNaN(v)) continue;
        taken++;
        expect(Object.is(v, Number(f)), f).toBe(true);
      }
    }
    expect(taken).toBeGreaterThan(120_000); // the plain forms: toFixed always, the others unless exponential or over 15 digits
  });
});

describe('RecordParser', () => {
  const row = new Float64Array(3);
  it('parseBytes takes plain CSV records from their bytes with the values parse gives, and leaves the rest to parse', () => {
    const lines = ['f3,f1,f2', '3,1,2', '-0.5,1e3,2', ' 3,1,2', '3,1', '3,1,2,4', '0.1,0.2,0.3', '-0,00.50,7.', '1,2,', ',1,2', '1234567890123456,1,2', '1,2,3\r'];
    const viaText = new RecordParser(names, 'csv');
    const viaBytes = new RecordParser(names, 'csv');
    const other = new Float64Array(3);
    const taken: string[] = [];
    lines.forEach((l, i) => {
      const outcome = viaText.parse(l, row, 0);
      const b = Buffer.from(l);
      if (i > 0 && viaBytes.parseBytes(b, 0, b.length, other, 0)) {
        taken.push(l);
        expect(outcome, l).toEqual({ kind: 'record' });
        expect(Array.from(other).map((v) => Object.is(v, -0) ? '-0' : v), l).toEqual(Array.from(row).map((v) => Object.is(v, -0) ? '-0' : v));
      } else expect(viaBytes.parse(l, other, 0), l).toEqual(outcome);
    });
    expect(taken).toEqual(['3,1,2', '0.1,0.2,0.3', '-0,00.50,7.']);
    expect(Array.from(other)).toEqual(Array.from(row));
    // the first line (the header decision) and NDJSON always go through parse
    const fresh = new RecordParser(names, 'csv');
    expect(fresh.parseBytes(Buffer.from('1,2,3'), 0, 5, other, 0)).toBe(false);
    expect(new RecordParser(names, 'ndjson').parseBytes(Buffer.from('[1,2,3]'), 0, 7, other, 0)).toBe(false);
  });
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
  it('block(): complete lines as bytes, the line begun in an earlier chunk and over-long ones as text', () => {
    const s = new LineSplitter(5);
    const text = (b: LineBlock) => Array.from({ length: b.count }, (_, i) => b.text(i));
    expect(text(s.block(Buffer.from('ab')))).toEqual([]);
    const b = s.block(Buffer.from('c\r\nde\r\n123456\nfg\n\nh'));
    expect(text(b)).toEqual(['abc', 'de', null, 'fg', '']);
    expect(Array.from(b.starts)).toEqual([-2, 0, -1, 11, 14]); // the first line is text, the over-long one has no bytes
    expect(b.data.toString('latin1', b.starts[1], b.ends[1])).toBe('de');
    expect(text(s.endBlock()!)).toEqual(['h']);
    expect(s.endBlock()).toBeNull();
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
