/**
 * Decimal text to doubles without substrings: the record parsers' fast path.
 */

// String methods as module constants, called with .call: see the note in data/records.ts.
const charCodeAt = String.prototype.charCodeAt;

/** Number(text), except that blank text is not a number (Number('  ') is 0). */
function strictNumber(text: string): number {
  return text.trim() === '' ? NaN : Number(text);
}

export const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k); // exact doubles up to 1e22
const TWO53 = 2 ** 53;

/**
 * Number(s.slice(start, end)) without creating the substring, for plain
 * decimals ("-12.345", "6e-3"). Exact: with at most 15 significant digits the
 * digits form an integer below 2^53 and 10^k (k <= 22) is exact, so one IEEE
 * multiplication or division gives the correctly rounded value, the same
 * double Number() returns (Clinger's fast path). Anything else (more digits,
 * spaces, hex, "Infinity", garbage) is handed to Number() itself; blank text is NaN.
 */
export function parseDecimal(s: string, start: number, end: number): number {
  if (start >= end) return NaN; // Number('') would be 0
  let i = start;
  let negative = false;
  let c = charCodeAt.call(s, i);
  if (c === 45 || c === 43) {
    negative = c === 45;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let significant = 0;
  let scale = 0;
  let seenDot = false;
  for (; i < end; i++) {
    c = charCodeAt.call(s, i);
    if (c >= 48 && c <= 57) {
      digits++;
      if (mantissa === 0 && c === 48) {
        if (seenDot) scale--;
        continue; // leading zeros add no significant digit
      }
      if (++significant > 15) return strictNumber(s.slice(start, end));
      mantissa = mantissa * 10 + (c - 48);
      if (seenDot) scale--;
    } else if (c === 46 && !seenDot) {
      seenDot = true;
    } else {
      break;
    }
  }
  if (digits === 0) return strictNumber(s.slice(start, end));
  if (i < end) {
    if (c !== 101 && c !== 69) return strictNumber(s.slice(start, end));
    i++;
    let expNegative = false;
    c = charCodeAt.call(s, i);
    if (c === 45 || c === 43) {
      expNegative = c === 45;
      i++;
    }
    let exp = 0;
    let expDigits = 0;
    for (; i < end; i++) {
      c = charCodeAt.call(s, i);
      if (c < 48 || c > 57 || expDigits > 4) return strictNumber(s.slice(start, end));
      exp = exp * 10 + (c - 48);
      expDigits++;
    }
    if (expDigits === 0) return strictNumber(s.slice(start, end));
    scale += expNegative ? -exp : exp;
  }
  if (mantissa >= TWO53 || scale < -22 || scale > 22) return strictNumber(s.slice(start, end));
  const v = scale < 0 ? mantissa / POW10[-scale] : mantissa * POW10[scale];
  return negative ? -v : v;
}

/**
 * The value of a plain decimal in bytes[start, end) ("-12.345", "0.07",
 * "255"), or NaN for anything else (an exponent, more than 15 significant
 * digits, a space, an empty field): the caller then parses the line's text,
 * whose rules (parseDecimal, Number) decide. Where it answers it gives the
 * double parseDecimal gives for the same text: the same exact integer
 * mantissa and the same one IEEE division by an exact power of ten.
 */
export function parseDecimalBytes(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  let negative = false;
  let c = i < end ? bytes[i] : 0;
  if (c === 45 || c === 43) {
    negative = c === 45;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let significant = 0;
  let scale = 0;
  let seenDot = false;
  for (; i < end; i++) {
    c = bytes[i];
    if (c >= 48 && c <= 57) {
      digits++;
      if (seenDot) scale++;
      if (mantissa === 0 && c === 48) continue; // leading zeros add no significant digit
      if (++significant > 15) return NaN;
      mantissa = mantissa * 10 + (c - 48);
    } else if (c === 46 && !seenDot) {
      seenDot = true;
    } else {
      return NaN;
    }
  }
  if (digits === 0 || scale > 22) return NaN;
  const v = scale === 0 ? mantissa : mantissa / POW10[scale];
  return negative ? -v : v;
}
