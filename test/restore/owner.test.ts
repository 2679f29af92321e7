/**
 * A restore run as the superuser (postgres.yaml's su_username) into a store whose schema belongs
 * to a non-superuser application role: the restored schema and everything in it belong to that
 * role again, and the grants other roles had on it are kept, so the store running as the
 * application role reads and writes it as before.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createServer } from '../../src/api/index.ts';
import { createInstance, createToken } from '../../src/auth/index.ts';
import { restore } from '../../src/restore/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { ALGORITHM_VERSION } from '../../src/training/index.ts';
import { adminUrl, asRole, sqlAt as sql, withDatabase } from '../support/pg.ts';
import { pgDump, sdk, writeMapping, writeRc } from './helpers.ts';
import { cleanUp } from '../support/cleanup.ts';

describe('pgmig as the superuser into a store owned by the application role', () => {
  const suffix = randomBytes(4).toString('hex');
  const app = `app_${suffix}`;
  const reader = `reader_${suffix}`;
  const database = `own_${suffix}`;
  let admin: string;
  let dir: string;
  let store: Store;
  let server: FastifyInstance;
  let url: string;
  let appUrl: string;

  before(async () => {
    admin = await adminUrl();
    dir = mkdtempSync(join(tmpdir(), 'pgmig-owner-'));
    const home = join(dir, 'home');
    mkdirSync(home);
    process.env.ASTORE_HOME = home;
    await sql(admin, `create role ${app} login password 'app'`);
    await sql(admin, `create role ${reader} login password 'reader'`);
    await sql(admin, `create database ${database} owner ${app}`);
    appUrl = asRole(withDatabase(admin, database), app, 'app');
    store = await openStore({ env: { DATABASE_URL: appUrl }, migrate: true });
    server = createServer({ pool: store.pool, key: store.key, algorithmVersion: ALGORITHM_VERSION, release: store.release });
    url = await server.listen({ host: '127.0.0.1', port: 0 });
    // What an operator grants a reporting role, as the owner.
    await sql(appUrl, `grant usage on schema astore to ${reader}; grant select on astore.workspaces to ${reader};
      alter default privileges in schema astore grant select on tables to ${reader}`);
  });
  after(async () => {
    await cleanUp(() => server?.close(), () => store?.close()).catch(() => undefined);
    await sql(admin, `drop database if exists ${database} with (force)`).catch(() => undefined);
    await sql(admin, `drop role if exists ${reader}`).catch(() => undefined);
    await sql(admin, `drop role if exists ${app}`).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the restored schema, its tables and sequences belong to the application role; grants are kept', async () => {
    const i = await createInstance(store.pool, 'inst', 'alice');
    const t = await createToken(store.pool, 'alice');
    const api = sdk(`${url}/instances/${i.id}/api`, t.token);
    const ws = (await api.createWorkspace({ name: 'w', language: 'en', intents: [{ intent: 'greet', examples: [{ text: 'hello' }] }] })).result.workspace_id!;
    const file = join(dir, 'b.dump');
    pgDump(appUrl, file);

    await restore({
      source: file, resourceController: writeRc(dir, url, [t.token]), mapping: writeMapping(dir, { [i.id]: i.id }), force: true,
      interactive: false, cwd: dir, env: { DATABASE_URL: withDatabase(admin, database), ASTORE_HOME: process.env.ASTORE_HOME },
    });

    const owners = await sql(appUrl, `select 'schema' as kind, nspname as name, nspowner::regrole::text as owner from pg_namespace where nspname = 'astore'
      union all select c.relkind::text, c.relname, c.relowner::regrole::text from pg_class c where c.relnamespace = 'astore'::regnamespace
      order by 1, 2`);
    const foreign = owners.rows.filter((r) => r.owner !== app);
    assert.deepEqual(foreign, [], 'everything in the restored schema belongs to the application role');
    assert.ok(owners.rows.some((r) => r.kind === 'S'), 'sequences were checked too');

    // The store, running as the application role, reads and writes the restored data.
    assert.deepEqual((await api.listWorkspaces()).result.workspaces.map((w) => w.workspace_id), [ws]);
    await api.createIntent({ workspaceId: ws, intent: 'bye', examples: [{ text: 'goodbye' }] });

    const readerUrl = asRole(withDatabase(admin, database), reader, 'reader');
    assert.equal((await sql(readerUrl, 'select count(*)::int as n from astore.workspaces')).rows[0].n, 1, 'the reader keeps its table grant');
    await assert.rejects(sql(readerUrl, 'select count(*) from astore.intents'), /permission denied/, 'and gets nothing it was not granted');
    await sql(appUrl, 'create table astore.later (x int)');
    assert.equal((await sql(readerUrl, 'select count(*)::int as n from astore.later')).rows[0].n, 0, 'default privileges in the schema are kept');
    await sql(appUrl, 'drop table astore.later');
  });
});
