/**
 * A retrain-all schedule with no fire time to come (the seeds' one-off example date, long past)
 * schedules nothing and says what to do instead of failing silently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { scheduleRetrainAll } from '../../src/service/auto-retrain.ts';
import { retrainOptionsFromEnv } from '../../src/training/index.ts';

test('a past one-off schedule logs that nothing is scheduled, and how to retrain or schedule', () => {
  const lines: string[] = [];
  // Never used: nothing is scheduled, so no run touches the database.
  const pool = new pg.Pool({ connectionString: 'postgres://unused@127.0.0.1:1/none' });
  const s = scheduleRetrainAll(pool, '0 40 19 11 3 ? 2024', retrainOptionsFromEnv({}), (l) => lines.push(l), () => new Date('2026-11-22T00:00:00Z'));
  s.stop();
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^\[RETRAIN-ALL\] AUTO_RETRAIN_ALL_CRON_SCHEDULE "0 40 19 11 3 \? 2024" fires at no time after 2026-11-22T00:00:00.000Z, so auto-retrain-all is not scheduled/);
  assert.match(lines[0]!, /astore retrain-all/);
  assert.match(lines[0]!, /0 0 3 \* \* \?/);
  void pool.end();
});

test('a schedule to come logs its next run', () => {
  const lines: string[] = [];
  const pool = new pg.Pool({ connectionString: 'postgres://unused@127.0.0.1:1/none' });
  const s = scheduleRetrainAll(pool, '0 0 3 * * ?', retrainOptionsFromEnv({}), (l) => lines.push(l), () => new Date('2026-11-22T00:00:00Z'));
  s.stop();
  assert.deepEqual(lines, ['[RETRAIN-ALL] next auto-retrain-all run at 2026-11-22T03:00:00.000Z']);
  void pool.end();
});
