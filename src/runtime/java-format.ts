/**
 * `T(String).format('%,.2f', $amount)`: Java's Formatter for the conversions dialogs use, in its
 * default (US) locale. Decimals round half up from the number's shortest decimal form, as Java's
 * does (so '%.2f' of 1.005 is "1.01", where C's printf says "1.00"). A conversion Java would
 * refuse (%d of 2.5, a missing argument, an unknown letter) is an expression error naming it.
 */
import { ExpressionError } from './errors.ts';

const SPEC = /%(\d+\$)?([-#+ 0,(]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g;
/** Widths and precisions above this are refused before any padding is built. */
const MAX_FIELD = 10_000;

export function javaFormat(format: string, args: unknown[], show: (v: unknown) => string): string {
  let next = 0;
  return format.replace(SPEC, (whole, index: string | undefined, flags: string, width: string | undefined, precision: string | undefined, conversion: string) => {
    if (Number(width ?? 0) > MAX_FIELD || Number(precision ?? 0) > MAX_FIELD) {
      throw new ExpressionError(`T(String).format(): "${whole}" asks for a field wider than ${MAX_FIELD} characters`);
    }
    if (conversion === '%') return pad('%', flags, width);
    if (conversion === 'n') return '\n';
    const at = index ? Number(index.slice(0, -1)) - 1 : next++;
    if (at < 0 || at >= args.length) throw new ExpressionError(`T(String).format(): "${whole}" has no argument (${args.length} given)`);
    const arg = args[at];
    const p = precision === undefined ? undefined : Number(precision);
    switch (conversion) {
      case 's': case 'S': {
        let text = show(arg);
        if (p !== undefined) text = text.slice(0, p);
        return pad(conversion === 'S' ? text.toUpperCase() : text, flags, width);
      }
      case 'b': case 'B': {
        const text = String(arg !== null && arg !== undefined && arg !== false);
        return pad(conversion === 'B' ? text.toUpperCase() : text, flags, width);
      }
      case 'c': {
        const text = typeof arg === 'number' && Number.isInteger(arg) ? String.fromCodePoint(arg) : typeof arg === 'string' && [...arg].length === 1 ? arg : undefined;
        if (text === undefined) throw mismatch(whole, 'a character', arg);
        return pad(text, flags, width);
      }
      case 'd': {
        const n = integer(whole, arg);
        return numeric(groupDigits(String(Math.abs(n)), flags), n < 0, flags, width);
      }
      case 'x': case 'X': case 'o': {
        const n = integer(whole, arg);
        // Java prints a negative int (or long) as its two's complement.
        const bits = n >= -(2 ** 31) && n < 2 ** 31 ? 32n : 64n;
        const value = n < 0 ? (1n << bits) + BigInt(n) : BigInt(n);
        const text = value.toString(conversion === 'o' ? 8 : 16);
        return numeric(conversion === 'X' ? text.toUpperCase() : text, false, flags, width);
      }
      case 'f': case 'e': case 'E': {
        if (typeof arg !== 'number') throw mismatch(whole, 'a number', arg);
        if (!Number.isFinite(arg)) return pad(Number.isNaN(arg) ? 'NaN' : arg > 0 ? 'Infinity' : '-Infinity', flags, width);
        const digits = conversion === 'f' ? fixed(Math.abs(arg), p ?? 6) : scientific(Math.abs(arg), p ?? 6);
        const body = conversion === 'f' ? groupDigits(digits, flags) : digits;
        return numeric(conversion === 'E' ? body.toUpperCase() : body, arg < 0 || Object.is(arg, -0), flags, width);
      }
      default:
        throw new ExpressionError(`T(String).format(): "${whole}" is not a conversion this runtime knows (use %s, %d, %f, %e, %x, %o, %c, %b, %n or %%)`);
    }
  });
}

function mismatch(spec: string, wanted: string, arg: unknown): ExpressionError {
  return new ExpressionError(`T(String).format(): "${spec}" needs ${wanted}, not ${JSON.stringify(arg) ?? String(arg)}`);
}

function integer(spec: string, arg: unknown): number {
  if (typeof arg !== 'number' || !Number.isSafeInteger(arg)) throw mismatch(spec, 'a whole number', arg);
  return arg;
}

/** The magnitude's digits with the sign, then the flags: '+', ' ', '(' for negatives, '0' padding. */
function numeric(digits: string, negative: boolean, flags: string, width: string | undefined): string {
  const sign = negative ? (flags.includes('(') ? '(' : '-') : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '';
  const close = negative && flags.includes('(') ? ')' : '';
  const w = width === undefined ? 0 : Number(width);
  if (flags.includes('0') && !flags.includes('-')) return sign + digits.padStart(w - sign.length - close.length, '0') + close;
  return pad(sign + digits + close, flags, width);
}

function pad(text: string, flags: string, width: string | undefined): string {
  const w = width === undefined ? 0 : Number(width);
  return flags.includes('-') ? text.padEnd(w) : text.padStart(w);
}

/** ',' groups the integer part's digits in threes. */
function groupDigits(digits: string, flags: string): string {
  if (!flags.includes(',')) return digits;
  const [int, frac] = digits.split('.') as [string, string | undefined];
  const grouped = int.replace(/\B(?=(\d{3})+$)/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

/** The shortest decimal digits of x ≥ 0 and the exponent of the first one: 1.005 → ["1005", 0]. */
function shortest(x: number): [string, number] {
  const [mantissa, exp] = x.toExponential().split('e') as [string, string];
  return [mantissa.replace('.', ''), Number(exp)];
}

/** Digits rounded half up to `keep` of them; a carry lengthens the result (999 → 1000). */
function roundHalfUp(digits: string, keep: number): string {
  if (keep >= digits.length) return digits.padEnd(keep, '0');
  if (keep < 0) return '';
  const kept = digits.slice(0, keep);
  if (digits.charCodeAt(keep) < 53) return kept; // below '5'
  return (BigInt(kept || '0') + 1n).toString().padStart(keep, '0');
}

function fixed(x: number, precision: number): string {
  if (x === 0) return precision > 0 ? `0.${'0'.repeat(precision)}` : '0';
  const [digits, exp] = shortest(x);
  // Digits before the point: exp + 1 (none when x < 1, padded with leading zeros).
  const keep = exp + 1 + precision;
  let rounded = roundHalfUp(digits, keep);
  const intLength = rounded.length - precision;
  if (intLength <= 0) rounded = rounded.padStart(precision + 1, '0');
  const int = rounded.slice(0, rounded.length - precision) || '0';
  return precision > 0 ? `${int}.${rounded.slice(rounded.length - precision)}` : int;
}

function scientific(x: number, precision: number): string {
  let [digits, exp] = x === 0 ? ['0', 0] : shortest(x);
  let rounded = roundHalfUp(digits, precision + 1);
  if (rounded.length > precision + 1) { rounded = rounded.slice(0, precision + 1); exp++; }
  const mantissa = precision > 0 ? `${rounded[0]}.${rounded.slice(1)}` : rounded;
  return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}
