/**
 * Which database `astore backup` dumps. A database without the store's schema is refused instead
 * of giving an "OK" archive that restores nothing (before, a command run where no connection was
 * configured backed up a new, empty embedded server and exited 0), and ASTORE_POSTGRES names the
 * postgres.yaml in the environment, as the store's pods set it for commands run there by hand.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectionFromUrl, formatPostgresYaml } from '../../src/config/index.ts';
import { openStore } from '../../src/store/index.ts';
import { runAstore } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

const root = mkdtempSync(join(tmpdir(), 'astore-bktarget-'));
after(() => rmSync(root, { recursive: true, force: true }));

function postgresYaml(url: string, file: string): string {
  const c = connectionFromUrl(url, {});
  writeFileSync(file, formatPostgresYaml({ host: c.host, port: c.port, database: c.database, username: c.user, su_username: c.user, su_password: c.password }));
  return file;
}

describe('astore backup: which database', () => {
  let store: TestDatabase;
  let empty: TestDatabase;
  const env = (more: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ ASTORE_HOME: join(root, 'home'), DATABASE_URL: '', ASTORE_POSTGRES: '', ...more });
  before(async () => {
    store = await createTestDatabase('bktarget');
    empty = await createTestDatabase('bkempty');
    const s = await openStore({ env: { DATABASE_URL: store.url }, migrate: true });
    await s.close();
  });
  after(async () => { await store.drop(); await empty.drop(); });

  it('a database that holds no store is refused, and no file is written', async () => {
    const out = join(root, 'empty.dump');
    const r = await runAstore(['backup', '--instance', 'wa', '-o', out, '--json'], env({ DATABASE_URL: empty.url }));
    assert.equal(r.code, 2, r.output);
    assert.match(r.stderr, /error \[NOT_A_STORE\]: database \S+ on \S+ holds no Assistant Store \(no store schema\): a backup of it would restore nothing, so none was written/);
    // --json callers read the error from stdout.
    const error = (JSON.parse(r.stdout) as { error: { code: string; hint: string } }).error;
    assert.equal(error.code, 'NOT_A_STORE');
    assert.match(error.hint, /ASTORE_POSTGRES/);
    assert.equal(existsSync(out), false);
  });

  it('a store a newer release upgraded is refused as newer, not as no store, and backup-job does not say to migrate', async () => {
    const newer = await createTestDatabase('bknewer');
    try {
      const s = await openStore({ env: { DATABASE_URL: newer.url }, migrate: true });
      await s.pool.query(`insert into astore.schema_migrations (id, name, release) select max(id) + 1, 'from the future', '9.0.0' from astore.schema_migrations`);
      await s.close();
      const out = join(root, 'newer.dump');
      const r = await runAstore(['backup', '-o', out], env({ DATABASE_URL: newer.url }));
      assert.equal(r.code, 4, r.output);
      // Before: NOT_A_STORE "holds no Assistant Store (no store schema)".
      assert.match(r.stderr, /error \[SCHEMA_TOO_NEW\]: the store schema is at release 9\.0\.0, newer than this program/);
      assert.match(r.stderr, /hint: back it up with astore 9\.0\.0 or later/);
      assert.equal(existsSync(out), false);
      const job = await runAstore(['backup-job'], env({ DATABASE_URL: newer.url, STORE_BACKUP_DIR: join(root, 'newer-backups') }));
      assert.equal(job.code, 4, job.output);
      // Before: "at release (none) … run `astore migrate`", which would have failed too.
      assert.match(job.stderr, /the store schema is at release 9\.0\.0/);
      assert.match(job.stderr, /hint: the store was upgraded by a newer release \(9\.0\.0\): run that release of astore/);
    } finally {
      await newer.drop();
    }
  });

  it('ASTORE_POSTGRES names the postgres.yaml; with DATABASE_URL as well it is refused as unclear', async () => {
    const yaml = postgresYaml(store.url, join(root, 'postgres.yaml'));
    const out = join(root, 'store.dump');
    const r = await runAstore(['backup', '-o', out, '--json'], env({ ASTORE_POSTGRES: yaml }));
    assert.equal(r.code, 0, r.output);
    const summary = JSON.parse(r.stdout) as { schema_release: string | null; tables: number };
    assert.notEqual(summary.schema_release, null);
    assert.ok(summary.tables > 0);
    assert.ok(existsSync(out));

    const both = await runAstore(['backup', '-o', join(root, 'both.dump')], env({ ASTORE_POSTGRES: yaml, DATABASE_URL: empty.url }));
    assert.equal(both.code, 2, both.output);
    assert.match(both.stderr, /error \[CONFIG_INVALID\]: both ASTORE_POSTGRES and DATABASE_URL are set/);
    assert.equal(existsSync(join(root, 'both.dump')), false);
  });
});
