/**
 * A model past the size limit fails its training for good, at once: it would fail the same way on
 * every attempt, and one that large could be stored but not read back by /message.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Trainer } from '../../src/training/index.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

let s: TestStore;
before(async () => { s = await startTestStore(); });
after(async () => { await s.close(); });

test('a model over the size limit leaves the workspace Failed after one attempt, saying why', async () => {
  const t = await s.tenant('model-size');
  const headers = { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' };
  const res = await fetch(`${t.serviceUrl}/v1/workspaces?version=2021-11-27`, {
    method: 'POST', headers,
    body: JSON.stringify({ name: 'big', intents: [
      { intent: 'hello', examples: [{ text: 'hi there' }, { text: 'good morning' }] },
      { intent: 'bye', examples: [{ text: 'see you later' }, { text: 'goodbye' }] },
    ] }),
  });
  const id = ((await res.json()) as { workspace_id: string }).workspace_id;
  await s.store.pool.query('insert into training_jobs (workspace_id) values ($1) on conflict do nothing', [id]);
  const outcomes: boolean[] = [];
  const worker = new Trainer(s.store.pool, { concurrency: 1, pollMs: 20, sweepMs: 0, maxModelBytes: 1000, onTrained: (_id, ok) => outcomes.push(ok) });
  worker.start();
  try {
    for (const deadline = Date.now() + 30_000; outcomes.length === 0; await new Promise((r) => setTimeout(r, 20))) {
      assert.ok(Date.now() < deadline, 'the job was not attempted');
    }
  } finally {
    await worker.stop();
  }
  assert.deepEqual(outcomes, [false]);
  assert.equal((await s.store.pool.query('select 1 from training_jobs where workspace_id = $1', [id])).rowCount, 0, 'not queued for another attempt');
  assert.equal((await s.store.pool.query('select 1 from models where workspace_id = $1', [id])).rowCount, 0, 'nothing stored');
  const ws = (await (await fetch(`${t.serviceUrl}/v1/workspaces/${id}?version=2021-11-27`, { headers })).json()) as { status: string; status_errors: Array<{ message: string }> };
  assert.equal(ws.status, 'Failed');
  assert.match(ws.status_errors[0]!.message, /The trained model is [\d.]+ MiB; the store keeps models up to 0\.0 MiB\. Split the workspace/);
});
