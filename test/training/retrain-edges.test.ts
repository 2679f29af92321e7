/**
 * Retrain-all's counting on a real store: a workspace whose earlier training failed is retried
 * by retrain-all and counted by what that retry does, not as failed the moment the run starts;
 * workspaces a restore queued before the run are trained once, not again by the run.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { enqueue, retrainAll, Trainer } from '../../src/training/index.ts';
import { startTestStore, type TestStore } from '../support/store.ts';
import { workspaceCalls } from './workspaces.ts';

const quick = { batchSize: 10, waitBetweenBatchesS: 0, waitBetweenTrainingsS: 0 };

describe('retrain-all counting', () => {
  let s: TestStore;
  let base: string;
  let auth: Record<string, string>;

  const { createWorkspace, status } = workspaceCalls(() => base, () => auth);

  before(async () => {
    s = await startTestStore(); // the API alone: no trainer runs unless a test starts one
    const t = await s.tenant('edges');
    base = t.serviceUrl;
    auth = { authorization: `Bearer ${t.token}` };
  });
  after(async () => { await s.close(); });
  beforeEach(async () => {
    await s.store.pool.query('delete from workspaces');
  });

  test('a workspace whose training failed before the run is retried and counted as retrained, not as failed at once', async () => {
    const earlier = await createWorkspace('failed-earlier');
    // Its last training gave up before this run (say a worker was killed three times on it);
    // the failure message tells the operator to retrain it, which is what retrain-all is for.
    await s.store.pool.query(`insert into training_failures (workspace_id, failed_version, message, failed_at)
      select id, training_version, 'training did not finish in 3 attempts', now() - interval '1 hour' from workspaces where id = $1`, [earlier]);
    assert.equal(await status(earlier), 'Failed');
    const lines: string[] = [];
    const run = retrainAll(s.store.pool, { ...quick, timeoutS: 60, log: (l) => lines.push(l) });
    await new Promise((r) => setTimeout(r, 300)); // submitted; the worker starts after that, as a train-worker would
    const worker = new Trainer(s.store.pool, { concurrency: 1, pollMs: 50, sweepMs: 0 });
    worker.start();
    try {
      const summary = await run;
      assert.deepEqual({ ...summary, durationS: 0 }, { affected: 1, retrained: 1, failed: 0, deleted: 0, complete: true, durationS: 0 }, lines.join('\n'));
      assert.match(lines.at(-1)!, /Affected workspaces found: 1, Retrained Total: 1, Failed: 0/);
    } finally {
      await worker.stop();
    }
    assert.equal(await status(earlier), 'Available');
  });

  test('a workspace whose training fails during the run is counted as failed', async () => {
    const ok = await createWorkspace('fine');
    const bad = await createWorkspace('bad');
    // Failed before the run too, and its job's worker has died on every attempt: the next claim,
    // during this run, gives up on it and records a new failure.
    await s.store.pool.query(`insert into training_failures (workspace_id, failed_version, message, failed_at)
      select id, training_version, 'boom', now() - interval '1 hour' from workspaces where id = $1`, [bad]);
    await s.store.pool.query(`insert into training_jobs (workspace_id, attempts, locked_by, locked_until)
      values ($1, 3, 'dead-worker', clock_timestamp() - interval '1 second')`, [bad]);
    const run = retrainAll(s.store.pool, { ...quick, timeoutS: 60, log: () => {} });
    await new Promise((r) => setTimeout(r, 300));
    const worker = new Trainer(s.store.pool, { concurrency: 1, pollMs: 50, sweepMs: 0 });
    worker.start();
    try {
      const summary = await run;
      assert.deepEqual([summary.affected, summary.retrained, summary.failed, summary.complete], [2, 1, 1, true]);
    } finally {
      await worker.stop();
    }
    assert.equal(await status(ok), 'Available');
    assert.equal(await status(bad), 'Failed');
  });

  test('workspaces queued before the run (as a restore leaves them) are trained once, and nothing is left queued', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await createWorkspace(`restored-${i}`));
    // As after a restore: no models, every workspace queued.
    await s.store.pool.query('delete from training_jobs');
    await s.store.pool.query('delete from models');
    await enqueue(s.store.pool, ids);
    const trainings = new Map<string, number>();
    const worker = new Trainer(s.store.pool, {
      concurrency: 1, pollMs: 20, sweepMs: 0, onTrained: (id) => trainings.set(id, (trainings.get(id) ?? 0) + 1),
    });
    worker.start();
    try {
      const lines: string[] = [];
      // Batches of one: each waits until the queue is down to one, by which time the workspaces
      // ahead were trained from the restore's jobs. The run submitted them again all the same.
      const summary = await retrainAll(s.store.pool, { batchSize: 1, waitBetweenBatchesS: 0, waitBetweenTrainingsS: 0, timeoutS: 60, log: (l) => lines.push(l) });
      assert.deepEqual({ ...summary, durationS: 0 }, { affected: 6, retrained: 6, failed: 0, deleted: 0, complete: true, durationS: 0 }, lines.join('\n'));
      await new Promise((r) => setTimeout(r, 500)); // a job submitted twice would be claimed by now
    } finally {
      await worker.stop();
    }
    assert.deepEqual(ids.map((id) => trainings.get(id) ?? 0), [1, 1, 1, 1, 1, 1], 'each workspace trained once');
    const { rowCount } = await s.store.pool.query('select 1 from training_jobs');
    assert.equal(rowCount, 0, 'nothing left queued');
  });
});
