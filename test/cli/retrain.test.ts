/**
 * `astore retrain-all` and `astore retrain status` as an operator runs them after a restore:
 * every model gone, the command trains them all with its own worker threads and exits 0; with no
 * worker anywhere it gives up after --timeout and exits 7 instead of waiting forever.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { startTestStore, type TestStore } from '../support/store.ts';
import { runAstore } from '../support/cli.ts';

let s: TestStore;

const astore = (args: string[], env: NodeJS.ProcessEnv = {}) => runAstore(args, { ASTORE_HOME: s.home, DATABASE_URL: s.db.url, ...env });

before(async () => {
  s = await startTestStore();
  const t = await s.tenant('ops');
  for (const name of ['billing', 'support', 'sales']) {
    const res = await fetch(`${t.serviceUrl}/v1/workspaces?version=2021-11-27`, {
      method: 'POST', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, intents: [{ intent: `${name}_question`, examples: [{ text: `a question about ${name}` }] }, { intent: 'goodbye', examples: [{ text: 'bye for now' }] }] }),
    });
    assert.equal(res.status, 201);
  }
});
after(async () => { await s.close(); });

test('with no worker, retrain-all gives up after --timeout and exits 7, saying why', async () => {
  const r = await astore(['retrain-all', '--workers', '0', '--timeout', '1', '--json']);
  assert.equal(r.code, 7, r.stderr);
  assert.match(r.stderr, /no training finished in 1 s.*are training workers running\?/);
  const summary = JSON.parse(r.stdout) as { affected: number; retrained: number; complete: boolean };
  assert.deepEqual([summary.affected, summary.retrained, summary.complete], [3, 0, false]);
  const status = JSON.parse((await astore(['retrain', 'status', '--json'])).stdout) as { queued: number; done: number };
  assert.deepEqual([status.queued, status.done], [3, 0], 'the submitted jobs stay queued for a worker');
});

/**
 * A second run is refused (exit 6) while one runs, and trains nothing: it used to start its
 * training threads before it found the first run's lock, and trained queued jobs until it exited.
 */
test('a second retrain-all while one runs exits 6 and trains none of the queued jobs', { timeout: 90_000 }, async () => {
  const first = launch(['retrain-all', '--workers', '0', '--timeout', '60'], {});
  try {
    for (const deadline = Date.now() + 60_000; !/Affected workspaces found: 3/.test(first.stderr()); await new Promise((r) => setTimeout(r, 50))) {
      assert.ok(Date.now() < deadline, `the first run did not start: ${first.stderr()}`);
    }
    const second = await astore(['retrain-all', '--workers', '1'], { LOG_LEVEL: 'info' });
    assert.equal(second.code, 6, second.stderr);
    assert.match(second.stderr, /another retrain-all run is in progress/);
    const status = JSON.parse((await astore(['retrain', 'status', '--json'])).stdout) as { queued: number; done: number };
    assert.deepEqual([status.queued, status.done], [3, 0], 'the refused run trained nothing');
  } finally {
    first.child.kill('SIGINT');
    await first.exited;
  }
});

