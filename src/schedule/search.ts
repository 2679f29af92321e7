/**
 * Finds the first wall time, at or after the wall time of `after`, whose fields are all allowed,
 * and whose instant is strictly after `after`. Walking the fields from year down to second, and
 * skipping a whole month or day as soon as it cannot match, keeps this to a few hundred steps.
 */
import { daysInMonth, instant, wallTime, type TimeZone } from './calendar.ts';

export interface Schedule {
  /** Allowed years in ascending order; undefined means every year from now up to `lastYear`. */
  years: number[] | undefined;
  lastYear: number;
  months: number[];
  dayMatches(year: number, month: number, day: number): boolean;
  hours: number[];
  minutes: number[];
  seconds: number[];
}

export function nextTime(s: Schedule, after: Date, zone: TimeZone): Date | undefined {
  const start = wallTime(after, zone);
  const years = s.years ?? Array.from({ length: Math.max(0, s.lastYear - start.year + 1) }, (_, i) => start.year + i);
  for (const year of years) {
    if (year < start.year) continue;
    const yFirst = year === start.year;
    for (const month of s.months) {
      if (yFirst && month < start.month) continue;
      const mFirst = yFirst && month === start.month;
      const days = daysInMonth(year, month);
      for (let day = mFirst ? start.day : 1; day <= days; day++) {
        if (!s.dayMatches(year, month, day)) continue;
        const dFirst = mFirst && day === start.day;
        for (const hour of s.hours) {
          if (dFirst && hour < start.hour) continue;
          const hFirst = dFirst && hour === start.hour;
          for (const minute of s.minutes) {
            if (hFirst && minute < start.minute) continue;
            const minFirst = hFirst && minute === start.minute;
            for (const second of s.seconds) {
              if (minFirst && second < start.second) continue;
              const at = instant({ year, month, day, hour, minute, second }, zone);
              // Skips the wall time of `after` itself, and local times repeated when clocks go back.
              if (at.getTime() > after.getTime()) return at;
            }
          }
        }
      }
    }
  }
  return undefined;
}
