/**
 * A backup whose last step fails — the rename into place, or the completion marker written just
 * before it — leaves nothing behind under a temporary name: `astore backup -o` has no retention to
 * clean its directory, and a full-size hidden `.NAME.partial-…` file per failure fills the disk.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { storeDumpEngine, takeBackup, readStoreFacts } from '../../src/backup/index.ts';
import { AtomicFile } from '../../src/backup/atomic-file.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { runAstore } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

const root = mkdtempSync(join(tmpdir(), 'astore-atomic-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('AtomicFile', () => {
  it('a failing step before the rename removes the temporary file', async () => {
    const dir = mkdtempSync(join(root, 'unit-'));
    const f = new AtomicFile(join(dir, 'out'));
    writeFileSync(f.tempPath, 'data');
    await assert.rejects(f.commit(async () => { throw new Error('marker write failed'); }), /marker write failed/);
    await f.abort();
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a failing rename removes the temporary file', async () => {
    const dir = mkdtempSync(join(root, 'unit-'));
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'out', 'x'), 'a non-empty directory in the way');
    const f = new AtomicFile(join(dir, 'out'));
    writeFileSync(f.tempPath, 'data');
    await assert.rejects(f.commit());
    await f.abort();
    assert.deepEqual(readdirSync(dir), ['out']);
  });
});

describe('takeBackup and astore backup -o when the final step fails', () => {
  let db: TestDatabase;
  let store: Store;
  let home: string;
  before(async () => {
    db = await createTestDatabase('bkatomic');
    home = mkdtempSync(join(root, 'home-'));
    process.env.ASTORE_HOME = home;
    store = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
  });
  after(async () => { await store.close(); await db.drop(); });

  it('a beforeRename hook that fails leaves no partial file', async () => {
    const dir = mkdtempSync(join(root, 'hook-'));
    const facts = await readStoreFacts(store.pool);
    await assert.rejects(takeBackup({
      connection: store.connection, facts, output: join(dir, 'store.dump'), engine: storeDumpEngine,
      beforeRename: async () => { throw new Error('ENOSPC writing the sidecar'); },
    }), /ENOSPC/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('astore backup -o onto an existing directory is refused before dumping, and leaves no partial file', async () => {
    const dir = mkdtempSync(join(root, 'cli-'));
    mkdirSync(join(dir, 'taken'));
    writeFileSync(join(dir, 'taken', 'keep'), 'x');
    const r = await runAstore(['backup', '-o', join(dir, 'taken')], { ASTORE_HOME: home, DATABASE_URL: db.url });
    assert.equal(r.code, 2, r.output);
    assert.match(r.stderr, /error \[BACKUP_TARGET_INVALID\]: cannot write the backup to .*taken: it is a directory/);
    assert.match(r.stderr, /hint: give the backup file's own name \(-o .*taken\/store\.dump\)/);
    assert.deepEqual(readdirSync(dir), ['taken'], r.output);
    assert.deepEqual(readdirSync(join(dir, 'taken')), ['keep'], r.output);
  });
});
