/**
 * Retrain-all benchmark: 1,000 generated workspaces (40 intents × 15 examples) with no models,
 * then `astore retrain-all` on this machine; prints workspaces per minute beside the seeds'
 * budget (about 30 s per model per training replica, i.e. 2 per minute per replica).
 * Target: >= 300 per minute on 2 cores.
 *
 *   npm run bench:retrain [-- --workspaces 1000]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createInstance } from '../src/auth/index.ts';
import { openStore } from '../src/store/index.ts';
import { createWorkspace } from '../src/workspaces/index.ts';
import { arg, benchDatabase, generatedIntents } from './support.ts';

const count = arg('workspaces', 1000);
const db = await benchDatabase('retrain');
process.env.ASTORE_HOME = mkdtempSync(join(db.root, 'home-'));
try {
  const store = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
  const instance = await createInstance(store.pool, 'bench', 'bench-owner');
  const setup = Date.now();
  for (let i = 0; i < count; i++) {
    const client = await store.pool.connect();
    try {
      await client.query('begin');
      await createWorkspace(client, instance.id, { name: `ws-${i}`, language: 'en', intents: generatedIntents(i + 1, 40, 15) }, store.key);
      await client.query('commit');
    } finally { client.release(); }
  }
  await store.close();
  console.log(`setup: ${count} workspaces of 40 intents x 15 examples in ${((Date.now() - setup) / 1000).toFixed(1)} s`);

  const workers = availableParallelism();
  const t0 = Date.now();
  const run = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'astore'), 'retrain-all', '--workers', String(workers), '--json'],
    { env: { ...process.env, DATABASE_URL: db.url, BATCH_RETRAIN_ALL_SIZE: '100' }, encoding: 'utf8' });
  const seconds = (Date.now() - t0) / 1000;
  if (run.status !== 0) { console.error(run.stderr); throw new Error(`retrain-all exited ${run.status}`); }
  const summary = JSON.parse(run.stdout) as { affected: number; retrained: number; failed: number };
  const perMinute = (summary.retrained / seconds) * 60;
  const seedsBudget = 2 * workers;
  console.log(run.stderr.split('\n').filter((l) => l.includes('RETRAIN-ALL-SUMMARY')).join('\n'));
  console.log(`retrain-all: ${summary.retrained}/${summary.affected} workspaces in ${seconds.toFixed(1)} s with ${workers} training threads (whole command, incl. startup)`);
  console.log(`throughput: ${perMinute.toFixed(0)} workspaces/min; seeds' budget for ${workers} replicas: ${seedsBudget}/min; ratio ${(perMinute / seedsBudget).toFixed(1)}x; target >= 300/min: ${perMinute >= 300 ? 'met' : 'NOT met'}`);
} finally {
  await db.close();
}