test('retrain-all trains every affected workspace, logs the seeds\' summary line and exits 0', async () => {
  const r = await astore(['retrain-all', '--workers', '1', '--json'], { BATCH_RETRAIN_ALL_SIZE: '2' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\[RETRAIN-ALL-SUMMARY\] Affected workspaces found: 3, Retrained Total: 3, Failed: 0/);
  assert.deepEqual(JSON.parse(r.stdout).retrained, 3);
  const status = JSON.parse((await astore(['retrain', 'status', '--json'])).stdout) as { affected: number; done: number; queued: number };
  assert.deepEqual([status.affected, status.done, status.queued], [0, 3, 0]);
  const again = await astore(['retrain-all', '--workers', '1', '--json']);
  assert.equal(JSON.parse(again.stdout).affected, 0, 'nothing is stale afterwards');
});

/**
 * AUTO_RETRAIN=false on a train-worker: it trains what is queued and nothing else. Its sweep used
 * to queue every stale workspace the moment it started, so the seeds' batched retrain-all (which
 * tells operators to add workers) had nothing left to batch.
 */
test('a train-worker with AUTO_RETRAIN=false queues nothing itself; without it, it trains every stale workspace', { timeout: 90_000 }, async () => {
  await s.store.pool.query('delete from models');
  await s.store.pool.query('delete from training_jobs');
  const models = async (): Promise<number> => Number((await s.store.pool.query<{ n: string }>('select count(*) as n from models')).rows[0]!.n);
  const worker = (env: NodeJS.ProcessEnv): ChildProcess => spawn(process.execPath, ['bin/astore', 'train-worker', '--concurrency', '1'],
    { env: { ...process.env, ASTORE_HOME: s.home, DATABASE_URL: s.db.url, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const stop = async (child: ChildProcess): Promise<void> => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  const ready = (child: ChildProcess): Promise<void> => new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { err += d; if (err.includes('training worker')) resolve(); });
    child.once('exit', (code) => reject(new Error(`train-worker exited ${code}: ${err}`)));
  });

  const off = worker({ AUTO_RETRAIN: 'false' });
  try {
    await ready(off);
    await new Promise((r) => setTimeout(r, 2000)); // its sweep, were there one, runs at start
    assert.equal((await s.store.pool.query('select 1 from training_jobs')).rowCount, 0, 'nothing queued');
    assert.equal(await models(), 0, 'nothing trained');
  } finally {
    await stop(off);
  }

  const on = worker({ AUTO_RETRAIN: '' });
  try {
    await ready(on);
    for (const deadline = Date.now() + 60_000; await models() < 3; await new Promise((r) => setTimeout(r, 100))) {
      assert.ok(Date.now() < deadline, 'the stale workspaces were not trained');
    }
  } finally {
    await stop(on);
  }
});

/** `astore ARGS` left running against the test store, its output collected (for commands that run until a signal). */
function launch(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; stdout: () => string; stderr: () => string; log: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['bin/astore', ...args], { env: { ...process.env, ASTORE_HOME: s.home, DATABASE_URL: s.db.url, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let both = '';
  child.stdout!.on('data', (d: Buffer) => { out += d; both += d; });
  child.stderr!.on('data', (d: Buffer) => { err += d; both += d; });
  // 'close', not 'exit': the output is then read to the end.
  return { child, stdout: () => out, stderr: () => err, log: () => both, exited: new Promise((r) => child.once('close', (code) => r(code))) };
}

/**
 * The seeds' store-admin (what `k8s manifests` deploys as NAME-store-admin): the AUTO_RETRAIN sweep
 * and the AUTO_RETRAIN_ALL_* schedule in one process that trains nothing itself, and workers that
 * with --no-sweep train only what is queued.
 */
test('store-admin queues stale workspaces (AUTO_RETRAIN) or runs retrain-all on its schedule for --no-sweep workers, and logs the summary', { timeout: 120_000 }, async () => {
  await s.store.pool.query('delete from models');
  await s.store.pool.query('delete from training_jobs');
  const count = async (table: string): Promise<number> => Number((await s.store.pool.query<{ n: string }>(`select count(*) as n from ${table}`)).rows[0]!.n);
  const until = async (what: string, ok: () => boolean | Promise<boolean>, log: () => string): Promise<void> => {
    for (const deadline = Date.now() + 60_000; !(await ok()); await new Promise((r) => setTimeout(r, 100))) {
      assert.ok(Date.now() < deadline, `${what}; log so far:\n${log()}`);
    }
  };

  // A worker with --no-sweep leaves stale workspaces alone even with AUTO_RETRAIN at its default.
  const worker = launch(['train-worker', '--concurrency', '1', '--no-sweep'], { AUTO_RETRAIN: '' });
  try {
    await until('the worker did not start', () => worker.log().includes('training worker'), worker.log);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(await count('training_jobs'), 0, 'the worker queued nothing');

    // store-admin with AUTO_RETRAIN at its default queues them at once, and the worker trains them.
    const sweeper = launch(['store-admin'], { AUTO_RETRAIN: '', AUTO_RETRAIN_ALL_ENABLED: '' });
    await until('store-admin did not queue the stale workspaces', () => /\[AUTO-RETRAIN\] queued 3 workspace\(s\)/.test(sweeper.log()), sweeper.log);
    assert.match(sweeper.log(), /auto-retrain-all off: set AUTO_RETRAIN_ALL_ENABLED=true/);
    await until('the queued workspaces were not trained', async () => (await count('models')) === 3, worker.log);
    sweeper.child.kill('SIGTERM');
    assert.equal(await sweeper.exited, 0, sweeper.log());

    // The seeds' settings on store-admin: no sweep, retrain-all in batches on the Quartz schedule.
    await s.store.pool.query('delete from models');
    const admin = launch(['store-admin'], {
      AUTO_RETRAIN: 'false', AUTO_RETRAIN_ALL_ENABLED: 'true', AUTO_RETRAIN_ALL_CRON_SCHEDULE: '*/2 * * * * ?', BATCH_RETRAIN_ALL_SIZE: '2',
      WAIT_TIME_BETWEEN_BATCH_RETRAIN_IN_SECONDS_FOR_RETRAIN_ALL: '0', WAIT_TIME_BETWEEN_TRAININGS_FOR_RETRAIN_ALL: '0',
    });
    await until('no retrain-all summary in the store-admin log', () => admin.log().includes('[RETRAIN-ALL-SUMMARY]'), admin.log);
    assert.match(admin.log(), /\[AUTO-RETRAIN\] off \(AUTO_RETRAIN=false\)/);
    assert.match(admin.log(), /\[RETRAIN-ALL-SUMMARY\] Affected workspaces found: 3, Retrained Total: 3, Failed: 0/);
    admin.child.kill('SIGTERM');
    assert.equal(await admin.exited, 0, admin.log());
    assert.equal(await count('models'), 3);
  } finally {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
});

test('retrain-all stopped by SIGINT or SIGTERM prints its summary, exits 130 / 143, and leaves no training counted against a workspace', { timeout: 120_000 }, async () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    await s.store.pool.query('delete from models');
    await s.store.pool.query('delete from training_jobs');
    const run = launch(['retrain-all', '--workers', '1', '--json'], { BATCH_RETRAIN_ALL_SIZE: '1', WAIT_TIME_BETWEEN_TRAININGS_FOR_RETRAIN_ALL: '30' });
    for (const deadline = Date.now() + 60_000; !/Affected workspaces found: 3/.test(run.stderr()); await new Promise((r) => setTimeout(r, 50))) {
      assert.ok(Date.now() < deadline, `no start: ${run.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 500)); // into the 30 s wait after the first submission
    run.child.kill(signal);
    assert.equal(await run.exited, code, run.stderr());
    assert.match(run.stderr(), /\[RETRAIN-ALL-SUMMARY\] Affected workspaces found: 3, Retrained Total: [01]\b/, signal);
    const summary = JSON.parse(run.stdout()) as { affected: number; complete: boolean };
    assert.deepEqual([summary.affected, summary.complete], [3, false], signal);
    const held = await s.store.pool.query('select 1 from training_jobs where attempts > 0 and locked_until > clock_timestamp()');
    assert.equal(held.rowCount, 0, `${signal}: no job left claimed by the stopped run`);
  }
});

test('retrain-all settings: a wait a timer cannot hold is refused, and a bad batch size is named as a count', async () => {
  const wait = await astore(['retrain-all', '--workers', '0'], { WAIT_TIME_BETWEEN_BATCH_RETRAIN_IN_SECONDS_FOR_RETRAIN_ALL: '2200000' });
  assert.equal(wait.code, 2, wait.stderr);
  assert.match(wait.stderr, /WAIT_TIME_BETWEEN_BATCH_RETRAIN_IN_SECONDS_FOR_RETRAIN_ALL="2200000" is not a number of seconds up to 86400/);
  const batch = await astore(['retrain-all', '--workers', '0'], { BATCH_RETRAIN_ALL_SIZE: 'abc' });
  assert.equal(batch.code, 2, batch.stderr);
  assert.match(batch.stderr, /BATCH_RETRAIN_ALL_SIZE="abc" is not a whole number of workspaces/);
});
