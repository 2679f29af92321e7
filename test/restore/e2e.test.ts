/**
 * Two stores on the test server: A is filled through the API, backed up with stock pg_dump -Fc
 * and with `astore backup`, and each archive is restored into B with a mapping file. Every
 * workspace export must come back identical through B's API, under the mapped instance, with its id; B's tokens see exactly their instances;
 * writes are refused with 503 while the restore runs and accepted afterwards.
 */
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { LogWriter, uuid7 } from '../../src/logs/index.ts';
import { maintenanceMessage, restore, type RestoreSummary } from '../../src/restore/index.ts';
import { normaliseSkill, ownSkills, sharedSkills, type Skill } from '../support/skills.ts';
import { startTestStore, type TestStore } from '../support/store.ts';
import { checksum, createParams, pgDump, schemaShape, sdk, writeMapping, writeRc } from './helpers.ts';
import { cleanUp } from '../support/cleanup.ts';

describe('pgmig end to end (stock pg_dump and astore backup archives)', () => {
  let dir: string;
  let home: string;
  let a: TestStore;
  let b: TestStore;
  const source: Array<{ instanceId: string; token: string; serviceUrl: string }> = [];
  const target: Array<{ instanceId: string; token: string; serviceUrl: string }> = [];
  /** source instance → exported workspaces */
  const exported = new Map<string, Skill[]>();
  let rc: string;
  let mapping: string;
  let turnsLogged = 0;
  // alice-one → y-one, alice-two → x-one, bob-one → x-two
  const plan = (): Map<(typeof source)[number], (typeof target)[number]> =>
    new Map([[source[0]!, target[2]!], [source[1]!, target[0]!], [source[2]!, target[1]!]]);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgmig-e2e-'));
    home = join(dir, 'home'); // one key file for both stores, as after `astore secret apply`
    mkdirSync(home);
    a = await startTestStore({ home });
    source.push(await a.tenant('alice', 'alice-one'), await a.tenant('alice', 'alice-two'), await a.tenant('bob', 'bob-one'));
    const skills = [...ownSkills(), ...(sharedSkills() ?? []).slice(0, 4)];
    for (const [i, { skill }] of skills.entries()) {
      const t = source[i % source.length]!;
      await sdk(t.serviceUrl, t.token).createWorkspace(createParams(skill));
    }
    for (const t of source) {
      const c = sdk(t.serviceUrl, t.token);
      const list = (await c.listWorkspaces()).result.workspaces;
      const full: Skill[] = [];
      for (const w of list) full.push((await c.getWorkspace({ workspaceId: w.workspace_id!, _export: true })).result as Skill);
      exported.set(t.instanceId, full);
    }
    // Message logs of two workspaces: they travel with their workspace.
    const logs = new LogWriter(a.store.pool);
    const loggedWorkspaces = [...exported.values()].flat().slice(0, 2);
    turnsLogged = 3 * loggedWorkspaces.length;
    for (const [n, w] of loggedWorkspaces.entries()) {
      for (let i = 0; i < 3; i++) {
        const at = new Date(Date.UTC(2030, 0, 1, n, i)).toISOString();
        logs.record({ log_id: uuid7(), workspace_id: w.workspace_id!, request_timestamp: at, response_timestamp: at, language: 'en', customer_id: i ? null : 'c1', request: { input: { text: `turn ${i}` } }, response: { output: { generic: [] } } });
      }
    }
    await logs.close();
    b = await startTestStore({ home, hooks: { writesBlocked: () => maintenanceMessage(b.store.pool) } });
    target.push(await b.tenant('xavier', 'x-one'), await b.tenant('xavier', 'x-two'), await b.tenant('yvonne', 'y-one'));
    rc = writeRc(dir, b.url, [target[0]!.token, target[2]!.token]);
    mapping = writeMapping(dir, Object.fromEntries([...plan()].map(([s, t]) => [s.instanceId, t.instanceId])));
  });
  after(() => cleanUp(() => b?.close(), () => a?.close(), () => rmSync(dir, { recursive: true, force: true })));

  /** Every workspace of A is in B under its mapped instance, with its id, and exports identically. */
  async function assertRestored(summary: RestoreSummary): Promise<void> {
    const total = [...exported.values()].reduce((n, l) => n + l.length, 0);
    assert.equal(summary.workspaces, total);
    assert.deepEqual(Object.keys(summary.steps), ['verify', 'prepare', 'copy', 'indexes', 'constraints', 'upgrade', 'finish', 'swap']);
    assert.ok(Object.values(summary.steps).every((ms) => ms >= 0) && Object.values(summary.steps).reduce((a, b) => a + b, 0) <= summary.durationMs);
    // The load drops every key and index of the staging tables; all must be back, as they were.
    const shape = await schemaShape(b.db.url);
    assert.deepEqual(shape, await schemaShape(a.db.url));
    assert.ok(shape.some((d) => d.includes('examples_intent_id_fkey FOREIGN KEY')), 'the shape lists the constraints');
    assert.equal(summary.instances.length, 3);
    // Both stores share one key file: a running server's key still opens the data.
    assert.equal(summary.restartRequired, false);
    assert.equal(summary.key.before, summary.key.restored);
    for (const [s, t] of plan()) {
      const c = sdk(t.serviceUrl, t.token);
      const want = exported.get(s.instanceId)!;
      const list = (await c.listWorkspaces()).result.workspaces;
      assert.deepEqual(list.map((w) => w.workspace_id).sort(), want.map((w) => w.workspace_id).sort(), 'same workspace ids under the mapped instance');
      for (const w of want) {
        const got = (await c.getWorkspace({ workspaceId: w.workspace_id!, _export: true })).result as Skill;
        assert.deepEqual(normaliseSkill(got), normaliseSkill(w), w.name);
        assert.deepEqual(got.webhooks, w.webhooks, 'webhook secrets decrypt to the same values');
      }
    }
    // The message logs came along, unchanged, under their workspaces.
    const logRows = async (url: string): Promise<unknown[]> => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return (await c.query(`select log_id, workspace_id, request_timestamp, customer_id, request::text, response::text from astore.message_logs order by log_id`)).rows;
      } finally { await c.end(); }
    };
    const logged = await logRows(a.db.url);
    assert.ok(turnsLogged > 0);
    assert.equal(logged.length, turnsLogged);
    assert.deepEqual(await logRows(b.db.url), logged);
    // B's tokens see exactly B's instances, now holding the mapped workspaces.
    const seen = async (token: string): Promise<string[]> => {
      const r = await fetch(`${b.url}/api/ibmcloud/resource-controller/v2/resource_instances`, { headers: { authorization: `Bearer ${token}` } });
      return ((await r.json()) as { resources: Array<{ guid: string }> }).resources.map((x) => x.guid).sort();
    };
    assert.deepEqual(await seen(target[0]!.token), [target[0]!.instanceId, target[1]!.instanceId].sort());
    assert.deepEqual(await seen(target[2]!.token), [target[2]!.instanceId]);
    // No source instance id survives anywhere in the store schema.
    const all = JSON.stringify(await b.store.pool.query(`select w.*, i.crn from astore.workspaces w join astore.instances i on i.id = w.instance_id`).then((r) => r.rows));
    for (const s of source) assert.ok(!all.includes(s.instanceId), `source id ${s.instanceId} rewritten`);
    // Every workspace must be retrained; writes are accepted again.
    const untrained = await b.store.pool.query(`select count(*)::int as n from astore.workspaces w where not exists (select 1 from astore.models m where m.workspace_id = w.id)`);
    assert.equal(untrained.rows[0].n, total);
    const created = await sdk(target[0]!.serviceUrl, target[0]!.token).createWorkspace({ name: 'after restore' });
    assert.equal(created.status, 201);
  }

  test('stock pg_dump archive: every workspace under the mapped instance, with its id; writes quiesced meanwhile', async () => {
    const archive = join(dir, 'a.dump');
    pgDump(a.db.url, archive);
    let refused: { status?: number; message?: string } | undefined;
    const summary = await restore({
      source: archive, resourceController: rc, mapping, interactive: false, cwd: dir,
      env: { DATABASE_URL: b.db.url, ASTORE_HOME: home },
      afterTable: async () => {
        if (refused) return;
        const t = target[0]!;
        try {
          await sdk(t.serviceUrl, t.token).createWorkspace({ name: 'during restore' });
          refused = { status: 0 };
        } catch (err) {
          refused = err as { status?: number; message?: string };
        }
      },
    });
    assert.equal(refused?.status, 503, 'a write during the restore is refused with 503');
    assert.match(refused?.message ?? '', /restored/);
    await assertRestored(summary);

    // Running it again without -f refuses: the target now holds data, and stays as it is.
    const before = await checksum(b.db.url);
    await assert.rejects(restore({
      source: archive, resourceController: rc, mapping, interactive: false, cwd: dir, env: { DATABASE_URL: b.db.url, ASTORE_HOME: home },
    }), { code: 'TARGET_NOT_EMPTY' });
    assert.deepEqual(await checksum(b.db.url), before);

    // On a terminal it asks instead (the seeds' pgmig has no -f): anything but "yes" changes nothing.
    const answering = (answer: string): PassThrough => { const p = new PassThrough(); setTimeout(() => p.end(answer), 20); return p; };
    for (const answer of ['no\n', 'y\n', '']) {
      await assert.rejects(restore({
        source: archive, resourceController: rc, mapping, interactive: true, input: answering(answer), cwd: dir, env: { DATABASE_URL: b.db.url, ASTORE_HOME: home },
      }), (err: { code?: string; exitCode?: number; message?: string }) => err.code === 'RESTORE_ABORTED' && err.exitCode === 8 && /nothing was changed/.test(err.message!));
      assert.deepEqual(await checksum(b.db.url), before, `answer ${JSON.stringify(answer)}: target untouched`);
    }
    await assertRestored(await restore({
      source: archive, resourceController: rc, mapping, interactive: true, input: answering('yes\n'), cwd: dir, env: { DATABASE_URL: b.db.url, ASTORE_HOME: home },
    }));
  });

  test('`astore backup` archive, with -f over the data of the previous restore', async () => {
    const archive = join(dir, 'a.astore');
    const r = spawnSync(process.execPath, ['bin/astore', 'backup', '-o', archive, '--json'], {
      env: { ...process.env, DATABASE_URL: a.db.url, ASTORE_HOME: home }, encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const summary = await restore({
      source: archive, resourceController: rc, mapping, force: true, interactive: false, cwd: dir,
      env: { DATABASE_URL: b.db.url, ASTORE_HOME: home },
    });
    await assertRestored(summary);
  });
});
