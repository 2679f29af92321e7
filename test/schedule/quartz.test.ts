import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../src/errors/index.ts';
import { nextQuartzTime, parseQuartz } from '../../src/schedule/index.ts';

const utc = (s: string) => new Date(`${s}Z`);

test('Quartz: next fire times (UTC)', () => {
  const table: Array<[expr: string, after: string, next: string | undefined]> = [
    // The seeds' example: once, on 11 March 2024 at 19:40:00 UTC.
    ['0 40 19 11 3 ? 2024', '2024-01-01T00:00:00', '2024-03-11T19:40:00'],
    ['0 40 19 11 3 ? 2024', '2024-03-11T19:40:00', undefined],
    ['0 40 19 11 3 ? 2024', '2025-06-01T00:00:00', undefined],
    ['0 0 12 * * ?', '2024-03-11T12:00:00', '2024-03-12T12:00:00'],
    ['0 0 12 ? * *', '2024-03-11T11:59:59', '2024-03-11T12:00:00'],
    ['0/15 * * * * ?', '2024-03-11T10:00:14', '2024-03-11T10:00:15'],
    ['0/15 * * * * ?', '2024-03-11T10:00:45', '2024-03-11T10:01:00'],
    ['5-30/5 0 0 * * ?', '2024-03-11T00:00:30', '2024-03-12T00:00:05'],
    ['0 0/30 8-9 * * ?', '2024-03-11T09:30:00', '2024-03-12T08:00:00'],
    ['0 15 10 ? * MON-FRI', '2024-03-08T10:15:00', '2024-03-11T10:15:00'], // Fri -> Mon
    ['0 0 0 ? * 1', '2024-03-11T00:00:00', '2024-03-17T00:00:00'], // 1 = Sunday in Quartz
    ['0 0 0 ? * SAT,SUN', '2024-03-11T00:00:00', '2024-03-16T00:00:00'],
    ['0 0 0 ? * FRI-MON', '2024-03-12T00:00:00', '2024-03-15T00:00:00'], // wrapping range
    ['0 0 22-2 * * ?', '2024-03-11T02:00:00', '2024-03-11T22:00:00'], // wrapping hours
    ['0 0 0 L * ?', '2024-02-01T00:00:00', '2024-02-29T00:00:00'], // leap February
    ['0 0 0 L * ?', '2023-02-01T00:00:00', '2023-02-28T00:00:00'],
    ['0 0 0 L-2 * ?', '2024-04-01T00:00:00', '2024-04-28T00:00:00'],
    ['0 0 0 29 2 ?', '2024-03-01T00:00:00', '2028-02-29T00:00:00'],
    ['0 0 0 29 2 ? 2025-2027', '2024-03-01T00:00:00', undefined], // no leap year in range
    ['0 0 0 30 2 ?', '2024-01-01T00:00:00', undefined], // never
    ['0 0 0 15W * ?', '2024-06-01T00:00:00', '2024-06-14T00:00:00'], // 15 June 2024 is a Saturday
    ['0 0 0 15W * ?', '2024-09-01T00:00:00', '2024-09-16T00:00:00'], // 15 Sept 2024 is a Sunday
    ['0 0 0 1W * ?', '2024-06-01T00:00:00', '2024-06-03T00:00:00'], // Sat 1st -> Mon 3rd, not May
    ['0 0 0 LW * ?', '2024-08-01T00:00:00', '2024-08-30T00:00:00'], // 31 Aug 2024 is a Saturday
    ['0 0 0 ? * 6L', '2024-03-01T00:00:00', '2024-03-29T00:00:00'], // last Friday
    ['0 0 0 ? * 2#1', '2024-03-05T00:00:00', '2024-04-01T00:00:00'], // first Monday
    ['0 0 0 ? * MON#5', '2024-03-01T00:00:00', '2024-04-29T00:00:00'], // March 2024 has 4 Mondays
    ['0 0 0 1 JAN-MAR/2 ? 2030/2', '2024-01-01T00:00:00', '2030-01-01T00:00:00'],
    ['0 0 0 1 JAN-MAR/2 ? 2030/2', '2030-01-01T00:00:00', '2030-03-01T00:00:00'],
    ['0 0 0 1 JAN-MAR/2 ? 2030/2', '2030-03-01T00:00:00', '2032-01-01T00:00:00'],
    ['59 59 23 31 12 ? *', '2024-12-31T23:59:58', '2024-12-31T23:59:59'],
    ['59 59 23 31 12 ? *', '2024-12-31T23:59:59', '2025-12-31T23:59:59'],
  ];
  for (const [expr, after, next] of table) {
    assert.equal(nextQuartzTime(expr, utc(after))?.toISOString(), next && utc(next).toISOString(), `${expr} after ${after}`);
  }
});

test('Quartz: a parsed expression can be reused', () => {
  const q = parseQuartz('0 40 19 11 3 ? 2024');
  assert.deepEqual(q.years, [2024]);
  assert.deepEqual(q.day, { kind: 'daysOfMonth', days: [11] });
  assert.equal(nextQuartzTime(q, utc('2024-03-11T19:39:59'))?.toISOString(), '2024-03-11T19:40:00.000Z');
});

test('Quartz: invalid expressions name the field and the problem', () => {
  const cases: Array<[expr: string, message: RegExp]> = [
    ['0 40 19 11 3', /has 5 fields, expected 6 or 7/],
    ['0 0 0 1 1 ? 2024 x', /has 8 fields, expected 6 or 7/],
    ['60 0 0 * * ?', /seconds field "60" has 60, outside 0-59/],
    ['0 60 0 * * ?', /minutes field "60" has 60, outside 0-59/],
    ['0 0 24 * * ?', /hours field "24" has 24, outside 0-23/],
    ['0 0 0 32 * ?', /day-of-month field "32" has 32, outside 1-31/],
    ['0 0 0 ? 13 *', /month field "13" has 13, outside 1-12/],
    ['0 0 0 ? * 0', /day-of-week field "0" has 0, outside 1-7/],
    ['0 0 0 ? * 2#6', /day-of-week field "2#6" asks for occurrence #6, outside 1-5/],
    ['0 0 0 1 * MON', /day-of-week field "MON" is given together with day-of-month "1"/],
    // Quartz refuses both, though "*" in both would be unambiguous.
    ['0 0 12 * * *', /day-of-week field "\*" is given together with day-of-month "\*"; Quartz wants "\?" in one of them/],
    ['0 0 12 ? * ?', /day-of-week field "\?" is "\?" like day-of-month/],
    ['0 0 0 1 * ? 1969', /year field "1969" has 1969, outside 1970-2199/],
    ['0 0 0 1 * ? twenty', /year field "twenty" has "twenty", which is not a number/],
    ['0 0 0 L-40 * ?', /day-of-month field "L-40" has offset 40, outside 0-30/],
    ['0 0 0 5L * ?', /day-of-month field "5L" uses "L", "W" or "\?"/],
    ['0/x 0 0 * * ?', /seconds field "0\/x" has step "x"/],
  ];
  for (const [expr, message] of cases) {
    assert.throws(() => parseQuartz(expr), (err: unknown) => {
      assert.ok(isAppError(err), `${expr}: AppError`);
      assert.equal(err.code, 'CRON_INVALID');
      assert.match(err.message, message, expr);
      return true;
    });
  }
});
