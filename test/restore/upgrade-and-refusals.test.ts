/**
 * Archives taken at schema releases 1.1.0 and 1.0.0 (plaintext webhook secrets; 1.0 → 1.2 skips a
 * release line, as the seeds' table allows) restore into the current release with their data
 * upgraded; and every refusal — wrong key, truncated archive, an archive of a release this store
 * does not know, instance-count mismatch, bad mappings, no terminal, wrong password — is a clear
 * error that leaves the target exactly as it was.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { EncryptionKey, encryptWebhooks, formatSecretYaml, instanceCrn, readSecretFile, SECRET_FILE_NAME } from '../../src/auth/index.ts';
import { restore, type RestoreOptions } from '../../src/restore/index.ts';
import { CURRENT_RELEASE, MIGRATIONS, migrate, recordFingerprint } from '../../src/store/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { startTestStore, type TestStore } from '../support/store.ts';
import { checksum, pgDump, sdk, writeMapping, writeRc } from './helpers.ts';
import { cleanUp } from '../support/cleanup.ts';

const HOOK = [{ url: 'https://hooks.example.test/x', name: 'main_webhook', headers: [{ name: 'Authorization', value: 'Basic b2xkOnNlY3JldA==' }] }];

/** A store database built at an old release directly with the migrations, filled with SQL, dumped with pg_dump. */
async function oldArchive(release: string, key: EncryptionKey, file: string, finish?: (c: pg.Client) => Promise<unknown>): Promise<{ db: TestDatabase; instances: string[]; workspace: string }> {
  const db = await createTestDatabase('old');
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  const instances = [randomUUID(), randomUUID()];
  const workspace = randomUUID();
  try {
    await migrate(c, { schema: 'astore', untilRelease: release, context: { encryptWebhooks: (w) => encryptWebhooks(w, key) } });
    const user = randomUUID();
    await c.query(`insert into astore.users (id, name) values ($1, 'olduser')`, [user]);
    for (const id of instances) {
      await c.query(`insert into astore.instances (id, name, owner_id, crn) values ($1, $2, $3, $4)`, [id, `old-${id.slice(0, 4)}`, user, instanceCrn(id)]);
    }
    await c.query(`insert into astore.workspaces (id, instance_id, name, language, metadata, webhooks) values ($1, $2, 'old skill', 'en', $3, $4)`,
      [workspace, instances[0], JSON.stringify({ owner_instance: instances[0] }), JSON.stringify(HOOK)]);
    const intent = await c.query(`insert into astore.intents (workspace_id, intent) values ($1, 'greet') returning id`, [workspace]);
    await c.query(`insert into astore.examples (intent_id, text) values ($1, 'hello'), ($1, 'hi there')`, [intent.rows[0].id]);
    await recordFingerprint(c, 'astore', key);
    await finish?.(c);
  } finally {
    await c.end();
  }
  pgDump(db.url, file);
  return { db, instances, workspace };
}

