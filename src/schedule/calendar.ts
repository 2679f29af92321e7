/**
 * Wall-clock arithmetic for the schedule search. Both cron flavours search calendar fields (year,
 * month, day, hour, minute, second) in one time zone and convert the first match to an instant;
 * only these two functions know whether that zone is UTC or the process's local zone.
 */
export type TimeZone = 'local' | 'UTC';

export interface WallTime {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export function wallTime(at: Date, zone: TimeZone): WallTime {
  return zone === 'UTC'
    ? { year: at.getUTCFullYear(), month: at.getUTCMonth() + 1, day: at.getUTCDate(), hour: at.getUTCHours(), minute: at.getUTCMinutes(), second: at.getUTCSeconds() }
    : { year: at.getFullYear(), month: at.getMonth() + 1, day: at.getDate(), hour: at.getHours(), minute: at.getMinutes(), second: at.getSeconds() };
}

/**
 * The instant of a wall time. A local time inside a daylight-saving gap does not exist; JavaScript
 * moves it forward by the gap, so a job scheduled in the skipped hour runs just after the change.
 */
export function instant(t: WallTime, zone: TimeZone): Date {
  return zone === 'UTC'
    ? new Date(Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second))
    : new Date(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 0 = Sunday ... 6 = Saturday; calendar dates have a weekday independent of any time zone. */
export function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}
