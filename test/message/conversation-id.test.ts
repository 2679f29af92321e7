/**
 * context.conversation_id may not contain the characters OAS Context forbids
 * (+ = && || > < ! ( ) { } [ ] ^ " ~ * ? : \ /): such an id is a 400 naming the field. It was
 * accepted and echoed back. The API sets no length bound, so a long id is still answered.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageService } from '../../src/message/index.ts';
import { ALGORITHM_VERSION } from '../../src/training/index.ts';
import { v1Request } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

let s: TestStore;
let message: string;
let auth: Record<string, string>;

before(async () => {
  const messages = new MessageService({ algorithmVersion: ALGORITHM_VERSION });
  s = await startTestStore({ hooks: { routes: (r) => messages.register(r) } });
  const t = await s.tenant('conversation');
  auth = { authorization: `Bearer ${t.token}` };
  const { workspace_id: id } = await v1Request(t.serviceUrl, auth, 'POST', '/v1/workspaces', {
    name: 'conversation', dialog_nodes: [{ dialog_node: 'hi', conditions: 'true', output: { generic: [{ response_type: 'text', values: [{ text: 'Hello.' }] }] } }],
  });
  message = `${t.serviceUrl}/v1/workspaces/${id}/message?version=2021-11-27`;
});
after(async () => { await s.close(); });

async function post(body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(message, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

test('a conversation_id holding a forbidden character or pair is a 400 at /context/conversation_id', async () => {
  const forbidden = ['a/b?c', 'a+b', 'a=b', 'a&&b', 'a||b', 'a>b', 'a<b', 'a!b', 'a(b', 'a)b', 'a{b', 'a}b', 'a[b', 'a]b',
    'a^b', 'a"b', 'a~b', 'a*b', 'a?b', 'a:b', 'a\\b', 'a/b'];
  for (const conversation_id of forbidden) {
    const r = await post({ input: { text: 'hi' }, context: { conversation_id } });
    assert.equal(r.status, 400, `${conversation_id}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.error, 'Invalid Request Body');
    assert.deepEqual(r.json.errors.map((e: { path: string }) => e.path), ['/context/conversation_id'], conversation_id);
    assert.match(r.json.errors[0].message, /^conversation_id must not contain any of \+ = && \|\| > < ! \( \) \{ \} \[ \] \^ " ~ \* \? : \\ \//);
  }
});

test('other conversation ids, a single & or | and a long one included, are answered and echoed', async () => {
  for (const conversation_id of ['c-1_2.3', 'a&b|c', 'ünïcode 会話 id', 'x'.repeat(5000), '6f1c2b3a-0d4e-4f5a-8b6c-7d8e9f0a1b2c']) {
    const r = await post({ input: { text: 'hi' }, context: { conversation_id } });
    assert.equal(r.status, 200, `${conversation_id.slice(0, 20)}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.context.conversation_id, conversation_id);
  }
});

test('more than 500 supplied intents or entities is a 400 naming the field (thousands took seconds of CPU in slot filling)', async () => {
  const entity = { entity: 'e', value: 'v', location: [0, 1] };
  const many = await post({ input: { text: 'hi' }, entities: Array.from({ length: 501 }, () => entity) });
  assert.equal(many.status, 400, JSON.stringify(many.json).slice(0, 300));
  assert.deepEqual(many.json.errors.map((e: { path: string }) => e.path), ['/entities']);
  const intents = await post({ input: { text: 'hi' }, intents: Array.from({ length: 501 }, (_, i) => ({ intent: `i${i}`, confidence: 0.5 })) });
  assert.equal(intents.status, 400);
  assert.equal((await post({ input: { text: 'hi' }, entities: Array.from({ length: 500 }, () => entity) })).status, 200);
});
