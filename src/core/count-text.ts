/**
 * Counts as the reports print them: rounded, with en-US thousands commas
 * ("1,234,567"), the text `Math.round(n).toLocaleString('en-US')` gives,
 * without Intl: its first call loads locale data (10-15 ms), which the stream
 * command paid in the middle of a run for its first drift line.
 */

/** `n` rounded to an integer, digits grouped by three with commas: exactly `Math.round(n).toLocaleString('en-US')`. */
export function formatCount(n: number): string {
  const r = Math.round(n);
  // beyond 1e21 String() switches to exponent notation; NaN and the infinities: let Intl say it
  if (!(Math.abs(r) < 1e21)) return r.toLocaleString('en-US');
  const negative = r < 0 || Object.is(r, -0);
  const digits = String(Math.abs(r));
  const head = digits.length % 3 || 3;
  let out = digits.slice(0, head);
  for (let i = head; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return negative ? `-${out}` : out;
}
