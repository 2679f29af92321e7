/**
 * An archive that lacks some store data — tables dumped without their data
 * (`pg_dump --exclude-table-data`), or a current-release store_meta without the key fingerprint —
 * is refused before the target is touched: the swap replaces the whole store schema, so such an
 * archive would restore those tables empty and erase the target's rows, and without the
 * fingerprint the key check would pass any key. Data the restore does not take from the archive
 * (models, training and backup history, users and tokens) may be left out.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { encryptWebhooks, EncryptionKey } from '../../src/auth/index.ts';
import { restore, type RestoreOptions } from '../../src/restore/index.ts';
import { migrate } from '../../src/store/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { startTestStore, type TestStore } from '../support/store.ts';
import { checksum, pgDump, sdk, writeMapping, writeRc } from './helpers.ts';
import { cleanUp } from '../support/cleanup.ts';

describe('pgmig refuses an archive that lacks store data', () => {
  let dir: string;
  let s: TestStore;
  let noFingerprint: TestDatabase;
  let base: RestoreOptions;

  const dump = (file: string, ...args: string[]): string => {
    execFileSync('/usr/bin/pg_dump', ['-Fc', '-f', join(dir, file), '-d', s.db.url, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    return join(dir, file);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgmig-partial-'));
    mkdirSync(join(dir, 'home'));
    s = await startTestStore({ home: join(dir, 'home') });
    const t = await s.tenant('alice');
    await sdk(t.serviceUrl, t.token).createWorkspace({ name: 'w', language: 'en', intents: [{ intent: 'greet', examples: [{ text: 'hello' }] }] });
    // A store at the current release whose store_meta has no fingerprint row.
    noFingerprint = await createTestDatabase('nofp');
    const c = new pg.Client({ connectionString: noFingerprint.url });
    await c.connect();
    const key = EncryptionKey.generate();
    try {
      await migrate(c, { schema: 'astore', context: { encryptWebhooks: (w) => encryptWebhooks(w, key) } });
    } finally {
      await c.end();
    }
    base = {
      source: '', resourceController: writeRc(dir, s.url, [t.token]), mapping: writeMapping(dir, { [t.instanceId]: t.instanceId }),
      force: true, interactive: false, cwd: dir, env: { DATABASE_URL: s.db.url, ASTORE_HOME: s.home },
    };
  });
  after(() => cleanUp(() => s?.close(), () => noFingerprint?.drop(), () => rmSync(dir, { recursive: true, force: true })));

  test('tables without data, or no fingerprint: ARCHIVE_INCOMPLETE naming what is missing, the target untouched', async () => {
    const without = join(dir, 'nofp.dump');
    pgDump(noFingerprint.url, without);
    const cases: Array<[string, string, RegExp]> = [
      ['intents and examples left out', dump('no-intents.dump', '--exclude-table-data=astore.intents', '--exclude-table-data=astore.examples'),
        /astore\.examples, astore\.intents|astore\.intents, astore\.examples/],
      ['store_meta left out', dump('no-meta.dump', '--exclude-table-data=astore.store_meta'), /astore\.store_meta/],
      // Not loaded either, but the instance mapping is made from it.
      ['instances left out', dump('no-instances.dump', '--exclude-table-data=astore.instances'), /astore\.instances/],
      ['only some tables dumped', dump('some.dump', ...['schema_migrations', 'store_meta', 'instances', 'workspaces'].flatMap((t) => ['-t', `astore.${t}`])),
        /astore\.examples, .*astore\.intents/],
      ['no fingerprint in store_meta', without, /fingerprint/],
    ];
    const before = await checksum(s.db.url);
    assert.ok(Number(before.intents!.split(':')[0]) > 0, 'the target has intents to lose');
    for (const [what, source, message] of cases) {
      for (const verifyFirst of [false, true]) {
        await assert.rejects(restore({ ...base, source, verifyFirst }), (err: { code?: string; message?: string; hint?: string }) => {
          assert.equal(err.code, 'ARCHIVE_INCOMPLETE', `${what}: got ${err.code} ${err.message}`);
          assert.match(err.message!, message, what);
          assert.match(err.hint ?? '', /astore backup/, `${what}: the hint says how to get a full backup`);
          return true;
        });
        assert.deepEqual(await checksum(s.db.url), before, `${what}: target untouched`);
      }
    }
    const left = await s.store.pool.query(`select count(*)::int as n from pg_namespace where nspname like 'astore_restore_%'`);
    assert.equal(left.rows[0].n, 0, 'no staging schema left behind');
  });

  test('the full archive of the same store restores', async () => {
    const r = await restore({ ...base, source: dump('full.dump') });
    assert.equal(r.workspaces, 1);
    const n = await s.store.pool.query(`select (select count(*) from astore.intents)::int as i, (select count(*) from astore.examples)::int as e`);
    assert.deepEqual(n.rows[0], { i: 1, e: 1 });
  });

  test('an archive without the data of tables the restore does not take from it restores', async () => {
    const notRead = ['models', 'training_failures', 'training_jobs', 'backup_jobs', 'users', 'tokens'];
    const cases: Array<[string, string]> = [
      ['models left out', dump('no-models.dump', '--exclude-table-data=astore.models')],
      ['every table not read from the archive left out', dump('not-read.dump', ...notRead.map((t) => `--exclude-table-data=astore.${t}`))],
    ];
    for (const [what, source] of cases) {
      for (const verifyFirst of [false, true]) {
        const r = await restore({ ...base, source, verifyFirst });
        assert.equal(r.workspaces, 1, what);
        const n = await s.store.pool.query(`select (select count(*) from astore.intents)::int as i, (select count(*) from astore.examples)::int as e`);
        assert.deepEqual(n.rows[0], { i: 1, e: 1 }, what);
      }
    }
  });
});
