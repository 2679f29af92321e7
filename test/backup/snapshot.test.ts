import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { MIGRATIONS, openStore, type Store } from '../../src/store/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

const root = mkdtempSync(join(tmpdir(), 'astore-snap-'));
after(() => rmSync(root, { recursive: true, force: true }));

const ACCOUNTS = 50;
const WINDOW = 40;

/** Transaction v moves 1 unit between two accounts chosen from v, adds event v and drops event v-WINDOW. */
function expectedBalances(v: number): number[] {
  const bal = new Array<number>(ACCOUNTS).fill(1000);
  for (let t = 1; t <= v; t++) { bal[t % ACCOUNTS]! -= 1; bal[(t * 7 + 3) % ACCOUNTS]! += 1; }
  return bal;
}

describe('a backup taken while another connection writes', () => {
  let db: TestDatabase;
  let restored: TestDatabase;
  let store: Store;
  before(async () => {
    db = await createTestDatabase('bksnap');
    restored = await createTestDatabase('bksnapr');
    process.env.ASTORE_HOME = mkdtempSync(join(root, 'home-'));
    store = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
    await store.pool.query(`
      create table public.acct (id int primary key, bal bigint not null);
      create table public.events (seq int primary key, note text);
      create table public.version (v int not null);
      insert into public.version values (0);
      insert into public.acct select g, 1000 from generate_series(0, ${ACCOUNTS - 1}) g;
      -- filler so the dump takes long enough for many writes to land during it
      create table public.filler (id int primary key, b bytea);
      insert into public.filler select g, decode(string_agg(md5(random()::text), ''), 'hex') from generate_series(1, 300) g, generate_series(1, 6250) x group by g;`);
  });
  after(async () => { await store.close(); await db.drop(); await restored.drop(); });

  it('restores with stock pg_restore to exactly the state after one transaction', async () => {
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    let v = 0;
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        v++;
        await writer.query('begin');
        await writer.query('update public.acct set bal = bal - 1 where id = $1', [v % ACCOUNTS]);
        await writer.query('update public.acct set bal = bal + 1 where id = $1', [(v * 7 + 3) % ACCOUNTS]);
        await writer.query('insert into public.events values ($1, $2)', [v, `e${v}`]);
        await writer.query('delete from public.events where seq = $1', [v - WINDOW]);
        await writer.query('update public.version set v = $1', [v]);
        await writer.query('commit');
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    const before = v;
    const out = join(root, 'snap.dump');
    const child = spawn('bin/astore', ['backup', '-o', out], { env: { ...process.env, DATABASE_URL: db.url }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const code = await new Promise((r) => child.once('exit', r));
    const afterV = v;
    stop = true;
    await loop;
    await writer.end();
    assert.equal(code, 0, stderr);

    const r = spawnSync('pg_restore', ['--no-owner', '-d', restored.url, out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const c = new pg.Client({ connectionString: restored.url });
    await c.connect();
    try {
      const snapV = (await c.query('select v from public.version')).rows[0].v as number;
      assert.ok(snapV > before && snapV < afterV, `snapshot version ${snapV} within the writes during the backup (${before}..${afterV})`);
      const bal = (await c.query('select bal from public.acct order by id')).rows.map((x) => Number(x.bal));
      assert.deepEqual(bal, expectedBalances(snapV));
      const seqs = (await c.query('select seq from public.events order by seq')).rows.map((x) => x.seq as number);
      const from = Math.max(1, snapV - WINDOW + 1);
      assert.deepEqual(seqs, Array.from({ length: snapV - from + 1 }, (_, i) => from + i));
      assert.equal((await c.query('select count(*)::int as n from astore.schema_migrations')).rows[0].n, MIGRATIONS.length);
    } finally {
      await c.end();
    }
  });
});
