/**
 * Python's number formatting, reproduced exactly, so that reports printed by
 * this library are character-for-character those scikit-learn prints.
 *
 * JavaScript's toFixed rounds exact ties away from zero (0.125 -> "0.13") where
 * Python rounds them to even (0.125 -> "0.12"), and String(5) is "5" where
 * Python's str(5.0) is "5.0"; both matter in a classification report.
 */

const view = new DataView(new ArrayBuffer(8));

/** |x| as mantissa * 2^exponent with an integer mantissa (exact). */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  view.setFloat64(0, Math.abs(x));
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (expBits === 0) return { mantissa, exponent: -1074 }; // subnormal
  mantissa |= 1n << 52n;
  return { mantissa, exponent: expBits - 1075 };
}

/** Python's format(x, '.{digits}f'): exact decimal value, ties rounded half to even. */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isInteger(digits) || digits < 0) throw new RangeError(`digits must be a non-negative integer, got ${digits}`);
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const negative = x < 0 || Object.is(x, -0);
  const { mantissa, exponent } = decompose(x);
  const scaled = mantissa * 10n ** BigInt(digits);
  let q: bigint;
  if (exponent >= 0) {
    q = scaled << BigInt(exponent);
  } else {
    const shift = BigInt(-exponent);
    q = scaled >> shift;
    const twiceRemainder = (scaled - (q << shift)) << 1n;
    const denominator = 1n << shift;
    if (twiceRemainder > denominator || (twiceRemainder === denominator && (q & 1n) === 1n)) q += 1n;
  }
  const s = q.toString().padStart(digits + 1, '0');
  const body = digits > 0 ? `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}` : s;
  return negative ? `-${body}` : body;
}

/** Python's repr(float) / str(float): shortest round-trip digits, Python's layout. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without an argument gives the shortest round-trip digits
  const [mant, expStr] = x.toExponential().split('e');
  const exp = Number(expStr);
  const negative = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let body: string;
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      body = `0.${'0'.repeat(-exp - 1)}${digits}`;
    } else if (digits.length > exp + 1) {
      body = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
    } else {
      body = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
    }
  } else {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    body = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return negative ? `-${body}` : body;
}

/**
 * Python's "%s" % label for a class label. JavaScript cannot tell 1 from 1.0,
 * so integral numbers print like Python ints ("-1"); pass explicit target names
 * to reproduce a float-labelled report ("-1.0").
 */
export function pyStr(label: number | string): string {
  if (typeof label === 'string') return label;
  return Number.isInteger(label) ? String(label) : pyFloatRepr(label);
}
