/**
 * The context a client sends back is checked where the API defines its types (OAS `Context`:
 * conversation_id a string, metadata an object whose user_id is a string): a wrong type is a 400
 * naming the field. It was taken as it came: a number as conversation_id was echoed back, and a
 * string as metadata was spread into the response's metadata one character per key.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageService } from '../../src/message/index.ts';
import { ALGORITHM_VERSION } from '../../src/training/index.ts';
import { v1Request } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

let s: TestStore;
let base: string;
let auth: Record<string, string>;
let message: string;

before(async () => {
  const messages = new MessageService({ algorithmVersion: ALGORITHM_VERSION });
  s = await startTestStore({ hooks: { routes: (r) => messages.register(r) } });
  const t = await s.tenant('context');
  base = t.serviceUrl;
  auth = { authorization: `Bearer ${t.token}` };
  const { workspace_id: id } = await v1Request(base, auth, 'POST', '/v1/workspaces', {
    name: 'context', dialog_nodes: [{ dialog_node: 'hours', conditions: 'true', output: { generic: [{ response_type: 'text', values: [{ text: 'We open at 8.' }] }] } }],
  });
  message = `${base}/v1/workspaces/${id}/message?version=2021-11-27`;
});
after(async () => { await s.close(); });

async function post(body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(message, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

test('a context whose conversation_id or metadata has the wrong type is a 400 naming the field', async () => {
  for (const [context, path] of [
    [{ conversation_id: 42 }, '/context/conversation_id'],
    [{ metadata: 'abc' }, '/context/metadata'],
    [{ metadata: { user_id: 7 } }, '/context/metadata/user_id'],
  ] as const) {
    const r = await post({ input: { text: 'hi' }, context });
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.deepEqual(r.json.errors.map((e: { path: string }) => e.path), [path]);
  }
});

test('a well-typed context is answered and carried on', async () => {
  const r = await post({ input: { text: 'hi' }, context: { conversation_id: 'c-1', metadata: { user_id: 'u-1', deployment: 'web' }, size: 'large' } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.context.conversation_id, 'c-1');
  assert.deepEqual(r.json.context.metadata, { user_id: 'u-1', deployment: 'web' });
  assert.equal(r.json.context.size, 'large');
  assert.equal(r.json.user_id, 'u-1');
});
