/**
 * Restore benchmark: builds a store on a private embedded PostgreSQL whose stock `pg_dump -Fc`
 * archive is at least 500 MB, then restores that archive once with `pg_restore -j2` into a fresh
 * database and once with `pgmig` into a fresh store, and prints the time ratio and pgmig's peak
 * RSS (GNU time's maximum resident set size). Targets: ratio <= 1.0, peak RSS < 256 MB.
 *
 * The store holds no trained models: pgmig does not restore them (every restored workspace is
 * retrained), so models in the archive would be work only pg_restore does.
 *
 *   npm run bench:restore [-- --mb 500]
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { stringify } from 'yaml';
import { createInstance, createToken } from '../src/auth/index.ts';
import { createServer } from '../src/api/index.ts';
import { openStore } from '../src/store/index.ts';
import { ALGORITHM_VERSION } from '../src/training/index.ts';
import { arg, benchDatabase } from './support.ts';

const targetMb = arg('mb', 500);
/** Workspaces of 40 intents x 120 examples and 30 dialog nodes: about 0.25 MB of archive each. */
const workspaces = arg('workspaces', Math.ceil(targetMb / 0.24));

const bench = await benchDatabase('restore');
const admin = new pg.Client({ connectionString: bench.url });
await admin.connect();
for (const db of ['source', 'theirs', 'ours']) await admin.query(`create database ${db}`);
await admin.end();
const dbUrl = (name: string): string => { const u = new URL(bench.url); u.pathname = `/${name}`; return u.toString(); };
const home = join(bench.root, 'home');
mkdirSync(home);
process.env.ASTORE_HOME = home;

