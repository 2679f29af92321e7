/**
 * The backup schedule as a CronJob's `schedule`. Kubernetes parses it with robfig/cron's
 * ParseStandard, which is stricter than the store's parser (and serve's own scheduler, which reads
 * the same setting): day-of-week 0-6 only, where Vixie cron also reads 7 as Sunday, and
 * descriptors (`@daily`) in lower case only. Copied as it is, such a schedule made `kubectl apply`
 * refuse the CronJob, and no backup ran.
 */
import { parseCron } from '../schedule/index.ts';

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const dayNumber = (token: string): number => (/^\d+$/.test(token) ? Number(token) : DAY_NAMES.indexOf(token.toLowerCase()));

/**
 * Whether one item of a day-of-week list includes 7: written out (`7`, `5-7`) or reached by a step
 * that runs to the store's maximum, 7 (`1/3`), where Kubernetes' runs only to 6.
 */
function reachesSeven(item: string): boolean {
  const [base = '', stepText] = item.split('/');
  // `*` and `*\/N` select the same days over 0-7 (7 folded into 0) as over Kubernetes' 0-6, and must
  // stay as written: a field starting with `*` is unrestricted for the day-matching rule.
  if (base === '*') return false;
  const step = stepText === undefined ? 1 : Number(stepText);
  const [from = '', to] = base.split('-');
  const lo = dayNumber(from);
  const hi = to !== undefined ? dayNumber(to) : stepText === undefined ? lo : 7;
  return hi === 7 && (7 - lo) % step === 0;
}

/** `schedule`, already accepted by `parseCron`, as an equivalent expression Kubernetes accepts. */
export function cronJobSchedule(schedule: string): string {
  const source = schedule.trim();
  if (source.startsWith('@')) return source.toLowerCase();
  const fields = source.split(/\s+/);
  const dow = fields[4]!;
  if (dow === '*' || !dow.split(',').some(reachesSeven)) return schedule;
  // The parsed days, 7 folded into 0, as a list: still a restricted field, so a schedule that also
  // restricts the day of the month keeps matching a day that matches either field.
  return [...fields.slice(0, 4), parseCron(source).daysOfWeek.join(',')].join(' ');
}
