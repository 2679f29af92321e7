/**
 * `astore backup-job --json` always answers with one JSON document on stdout: with
 * store.backup.suspend it printed nothing (the note went to stderr only), so a caller parsing the
 * output failed on an empty document instead of reading that the run was suspended.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../src/store/index.ts';
import { runAstore } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

const root = mkdtempSync(join(tmpdir(), 'astore-bkjob-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('astore backup-job with store.backup.suspend', () => {
  let db: TestDatabase;
  let home: string;
  before(async () => {
    db = await createTestDatabase('bkjobcli');
    home = mkdtempSync(join(root, 'home-'));
    process.env.ASTORE_HOME = home;
    const s = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
    await s.close();
  });
  after(async () => { await db.drop(); });

  it('--json says the run was suspended, and no backup is written', async () => {
    const dir = join(root, 'backups');
    const env = { ASTORE_HOME: home, DATABASE_URL: db.url, STORE_BACKUP_SUSPEND: 'true', STORE_BACKUP_DIR: dir };
    const r = await runAstore(['backup-job', '--json'], env);
    assert.equal(r.code, 0, r.output);
    const out = JSON.parse(r.stdout) as { status: string; file: unknown; error: unknown };
    assert.equal(out.status, 'suspended');
    assert.equal(out.file, null);
    assert.equal(out.error, null);
    assert.deepEqual(readdirSync(root).filter((n) => n === 'backups'), []);
    const text = await runAstore(['backup-job'], env);
    assert.equal(text.code, 0, text.output);
    assert.equal(text.stdout, '');
    assert.match(text.stderr, /store\.backup\.suspend is true/);
  });
});
