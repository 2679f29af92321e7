/**
 * Standard 5-field cron (minute hour day-of-month month day-of-week), as Vixie cron and Kubernetes
 * CronJobs read it; `store.backup.schedule` uses it. Evaluated in the process's local time zone
 * unless asked for UTC, like a CronJob on a node.
 */
import { daysInMonth, weekday, type TimeZone } from './calendar.ts';
import { cronError, MONTH_NAMES, parseField } from './field.ts';
import { nextTime, type Schedule } from './search.ts';

const DAY_NAMES: Readonly<Record<string, number>> = { SUN: 0, MON: 1, TUE: 2, WED: 3, THU: 4, FRI: 5, SAT: 6 };

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export interface CronExpression {
  source: string;
  minutes: number[];
  hours: number[];
  daysOfMonth: number[];
  months: number[];
  /** 0 = Sunday ... 6 = Saturday (7 is folded into 0). */
  daysOfWeek: number[];
  /**
   * Vixie rule: when both day fields are restricted, a day matching either one fires; when either
   * starts with `*` (so `*\/2` too), a day must match both.
   */
  dayRule: 'both' | 'either';
}

export function parseCron(expr: string): CronExpression {
  const source = expr.trim();
  const fields = (MACROS[source.toLowerCase()] ?? source).split(/\s+/);
  if (fields.length !== 5) {
    throw cronError(expr, 'expression', source, `has ${source === '' ? 0 : fields.length} fields, expected 5`,
      'Write "minute hour day-of-month month day-of-week", e.g. "0 23 * * *" for every day at 23:00.');
  }
  const [min, hour, dom, month, dow] = fields as [string, string, string, string, string];
  const minutes = parseField(expr, min, { name: 'minute', min: 0, max: 59 });
  const hours = parseField(expr, hour, { name: 'hour', min: 0, max: 23 });
  const daysOfMonth = parseField(expr, dom, { name: 'day-of-month', min: 1, max: 31 });
  const months = parseField(expr, month, { name: 'month', min: 1, max: 12, names: MONTH_NAMES });
  const daysOfWeek = parseField(expr, dow, { name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES });
  const dayRule = daysOfMonth.star || daysOfWeek.star ? 'both' : 'either';
  if (dayRule === 'both') {
    // Refuse a schedule that can never fire ("0 0 30 2 *") rather than searching forever for it.
    const longest = Math.max(...months.values.map((m) => daysInMonth(2000, m)));
    if (daysOfMonth.values[0]! > longest) {
      throw cronError(expr, 'day-of-month', dom, `never occurs in month field "${month}" (at most ${longest} days)`);
    }
  }
  return {
    source,
    minutes: minutes.values,
    hours: hours.values,
    daysOfMonth: daysOfMonth.values,
    months: months.values,
    daysOfWeek: [...new Set(daysOfWeek.values.map((d) => d % 7))].sort((a, b) => a - b),
    dayRule,
  };
}

export interface NextCronOptions {
  /** 'local' (default): the process's time zone, as cron on a node; 'UTC' for fixed schedules. */
  timeZone?: TimeZone;
}

/** The first time strictly after `after` at which the expression fires. */
export function nextCronTime(expr: string | CronExpression, after: Date, options: NextCronOptions = {}): Date {
  const cron = typeof expr === 'string' ? parseCron(expr) : expr;
  const dom = new Set(cron.daysOfMonth);
  const dow = new Set(cron.daysOfWeek);
  const dayMatches: Schedule['dayMatches'] = cron.dayRule === 'both'
    ? (y: number, m: number, d: number) => dom.has(d) && dow.has(weekday(y, m, d))
    : (y: number, m: number, d: number) => dom.has(d) || dow.has(weekday(y, m, d));
  const schedule: Schedule = {
    years: undefined,
    // parseCron refuses impossible day/month pairs; a 29 February needs at most 8 years.
    lastYear: (options.timeZone === 'UTC' ? after.getUTCFullYear() : after.getFullYear()) + 9,
    months: cron.months,
    dayMatches,
    hours: cron.hours,
    minutes: cron.minutes,
    seconds: [0],
  };
  const next = nextTime(schedule, after, options.timeZone ?? 'local');
  if (!next) throw new Error(`unreachable: cron "${cron.source}" has no fire time within 9 years`);
  return next;
}
