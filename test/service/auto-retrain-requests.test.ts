/**
 * AUTO_RETRAIN's "open the skill": reading or messaging a workspace without a current model
 * queues its training, but not when training its current data already failed; each re-queue
 * cost up to three more failing attempts, on every GET and every /message. A data change still
 * queues it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createService, type Service } from '../../src/service/index.ts';
import { v1Request } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

let s: TestStore;
let svc: Service;
let base: string;
let auth: Record<string, string>;

before(async () => {
  s = await startTestStore();
  // No trainer: a queued job stays in training_jobs for the test to see.
  svc = createService(s.store, { env: {}, trainer: false, debounceMs: 0 });
  const url = await svc.app.listen({ host: '127.0.0.1', port: 0 });
  const t = await s.tenant('opener');
  base = `${url}/instances/${t.instanceId}/api`;
  auth = { authorization: `Bearer ${t.token}` };
});
after(async () => { await svc.close(); await s.close(); });

const api = (method: string, path: string, body?: unknown): Promise<any> => v1Request(base, auth, method, path, body);

const queued = async (id: string): Promise<boolean> =>
  (await s.store.pool.query('select 1 from training_jobs where workspace_id = $1', [id])).rowCount === 1;

async function waitQueued(id: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await queued(id))) {
    if (Date.now() > deadline) assert.fail(`workspace ${id} was not queued`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A workspace with training data and no model, its creation's training request already taken off the queue. */
async function untrained(name: string): Promise<string> {
  const { workspace_id: id } = await api('POST', '/v1/workspaces', { name, intents: [{ intent: 'hello', examples: [{ text: 'hi there' }] }] });
  await waitQueued(id);
  await s.store.pool.query('delete from training_jobs where workspace_id = $1', [id]);
  return id;
}

test('a failed workspace is not queued again when read or messaged; a change still queues it', async () => {
  const failed = await untrained('failed');
  await s.store.pool.query(`insert into training_failures (workspace_id, failed_version, message)
    select id, training_version, 'boom' from workspaces where id = $1`, [failed]);
  assert.equal((await api('GET', `/v1/workspaces/${failed}`)).status, 'Failed');
  await api('POST', `/v1/workspaces/${failed}/message`, { input: { text: 'hi' } });

  // The control: the same requests for a stale workspace that has not failed queue it. Both
  // requests are fire-and-forget, so once the control's job is there the others have had their turn.
  const stale = await untrained('stale');
  await api('GET', `/v1/workspaces/${stale}`);
  await waitQueued(stale);
  await s.store.pool.query('delete from training_jobs where workspace_id = $1', [stale]);
  await api('POST', `/v1/workspaces/${stale}/message`, { input: { text: 'hi' } });
  await waitQueued(stale);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await queued(failed), false, 'the failed workspace was queued again');

  await api('POST', `/v1/workspaces/${failed}/intents`, { intent: 'bye', examples: [{ text: 'goodbye' }] });
  await waitQueued(failed);
});