try {
  const t0 = performance.now();
  const source = await openStore({ env: { DATABASE_URL: dbUrl('source'), ASTORE_HOME: home }, migrate: true });
  const instance = await createInstance(source.pool, 'bench', 'bench-owner');
  for (let w = 0; w < workspaces; w++) {
    const id = randomUUID();
    await source.pool.query(`insert into workspaces (id, instance_id, name, language, metadata) values ($1, $2, $3, 'en', $4)`,
      [id, instance.id, `bench-${w}`, JSON.stringify({ bench: true, n: w, owner: instance.id })]);
    await source.pool.query(`insert into intents (workspace_id, intent, description)
      select $1, 'intent_' || g, 'generated intent ' || g from generate_series(1, 40) g`, [id]);
    await source.pool.query(`insert into examples (intent_id, text)
      select i.id, 'how do I ' || (array['order','cancel','track','return','pay','change','find','open'])[1 + (g % 8)] || ' my '
        || substr(md5(i.id::text || '/' || g), 1, 6 + g % 10) || ' ' || (array['pizza','account','card','parcel','ticket'])[1 + (g % 5)]
        || ' please, ' || md5(g::text || i.id::text) || md5(i.id::text || g::text)
      from intents i, generate_series(1, 120) g where i.workspace_id = $1`, [id]);
    await source.pool.query(`insert into dialog_nodes (workspace_id, dialog_node, node)
      select $1::uuid, 'node_' || g, jsonb_build_object('dialog_node', 'node_' || g, 'conditions', '#intent_' || g,
        'output', jsonb_build_object('text', 'answer ' || md5(g::text || $1::text) || ' for ' || $2::text))
      from generate_series(1, 30) g`, [id, instance.id]);
  }
  await source.close();
  const archive = join(bench.root, 'store.dump');
  const u = new URL(bench.url);
  const pgEnv = { ...process.env, PGPASSWORD: decodeURIComponent(u.password) };
  const conn = ['-h', u.hostname, '-p', u.port, '-U', decodeURIComponent(u.username)];
  execFileSync('/usr/bin/pg_dump', ['-Fc', ...conn, '-d', 'source', '-f', archive], { env: pgEnv });
  const size = statSync(archive).size;
  console.log(`store of ${workspaces} workspaces built and dumped in ${((performance.now() - t0) / 1000).toFixed(1)} s: archive ${(size / 1048576).toFixed(0)} MB`);
  if (size < targetMb * 1048576) console.log(`WARNING: the archive is smaller than ${targetMb} MB (raise --workspaces)`);
  readFileSync(archive); // both tools start with the archive in the page cache

  // pgmig's target: a fresh store with one instance, its API for the resource-controller listing.
  const target = await openStore({ env: { DATABASE_URL: dbUrl('ours'), ASTORE_HOME: home }, migrate: true });
  const targetInstance = await createInstance(target.pool, 'restored', 'bench-owner');
  const token = await createToken(target.pool, 'bench-owner');
  const app = createServer({ pool: target.pool, key: target.key, algorithmVersion: ALGORITHM_VERSION, release: target.release });
  const api = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
  const rc = join(bench.root, 'resourceController.yaml');
  writeFileSync(rc, stringify({ accessTokens: [token.token], host: api.hostname, port: Number(api.port) }));
  const mapping = join(bench.root, 'mapping.yaml');
  writeFileSync(mapping, stringify({ 'instance-mappings': { [instance.id]: targetInstance.id } }));

  // Asynchronous: pgmig lists the target instances through the API this process serves.
  const timed = (cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ seconds: number; maxRssKb: number }> =>
    new Promise((resolve, reject) => {
      const t = performance.now();
      // GNU time reports the child's peak RSS ("Maximum resident set size (kbytes)").
      execFile('/usr/bin/time', ['-v', cmd, ...args], { env, maxBuffer: 64 << 20 }, (err, _stdout, stderr) => {
        if (err) { reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr.slice(-3000)}`)); return; }
        const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
        resolve({ seconds: (performance.now() - t) / 1000, maxRssKb: rss ? Number(rss[1]) : NaN });
      });
    });
  // Each tool starts with the server's dirty buffers written out, not paying for the other's. The
  // bench server runs with fsync off, so a checkpoint leaves gigabytes of dirty pages in the OS
  // cache that the kernel writes back during the next tool's run: sync(1) writes them first.
  const checkpoint = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: bench.url });
    await c.connect();
    await c.query('checkpoint');
    await c.end();
    execFileSync('sync');
  };
  await checkpoint();
  const theirs = await timed('/usr/bin/pg_restore', ['-j2', ...conn, '-d', 'theirs', archive], pgEnv);
  await checkpoint();
  const ours = await timed('bin/pgmig', ['-s', archive, '-r', rc, '-m', mapping, '--json'], { ...process.env, DATABASE_URL: dbUrl('ours'), ASTORE_HOME: home });
  // A fast restore that lost rows would be no result: both must hold the same data.
  const counts = async (db: string): Promise<string> => {
    const c = new pg.Client({ connectionString: dbUrl(db) });
    await c.connect();
    const r = await c.query(`select (select count(*) from astore.examples) || '/' || (select count(*) from astore.intents)
      || '/' || (select count(*) from astore.dialog_nodes) || '/' || (select count(*) from astore.workspaces) as n`);
    await c.end();
    return r.rows[0].n as string;
  };
  const [ourCounts, theirCounts] = [await counts('ours'), await counts('theirs')];
  if (ourCounts !== theirCounts) throw new Error(`pgmig restored examples/intents/dialog nodes/workspaces ${ourCounts}, pg_restore ${theirCounts}`);
  await app.close();
  await target.close();

  const ratio = ours.seconds / theirs.seconds;
  const rssMb = ours.maxRssKb / 1024;
  console.log(`both restored ${theirCounts} examples/intents/dialog nodes/workspaces`);
  console.log(`pg_restore -j2 : ${theirs.seconds.toFixed(2)} s`);
  console.log(`pgmig          : ${ours.seconds.toFixed(2)} s, peak RSS ${rssMb.toFixed(0)} MB`);
  console.log(`time ratio ${ratio.toFixed(2)} (target <= 1.00: ${ratio <= 1 ? 'met' : 'NOT met'}); peak RSS ${rssMb.toFixed(0)} MB (target < 256: ${rssMb < 256 ? 'met' : 'NOT met'})`);
} finally {
  await bench.close();
}
