/**
 * `astore backups schedule`: the scheduled backup as an operator checks it (the seeds run
 * `oc get cronjobs` for the current schedule): next slots, the last scheduled run, runs under way,
 * and the one catch-up a scheduler starting now would run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { BACKUP_LOCK, defaultSettings, scheduleStatus } from '../../src/backup/index.ts';
import { nextCronTime } from '../../src/schedule/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

const dir = mkdtempSync(join(tmpdir(), 'astore-bksched-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('backups schedule', () => {
  let db: TestDatabase;
  let store: Store;
  let home: string;
  before(async () => {
    db = await createTestDatabase('bksched');
    home = mkdtempSync(join(dir, 'home-'));
    process.env.ASTORE_HOME = home;
    store = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
  });
  after(async () => { await store.close(); await db.drop(); });
  beforeEach(async () => { await store.pool.query('delete from backup_jobs'); });

  const now = new Date('2026-03-11T12:00:00');
  const settings = { ...defaultSettings({ ASTORE_HOME: dir }), schedule: '30 2 * * *' };
  const record = (slot: Date, status: string): Promise<unknown> => store.pool.query(
    `insert into backup_jobs (trigger, scheduled_for, started_at, status) values ('schedule', $1, $1, $2)`, [slot, status]);

  it('lists the next slots; with no history there is nothing to catch up', async () => {
    const st = await scheduleStatus(store.pool, settings, now);
    const first = nextCronTime('30 2 * * *', now);
    assert.deepEqual(st.next, [first, nextCronTime('30 2 * * *', first), nextCronTime('30 2 * * *', nextCronTime('30 2 * * *', first))]);
    assert.equal(st.next[0]!.getDate(), 12);
    assert.equal(st.lastSlot, undefined);
    assert.equal(st.catchUp, undefined);
    assert.equal(st.active, 0);
  });

  it('names the last scheduled run, the runs under way and the newest missed slot', async () => {
    await record(new Date('2026-03-08T02:30:00'), 'succeeded');
    await record(new Date('2026-03-09T02:30:00'), 'running');
    // Under way: a session (the run) holds the backup lock.
    const run = await store.pool.connect();
    let st;
    try {
      await run.query('select pg_advisory_lock($1)', [BACKUP_LOCK]);
      st = await scheduleStatus(store.pool, settings, now);
    } finally {
      await run.query('select pg_advisory_unlock($1)', [BACKUP_LOCK]);
      run.release();
    }
    assert.deepEqual(st.lastSlot, new Date('2026-03-09T02:30:00'));
    assert.equal(st.active, 1);
    // The 10th and 11th were missed: one catch-up, for the newest.
    assert.deepEqual(st.catchUp, { slot: new Date('2026-03-11T02:30:00'), withinDeadline: true });
    const strict = await scheduleStatus(store.pool, { ...settings, startingDeadlineSeconds: 3600 }, now);
    assert.equal(strict.catchUp?.withinDeadline, false);
  });

  it('a row left running by a process that died (nobody holds the backup lock) is no run under way', async () => {
    await record(new Date('2026-03-09T02:30:00'), 'running');
    const st = await scheduleStatus(store.pool, settings, now);
    assert.equal(st.active, 0);
  });

  it('suspended: no next runs and no catch-up', async () => {
    await record(new Date('2026-03-01T02:30:00'), 'succeeded');
    const st = await scheduleStatus(store.pool, { ...settings, suspend: true }, now);
    assert.deepEqual([st.next, st.catchUp, st.suspend], [[], undefined, true]);
  });

  it('the CLI prints it, as text and --json, from the same settings as backup-job', () => {
    const env = { ...process.env, ASTORE_HOME: home, DATABASE_URL: db.url, STORE_BACKUP_SCHEDULE: '15 4 * * 1' };
    const json = spawnSync(process.execPath, ['bin/astore', 'backups', 'schedule', '--json'], { env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(json.status, 0, json.stderr);
    const out = JSON.parse(json.stdout);
    assert.equal(out.schedule, '15 4 * * 1');
    assert.equal(out.suspend, false);
    assert.equal(out.next.length, 3);
    for (const n of out.next) {
      const d = new Date(n);
      assert.deepEqual([d.getDay(), d.getHours(), d.getMinutes()], [1, 4, 15]);
    }
    const text = spawnSync(process.execPath, ['bin/astore', 'backups', 'schedule'], { env: { ...env, STORE_BACKUP_SUSPEND: 'true' }, encoding: 'utf8', timeout: 30_000 });
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^schedule\s+15 4 \* \* 1 \(.+ time\)\s+SUSPENDED/m);
    assert.match(text.stdout, /^next runs\s+none while suspended/m);
    assert.match(text.stdout, /^last schedule\s+never/m);
  });
});
