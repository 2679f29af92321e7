/**
 * Backup benchmark: builds a store of at least 500 MB (workspaces, intents, examples, trained
 * models) on a private embedded PostgreSQL, then times `astore backup -o FILE` against
 * `pg_dump -Fc` of the same database in one run and prints the ratio and both sizes.
 * Target: astore backup <= 0.7 of pg_dump's time at no larger size.
 *
 *   npm run bench:backup [-- --mb 500 --rounds 2]
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createInstance } from '../src/auth/index.ts';
import { openStore, startCluster } from '../src/store/index.ts';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const targetMb = arg('mb', 500);
const rounds = arg('rounds', 2);

const root = mkdtempSync(join(tmpdir(), 'astore-bench-backup-'));
const cluster = await startCluster({ dataDir: join(root, 'pg'), password: 'bench', port: 0 });
const admin = new pg.Client({ connectionString: cluster.url('postgres') });
await admin.connect();
await admin.query('create database bench');
await admin.end();
const url = cluster.url('bench');
process.env.ASTORE_HOME = mkdtempSync(join(root, 'home-'));

try {
  const store = await openStore({ env: { DATABASE_URL: url }, migrate: true });
  const t0 = performance.now();
  const instance = await createInstance(store.pool, 'bench', 'bench-owner');
  const WORKSPACES = 300;
  const MODEL_BYTES = 1_400_000;
  // Models: float32 weights rounded to 3 decimals, which compress about as much as real ones.
  const model = (seed: number): Buffer => {
    const f = new Float32Array(MODEL_BYTES / 4);
    let s = seed;
    for (let i = 0; i < f.length; i++) { s = (s * 1103515245 + 12345) >>> 0; f[i] = Math.round(((s / 2 ** 32) * 2 - 1) * 1000) / 1000; }
    return Buffer.from(f.buffer);
  };
  for (let w = 0; w < WORKSPACES; w++) {
    const id = randomUUID();
    await store.pool.query(`insert into workspaces (id, instance_id, name, language, metadata) values ($1, $2, $3, 'en', $4)`,
      [id, instance.id, `bench-${w}`, JSON.stringify({ bench: true, n: w })]);
    await store.pool.query(`insert into intents (workspace_id, intent, description)
      select $1, 'intent_' || g, 'generated intent ' || g from generate_series(1, 40) g`, [id]);
    await store.pool.query(`insert into examples (intent_id, text)
      select i.id, 'how do I ' || (array['order','cancel','track','return','pay','change','find','open'])[1 + (g % 8)] || ' my '
        || substr(md5(i.id::text || '/' || g), 1, 6 + g % 10) || ' ' || (array['pizza','account','card','parcel','ticket'])[1 + (g % 5)]
        || ' please, ' || md5(g::text || i.id::text)
      from intents i, generate_series(1, 120) g where i.workspace_id = $1`, [id]);
    await store.pool.query(`insert into models (workspace_id, data_hash, trained_version, algorithm_version, model, train_ms) values ($1, $2, 1, 'bench-1', $3, 1234)`,
      [id, `hash-${w}`, model(w + 1)]);
  }
  await store.pool.query('vacuum analyze');
  const size = Number((await store.pool.query(`select pg_database_size(current_database()) as s`)).rows[0].s);
  await store.close();
  console.log(`store built in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${(size / 1048576).toFixed(0)} MB (pg_database_size)`);
  if (size < targetMb * 1048576) console.log(`WARNING: store is smaller than ${targetMb} MB`);

  const time = (cmd: string, args: string[], env: NodeJS.ProcessEnv): number => {
    const t = performance.now();
    const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
    return (performance.now() - t) / 1000;
  };
  const u = new URL(url);
  const oursFile = join(root, 'astore.dump');
  const theirsFile = join(root, 'pg_dump.dump');
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    // Alternate the order so neither tool always runs with the warmer cache.
    const runOurs = (): void => { ours.push(time('bin/astore', ['backup', '-o', oursFile], { ...process.env, DATABASE_URL: url })); };
    const runTheirs = (): void => {
      theirs.push(time('pg_dump', ['-Fc', '-h', u.hostname, '-p', u.port, '-U', decodeURIComponent(u.username), '-d', 'bench', '-f', theirsFile],
        { ...process.env, PGPASSWORD: decodeURIComponent(u.password) }));
    };
    if (i % 2 === 0) { runOurs(); runTheirs(); } else { runTheirs(); runOurs(); }
  }
  const best = (xs: number[]): number => Math.min(...xs);
  const oursSize = statSync(oursFile).size;
  const theirsSize = statSync(theirsFile).size;
  const ratio = best(ours) / best(theirs);
  console.log(`astore backup : ${best(ours).toFixed(2)} s (runs ${ours.map((x) => x.toFixed(2)).join(', ')}), ${(oursSize / 1048576).toFixed(1)} MB`);
  console.log(`pg_dump -Fc   : ${best(theirs).toFixed(2)} s (runs ${theirs.map((x) => x.toFixed(2)).join(', ')}), ${(theirsSize / 1048576).toFixed(1)} MB`);
  console.log(`time ratio ${ratio.toFixed(2)} (target <= 0.70: ${ratio <= 0.7 ? 'met' : 'NOT met'}); size ratio ${(oursSize / theirsSize).toFixed(3)} (target <= 1: ${oursSize <= theirsSize ? 'met' : 'NOT met'})`);
} finally {
  await cluster.stop();
  rmSync(root, { recursive: true, force: true });
}
