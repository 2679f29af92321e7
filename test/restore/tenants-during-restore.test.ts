/**
 * Tokens and instances changed while pgmig loads: the target's users, instances and tokens were
 * copied when the load began, so a token revoked meanwhile worked again after the swap, and a
 * token or instance created meanwhile was gone (found by the backup/restore chaos review). They
 * are now taken again inside the swap. Deleting an instance while a restore runs is refused; one
 * deleted during the load all the same stays deleted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { authenticate, createInstance, createToken, listInstances, revokeToken, tokenIdOf } from '../../src/auth/index.ts';
import { restore, setMaintenance, clearMaintenance } from '../../src/restore/index.ts';
import { cleanUp } from '../support/cleanup.ts';
import { runAstore } from '../support/cli.ts';
import { startTestStore, type TestStore } from '../support/store.ts';
import { pgDump, writeMapping, writeRc } from './helpers.ts';

describe('tenants written while pgmig runs', () => {
  let dir: string;
  let home: string;
  let b: TestStore;
  const t: Array<{ instanceId: string; token: string; serviceUrl: string }> = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgmig-tenants-'));
    home = join(dir, 'home');
    mkdirSync(home);
    b = await startTestStore({ home });
    t.push(await b.tenant('wendy'));
  });
  after(() => cleanUp(() => b?.close(), () => rmSync(dir, { recursive: true, force: true })));

  test('a token revoked, a token and an instance created during the load all last past the swap', async () => {
    const archive = join(dir, 'self.dump');
    pgDump(b.db.url, archive);
    const pool = b.store.pool;
    const leakedId = await tokenIdOf(pool, t[0]!.token);
    const spare = await createToken(pool, 'wendy');
    let created: { token: string } | undefined;
    let instance = '';
    await restore({
      source: archive, resourceController: writeRc(dir, b.url, [t[0]!.token]),
      mapping: writeMapping(dir, { [t[0]!.instanceId]: t[0]!.instanceId }),
      interactive: false, cwd: dir, env: { DATABASE_URL: b.db.url, ASTORE_HOME: home },
      beforeSwap: async () => {
        await revokeToken(pool, leakedId);
        created = await createToken(pool, 'xavier');
        instance = (await createInstance(pool, 'made during the restore', 'xavier')).id;
      },
    });
    assert.equal(await authenticate(pool, t[0]!.token), undefined, 'the revoked token stays revoked');
    assert.ok(await authenticate(pool, created!.token), 'the token created during the load works');
    assert.ok(await authenticate(pool, spare.token), 'a token from before still works');
    assert.ok((await listInstances(pool)).some((i) => i.id === instance), 'the instance created during the load is there');
  });

  // The race `instances delete` cannot see: its check passed just before pgmig began, and it
  // commits during the load (simulated by deleting the row meanwhile). The instance came back.
  test('an instance deleted during the load stays deleted; one the mapping restores into refuses the swap', async () => {
    // A store of its own: the mapping must name every instance the archive holds.
    const raceHome = join(dir, 'race-home');
    mkdirSync(raceHome);
    const r = await startTestStore({ home: raceHome });
    try {
      const pool = r.store.pool;
      const u = await r.tenant('uma');
      const workspace = randomUUID();
      await pool.query(`insert into workspaces (id, instance_id, name, language) values ($1, $2, 'raced', 'en')`, [workspace, u.instanceId]);
      const archive = join(dir, 'race.dump');
      pgDump(r.db.url, archive);
      const bystander = await createInstance(pool, 'deleted during the restore', 'vic');
      const base = {
        source: archive, resourceController: writeRc(dir, r.url, [u.token]),
        mapping: writeMapping(dir, { [u.instanceId]: u.instanceId }, 'race.yaml'),
        interactive: false, force: true, cwd: dir, env: { DATABASE_URL: r.db.url, ASTORE_HOME: raceHome },
      };
      const ids = async (): Promise<string[]> => (await listInstances(pool)).map((i) => i.id);
      await restore({ ...base, beforeSwap: async () => { await pool.query('delete from instances where id = $1', [bystander.id]); } });
      assert.ok(!(await ids()).includes(bystander.id), 'the deleted instance stays deleted');
      assert.ok((await ids()).includes(u.instanceId), 'the mapped instance is there');

      await assert.rejects(
        restore({ ...base, beforeSwap: async () => { await pool.query('delete from instances where id = $1', [u.instanceId]); } }),
        { code: 'TARGET_CHANGED', message: new RegExp(`${u.instanceId} were deleted while the archive loaded`) },
      );
      assert.ok(!(await ids()).includes(u.instanceId), 'the instance stays deleted');
      const left = await pool.query('select id from workspaces where id = $1', [workspace]);
      assert.equal(left.rowCount, 0, 'the delete (and its cascade) stands; the restored workspace was not swapped in');
    } finally {
      await r.close();
    }
  });

  test('instances delete refuses while a restore runs', async () => {
    const victim = await createInstance(b.store.pool, 'not now', 'yara');
    const c = new pg.Client({ connectionString: b.db.url });
    await c.connect();
    try {
      await setMaintenance(c, 'pgmig restore in progress');
      const r = await runAstore(['instances', 'delete', victim.id], { DATABASE_URL: b.db.url, ASTORE_HOME: home });
      assert.equal(r.code, 1, r.output);
      assert.match(r.stderr, /error \[WRITES_SUSPENDED\]: a restore is running \(pgmig restore in progress\); nothing was deleted/);
      await clearMaintenance(c);
    } finally {
      await c.end();
    }
    assert.ok((await listInstances(b.store.pool)).some((i) => i.id === victim.id));
  });
});
