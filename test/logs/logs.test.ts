/**
 * Message logs through the ibm-watson SDK: every /message turn is logged with its request,
 * response and the X-Watson-Metadata customer label; listLogs pages through them in order,
 * filters narrow them (bad filters are 400s that say why), listAllLogs needs its required filter,
 * deleteUserData erases one customer's logs only, and another tenant sees none of them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type AssistantV1 from 'ibm-watson/assistant/v1.js';
import { createService, type Service } from '../../src/service/index.ts';
import { sdkClient, sdkRejects } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

const SKILL = {
  name: 'logged',
  language: 'en',
  intents: [
    { intent: 'order_pizza', examples: ['I want to order a pizza', 'can I get a large pizza', 'order a pizza please', 'get me two pizzas', 'a pepperoni pizza delivered'].map((text) => ({ text })) },
    { intent: 'opening_hours', examples: ['when are you open', 'what are your opening hours', 'are you open on sunday', 'what time do you close', 'how late are you open'].map((text) => ({ text })) },
  ],
  dialogNodes: [
    { dialog_node: 'pizza', conditions: '#order_pizza', output: { generic: [{ response_type: 'text', values: [{ text: 'Which size?' }] }] } },
    { dialog_node: 'else', conditions: 'anything_else', previous_sibling: 'pizza', output: { generic: [{ response_type: 'text', values: [{ text: 'Sorry?' }] }] } },
  ],
};

// Who says what, in order: [customer or undefined, text].
const TURNS: Array<[string | undefined, string]> = [
  ['alice', 'I would like to order a PIZZA'], ['bob', 'when do you open'], ['alice', 'what time do you close'],
  [undefined, 'a large pizza please'], ['bob', 'can I get two pizzas'], ['alice', 'xyzzy'],
];

describe('message logs', () => {
  let s: TestStore;
  let svc: Service;
  let sdk: AssistantV1;
  let url: string;
  let id: string;

  const all = async (params: Partial<AssistantV1.ListLogsParams> = {}): Promise<AssistantV1.Log[]> =>
    (await sdk.listLogs({ workspaceId: id, ...params })).result.logs;

  before(async () => {
    s = await startTestStore();
    svc = createService(s.store, { trainer: { concurrency: 1, pollMs: 50 }, debounceMs: 20 });
    url = await svc.app.listen({ host: '127.0.0.1', port: 0 });
    const t = await s.tenant('logger');
    sdk = sdkClient(`${url}/instances/${t.instanceId}/api`, t.token);
    id = (await sdk.createWorkspace(SKILL)).result.workspace_id!;
    const deadline = Date.now() + 60_000;
    while ((await sdk.getWorkspace({ workspaceId: id })).result.status !== 'Available') {
      assert.ok(Date.now() < deadline, 'the workspace was not trained within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const [customer, text] of TURNS) {
      await sdk.message({ workspaceId: id, input: { text }, context: { metadata: { deployment: 'web' } }, headers: customer ? { 'X-Watson-Metadata': `customer_id=${customer}` } : {} });
    }
    await svc.logs!.flush();
  });
  after(async () => { await svc.close(); await s.close(); });

  test('each turn is logged with its request, response, workspace and language, oldest first', async () => {
    const logs = await all();
    assert.deepEqual(logs.map((l) => l.request.input?.text), TURNS.map(([, text]) => text));
    assert.deepEqual(logs.map((l) => l.response.input?.text), TURNS.map(([, text]) => text));
    assert.deepEqual(logs.slice(0, 4).map((l) => l.response.intents[0]?.intent), ['order_pizza', 'opening_hours', 'opening_hours', 'order_pizza']);
    assert.deepEqual(logs[0]!.response.output.generic, [{ response_type: 'text', text: 'Which size?' }]);
    for (const l of logs) {
      assert.equal(l.workspace_id, id);
      assert.equal(l.language, 'en');
      assert.match(l.log_id, /^[0-9a-f-]{36}$/);
      assert.match(l.request_timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(l.response_timestamp >= l.request_timestamp);
    }
    assert.equal(new Set(logs.map((l) => l.log_id)).size, TURNS.length);
    const sorted = logs.map((l) => l.request_timestamp);
    assert.deepEqual(sorted, [...sorted].sort());
  });

  test('pages follow next_cursor without gaps or repeats, in either order', async () => {
    for (const sort of ['request_timestamp', '-request_timestamp']) {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const r = (await sdk.listLogs({ workspaceId: id, pageLimit: 4, sort, cursor })).result;
        seen.push(...r.logs.map((l) => l.request.input!.text!));
        cursor = r.pagination.next_cursor;
        if (cursor) assert.match(r.pagination.next_url!, new RegExp(`^/v1/workspaces/${id}/logs\\?.*cursor=`));
        pages++;
      } while (cursor);
      assert.equal(pages, 2);
      const texts = TURNS.map(([, text]) => text);
      assert.deepEqual(seen, sort.startsWith('-') ? texts.reverse() : texts);
    }
    assert.match((await sdkRejects(sdk.listLogs({ workspaceId: id, cursor: 'garbage' }), 400)).body, /cursor is not a cursor this API returned/);
    assert.match((await sdkRejects(sdk.listLogs({ workspaceId: id, sort: 'response_timestamp' }), 400)).body, /sort must be request_timestamp or -request_timestamp/);
  });

  test('filters narrow the logs; a filter the store cannot apply is a 400 that says why', async () => {
    const texts = async (filter: string): Promise<string[]> => (await all({ filter })).map((l) => l.request.input!.text!);
    // The top intent of the nonsense turn is whatever the model says (low confidence, so usually
    // none without alternate_intents): read it back.
    const logs = await all();
    const top = (intent: string): string[] => logs.filter((l) => l.response.intents[0]?.intent === intent).map((l) => l.request.input!.text!);
    assert.ok(top('order_pizza').length >= 3);
    assert.deepEqual(await texts('response.top_intent::order_pizza'), top('order_pizza'));
    // Every log whose top intent is not order_pizza: also one with none (the nonsense turn, unless
    // the model happens to be confident about it).
    assert.deepEqual(await texts('response.top_intent::!order_pizza'),
      logs.filter((l) => l.response.intents[0]?.intent !== 'order_pizza').map((l) => l.request.input!.text!));
    assert.deepEqual(await texts('request.input.text:pizza'), [TURNS[0]![1], TURNS[3]![1], TURNS[4]![1]]);
    assert.deepEqual(await texts('response.intents.intent::opening_hours,request.input.text:!close'), [TURNS[1]![1]]);
    assert.deepEqual(await texts('customer_id::bob|request.input.text::xyzzy'), [TURNS[1]![1], TURNS[4]![1], TURNS[5]![1]]);
    assert.deepEqual(await texts('(customer_id::alice|customer_id::bob),response.top_intent::order_pizza'),
      top('order_pizza').filter((t) => TURNS.find(([, x]) => x === t)![0] !== undefined));
    assert.deepEqual(await texts('request.context.metadata.deployment::web'), TURNS.map(([, t]) => t));
    assert.deepEqual(await texts('request_timestamp>=2000-01-01,request_timestamp<2999-01-01'), TURNS.map(([, t]) => t));
    assert.deepEqual(await texts('request_timestamp>2999-01-01'), []);
    for (const [filter, why] of [['response.mood::happy', /mood/], ['request_timestamp>=yesterday', /not a date/], ['request.input.text<pizza', /takes :: and :/], ['(language::en', /unclosed/]] as const) {
      const err = await sdkRejects(sdk.listLogs({ workspaceId: id, filter }), 400);
      assert.match(err.body, why, filter);
    }
  });

  test('listAllLogs needs language and a workspace (or assistant, deployment) filter', async () => {
    const err = await sdkRejects(sdk.listAllLogs({ filter: `workspace_id::${id}` }), 400);
    assert.match(err.body, /language::/);
    const logs = (await sdk.listAllLogs({ filter: `language::en,workspace_id::${id}` })).result.logs;
    assert.equal(logs.length, TURNS.length);
    assert.equal((await sdk.listAllLogs({ filter: 'language::fr,request.context.metadata.deployment::web' })).result.logs.length, 0);
  });

  test('another tenant sees none of these logs', async () => {
    const t = await s.tenant('stranger');
    const other = sdkClient(`${url}/instances/${t.instanceId}/api`, t.token);
    await sdkRejects(other.listLogs({ workspaceId: id }), 404);
    assert.equal((await other.listAllLogs({ filter: `language::en,workspace_id::${id}` })).result.logs.length, 0);
    await other.deleteUserData({ customerId: 'alice' });
    assert.equal((await all({ filter: 'customer_id::alice' })).length, 3);
  });

  test('deleteUserData erases that customer\'s logs and nothing else', async () => {
    const r = await sdk.deleteUserData({ customerId: 'alice' });
    assert.equal(r.status, 202);
    const left = await all();
    assert.deepEqual(left.map((l) => l.request.input!.text), TURNS.filter(([c]) => c !== 'alice').map(([, t]) => t));
    const missing = await fetch(`${url}/instances/${(await s.store.pool.query('select instance_id from workspaces where id = $1', [id])).rows[0].instance_id}/api/v1/user_data?version=2021-11-27`, { method: 'DELETE', headers: { authorization: `Bearer ${(sdk as any).authenticator.bearerToken}` } });
    assert.equal(missing.status, 400);
    assert.match(await missing.text(), /customer_id is required/);
  });

  test('deleting the workspace deletes its logs', async () => {
    await sdk.deleteWorkspace({ workspaceId: id });
    assert.equal((await s.store.pool.query('select count(*)::int as n from message_logs where workspace_id = $1', [id])).rows[0].n, 0);
  });
});
