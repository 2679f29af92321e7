import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultSettings, latestSlotBetween, listJobs, startBackupScheduler, type RunResult } from '../../src/backup/index.ts';
import { parseCron } from '../../src/schedule/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

const root = mkdtempSync(join(tmpdir(), 'astore-sched-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('latestSlotBetween', () => {
  it('finds the newest slot of a long downtime without walking it', () => {
    const cron = parseCron('* * * * *');
    const now = new Date(2026, 2, 10, 12, 30, 20);
    assert.deepEqual(latestSlotBetween(cron, new Date(2025, 0, 1), now), new Date(2026, 2, 10, 12, 30, 0));
    const daily = parseCron('0 23 * * *');
    assert.deepEqual(latestSlotBetween(daily, new Date(2026, 2, 1, 23), now), new Date(2026, 2, 9, 23));
    assert.equal(latestSlotBetween(daily, new Date(2026, 2, 9, 23), now), undefined);
  });
});

describe('backup scheduler', () => {
  let db: TestDatabase;
  let store: Store;
  before(async () => {
    db = await createTestDatabase('bksched');
    process.env.ASTORE_HOME = mkdtempSync(join(root, 'home-'));
    store = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
  });
  after(async () => { await store.close(); await db.drop(); });

  async function seedLastSlot(slot: Date): Promise<void> {
    await store.pool.query(`delete from backup_jobs`);
    await store.pool.query(`insert into backup_jobs (trigger, scheduled_for, started_at, finished_at, status) values ('schedule', $1, $1, $1, 'succeeded')`, [slot]);
  }

  it('after ten missed days runs exactly one catch-up, for the newest missed slot', async () => {
    await seedLastSlot(new Date(2026, 2, 1, 23));
    const now = new Date(2026, 2, 11, 12, 0, 0);
    const runs: Array<[Date, RunResult | Error]> = [];
    const s = startBackupScheduler(store, { settings: { ...defaultSettings(), dir: join(root, 'b1') }, now: () => now, onRun: (slot, r) => runs.push([slot, r]), log: () => {} });
    for (const end = Date.now() + 20_000; runs.length < 1 && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(s.nextRun, new Date(2026, 2, 11, 23));
    await s.stop();
    assert.equal(runs.length, 1);
    assert.deepEqual(runs[0]![0], new Date(2026, 2, 10, 23));
    assert.equal((runs[0]![1] as RunResult).status, 'succeeded');
    const slots = (await listJobs(store.pool)).map((j) => j.scheduledFor?.getTime());
    assert.deepEqual(slots, [new Date(2026, 2, 10, 23).getTime(), new Date(2026, 2, 1, 23).getTime()]);
  });

  it('past the starting deadline the missed slot is skipped; suspended schedules never run', async () => {
    await seedLastSlot(new Date(2026, 2, 1, 23));
    const now = new Date(2026, 2, 11, 12, 0, 0);
    const runs: Date[] = [];
    const logs: string[] = [];
    const s = startBackupScheduler(store, {
      settings: { ...defaultSettings(), dir: join(root, 'b2'), startingDeadlineSeconds: 3600 },
      now: () => now, onRun: (slot) => runs.push(slot), log: (m, level) => logs.push(`${level} ${m}`),
    });
    await new Promise((r) => setTimeout(r, 300));
    await s.stop();
    assert.equal(runs.length, 0);
    assert.ok(logs.some((m) => /^warn .*past the starting deadline/.test(m)), logs.join('\n'));

    const t = startBackupScheduler(store, { settings: { ...defaultSettings(), suspend: true }, now: () => now, onRun: (slot) => runs.push(slot), log: () => {} });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(t.nextRun, undefined);
    await t.stop();
    assert.equal(runs.length, 0);
  });

  it('a failed slot is logged at error level, for monitoring that filters on it', async () => {
    await seedLastSlot(new Date(2026, 3, 1, 23));
    const now = new Date(2026, 3, 2, 23, 0, 30);
    const file = join(root, 'a-file');
    writeFileSync(file, '');
    const logs: string[] = [];
    const s = startBackupScheduler(store, { settings: { ...defaultSettings(), dir: join(file, 'backups') }, now: () => now, log: (m, level) => logs.push(`${level} ${m}`) });
    await new Promise((r) => setTimeout(r, 1000));
    await s.stop();
    assert.ok(logs.some((m) => /^error slot .* failed: cannot create backup directory/.test(m)), logs.join('\n'));
  });

  it('runs at the slot when its time comes', async () => {
    await seedLastSlot(new Date(2026, 2, 1, 23));
    let now = new Date(2026, 2, 11, 22, 59, 59, 500);
    const base = Date.now();
    const clock = (): Date => new Date(now.getTime() + (Date.now() - base));
    const runs: Date[] = [];
    // No deadline: the catch-up for Mar 10 runs first, then the Mar 11 23:00 slot half a second later.
    const s = startBackupScheduler(store, { settings: { ...defaultSettings(), dir: join(root, 'b3') }, now: clock, onRun: (slot) => runs.push(slot), log: () => {} });
    // Until both have run (on a busy machine a backup takes longer than the half second between
    // them), then a little more: a third run would be a defect.
    for (const end = Date.now() + 20_000; runs.length < 2 && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    await s.stop();
    assert.deepEqual(runs, [new Date(2026, 2, 10, 23), new Date(2026, 2, 11, 23)]);
    now = new Date(0);
  });
});
