/**
 * The list/range/step grammar shared by 5-field cron and Quartz: `*`, `a`, `a-b`, `a/s`, `a-b/s`,
 * `*\/s`, comma-separated, with optional names (JAN, MON). Each field parses to the sorted list of
 * values it allows; the callers add their field-specific extensions (`?`, `L`, `W`, `#`) first.
 */
import { AppError } from '../errors/index.ts';

export interface FieldSpec {
  /** Human name used in error messages, e.g. "day-of-week". */
  name: string;
  min: number;
  max: number;
  /** Upper-case names accepted in place of numbers (JAN → 1, MON → 1 ...). */
  names?: Readonly<Record<string, number>>;
  /** Quartz allows `FRI-MON`-style ranges that wrap past the maximum; Vixie cron does not. */
  wrapRanges?: boolean;
}

export function cronError(expr: string, field: string, text: string, problem: string, hint?: string): AppError {
  return new AppError('CRON_INVALID', `Invalid schedule "${expr}": ${field} field "${text}" ${problem}`, {
    hint: hint ?? 'Check the field against the expected format; see `man 5 crontab` or the Quartz CronTrigger documentation.',
    status: 400,
    exitCode: 2,
    details: { expression: expr, field, value: text },
  });
}

/**
 * A parsed field: the allowed values, and whether it starts with `*` (`*`, `*\/2`), which the day
 * rules need: Vixie cron and Kubernetes (robfig/cron) both count such a field as unrestricted there.
 */
export interface ParsedField {
  values: number[];
  star: boolean;
}

export function parseField(expr: string, text: string, spec: FieldSpec): ParsedField {
  if (text === '*') return { values: range(spec.min, spec.max, 1), star: true };
  const allowed = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') throw cronError(expr, spec.name, text, 'has an empty list item');
    const [base, stepText, extra] = item.split('/');
    if (extra !== undefined || base === undefined) throw cronError(expr, spec.name, text, `has more than one "/" in "${item}"`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw cronError(expr, spec.name, text, `has step "${stepText}", which is not a positive whole number`);
      }
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (base === '*') {
      lo = spec.min;
      hi = spec.max;
    } else {
      const dash = base.indexOf('-', 1);
      if (dash === -1) {
        lo = value(expr, text, base, spec);
        // `5/15` means "from 5 to the end in steps of 15"; a bare `5` is just 5.
        hi = stepText === undefined ? lo : spec.max;
      } else {
        lo = value(expr, text, base.slice(0, dash), spec);
        hi = value(expr, text, base.slice(dash + 1), spec);
      }
    }
    if (lo <= hi) {
      for (const v of range(lo, hi, step)) allowed.add(v);
    } else if (spec.wrapRanges) {
      // A wrapping range keeps one step sequence across the wrap: 22-2/2 is 22, 0, 2.
      const span = spec.max - spec.min + 1;
      for (let i = 0; i <= hi - lo + span; i += step) allowed.add(((lo - spec.min + i) % span) + spec.min);
    } else {
      throw cronError(expr, spec.name, text, `has range "${base}" whose start is after its end`);
    }
  }
  return { values: [...allowed].sort((a, b) => a - b), star: text.startsWith('*') };
}

function value(expr: string, fieldText: string, token: string, spec: FieldSpec): number {
  const named = spec.names?.[token.toUpperCase()];
  if (named !== undefined) return named;
  if (!/^\d+$/.test(token)) {
    const names = spec.names ? ` or one of ${Object.keys(spec.names).join(', ')}` : '';
    throw cronError(expr, spec.name, fieldText, `has "${token}", which is not a number${names}`);
  }
  const n = Number(token);
  if (n < spec.min || n > spec.max) {
    throw cronError(expr, spec.name, fieldText, `has ${n}, outside ${spec.min}-${spec.max}`);
  }
  return n;
}

function range(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  for (let v = lo; v <= hi; v += step) out.push(v);
  return out;
}

export const MONTH_NAMES: Readonly<Record<string, number>> = {
  JAN: 1, FEB: 2, MAR: 3, APR: 4, MAY: 5, JUN: 6, JUL: 7, AUG: 8, SEP: 9, OCT: 10, NOV: 11, DEC: 12,
};
