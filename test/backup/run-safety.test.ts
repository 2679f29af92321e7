/**
 * A backup run never costs a good backup (found by the backup/restore chaos review):
 * - a failed run pruned anyway, so with lowered limits it removed the newest good backups and
 *   could leave only a damaged one;
 * - retention ordered backups by their names, local wall times, so a run in another time zone (or
 *   across a daylight-saving change) had its fresh backup removed as the oldest;
 * - a killed run's temporary file was removed only after the next backup, which it could leave
 *   without space; `astore backup -o` writing into the directory had its file removed under it;
 * - a name already taken (two runs in one second, an hour repeated by a daylight-saving change)
 *   was written over.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  applyRetention, backupName, defaultSettings, listBackups, storeDumpEngine, runBackupJob, type BackupSettings, type DumpEngine,
} from '../../src/backup/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

const root = mkdtempSync(join(tmpdir(), 'astore-runsafe-'));
after(() => rmSync(root, { recursive: true, force: true }));

const failingEngine: DumpEngine = async () => { throw new Error('simulated dump failure'); };
// 2026-06-01 is a Monday; no weekly backups, so every backup counts against keepDaily.
const day = (n: number): Date => new Date(2026, 5, 1 + n, 23, 0, 0);
const noWeekly = (dir: string, keepDaily: number): BackupSettings => ({ ...defaultSettings(), dir, keepDaily, keepWeekly: 0, weeklyBackupDay: 6 });
const good = async (dir: string): Promise<string[]> => (await listBackups(dir)).filter((e) => e.status === 'good').map((e) => e.name).sort();

describe('backup runs and retention', () => {
  let db: TestDatabase;
  let store: Store;
  before(async () => {
    db = await createTestDatabase('bksafe');
    process.env.ASTORE_HOME = mkdtempSync(join(root, 'home-'));
    store = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
  });
  after(async () => { await store.close(); await db.drop(); });
  const run = (settings: BackupSettings, n: number, engine?: DumpEngine) =>
    runBackupJob({ pool: store.pool, connection: store.connection, settings, slot: day(n), now: () => day(n), engine });

  it('a failed run removes no backup, whatever the limits now say', async () => {
    const dir = join(root, 'failed');
    for (const n of [0, 1, 2]) assert.equal((await run(noWeekly(dir, 5), n)).status, 'succeeded');
    const r = await run(noWeekly(dir, 1), 3, failingEngine);
    assert.equal(r.status, 'failed');
    assert.match(r.log, /retention skipped: the backup failed/);
    assert.deepEqual(await good(dir), [0, 1, 2].map((n) => backupName(day(n))));
  });

  it('retention goes by the instant each sidecar records, not by the name', async () => {
    const dir = join(root, 'order');
    for (const n of [10, 11]) assert.equal((await run(noWeekly(dir, 5), n)).status, 'succeeded');
    // The later backup under an earlier name, as a run with the clock of another time zone names it.
    const later = backupName(day(11));
    const earlierName = backupName(new Date(day(10).getTime() - 3600_000));
    renameSync(join(dir, later), join(dir, earlierName));
    const sidecar = JSON.parse(readFileSync(join(dir, later + '.done'), 'utf8')) as { name: string };
    writeFileSync(join(dir, earlierName + '.done'), JSON.stringify({ ...sidecar, name: earlierName }));
    rmSync(join(dir, later + '.done'));
    const listed = await listBackups(dir);
    assert.equal(listed[0]!.name, earlierName, 'newest first, by the recorded instant');
    const r = await applyRetention(dir, noWeekly(dir, 1));
    assert.deepEqual(r.kept, [earlierName]);
    assert.deepEqual(r.removed, [backupName(day(10))]);
  });

  it('a killed run\'s temporary file is gone before the backup is written; another writer\'s file is left alone', async () => {
    const dir = join(root, 'leftover');
    mkdirSync(dir, { recursive: true });
    const killed = `.${backupName(day(20))}.partial-99999-deadbeef`;
    const manual = '.store.dump_manual.partial-1-abcdef01';
    writeFileSync(join(dir, killed), Buffer.alloc(1000));
    writeFileSync(join(dir, manual), Buffer.alloc(1000));
    let seen: string[] = [];
    const looking: DumpEngine = async (req) => { seen = readdirSync(dir); return storeDumpEngine(req); };
    const r = await run(noWeekly(dir, 5), 21, looking);
    assert.equal(r.status, 'succeeded');
    assert.ok(!seen.includes(killed), `cleaned before the dump: ${seen.join(', ')}`);
    assert.deepEqual(r.retention?.cleaned, [killed], 'the run reports what it cleaned before the backup');
    assert.ok(readdirSync(dir).includes(manual), 'astore backup -o\'s temporary file stays');
  });

  it('a name already taken is neither written over nor removed; the run takes the next second\'s name', async () => {
    const dir = join(root, 'taken');
    mkdirSync(dir, { recursive: true });
    const name = backupName(day(30));
    writeFileSync(join(dir, name), 'an earlier backup under this name');
    // The clock moves on while the run waits for the next second.
    const moveAt = Date.now() + 300;
    const later = new Date(day(30).getTime() + 2000);
    const r = await runBackupJob({
      pool: store.pool, connection: store.connection, settings: noWeekly(dir, 5), slot: day(30), now: () => (Date.now() < moveAt ? day(30) : later),
    });
    assert.equal(r.status, 'succeeded', r.log);
    assert.match(r.log, /is taken; waiting for the next second's name/);
    assert.equal(readFileSync(join(dir, name), 'utf8'), 'an earlier backup under this name');
    assert.deepEqual(await good(dir), [backupName(later)]);
  });
});
