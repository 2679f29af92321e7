/**
 * The training queue and retrain-all at their edges, on a real store: workspaces deleted or
 * changed while work on them is under way, workers that die or lose their lease, and a
 * retrain-all with no worker to do the training.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { enqueue, retrainAll, retrainOptionsFromEnv, retrainStatus, Trainer } from '../../src/training/index.ts';
import { saveModel } from '../../src/training/service/data.ts';
import { claim, fail, finish, stillHeld } from '../../src/training/service/queue.ts';
import { startTestStore, type TestStore } from '../support/store.ts';
import { slowIntents } from '../support/training.ts';
import { v1Request } from '../support/api.ts';
import { workspaceCalls } from './workspaces.ts';

const quick = { batchSize: 1, waitBetweenBatchesS: 0, waitBetweenTrainingsS: 0 };

describe('training queue and retrain-all edges', () => {
  let s: TestStore;
  let base: string;
  let auth: Record<string, string>;

  const { createWorkspace, status } = workspaceCalls(() => base, () => auth);
  /** A workspace that takes a while to train (see slowIntents). */
  const createLongWorkspace = async (name: string, n: number, m: number): Promise<string> =>
    (await v1Request(base, auth, 'POST', '/v1/workspaces', { name, intents: slowIntents(n, m) })).workspace_id as string;
  const until = async (what: string, ok: () => Promise<boolean>, ms = 30_000): Promise<void> => {
    for (const deadline = Date.now() + ms; !(await ok()); await new Promise((r) => setTimeout(r, 20))) {
      assert.ok(Date.now() < deadline, what);
    }
  };
  const warnings = (): { lines: string[]; logger: { info(): void; warn(o: object, m: string): void; error(o: object, m: string): void } } => {
    const lines: string[] = [];
    const record = (o: object, m: string): void => { lines.push(`${m} ${JSON.stringify(o)}`); };
    return { lines, logger: { info: () => {}, warn: record, error: record } };
  };
  const jobs = async (id: string) => (await s.store.pool.query<{ attempts: number; locked_by: string | null }>(
    'select attempts, locked_by from training_jobs where workspace_id = $1', [id])).rows;

  before(async () => {
    s = await startTestStore(); // the API alone: no trainer runs unless a test starts one
    const t = await s.tenant('queue');
    base = `${t.serviceUrl}`;
    auth = { authorization: `Bearer ${t.token}` };
  });
  after(async () => { await s.close(); });
  beforeEach(async () => {
    await s.store.pool.query('delete from workspaces');
  });

  test('retrain-all settles when an affected workspace is deleted during the run', async () => {
    const keep = await createWorkspace('keep');
    const gone = await createWorkspace('gone');
    const lines: string[] = [];
    const run = retrainAll(s.store.pool, { ...quick, timeoutS: 60, log: (l) => lines.push(l) });
    await new Promise((r) => setTimeout(r, 300));
    await s.store.pool.query('delete from workspaces where id = $1', [gone]);
    const worker = new Trainer(s.store.pool, { concurrency: 1, pollMs: 50, sweepMs: 0 });
    worker.start();
    const summary = await run;
    await worker.stop();
    assert.deepEqual({ ...summary, durationS: 0 }, { affected: 2, retrained: 1, failed: 0, deleted: 1, complete: true, durationS: 0 });
    assert.ok(summary.durationS < 30, `took ${summary.durationS} s`);
    assert.match(lines.at(-1)!, /Retrained Total: 1, Failed: 0, Deleted meanwhile: 1/);
    assert.equal(await status(keep), 'Available');
  });

  test('with no worker running, retrain-all gives up after the timeout instead of waiting forever', async () => {
    for (let i = 0; i < 4; i++) await createWorkspace(`w${i}`);
    const lines: string[] = [];
    const summary = await retrainAll(s.store.pool, { ...quick, timeoutS: 1, log: (l) => lines.push(l) });
    assert.equal(summary.complete, false);
    assert.equal(summary.retrained, 0);
    assert.ok(lines.some((l) => l.includes('no training finished in 1 s') && l.includes('are training workers running?')), lines.join('\n'));
  });

  test('a model current by version but with a stale data hash counts as retrained only once retrained', async () => {
    const id = await createWorkspace('hash');
    const worker = new Trainer(s.store.pool, { concurrency: 1, pollMs: 50, sweepMs: 0 });
    worker.start();
    assert.equal((await retrainAll(s.store.pool, { ...quick, timeoutS: 60, log: () => {} })).retrained, 1);
    await worker.stop();
    await s.store.pool.query(`update models set data_hash = 'not-this-data' where workspace_id = $1`, [id]);
    // `retrain status` counts it as retrain-all will, not as done.
    const st = await retrainStatus(s.store.pool);
    assert.deepEqual([st.workspaces - st.done, st.affected], [1, 1]);
    const stale = await retrainAll(s.store.pool, { ...quick, timeoutS: 1, log: () => {} });
    assert.deepEqual([stale.affected, stale.retrained, stale.complete], [1, 0, false]);
  });

  test("a Trainer's training loops claim jobs as distinct workers", async () => {
    const ids = [await createWorkspace('loop-a'), await createWorkspace('loop-b')];
    // Both loops train, then wait to store their models: the jobs stay claimed meanwhile.
    const blocker = await s.store.pool.connect();
    await blocker.query('begin');
    await blocker.query('lock table models in exclusive mode');
    const worker = new Trainer(s.store.pool, { concurrency: 2, pollMs: 20, sweepMs: 0 });
    try {
      await enqueue(s.store.pool, ids);
      worker.start();
      let holders: string[] = [];
      for (const deadline = Date.now() + 30_000; holders.length < 2; await new Promise((r) => setTimeout(r, 20))) {
        assert.ok(Date.now() < deadline, `both jobs claimed: ${JSON.stringify(holders)}`);
        holders = (await s.store.pool.query<{ locked_by: string }>(
          'select locked_by from training_jobs where locked_by is not null')).rows.map((r) => r.locked_by);
      }
      assert.equal(new Set(holders).size, 2, `one worker id for two loops: ${holders.join(', ')}`);
      for (const h of holders) assert.ok(h.startsWith(`${worker.workerId}/`), h);
    } finally {
      await blocker.query('rollback');
      blocker.release();
      await worker.stop();
    }
    for (const id of ids) assert.equal(await status(id), 'Available');
  });

  test('stop() past its grace period hands a training under way back, the attempt not counted', { timeout: 120_000 }, async () => {
    const id = await createLongWorkspace('long', 80, 40); // trains for a second or more
    const worker = new Trainer(s.store.pool, { concurrency: 1, pollMs: 20, sweepMs: 0 });
    await enqueue(s.store.pool, [id]);
    worker.start();
    for (const deadline = Date.now() + 30_000; (await jobs(id))[0]?.locked_by == null; await new Promise((r) => setTimeout(r, 10))) {
      assert.ok(Date.now() < deadline, 'the job was never claimed');
    }
    await worker.stop({ graceMs: 0 });
    assert.deepEqual(await jobs(id), [{ attempts: 0, locked_by: null }]);
    assert.equal(await status(id), 'Training');
    const next = new Trainer(s.store.pool, { concurrency: 1, pollMs: 20, sweepMs: 0 });
    next.start();
    try {
      for (const deadline = Date.now() + 60_000; await status(id) !== 'Available'; await new Promise((r) => setTimeout(r, 50))) {
        assert.ok(Date.now() < deadline, 'the handed-back job was not trained by the next worker');
      }
    } finally {
      await next.stop();
    }
  });

  /**
   * A workspace deleted while it trains: the training is cut short (its thread terminated) once a
   * lease renewal finds the job gone, and the job queued behind it is trained at once. Before,
   * the worker trained on to the end (a large workspace: most of a minute) and threw the model away.
   */
  test('deleting a workspace cuts its training under way short, and the next job is trained', { timeout: 180_000 }, async () => {
    const { lines, logger } = warnings();
    const long = await createLongWorkspace('deleted-while-training', 600, 20);
    const worker = new Trainer(s.store.pool, { concurrency: 1, pollMs: 20, sweepMs: 0, leaseMs: 1500, logger });
    await enqueue(s.store.pool, [long]);
    worker.start();
    try {
      await until('the job was never claimed', async () => (await jobs(long))[0]?.locked_by != null);
      await new Promise((r) => setTimeout(r, 1000)); // well into its training
      await s.store.pool.query('delete from workspaces where id = $1', [long]);
      const next = await createWorkspace('queued-behind');
      await enqueue(s.store.pool, [next]);
      worker.poke();
      // Ample for a renewal (every 0.5 s) and a two-intent training; what is left of the deleted
      // one's training takes more than twice as long.
      await until('the job behind the deleted workspace waited for its training to end', async () => await status(next) === 'Available', 10_000);
      assert.ok(lines.some((l) => l.startsWith('training stopped') && l.includes(long)), lines.join('\n'));
    } finally {
      await worker.stop({ graceMs: 0 });
    }
  });

  /**
   * A worker that lost its lease while alive (the database out for longer than the lease) and
   * another that took the job over: the first stops its now useless training and takes its
   * attempt back. Before, every takeover counted, and the fourth claim recorded the workspace as
   * Failed, its workers supposedly "killed or out of memory". Here two trainers take the job from
   * each other three times, each takeover forced by ending the holder's lease by hand.
   */
  test('takeovers of a job whose worker lived do not count as attempts, and its training stops', { timeout: 180_000 }, async () => {
    const { lines, logger } = warnings();
    const id = await createLongWorkspace('taken-over', 300, 25);
    const options = { concurrency: 1, pollMs: 20, sweepMs: 0, leaseMs: 1500, maxAttempts: 3, logger };
    const trainers = [new Trainer(s.store.pool, options), new Trainer(s.store.pool, options)];
    await enqueue(s.store.pool, [id]);
    for (const t of trainers) t.start();
    try {
      let holder: string | null = null;
      await until('the job was never claimed', async () => (holder = (await jobs(id))[0]?.locked_by ?? null) !== null);
      for (let takeover = 1; takeover <= 3; takeover++) {
        const before = holder;
        await until(`takeover ${takeover}: no other worker claimed the job`, async () => {
          await s.store.pool.query(`update training_jobs set locked_until = clock_timestamp() - interval '1 millisecond' where workspace_id = $1 and locked_by = $2`, [id, before]);
          await new Promise((r) => setTimeout(r, 200));
          const [job] = await jobs(id);
          assert.ok(job, `takeover ${takeover}: the job is gone, the workspace ${await status(id)}`);
          holder = job.locked_by;
          return holder !== null && holder !== before;
        });
        // The previous holder's next renewal fails: it stops and takes its attempt back.
        await until(`takeover ${takeover}: the attempt count stayed at ${JSON.stringify(await jobs(id))}`, async () => (await jobs(id))[0]?.attempts === 1, 10_000);
      }
      assert.equal(await status(id), 'Training');
      assert.equal(lines.filter((l) => l.startsWith('training stopped') && l.includes(id)).length, 3, lines.join('\n'));
    } finally {
      await Promise.all(trainers.map((t) => t.stop({ graceMs: 0 })));
    }
  });

  test('a job whose worker died on every attempt is recorded as failed, not handed out again', async () => {
    const id = await createWorkspace('crasher');
    await s.store.pool.query(`insert into training_jobs (workspace_id, attempts, locked_by, locked_until)
      values ($1, 3, 'dead-worker', clock_timestamp() - interval '1 second')`, [id]);
    assert.equal(await claim(s.store.pool, 'next-worker', 1000, 3), undefined);
    assert.deepEqual(await jobs(id), []);
    assert.equal(await status(id), 'Failed');
    const f = await s.store.pool.query<{ message: string }>('select message from training_failures where workspace_id = $1', [id]);
    assert.match(f.rows[0]!.message, /did not finish in 3 attempts.*killed or out of memory/);
    // Below the limit the job is retried.
    await s.store.pool.query(`insert into training_jobs (workspace_id, attempts, locked_by, locked_until)
      values ($1, 1, 'dead-worker', clock_timestamp() - interval '1 second')`, [id]);
    assert.equal((await claim(s.store.pool, 'next-worker', 1000, 3))?.attempts, 2);
  });

  test('a last failed attempt does not drop a job re-requested by a change meanwhile', async () => {
    const id = await createWorkspace('changed');
    await enqueue(s.store.pool, [id]);
    await s.store.pool.query('update training_jobs set attempts = 2');
    const job = (await claim(s.store.pool, 'w1', 60_000, 3))!;
    assert.equal(job.attempts, 3);
    await enqueue(s.store.pool, [id], { changed: true });
    assert.equal(await fail(s.store.pool, 'w1', job, 'boom', 3), false, 'not given up: the new data gets its own attempts');
    assert.deepEqual(await jobs(id), [{ attempts: 0, locked_by: null }]);
    // Without a change, the last attempt gives up.
    const again = (await claim(s.store.pool, 'w1', 60_000, 3))!;
    await s.store.pool.query('update training_jobs set attempts = 3');
    assert.equal(await fail(s.store.pool, 'w1', { ...again, attempts: 3 }, 'boom', 3), true);
    assert.deepEqual(await jobs(id), []);
  });

  test('a worker whose lease ran out and was taken over does not overwrite the newer model', async () => {
    const id = await createWorkspace('lease');
    await enqueue(s.store.pool, [id]);
    const a = (await claim(s.store.pool, 'worker-a', 1, 3))!;
    await new Promise((r) => setTimeout(r, 20)); // a's lease runs out (its renewals failed)
    await s.store.pool.query(`update workspaces set training_version = training_version + 1 where id = $1`, [id]);
    const b = (await claim(s.store.pool, 'worker-b', 60_000, 3))!;
    assert.ok(b, 'b takes the expired job over');
    const version = (await s.store.pool.query<{ v: string }>('select training_version::text as v from workspaces where id = $1', [id])).rows[0]!.v;
    const model = (v: string) => ({ model: Buffer.from(`model ${v}`), dataHash: `hash ${v}`, algorithmVersion: 'test', trainMs: 1 });
    assert.equal(await stillHeld(s.store.pool, 'worker-b', b), true);
    assert.equal(await stillHeld(s.store.pool, 'worker-a', a), false, 'a no longer holds the job, so it saves nothing');
    await saveModel(s.store.pool, id, version, model(version));
    await finish(s.store.pool, 'worker-b', b);
    // Even saved directly, an older version does not replace a newer model.
    await saveModel(s.store.pool, id, String(Number(version) - 1), model('old'));
    const m = await s.store.pool.query<{ data_hash: string }>('select data_hash from models where workspace_id = $1', [id]);
    assert.equal(m.rows[0]!.data_hash, `hash ${version}`);
  });

  test('enqueueing a workspace that a concurrent transaction deletes skips it instead of failing', async () => {
    const id = await createWorkspace('racing');
    const deleter = await s.store.pool.connect();
    try {
      await deleter.query('begin');
      await deleter.query('delete from workspaces where id = $1', [id]);
      const queued = enqueue(s.store.pool, [id]); // waits for the deleter's row lock
      await new Promise((r) => setTimeout(r, 200));
      await deleter.query('commit');
      assert.equal(await queued, 0);
    } finally {
      deleter.release();
    }
  });

  test('the seeds\' retrain variables: blank means default, bad values are refused with the variable named', () => {
    assert.deepEqual(retrainOptionsFromEnv({ BATCH_RETRAIN_ALL_SIZE: ' ', WAIT_TIME_BETWEEN_TRAININGS_FOR_RETRAIN_ALL: '1' }),
      { batchSize: 100, waitBetweenBatchesS: 0, waitBetweenTrainingsS: 1 });
    // The seeds' 60 − BATCH_RETRAIN_ALL_SIZE goes negative with many replicas: no wait.
    assert.equal(retrainOptionsFromEnv({ BATCH_RETRAIN_ALL_SIZE: '80', WAIT_TIME_BETWEEN_BATCH_RETRAIN_IN_SECONDS_FOR_RETRAIN_ALL: '-20' }).waitBetweenBatchesS, 0);
    for (const [name, value] of [['BATCH_RETRAIN_ALL_SIZE', '0'], ['BATCH_RETRAIN_ALL_SIZE', '2.5'], ['BATCH_RETRAIN_ALL_SIZE', 'ten'], ['WAIT_TIME_BETWEEN_TRAININGS_FOR_RETRAIN_ALL', '1s']] as const) {
      assert.throws(() => retrainOptionsFromEnv({ [name]: value }), (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID' && e.message.includes(name), `${name}=${value}`);
    }
  });
});
