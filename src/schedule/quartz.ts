/**
 * Quartz cron expressions, as the seeds' AUTO_RETRAIN_ALL_CRON_SCHEDULE uses them (always UTC):
 * seconds minutes hours day-of-month month day-of-week [year]. Beyond the common grammar:
 * `?` (no specific value), `L` / `L-n` / `nW` / `LW` in day-of-month, `nL` (last weekday n of the
 * month) and `n#k` (k-th weekday n) in day-of-week, where 1 = SUN ... 7 = SAT.
 */
import { daysInMonth, weekday } from './calendar.ts';
import { cronError, MONTH_NAMES, parseField, type ParsedField } from './field.ts';
import { nextTime } from './search.ts';

const DAY_NAMES: Readonly<Record<string, number>> = { SUN: 1, MON: 2, TUE: 3, WED: 4, THU: 5, FRI: 6, SAT: 7 };
const FIRST_YEAR = 1970;
const LAST_YEAR = 2199;

/** How a day is chosen; at most one of the two day fields restricts it (the other is `?`). */
export type QuartzDayRule =
  | { kind: 'any' }
  | { kind: 'daysOfMonth'; days: number[] }
  /** `L-n`: n days before the last day of the month (`L` is n = 0). */
  | { kind: 'lastDayOfMonth'; offset: number }
  /** `nW`: the weekday (Mon-Fri) nearest day n, without leaving the month; `LW` uses the last day. */
  | { kind: 'nearestWeekday'; day: number | 'L' }
  /** 0 = Sunday ... 6 = Saturday. */
  | { kind: 'daysOfWeek'; days: number[] }
  | { kind: 'lastWeekdayOfMonth'; dayOfWeek: number }
  | { kind: 'nthWeekdayOfMonth'; dayOfWeek: number; nth: number };

export interface QuartzExpression {
  source: string;
  seconds: number[];
  minutes: number[];
  hours: number[];
  months: number[];
  day: QuartzDayRule;
  /** undefined: every year. */
  years: number[] | undefined;
}

export function parseQuartz(expr: string): QuartzExpression {
  const source = expr.trim();
  const fields = source.split(/\s+/);
  if (fields.length !== 6 && fields.length !== 7) {
    throw cronError(expr, 'expression', source, `has ${source === '' ? 0 : fields.length} fields, expected 6 or 7`,
      'Write "seconds minutes hours day-of-month month day-of-week [year]", e.g. "0 40 19 11 3 ? 2024" (UTC).');
  }
  const [sec, min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string, string | undefined];
  // Quartz wants "?" in exactly one day field, even where "*" in both would mean the same; an
  // expression Quartz itself refuses is refused here too, so one schedule works in both.
  if (dom === '?' && dow === '?') {
    throw cronError(expr, 'day-of-week', dow, 'is "?" like day-of-month; "?" belongs in exactly one of them',
      'Put "*" in the other day field, e.g. "0 0 12 * * ?" for every day at 12:00.');
  }
  if (dom !== '?' && dow !== '?') {
    throw cronError(expr, 'day-of-week', dow, `is given together with day-of-month "${dom}"; Quartz wants "?" in one of them`,
      'Put "?" in the day field you do not restrict, e.g. "0 0 12 ? * MON", "0 0 12 1 * ?" or "0 0 12 * * ?".');
  }
  const domRule = parseDayOfMonth(expr, dom.toUpperCase());
  const dowRule = parseDayOfWeek(expr, dow.toUpperCase());
  const years = year === undefined || year === '*'
    ? undefined
    : parseField(expr, year, { name: 'year', min: FIRST_YEAR, max: LAST_YEAR }).values;
  return {
    source,
    seconds: parseField(expr, sec, { name: 'seconds', min: 0, max: 59, wrapRanges: true }).values,
    minutes: parseField(expr, min, { name: 'minutes', min: 0, max: 59, wrapRanges: true }).values,
    hours: parseField(expr, hour, { name: 'hours', min: 0, max: 23, wrapRanges: true }).values,
    months: parseField(expr, month, { name: 'month', min: 1, max: 12, names: MONTH_NAMES, wrapRanges: true }).values,
    day: domRule.kind === 'any' ? dowRule : domRule,
    years,
  };
}

