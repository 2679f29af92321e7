/**
 * pgmig's staging schemas (astore_restore_*) are never part of the store: both backup engines
 * leave them out, and a backup run drops the ones a killed pgmig left behind — only when no
 * restore holds the restore lock, and only schemas with exactly that prefix. And `backups list`
 * says "verified" only after --verify has checked the checksum.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { defaultSettings, pgDumpEngine, readStoreFacts, runBackupJob, takeBackup, type BackupSettings } from '../../src/backup/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

const root = mkdtempSync(join(tmpdir(), 'astore-staging-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** The restore lock key of src/restore/staging.ts, spelled out: the test must notice if it changes. */
const RESTORE_LOCK = 0x70_67_6d_69_67;
const STALE = 'astore_restore_0123456789ab';
/** Matches `astore_restore_%` as a LIKE pattern, but is not a staging schema. */
const LOOKALIKE = 'astoreXrestore_keep';

function toc(file: string): string {
  const r = spawnSync('pg_restore', ['-l', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('backups and pgmig staging schemas', () => {
  let db: TestDatabase;
  let store: Store;
  let settings: BackupSettings;
  const schemas = async (): Promise<string[]> =>
    (await store.pool.query<{ n: string }>(`select nspname as n from pg_namespace where nspname in ($1, $2) order by 1`, [STALE, LOOKALIKE])).rows.map((r) => r.n);

  before(async () => {
    db = await createTestDatabase('bkstaging');
    process.env.ASTORE_HOME = mkdtempSync(join(root, 'home-'));
    store = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
    for (const s of [STALE, LOOKALIKE]) {
      await store.pool.query(`create schema "${s}"; create table "${s}".workspaces as select g as id from generate_series(1, 1000) g`);
    }
    settings = { ...defaultSettings(), dir: join(root, 'backups') };
  });
  after(async () => { await store.close(); await db.drop(); });

  it('while a restore holds the lock: both engines leave the staging schema out, and it is not dropped', async () => {
    const restoring = new pg.Client({ connectionString: db.url });
    await restoring.connect();
    try {
      await restoring.query('select pg_advisory_lock($1)', [RESTORE_LOCK]);
      const r = await runBackupJob({ pool: store.pool, connection: store.connection, settings });
      assert.equal(r.status, 'succeeded', r.log);
      const out = join(root, 'pg_dump.dump');
      await takeBackup({ connection: store.connection, facts: await readStoreFacts(store.pool), output: out, engine: pgDumpEngine });
      for (const file of [r.file!, out]) {
        const list = toc(file);
        assert.doesNotMatch(list, new RegExp(STALE), file);
        assert.match(list, new RegExp(`TABLE DATA ${LOOKALIKE} workspaces`), `${file}: a schema merely like the prefix is backed up`);
        assert.match(list, /TABLE DATA astore workspaces/, file);
      }
      assert.deepEqual(await schemas(), [LOOKALIKE, STALE].sort(), 'nothing dropped while a restore runs');
    } finally {
      await restoring.end();
    }
  });

  it('with no restore running, the next backup run drops the stale staging schema and nothing else', async () => {
    const r = await runBackupJob({ pool: store.pool, connection: store.connection, settings });
    assert.equal(r.status, 'succeeded', r.log);
    assert.match(r.log, new RegExp(`dropped staging schema\\(s\\) of a killed restore: ${STALE}`));
    assert.deepEqual(await schemas(), [LOOKALIKE]);
  });

  it('backups list: "complete" after the size check, "verified" only with --verify', () => {
    const list = (args: string[]) => spawnSync('bin/astore', ['backups', 'list', '--dir', settings.dir, ...args], { encoding: 'utf8' });
    const plain = list([]);
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stdout, /\bcomplete\b/);
    assert.doesNotMatch(plain.stdout, /verified|\byes\b/);
    const verified = list(['--verify']);
    assert.match(verified.stdout, /\bverified\b/);
    const json = JSON.parse(list(['--json']).stdout) as Array<{ complete: boolean; verified: boolean }>;
    assert.ok(json.length > 0 && json.every((b) => b.complete && !b.verified));
    assert.ok((JSON.parse(list(['--json', '--verify']).stdout) as Array<{ verified: boolean }>).every((b) => b.verified));
  });
});
