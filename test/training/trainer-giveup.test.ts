/**
 * A job whose last attempt fails before the training data could be read (a statement timeout):
 * giving up must still record the failure, or the job is gone and the workspace says Training
 * with nothing training it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { Trainer } from '../../src/training/index.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

let s: TestStore;
before(async () => { s = await startTestStore(); });
after(async () => { await s.close(); });

test('the last attempt failing before the data is read leaves the workspace Failed, not Training with no job', async () => {
  const t = await s.tenant('giveup');
  const res = await fetch(`${t.serviceUrl}/v1/workspaces?version=2021-11-27`, {
    method: 'POST', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'busy', intents: [{ intent: 'hello', examples: [{ text: 'hi there' }] }] }),
  });
  const id = ((await res.json()) as { workspace_id: string }).workspace_id;
  // Two attempts already failed; the third is the last.
  await s.store.pool.query('insert into training_jobs (workspace_id, attempts) values ($1, 2)', [id]);
  // The pool hands out no dedicated client (as a pool exhausted by API requests times out), while
  // single queries still get through.
  const busy = new Proxy(s.store.pool, {
    get(target, prop, receiver) {
      // Not an unreachable database (then the job is handed back uncounted) but a statement the server cancelled.
      if (prop === 'connect') return () => Promise.reject(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }));
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as pg.Pool;
  const outcomes: boolean[] = [];
  const worker = new Trainer(busy, { concurrency: 1, pollMs: 20, sweepMs: 0, onTrained: (_id, ok) => outcomes.push(ok) });
  worker.start();
  try {
    const deadline = Date.now() + 10_000;
    while (outcomes.length === 0) {
      if (Date.now() > deadline) assert.fail('the job was not attempted');
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await worker.stop();
  }
  const jobs = (await s.store.pool.query('select 1 from training_jobs where workspace_id = $1', [id])).rowCount;
  const failure = await s.store.pool.query<{ message: string }>('select message from training_failures where workspace_id = $1', [id]);
  const status = ((await (await fetch(`${t.serviceUrl}/v1/workspaces/${id}?version=2021-11-27`, { headers: { authorization: `Bearer ${t.token}` } })).json()) as { status: string }).status;
  assert.equal(jobs, 0, 'given up after the last attempt');
  assert.equal(status, 'Failed', 'a workspace with no job and no model must not say Training');
  assert.match(failure.rows[0]!.message, /canceling statement due to statement timeout/);

  // Queued again (as retrain-all queues a failed workspace): Training, and the old failure is not
  // shown beside it; a client polling for a result keeps polling.
  const read = async (): Promise<{ status: string; status_errors?: Array<{ message: string }> }> =>
    (await (await fetch(`${t.serviceUrl}/v1/workspaces/${id}?version=2021-11-27`, { headers: { authorization: `Bearer ${t.token}` } })).json()) as never;
  await s.store.pool.query('insert into training_jobs (workspace_id) values ($1)', [id]);
  const queued = await read();
  assert.equal(queued.status, 'Training');
  assert.equal(queued.status_errors, undefined);
  await s.store.pool.query('delete from training_jobs where workspace_id = $1', [id]);
  const failed = await read();
  assert.equal(failed.status, 'Failed');
  assert.match(failed.status_errors?.[0]?.message ?? '', /statement timeout/);
});
