/**
 * A burst of writes to one workspace must not take the whole pool. Each write waits for the
 * workspace's row lock; it used to wait holding a pooled connection, so more writes than the pool
 * has connections left nothing for anyone else, and a read of another workspace hung (503 once
 * the connect timeout ran out). Here the row is held locked from outside while more writes than
 * the pool's ten connections arrive; a read of another workspace must still be answered.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startTestStore, type TestStore } from '../support/store.ts';

let s: TestStore;
before(async () => { s = await startTestStore(); });
after(async () => { await s.close(); });

test('writes queued on a locked workspace leave connections for other requests, then all complete', async () => {
  const t = await s.tenant('burst');
  const call = (method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> =>
    fetch(`${t.serviceUrl}/v1${path}?version=2021-11-27`, {
      method, signal, headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
  const hot = ((await (await call('POST', '/workspaces', { name: 'hot' })).json()) as { workspace_id: string }).workspace_id;
  const other = ((await (await call('POST', '/workspaces', { name: 'other' })).json()) as { workspace_id: string }).workspace_id;

  const holder = new pg.Client({ connectionString: s.db.url });
  await holder.connect();
  try {
    await holder.query('begin');
    await holder.query(`set local search_path = astore, public`);
    await holder.query('select 1 from workspaces where id = $1 for update', [hot]);
    const writes = Array.from({ length: 14 }, (_, i) => call('POST', `/workspaces/${hot}/intents`, { intent: `i${i}` }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const read = await call('GET', `/workspaces/${other}`, undefined, AbortSignal.timeout(5_000));
    assert.equal(read.status, 200, 'another workspace is read while the hot one is locked');
    await holder.query('commit');
    const statuses = await Promise.all(writes.map(async (w) => (await w).status));
    assert.deepEqual(statuses, Array(14).fill(201));
  } finally {
    await holder.end();
  }
});