describe('pgmig: upgrades from 1.1.0 and 1.0.0, and refusals that leave the target untouched', () => {
  let dir: string;
  let home: string;
  let b: TestStore;
  let key: EncryptionKey;
  let old: Awaited<ReturnType<typeof oldArchive>>;
  let ancient: Awaited<ReturnType<typeof oldArchive>>;
  let future: Awaited<ReturnType<typeof oldArchive>>;
  const t: Array<{ instanceId: string; token: string; serviceUrl: string }> = [];
  let base: RestoreOptions;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgmig-up-'));
    home = join(dir, 'home');
    mkdirSync(home);
    b = await startTestStore({ home });
    key = readSecretFile(join(home, SECRET_FILE_NAME))!;
    t.push(await b.tenant('uma'), await b.tenant('victor'));
    old = await oldArchive('1.1.0', key, join(dir, 'old.dump'));
    ancient = await oldArchive('1.0.0', key, join(dir, 'ancient.dump'));
    // Written by a later release: its newest migration is one this store has never heard of.
    future = await oldArchive(CURRENT_RELEASE, key, join(dir, 'future.dump'),
      (c) => c.query(`insert into astore.schema_migrations (id, name, release) values (999, 'from_the_future', '9.0.0')`));
    base = {
      source: join(dir, 'old.dump'), resourceController: writeRc(dir, b.url, t.map((x) => x.token)),
      mapping: writeMapping(dir, { [old.instances[0]!]: t[1]!.instanceId, [old.instances[1]!]: t[0]!.instanceId }),
      interactive: false, cwd: dir, env: { DATABASE_URL: b.db.url, ASTORE_HOME: home },
    };
  });
  after(() => cleanUp(() => b?.close(), () => old?.db.drop(), () => ancient?.db.drop(), () => future?.db.drop(), () => rmSync(dir, { recursive: true, force: true })));

  test('every refusal is a clear error and the target stays exactly as it was', async () => {
    const before = await checksum(b.db.url);
    const otherKey = join(dir, 'other-key.yaml');
    writeFileSync(otherKey, formatSecretYaml(EncryptionKey.generate()));
    const truncated = join(dir, 'truncated.dump');
    const bytes = readFileSync(join(dir, 'old.dump'));
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.8)));
    const wrongPassword = join(dir, 'postgres.yaml');
    const u = new URL(b.db.url);
    writeFileSync(wrongPassword, stringify({ host: u.hostname, port: Number(u.port), database: b.db.name, username: u.username, su_username: u.username, su_password: 'not-the-password' }));
    const oneTokenDir = join(dir, 'one-token');
    mkdirSync(oneTokenDir);
    const cases: Array<[string, Partial<RestoreOptions>, RegExp, RegExp?]> = [
      ['KEY_MISMATCH', { env: { ...base.env, ASTORE_ENCRYPTION_SECRET: otherKey } }, /encryption key/, /secret apply -f auth-encryption-secret\.yaml.*leaving the target's astore serve running/],
      ['ARCHIVE_TRUNCATED', { source: truncated }, /archive|offset/, /intact/],
      ['UPGRADE_PATH_UNSUPPORTED', { source: join(dir, 'future.dump') }, /migration 999.*does not know/, /release that made the backup, or a newer one/],
      ['INSTANCE_COUNT_MISMATCH', { resourceController: writeRc(oneTokenDir, b.url, [t[0]!.token]) }, /2 instance\(s\).*1/, /one target instance/],
      ['MAPPING_DUPLICATE_TARGET', { mapping: writeMapping(dir, { [old.instances[0]!]: t[0]!.instanceId, [old.instances[1]!]: t[0]!.instanceId }, 'dup.yaml') }, /both map/],
      ['MAPPING_UNKNOWN_TARGET', { mapping: writeMapping(dir, { [old.instances[0]!]: randomUUID(), [old.instances[1]!]: t[0]!.instanceId }, 'unknown.yaml') }, /not an instance of the target/],
      ['MAPPING_INCOMPLETE', { mapping: writeMapping(dir, { [old.instances[0]!]: t[0]!.instanceId }, 'partial.yaml') }, /no target for/],
      ['MAPPING_NEEDS_TTY', { mapping: undefined }, /no terminal/, /-m FILE/],
      ['PG_AUTH', { target: wrongPassword }, /authentication failed/, /su_password/],
    ];
    for (const [code, patch, message, hint] of cases) {
      await assert.rejects(restore({ ...base, ...patch }), (err: { code?: string; message?: string; hint?: string }) => {
        assert.equal(err.code, code, `${code}: got ${err.code} ${err.message}`);
        assert.match(err.message!, message, code);
        if (hint) assert.match(err.hint ?? '', hint, `${code} hint`);
        return true;
      });
      assert.deepEqual(await checksum(b.db.url), before, `${code}: target untouched`);
    }
  });

  test('objects of the operator that depend on the store schema are refused, before the load and at the swap, and survive', async () => {
    const c = new pg.Client({ connectionString: b.db.url });
    await c.connect();
    const dependents = `create view reporting.ws_names as select id, name from astore.workspaces;
      create table reporting.audit (ws uuid references astore.workspaces (id), note text);
      create function reporting.label(w astore.workspaces) returns text language sql as 'select w.name'`;
    try {
      await c.query(`create schema reporting; ${dependents}`);
      const before = await checksum(b.db.url);
      await assert.rejects(restore(base), (err: { code?: string; message?: string; hint?: string }) => {
        assert.equal(err.code, 'TARGET_HAS_DEPENDENTS', `${err.code} ${err.message}`);
        assert.match(err.message!, /view reporting\.ws_names/);
        assert.match(err.message!, /constraint audit_ws_fkey on table reporting\.audit/);
        assert.match(err.message!, /function reporting\.label\(/);
        assert.match(err.hint ?? '', /nothing was changed/);
        return true;
      });
      assert.deepEqual(await checksum(b.db.url), before, 'target untouched');

      // Created while the archive loads: the swap itself refuses, in its transaction.
      await c.query('drop schema reporting cascade; create schema reporting');
      await assert.rejects(restore({ ...base, beforeSwap: async () => { await c.query(dependents); } }),
        (err: { code?: string; message?: string }) => err.code === 'TARGET_HAS_DEPENDENTS' && /reporting\.ws_names/.test(err.message!));
      assert.deepEqual(await checksum(b.db.url), before, 'target untouched after a refused swap');
      const left = await c.query(`select count(*)::int as n from pg_views where schemaname = 'reporting'`);
      assert.equal(left.rows[0].n, 1, "the operator's view is still there");
    } finally {
      await c.query('drop schema if exists reporting cascade');
      await c.end();
    }
  });

  test('a 1.1.0 archive restores into the current release: webhook secrets encrypted, the workspace moved, its JSON as written', async () => {
    writeRc(dir, b.url, t.map((x) => x.token));
    const s = await restore(base);
    assert.equal(s.release.backup, '1.1.0');
    const stored = await b.store.pool.query(`select webhooks, metadata, instance_id from astore.workspaces where id = $1`, [old.workspace]);
    const row = stored.rows[0];
    assert.equal(row.instance_id, t[1]!.instanceId);
    assert.deepEqual(row.metadata, { owner_instance: old.instances[0] }, "the client's metadata comes back as written, ids in it included");
    assert.ok(EncryptionKey.isEncrypted(row.webhooks[0].headers[0].value), 'the header is encrypted at rest after the upgrade');
    const got = (await sdk(t[1]!.serviceUrl, t[1]!.token).getWorkspace({ workspaceId: old.workspace, _export: true })).result;
    assert.deepEqual(got.webhooks, HOOK, 'and decrypts to the original value');
    assert.deepEqual(got.intents?.[0]?.examples?.map((e) => e.text).sort(), ['hello', 'hi there']);
  });

  test('a 1.0.0 archive restores into the current release too, skipping the 1.1 line', async () => {
    const s = await restore({
      ...base, source: join(dir, 'ancient.dump'), force: true,
      mapping: writeMapping(dir, { [ancient.instances[0]!]: t[0]!.instanceId, [ancient.instances[1]!]: t[1]!.instanceId }, 'ancient.yaml'),
    });
    assert.equal(s.release.backup, '1.0.0');
    const stored = await b.store.pool.query(`select webhooks, instance_id from astore.workspaces where id = $1`, [ancient.workspace]);
    assert.equal(stored.rows[0].instance_id, t[0]!.instanceId);
    assert.ok(EncryptionKey.isEncrypted(stored.rows[0].webhooks[0].headers[0].value), 'the 1.2 migration encrypted the header');
    const got = (await sdk(t[0]!.serviceUrl, t[0]!.token).getWorkspace({ workspaceId: ancient.workspace, _export: true })).result;
    assert.deepEqual(got.webhooks, HOOK);
    assert.deepEqual(got.intents?.[0]?.examples?.map((e) => e.text).sort(), ['hello', 'hi there']);
    const applied = await b.store.pool.query(`select count(*)::int as n from astore.schema_migrations`);
    assert.equal(applied.rows[0].n, MIGRATIONS.length, 'every migration since 1.0.0 was applied');
  });
});
