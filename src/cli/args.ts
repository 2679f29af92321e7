/**
 * Number-valued command-line options. Commander hands over strings, and `Number()` turns a typo
 * into NaN (or a negative count into zero work) without a word; these refuse them instead.
 */
import { AppError } from '../errors/index.ts';

function invalid(name: string, v: string, expected: string): AppError {
  return new AppError('ARGUMENT_INVALID', `${name} must be ${expected}, got "${v}"`, {
    hint: `give ${name} ${expected} (the command's --help lists its options and defaults)`, exitCode: 2,
  });
}

const wholeNumber = (v: string): number | undefined => (/^\s*\d+\s*$/.test(v) ? Number(v) : undefined);

/** `max`: the largest value the option's consumer takes, e.g. a Kubernetes int32 field's. */
export function positiveInt(v: string, name: string, max?: number): number {
  const n = wholeNumber(v);
  if (n === undefined || n < 1 || (max !== undefined && n > max)) {
    throw invalid(name, v, max === undefined ? 'a whole number >= 1' : `a whole number from 1 to ${max}`);
  }
  return n;
}

/** A count where 0 means "none", e.g. training threads or workers. */
export function nonNegativeInt(v: string, name: string): number {
  const n = wholeNumber(v);
  if (n === undefined) throw invalid(name, v, 'a whole number >= 0');
  return n;
}

export function positiveNumber(v: string, name: string): number {
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw invalid(name, v, 'a number > 0');
  return n;
}

export function port(v: string, name: string): number {
  const n = wholeNumber(v);
  if (n === undefined || n > 65_535) throw invalid(name, v, 'a port number from 0 to 65535');
  return n;
}
