/**
 * A reply built from several queries shows one moment of the data. The export read its elements
 * with parallel queries on separate connections, so a replace or delete committing in between
 * gave 200 with half a workspace (intents but no dialog nodes, or nothing at all), and /message
 * compiled a dialog from such a half and answered from it. Made deterministic here: a test
 * transaction locks dialog_nodes, so the read's dialog-node query waits; the test then deletes
 * the data in that transaction and commits while the read is half way.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { MessageService } from '../../src/message/index.ts';
import { ALGORITHM_VERSION } from '../../src/training/index.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

let s: TestStore;
before(async () => {
  const messages = new MessageService({ algorithmVersion: ALGORITHM_VERSION });
  s = await startTestStore({ hooks: { routes: (r) => messages.register(r) } });
});
after(async () => { await s.close(); });

const V = 'version=2021-11-27';
function call(t: { serviceUrl: string; token: string }, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${t.serviceUrl}/v1${path}${path.includes('?') ? '&' : '?'}${V}`, {
    method, headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Runs `request` while `dialog_nodes` is locked; once it waits on that lock, `change` runs in the locking transaction, which then commits. */
async function halfWay(request: () => Promise<Response>, change: (db: pg.PoolClient) => Promise<unknown>): Promise<Response> {
  const db = await s.store.pool.connect();
  try {
    await db.query('begin');
    await db.query('lock table dialog_nodes in access exclusive mode');
    const pending = request();
    for (let i = 0; ; i++) {
      const r = await db.query(`select 1 from pg_locks where relation = 'dialog_nodes'::regclass and not granted`);
      if (r.rowCount) break;
      assert.ok(i < 500, 'the request never reached the dialog nodes');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await change(db);
    await db.query('commit');
    return await pending;
  } finally {
    db.release();
  }
}

async function skill(t: { serviceUrl: string; token: string }): Promise<string> {
  const r = await call(t, 'POST', '/workspaces', {
    name: 'half', intents: [{ intent: 'hello', examples: [{ text: 'hi there' }] }],
    dialog_nodes: [{ dialog_node: 'n', conditions: 'true', output: { text: 'answer' } }],
  });
  assert.equal(r.status, 201);
  return ((await r.json()) as { workspace_id: string }).workspace_id;
}

test('an export racing a replace shows the workspace before or after it, never intents without their dialog', async () => {
  const t = await s.tenant('snap1');
  const id = await skill(t);
  const r = await halfWay(() => call(t, 'GET', `/workspaces/${id}?export=true`), (db) =>
    db.query('delete from dialog_nodes where workspace_id = $1', [id]).then(() => db.query('delete from intents where workspace_id = $1', [id])));
  assert.equal(r.status, 200);
  const body = await r.json() as { intents: unknown[]; dialog_nodes: unknown[] };
  assert.deepEqual([body.intents.length, body.dialog_nodes.length], [1, 1], 'the export shows the data as it was when it began');
});

test('an export racing the workspace\'s delete is the whole workspace or a 404, never an empty 200', async () => {
  const t = await s.tenant('snap2');
  const id = await skill(t);
  const r = await halfWay(() => call(t, 'GET', `/workspaces/${id}?export=true`), (db) => db.query('delete from workspaces where id = $1', [id]));
  const body = await r.json() as { intents?: unknown[]; dialog_nodes?: unknown[] };
  if (r.status === 200) assert.deepEqual([body.intents?.length, body.dialog_nodes?.length], [1, 1]);
  else assert.equal(r.status, 404);
  assert.equal((await call(t, 'GET', `/workspaces/${id}`)).status, 404);
});

test('a message racing the workspace\'s delete is answered from the whole dialog or a 404', async () => {
  const t = await s.tenant('snap3');
  const id = await skill(t);
  const r = await halfWay(() => call(t, 'POST', `/workspaces/${id}/message`, { input: { text: 'hi' } }), (db) => db.query('delete from workspaces where id = $1', [id]));
  const body = await r.text();
  if (r.status === 200) assert.deepEqual((JSON.parse(body) as { output: { generic: Array<{ text: string }> } }).output.generic.map((g) => g.text), ['answer'], body);
  else assert.equal(r.status, 404);
});
