/**
 * A restore killed with SIGKILL at several points of the load — after the first table, after
 * three tables, in the middle of a 150,000-row COPY, and with everything staged just before the
 * swap — leaves every table of the target exactly as it was, and the maintenance flag of the
 * dead process blocks no write. The next run clears the dead runs' staging schemas and succeeds.
 * And the CLI interrupted by SIGINT says in one line what it left, and exits 130.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createInstance, createToken } from '../../src/auth/index.ts';
import { maintenanceMessage, restore, type RestoreOptions } from '../../src/restore/index.ts';
import { startTestStore, type TestStore } from '../support/store.ts';
import { checksum, pgDump, sdk, writeMapping, writeRc } from './helpers.ts';
import { cleanUp } from '../support/cleanup.ts';

const EXAMPLES = 150_000;

describe('pgmig killed with SIGKILL during the load', () => {
  let dir: string;
  let a: TestStore;
  let b: TestStore;
  let options: RestoreOptions;
  let target: { instanceId: string; token: string; serviceUrl: string };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgmig-kill-'));
    const home = join(dir, 'home');
    mkdirSync(home);
    a = await startTestStore({ home });
    const src = await createInstance(a.store.pool, 'big', 'alice');
    const ws = randomUUID();
    await a.store.pool.query(`insert into workspaces (id, instance_id, name, language) values ($1, $2, 'big', 'en')`, [ws, src.id]);
    await a.store.pool.query(`insert into counterexamples (workspace_id, text) select $1, 'no ' || g from generate_series(1, 50) g`, [ws]);
    const intent = await a.store.pool.query(`insert into intents (workspace_id, intent) values ($1, 'bulk') returning id`, [ws]);
    await a.store.pool.query(`insert into examples (intent_id, text) select $1, 'example number ' || g from generate_series(1, ${EXAMPLES}) g`, [intent.rows[0].id]);
    const archive = join(dir, 'big.dump');
    pgDump(a.db.url, archive);

    // The target holds data of its own: that is what must survive every kill.
    b = await startTestStore({ home, hooks: { writesBlocked: () => maintenanceMessage(b.store.pool) } });
    target = await b.tenant('bob', 'target');
    const c = sdk(target.serviceUrl, target.token);
    await c.createWorkspace({ name: 'existing', intents: [{ intent: 'hello', examples: [{ text: 'hi' }, { text: 'hello there' }] }] });
    options = {
      source: archive, resourceController: writeRc(dir, b.url, [target.token]), mapping: writeMapping(dir, { [src.id]: target.instanceId }),
      force: true, interactive: false, cwd: dir, env: { DATABASE_URL: b.db.url, ASTORE_HOME: home },
    };
  });
  after(() => cleanUp(() => b?.close(), () => a?.close(), () => rmSync(dir, { recursive: true, force: true })));

  test('the target is unchanged after each kill, writes are accepted, and the next run succeeds', { timeout: 180_000 }, async (t) => {
    const before = await checksum(b.db.url);
    const watch = new pg.Client({ connectionString: b.db.url });
    await watch.connect();
    const copying = async (): Promise<boolean> => (await watch.query(`select 1 from pg_stat_activity
      where datname = current_database() and state = 'active' and query ilike 'copy "astore_restore_%"."examples"%'`)).rowCount! > 0;
    try {
      for (const stopAt of [1, 3, 'never', 'swap'] as const) {
        const child = spawn(process.execPath, ['--import', 'tsx', 'test/restore/restore-child.ts', JSON.stringify({ ...options, stopAt })], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        // A child that reaches its stop point waits there to be killed: if an assertion fails
        // first, it would wait forever, its pipe keeping this file's process from ending.
        t.after(() => { child.kill('SIGKILL'); });
        let out = '';
        child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        let ended = false;
        void exited.then(() => { ended = true; });
        const reached = stopAt === 'never' ? copying : async () => out.includes('stopped');
        const deadline = Date.now() + 60_000;
        while (!(await reached())) {
          assert.ok(!ended, `${stopAt}: the restore ended (${out.trim()}) before the kill point`);
          assert.ok(Date.now() < deadline, `${stopAt}: kill point not reached`);
          await sleep(5);
        }
        child.kill('SIGKILL');
        assert.equal(await exited, null, `${stopAt}: killed, not finished`);

        assert.deepEqual(await checksum(b.db.url), before, `${stopAt}: every table of the target is as it was`);
        // The dead restore's backend goes away, and with it the block on writes.
        const until = Date.now() + 10_000;
        while (await maintenanceMessage(watch)) {
          assert.ok(Date.now() < until, `${stopAt}: writes still blocked after the kill`);
          await sleep(20);
        }
      }
      const probe = await sdk(target.serviceUrl, target.token).createWorkspace({ name: 'after the kills' });
      assert.equal(probe.status, 201, 'the API accepts writes after the killed restores');
    } finally {
      await watch.end();
    }

    const s = await restore(options);
    assert.ok(s.rows >= EXAMPLES);
    const left = await b.store.pool.query(`select count(*)::int as n from pg_namespace where nspname like 'astore_restore_%'`);
    assert.equal(left.rows[0].n, 0, 'the staging schemas of the killed runs are gone');
    const r = await b.store.pool.query(`select count(*)::int as n from examples`);
    assert.equal(r.rows[0].n, EXAMPLES, 'the backup replaced the target');
  });

  test('bin/pgmig interrupted by SIGINT mid-COPY: exit 130, one line naming the staging schema left, the target unchanged', { timeout: 120_000 }, async (t) => {
    const before = await checksum(b.db.url);
    const watch = new pg.Client({ connectionString: b.db.url });
    await watch.connect();
    try {
      // Asynchronously: this process serves the resource controller the child asks.
      const child = spawn(process.execPath, ['bin/pgmig', '-f', '-s', options.source as string, '-r', options.resourceController, '-m', options.mapping!],
        { env: { ...process.env, ...options.env }, stdio: ['ignore', 'ignore', 'pipe'] });
      t.after(() => { child.kill('SIGKILL'); });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const deadline = Date.now() + 60_000;
      for (;;) {
        // This database only: the test server's other databases may be restoring too (tests run in parallel).
        const copy = await watch.query(`select 1 from pg_stat_activity
          where datname = current_database() and state = 'active' and query ilike 'copy "astore_restore_%"."examples"%'`);
        if (copy.rowCount! > 0) break;
        assert.ok(child.exitCode === null, `pgmig ended before the COPY: ${stderr}`);
        assert.ok(Date.now() < deadline, 'the COPY of examples never started');
        await sleep(5);
      }
      child.kill('SIGINT');
      assert.equal(await exited, 130, stderr);
      const staging = (await watch.query(`select nspname from pg_namespace where nspname like 'astore_restore_%'`)).rows.map((r) => r.nspname as string);
      assert.equal(staging.length, 1, 'the interrupted run left its staging schema');
      assert.match(stderr, new RegExp(`\\ninterrupted \\(SIGINT\\): the target is unchanged; the staging schema ${staging[0]} is dropped by the next pgmig run or backup\\n$`));
      assert.deepEqual(await checksum(b.db.url), before, 'every table of the target is as it was');
    } finally {
      await watch.end();
    }
    await restore(options);
    const left = await b.store.pool.query(`select count(*)::int as n from pg_namespace where nspname like 'astore_restore_%'`);
    assert.equal(left.rows[0].n, 0, 'the next run dropped it');
  });
});