function parseDayOfMonth(expr: string, text: string): QuartzDayRule {
  if (text === '?' || text === '*') return { kind: 'any' };
  if (text === 'L') return { kind: 'lastDayOfMonth', offset: 0 };
  if (text === 'LW') return { kind: 'nearestWeekday', day: 'L' };
  const lastMinus = /^L-(\d+)$/.exec(text);
  if (lastMinus) {
    const offset = Number(lastMinus[1]);
    if (offset > 30) throw cronError(expr, 'day-of-month', text, `has offset ${offset}, outside 0-30`);
    return { kind: 'lastDayOfMonth', offset };
  }
  const nearest = /^(\d+)W$/.exec(text);
  if (nearest) {
    const day = Number(nearest[1]);
    if (day < 1 || day > 31) throw cronError(expr, 'day-of-month', text, `has ${day}, outside 1-31`);
    return { kind: 'nearestWeekday', day };
  }
  if (/[LW#?]/.test(text)) {
    throw cronError(expr, 'day-of-month', text, 'uses "L", "W" or "?" in a form Quartz does not allow',
      'Use "?", "L", "L-3", "15W" or "LW" alone, or numbers, ranges, lists and steps.');
  }
  return { kind: 'daysOfMonth', days: parseField(expr, text, { name: 'day-of-month', min: 1, max: 31, wrapRanges: true }).values };
}

function parseDayOfWeek(expr: string, text: string): QuartzDayRule {
  if (text === '?' || text === '*') return { kind: 'any' };
  const dayNumber = (token: string): number => {
    const parsed: ParsedField = parseField(expr, token, { name: 'day-of-week', min: 1, max: 7, names: DAY_NAMES });
    return parsed.values[0]! - 1;
  };
  if (text === 'L') return { kind: 'daysOfWeek', days: [6] }; // a bare L here means Saturday
  const last = /^([A-Z0-9]+)L$/.exec(text);
  if (last) return { kind: 'lastWeekdayOfMonth', dayOfWeek: dayNumber(last[1]!) };
  const nth = /^([A-Z0-9]+)#(\d+)$/.exec(text);
  if (nth) {
    const k = Number(nth[2]);
    if (k < 1 || k > 5) throw cronError(expr, 'day-of-week', text, `asks for occurrence #${k}, outside 1-5`);
    return { kind: 'nthWeekdayOfMonth', dayOfWeek: dayNumber(nth[1]!), nth: k };
  }
  if (/[LW#?]/.test(text)) {
    throw cronError(expr, 'day-of-week', text, 'uses "L", "#" or "?" in a form Quartz does not allow',
      'Use "?", "6L" (last Friday), "2#1" (first Monday), or numbers 1-7 / SUN-SAT with ranges, lists and steps.');
  }
  const days = parseField(expr, text, { name: 'day-of-week', min: 1, max: 7, names: DAY_NAMES, wrapRanges: true }).values;
  return { kind: 'daysOfWeek', days: days.map((d) => d - 1) };
}

function dayMatcher(rule: QuartzDayRule): (year: number, month: number, day: number) => boolean {
  switch (rule.kind) {
    case 'any':
      return () => true;
    case 'daysOfMonth': {
      const days = new Set(rule.days);
      return (_y, _m, d) => days.has(d);
    }
    case 'lastDayOfMonth':
      return (y, m, d) => d === daysInMonth(y, m) - rule.offset;
    case 'nearestWeekday':
      return (y, m, d) => d === nearestWeekday(y, m, rule.day === 'L' ? daysInMonth(y, m) : rule.day);
    case 'daysOfWeek': {
      const days = new Set(rule.days);
      return (y, m, d) => days.has(weekday(y, m, d));
    }
    case 'lastWeekdayOfMonth':
      return (y, m, d) => weekday(y, m, d) === rule.dayOfWeek && d + 7 > daysInMonth(y, m);
    case 'nthWeekdayOfMonth':
      return (y, m, d) => weekday(y, m, d) === rule.dayOfWeek && Math.ceil(d / 7) === rule.nth;
  }
}

/** Quartz's `W`: Saturday moves to Friday and Sunday to Monday, but never into another month. */
function nearestWeekday(year: number, month: number, target: number): number | undefined {
  const last = daysInMonth(year, month);
  if (target > last) return undefined; // 31W does not fire in a 30-day month
  const wd = weekday(year, month, target);
  if (wd === 6) return target === 1 ? 3 : target - 1;
  if (wd === 0) return target === last ? target - 2 : target + 1;
  return target;
}

/**
 * The first time strictly after `after` (UTC) at which the expression fires, or undefined when it
 * never fires again (its years are past, or its day never occurs, like 30 February).
 */
export function nextQuartzTime(expr: string | QuartzExpression, after: Date): Date | undefined {
  const q = typeof expr === 'string' ? parseQuartz(expr) : expr;
  return nextTime({
    years: q.years,
    // Without a year field, any possible day recurs within 28 years (the weekday/leap-year cycle).
    lastYear: Math.min(LAST_YEAR, after.getUTCFullYear() + 28),
    months: q.months,
    dayMatches: dayMatcher(q.day),
    hours: q.hours,
    minutes: q.minutes,
    seconds: q.seconds,
  }, after, 'UTC');
}
