import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../src/errors/index.ts';
import { nextCronTime, parseCron } from '../../src/schedule/index.ts';

const utc = (s: string) => new Date(s.endsWith('Z') ? s : `${s}Z`);

test('5-field cron: next fire times in UTC', () => {
  const table: Array<[expr: string, after: string, next: string]> = [
    ['0 23 * * *', '2024-03-10T12:00:00', '2024-03-10T23:00:00'],
    ['0 23 * * *', '2024-03-10T23:00:00', '2024-03-11T23:00:00'], // strictly after
    ['0 23 * * *', '2024-12-31T23:30:00', '2025-01-01T23:00:00'],
    ['* * * * *', '2024-03-10T12:00:59.999', '2024-03-10T12:01:00'],
    ['*/15 * * * *', '2024-03-10T12:16:00', '2024-03-10T12:30:00'],
    ['5-20/5 9-17 * * *', '2024-03-10T17:20:00', '2024-03-11T09:05:00'],
    ['0 0,12 * * *', '2024-03-10T00:00:00', '2024-03-10T12:00:00'],
    ['30 2 * * MON-FRI', '2024-03-09T00:00:00', '2024-03-11T02:30:00'], // Sat -> Mon
    ['0 0 * * 0', '2024-03-10T00:00:00', '2024-03-17T00:00:00'], // Sunday as 0
    ['0 0 * * 7', '2024-03-10T00:00:00', '2024-03-17T00:00:00'], // Sunday as 7
    ['0 0 * * sun', '2024-03-11T00:00:00', '2024-03-17T00:00:00'],
    ['0 0 1 jan *', '2024-01-01T00:00:00', '2025-01-01T00:00:00'],
    ['0 0 29 2 *', '2024-03-01T00:00:00', '2028-02-29T00:00:00'], // next leap year
    ['0 0 31 * *', '2024-04-01T00:00:00', '2024-05-31T00:00:00'], // skips 30-day April
    // Vixie rule: both day fields restricted -> either matches (the 13th, or any Friday).
    ['0 0 13 * 5', '2024-09-01T00:00:00', '2024-09-06T00:00:00'],
    ['0 0 13 * 5', '2024-09-06T00:00:00', '2024-09-13T00:00:00'],
    ['0 0 13 * 5', '2024-09-13T00:00:00', '2024-09-20T00:00:00'],
    // Only one restricted -> only that one counts.
    ['0 0 13 * *', '2024-09-01T00:00:00', '2024-09-13T00:00:00'],
    // A field starting with "*" counts as unrestricted even with a step (Vixie, Kubernetes): a day
    // must match both fields. Before, these fired on either: 2 September (a Monday) for both.
    ['0 0 */2 * 1', '2024-09-01T00:00:00', '2024-09-09T00:00:00'], // a Monday on an odd day
    ['0 0 15 * */1', '2024-09-01T00:00:00', '2024-09-15T00:00:00'],
    ['0 0 * * 5', '2024-09-07T00:00:00', '2024-09-13T00:00:00'],
    ['@daily', '2024-09-07T10:00:00', '2024-09-08T00:00:00'],
    ['@hourly', '2024-09-07T10:00:00', '2024-09-07T11:00:00'],
  ];
  for (const [expr, after, next] of table) {
    assert.equal(nextCronTime(expr, utc(after), { timeZone: 'UTC' }).toISOString(), utc(next).toISOString(), `${expr} after ${after}`);
  }
});

test('5-field cron: defaults to the local time zone', () => {
  const after = new Date(2024, 5, 3, 22, 59, 0); // a local wall time
  assert.deepEqual(nextCronTime('0 23 * * *', after), new Date(2024, 5, 3, 23, 0, 0));
  assert.deepEqual(nextCronTime('0 23 * * *', new Date(2024, 5, 3, 23, 0, 0)), new Date(2024, 5, 4, 23, 0, 0));
});

test('5-field cron: local time across daylight-saving changes', () => {
  const saved = process.env.TZ;
  process.env.TZ = 'America/New_York';
  try {
    // 2024-03-10 02:30 does not exist in New York (clocks jump 02:00 -> 03:00): it runs at 03:30 EDT.
    assert.equal(nextCronTime('30 2 * * *', utc('2024-03-10T05:00:00')).toISOString(), '2024-03-10T07:30:00.000Z');
    // The daily 23:00 backup stays at 23:00 wall time on both sides of the change.
    assert.equal(nextCronTime('0 23 * * *', utc('2024-03-09T12:00:00')).toISOString(), '2024-03-10T04:00:00.000Z');
    assert.equal(nextCronTime('0 23 * * *', utc('2024-03-10T12:00:00')).toISOString(), '2024-03-11T03:00:00.000Z');
    // 01:30 happens twice on 2024-11-03; the job runs once, then next day.
    const first = nextCronTime('30 1 * * *', utc('2024-11-03T04:00:00'));
    assert.equal(first.toISOString(), '2024-11-03T05:30:00.000Z');
    assert.equal(nextCronTime('30 1 * * *', first).toISOString(), '2024-11-04T06:30:00.000Z');
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
});

test('5-field cron: parse normalises Sunday and keeps the day rule', () => {
  const c = parseCron('0 23 * * 0,7');
  assert.deepEqual(c.daysOfWeek, [0]);
  assert.equal(c.dayRule, 'both');
  assert.equal(parseCron('0 23 1 * 1').dayRule, 'either');
  assert.equal(parseCron('0 23 */2 * 1').dayRule, 'both', 'a field starting with * is unrestricted for the rule');
  assert.deepEqual(parseCron('0-10/5 * * * *').minutes, [0, 5, 10]);
});

test('5-field cron: invalid expressions name the field and the problem', () => {
  const cases: Array<[expr: string, message: RegExp]> = [
    ['0 23 * *', /has 4 fields, expected 5/],
    ['', /has 0 fields, expected 5/],
    ['0 0 0 * * *', /has 6 fields, expected 5/],
    ['60 * * * *', /minute field "60" has 60, outside 0-59/],
    ['0 24 * * *', /hour field "24" has 24, outside 0-23/],
    ['0 0 0 * *', /day-of-month field "0" has 0, outside 1-31/],
    ['0 0 * 13 *', /month field "13" has 13, outside 1-12/],
    ['0 0 * * 8', /day-of-week field "8" has 8, outside 0-7/],
    ['0 0 * FOO *', /month field "FOO" has "FOO", which is not a number or one of JAN/],
    ['*/0 * * * *', /minute field "\*\/0" has step "0"/],
    ['0 5-2 * * *', /hour field "5-2" has range "5-2" whose start is after its end/],
    ['0 0 1,,2 * *', /day-of-month field "1,,2" has an empty list item/],
    ['0 0 30 2 *', /day-of-month field "30" never occurs in month field "2"/],
    ['0 0 ? * *', /day-of-month field "\?" has "\?", which is not a number/],
  ];
  for (const [expr, message] of cases) {
    assert.throws(() => parseCron(expr), (err: unknown) => {
      assert.ok(isAppError(err), `${expr}: AppError`);
      assert.equal(err.code, 'CRON_INVALID');
      assert.match(err.message, message, expr);
      assert.ok(err.hint, `${expr}: has a hint`);
      return true;
    });
  }
});
