/**
 * The job history limits (store.backup.history.jobs.success / .failed) prune the job rows, but the
 * newest scheduled slot's row is also how the scheduler knows a slot was run (a second replica,
 * or a restart's catch-up, must not run it again). Pruning it with small limits — a limit of 0, or
 * manual `astore backup-job` runs pushing it out — made the same slot run twice, the second run
 * replacing the first's archive under the same name.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultSettings, listJobs, runBackupJob, startBackupScheduler, type BackupSettings, type RunResult } from '../../src/backup/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

const root = mkdtempSync(join(tmpdir(), 'astore-jobhist-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('job history limits and the scheduled slots', () => {
  let db: TestDatabase;
  let store: Store;
  before(async () => {
    db = await createTestDatabase('bkjobhist');
    process.env.ASTORE_HOME = mkdtempSync(join(root, 'home-'));
    store = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
  });
  after(async () => { await store.close(); await db.drop(); });

  it('with jobs.success 0 a slot already run is not run again', async () => {
    await store.pool.query('delete from backup_jobs');
    const settings: BackupSettings = { ...defaultSettings(), dir: join(root, 'zero'), jobsSuccess: 0, jobsFailed: 0 };
    const slot = new Date(2026, 8, 1, 23, 0, 0);
    const run = (at: Date) => runBackupJob({ pool: store.pool, connection: store.connection, settings, slot, now: () => at });
    assert.equal((await run(slot)).status, 'succeeded');
    assert.equal((await run(new Date(slot.getTime() + 5000))).status, 'skipped');
  });

  it('manual runs pushing the last scheduled run out of the history neither re-run its slot nor lose the catch-up', async () => {
    await store.pool.query('delete from backup_jobs');
    const settings: BackupSettings = { ...defaultSettings(), dir: join(root, 'manual'), jobsSuccess: 1 };
    const slot = new Date(2026, 8, 2, 23, 0, 0);
    const r = await runBackupJob({ pool: store.pool, connection: store.connection, settings, slot, now: () => slot });
    assert.equal(r.status, 'succeeded');
    const manual = new Date(2026, 8, 3, 10, 0, 0);
    assert.equal((await runBackupJob({ pool: store.pool, connection: store.connection, settings, now: () => manual })).status, 'succeeded');
    assert.equal((await runBackupJob({ pool: store.pool, connection: store.connection, settings, slot, now: () => manual })).status, 'skipped');

    // A restart two days later catches up the newest missed slot (Sep 4, 23:00), not nothing.
    const now = new Date(2026, 8, 5, 12, 0, 0);
    const runs: Array<[Date, RunResult | Error]> = [];
    const s = startBackupScheduler(store, { settings, now: () => now, onRun: (at, res) => runs.push([at, res]), log: () => {} });
    for (let i = 0; i < 100 && runs.length === 0; i++) await new Promise((res) => setTimeout(res, 50));
    await s.stop();
    assert.deepEqual(runs.map(([at]) => at), [new Date(2026, 8, 4, 23, 0, 0)]);
    assert.equal((runs[0]![1] as RunResult).status, 'succeeded');
    // The limits still hold for everything but the newest scheduled run.
    const jobs = await listJobs(store.pool);
    assert.equal(jobs.filter((j) => j.status === 'succeeded').length, 1);
  });
});
