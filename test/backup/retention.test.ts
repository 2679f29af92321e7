import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  backupName, defaultSettings, listBackups, listJobs, storeDumpEngine, runBackupJob, type BackupSettings, type DumpEngine,
} from '../../src/backup/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

const root = mkdtempSync(join(tmpdir(), 'astore-ret-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Fails after some bytes are out: the temporary file exists and must never count. */
const failingEngine: DumpEngine = async ({ output }) => {
  writeFileSync(output as string, Buffer.alloc(4096, 7));
  throw new Error('simulated dump failure');
};
/** Finishes "successfully" with bytes that are not an archive: must be caught before the rename. */
const garbageEngine: DumpEngine = async ({ output }) => {
  writeFileSync(output as string, Buffer.from('PGDMP but not really'));
  return { tables: 0, rows: 0 };
};

/** The seeds' rule, written independently: newest N of the weekly day, newest M of the others. */
function expectedKept(successDays: Date[], s: BackupSettings): string[] {
  const desc = [...successDays].sort((a, b) => b.getTime() - a.getTime());
  const weekly = desc.filter((d) => d.getDay() === s.weeklyBackupDay).slice(0, s.keepWeekly);
  const daily = desc.filter((d) => d.getDay() !== s.weeklyBackupDay).slice(0, s.keepDaily);
  const keep = new Set([...weekly, ...daily, ...desc.slice(0, 1)]);
  return [...keep].map(backupName).sort();
}

describe('scheduled runs with retention over 70 simulated days', () => {
  let db: TestDatabase;
  let store: Store;
  before(async () => {
    db = await createTestDatabase('bkret');
    process.env.ASTORE_HOME = mkdtempSync(join(root, 'home-'));
    store = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
  });
  after(async () => { await store.close(); await db.drop(); });

  it('keeps exactly what the seven settings imply; failures and partial files never count', async () => {
    const settings: BackupSettings = { ...defaultSettings(), dir: join(root, 'backups') };
    const start = new Date(2026, 0, 1, 23, 0, 0);
    const successes: Date[] = [];
    const failures: Date[] = [];
    const foreign: string[] = [];
    for (let i = 0; i < 70; i++) {
      const slot = new Date(start.getFullYear(), start.getMonth(), start.getDate() + i, 23, 0, 0);
      const clock = new Date(slot.getTime() + 60_000);
      if (i % 11 === 7) {
        // A run killed earlier left its temporary file behind.
        writeFileSync(join(settings.dir, `.${backupName(slot)}.partial-99999-deadbeef`), Buffer.alloc(1000));
      }
      if (i === 20 || i === 33) {
        // A complete-looking name whose sidecar does not match (truncated copy), and one with none.
        const name = backupName(new Date(slot.getTime() - 3600_000));
        writeFileSync(join(settings.dir, name), Buffer.alloc(10));
        if (i === 20) writeFileSync(join(settings.dir, name + '.done'), JSON.stringify({ format: 'astore-backup/1', name, bytes: 99, sha256: 'x' }));
        foreign.push(name);
      }
      const engine = i % 5 === 2 ? failingEngine : i % 10 === 4 ? garbageEngine : storeDumpEngine;
      const r = await runBackupJob({ pool: store.pool, connection: store.connection, settings, slot, now: () => clock, engine });
      (engine === storeDumpEngine ? successes : failures).push(slot);
      assert.equal(r.status, engine === storeDumpEngine ? 'succeeded' : 'failed', r.log);

      const listed = await listBackups(settings.dir);
      const good = listed.filter((e) => e.status === 'good').map((e) => e.name).sort();
      assert.deepEqual(good, expectedKept(successes, settings), `after day ${i}`);
      assert.equal(listed.filter((e) => e.status === 'partial').length, 0, `no leftovers after day ${i}`);
      // Unknown or damaged files are neither counted nor deleted.
      for (const f of foreign) assert.ok(listed.some((e) => e.name === f && e.status !== 'good'), `${f} kept as not-good`);
    }
    assert.ok(successes.filter((d) => d.getDay() === 0).length > settings.keepWeekly);
    assert.ok(failures.length > settings.jobsFailed);

    const jobs = await listJobs(store.pool);
    const ok = jobs.filter((j) => j.status === 'succeeded');
    const bad = jobs.filter((j) => j.status === 'failed');
    assert.equal(ok.length, settings.jobsSuccess);
    assert.equal(bad.length, settings.jobsFailed);
    assert.deepEqual(ok.map((j) => j.scheduledFor!.getTime()), successes.slice(-settings.jobsSuccess).reverse().map((d) => d.getTime()));
    assert.deepEqual(bad.map((j) => j.scheduledFor!.getTime()), failures.slice(-settings.jobsFailed).reverse().map((d) => d.getTime()));
    assert.match(bad[0]!.log, /failed: /);
    // Only names the rule knows, their sidecars, and the two foreign files remain.
    const files = readdirSync(settings.dir).sort();
    const expectedFiles = [...expectedKept(successes, settings).flatMap((n) => [n, n + '.done']), ...foreign, foreign[0] + '.done'].sort();
    assert.deepEqual(files, expectedFiles);
  });

  it('limits of zero still keep the newest good backup, never a failed one', async () => {
    const settings: BackupSettings = { ...defaultSettings(), dir: join(root, 'zero'), keepDaily: 0, keepWeekly: 0 };
    const base = new Date(2026, 5, 1, 23, 0, 0);
    const day = (n: number): Date => new Date(base.getFullYear(), base.getMonth(), base.getDate() + n, 23, 0, 0);
    await runBackupJob({ pool: store.pool, connection: store.connection, settings, slot: day(0), now: () => day(0) });
    await runBackupJob({ pool: store.pool, connection: store.connection, settings, slot: day(1), now: () => day(1) });
    const r = await runBackupJob({ pool: store.pool, connection: store.connection, settings, slot: day(2), now: () => day(2), engine: failingEngine });
    assert.equal(r.status, 'failed');
    const good = (await listBackups(settings.dir)).filter((e) => e.status === 'good').map((e) => e.name);
    assert.deepEqual(good, [backupName(day(1))]);
  });

  it('a slot already run is not run again, and a second concurrent run is refused', async () => {
    const settings: BackupSettings = { ...defaultSettings(), dir: join(root, 'once') };
    const slot = new Date(2026, 7, 1, 23, 0, 0);
    assert.equal((await runBackupJob({ pool: store.pool, connection: store.connection, settings, slot, now: () => slot })).status, 'succeeded');
    assert.equal((await runBackupJob({ pool: store.pool, connection: store.connection, settings, slot, now: () => slot })).status, 'skipped');
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const slow: DumpEngine = async (req) => { await gate; return storeDumpEngine(req); };
    const first = runBackupJob({ pool: store.pool, connection: store.connection, settings, engine: slow });
    await new Promise((r) => setTimeout(r, 300));
    await assert.rejects(runBackupJob({ pool: store.pool, connection: store.connection, settings }), (e: Error & { code?: string }) => e.code === 'BACKUP_LOCKED');
    release();
    assert.equal((await first).status, 'succeeded');
  });
});
