/**
 * Log filters and cursors through the ibm-watson SDK, on logs written straight through the
 * service's LogWriter (no trained model needed): negations of the per-element fields
 * (response.intents.*, response.entities.*, response.output.nodes_visited) mean "no element
 * matches", timestamps without an offset are UTC and impossible dates are refused, and a cursor
 * the store did not issue is a 400 however it is damaged, and deleteUserData also reaches turns
 * still queued in the writer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type AssistantV1 from 'ibm-watson/assistant/v1.js';
import { createService, type Service } from '../../src/service/index.ts';
import { uuid7, type LogEntry } from '../../src/logs/index.ts';
import { parseFilter, filterSql } from '../../src/logs/filter.ts';
import { sdkClient, sdkRejects } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

describe('message-log filters and cursors', () => {
  let s: TestStore;
  let svc: Service;
  let sdk: AssistantV1;
  let id: string;

  // [text, intents (best first), entities, nodes visited]
  const TURNS: Array<[string, Array<[string, number]>, string[], string[]]> = [
    ['pizza, alternates on', [['order_pizza', 0.9], ['opening_hours', 0.1]], ['size'], ['pizza']],
    ['hours, alternates on', [['opening_hours', 0.8], ['order_pizza', 0.2]], [], ['else']],
    ['pizza only', [['order_pizza', 0.95]], ['size', 'topping'], ['pizza']],
    ['irrelevant', [], [], ['else']],
  ];

  const texts = async (filter: string): Promise<string[]> =>
    (await sdk.listLogs({ workspaceId: id, filter })).result.logs.map((l) => l.request.input!.text!);

  before(async () => {
    s = await startTestStore();
    svc = createService(s.store, { trainer: false });
    const url = await svc.app.listen({ host: '127.0.0.1', port: 0 });
    const t = await s.tenant('filters');
    sdk = sdkClient(`${url}/instances/${t.instanceId}/api`, t.token);
    id = (await sdk.createWorkspace({ name: 'filtered', language: 'en' })).result.workspace_id!;
    const start = Date.UTC(2024, 0, 31, 9, 0, 0);
    TURNS.forEach(([text, intents, entities, nodes], i) => {
      const at = new Date(start + i * 60_000).toISOString();
      const entry: LogEntry = {
        log_id: uuid7(start + i * 60_000), workspace_id: id, language: 'en', customer_id: null,
        request_timestamp: at, response_timestamp: at, request: { input: { text } },
        response: {
          input: { text }, intents: intents.map(([intent, confidence]) => ({ intent, confidence })),
          entities: entities.map((entity) => ({ entity, value: entity, location: [0, 1] })),
          output: { generic: [], nodes_visited: nodes, log_messages: [] }, context: {},
        },
      };
      svc.logs!.record(entry);
    });
    await svc.logs!.flush();
  });
  after(async () => { await svc.close(); await s.close(); });

  test('a negated per-element filter excludes logs where any element matches, and keeps logs with none', async () => {
    assert.deepEqual(await texts('response.intents.intent::order_pizza'), ['pizza, alternates on', 'hours, alternates on', 'pizza only']);
    assert.deepEqual(await texts('response.intents.intent::!order_pizza'), ['irrelevant']);
    assert.deepEqual(await texts('response.intents.intent:!pizza'), ['irrelevant']);
    assert.deepEqual(await texts('response.entities.entity::!topping'), ['pizza, alternates on', 'hours, alternates on', 'irrelevant']);
    assert.deepEqual(await texts('response.output.nodes_visited::!pizza'), ['hours, alternates on', 'irrelevant']);
    assert.deepEqual(await texts('response.intents.confidence::!0.1'), ['hours, alternates on', 'pizza only', 'irrelevant']);
    // The negations are the complements of the matches.
    for (const [pos, neg] of [['response.entities.entity::size', 'response.entities.entity::!size'], ['response.entities.value:TOP', 'response.entities.value:!TOP']] as const) {
      const all = TURNS.map(([t]) => t);
      const yes = await texts(pos);
      assert.deepEqual(await texts(neg), all.filter((t) => !yes.includes(t)), neg);
    }
  });

  test('a timestamp without an offset is UTC; a date that does not exist is a 400', async () => {
    const prev = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      const params: unknown[] = [];
      filterSql(parseFilter('request_timestamp>=2024-01-31T09:01:00'), params);
      assert.deepEqual(params, ['2024-01-31T09:01:00.000Z']);
      assert.deepEqual(await texts('request_timestamp>=2024-01-31T09:01:00,request_timestamp<2024-01-31T09:03:00'), ['hours, alternates on', 'pizza only']);
    } finally {
      if (prev === undefined) delete process.env.TZ; else process.env.TZ = prev;
    }
    for (const filter of ['request_timestamp<2024-02-31', 'request_timestamp<2024-01-31T25:00:00Z', 'request_timestamp<99999-01-01', 'request_timestamp<9999-12-31T23:59:59-01:00']) {
      assert.match((await sdkRejects(sdk.listLogs({ workspaceId: id, filter }), 400)).body, /not a date/, filter);
    }
  });

  test('hostile input is a 400, never a 500: U+0000, deep nesting, a lone backslash, page_limit forms Number() reads', async () => {
    // Each used to be a 500 (PostgreSQL refuses U+0000; the parser ran out of stack) or was read
    // wrongly (the backslash dropped, matching every log; '0x2' taken as 2).
    const bad: Array<[string, RegExp]> = [
      ['language::en\u0000', /U\+0000/],
      ['customer_id:a\u0000', /U\+0000/],
      [`${'('.repeat(200)}language::en${')'.repeat(200)}`, /nests parentheses more than 32 deep/],
      ['request.input.text:\\', /lone backslash/],
      // Names every object inherits resolved to functions (found by the security review).
      ['constructor::1', /'constructor', which is not supported/],
      ['__proto__::1', /'__proto__', which is not supported/],
    ];
    for (const [filter, why] of bad) {
      assert.match((await sdkRejects(sdk.listLogs({ workspaceId: id, filter }), 400)).body, why, filter.slice(0, 40));
    }
    // Deeper than any URL carries: the parser stops at the limit instead of running out of stack.
    assert.throws(() => parseFilter(`${'('.repeat(100_000)}language::en${')'.repeat(100_000)}`), { code: 'INVALID_FILTER' });
    assert.deepEqual(await texts(`${'('.repeat(32)}request.input.text:"pizza only"${')'.repeat(32)}`), ['pizza only'], 'nesting up to the limit works');
    assert.deepEqual(await texts('request.input.text:"pizza" ,response.top_intent::order_pizza'), ['pizza, alternates on', 'pizza only'], 'a space after a quoted value');
    for (const limit of ['0x2', '1e0', '2.0', ' 2']) {
      const err = await sdkRejects(sdk.listLogs({ workspaceId: id, pageLimit: limit as unknown as number }), 400);
      assert.match(err.body, /page_limit must be a whole number/, limit);
    }
    await sdkRejects(sdk.deleteUserData({ customerId: 'a\u0000' }), 400);
  });

  test('a damaged cursor is a 400 that says to start again, not a 500', async () => {
    const r = (await sdk.listLogs({ workspaceId: id, pageLimit: 1 })).result;
    assert.ok(r.pagination.next_cursor);
    const [at, logId] = Buffer.from(r.pagination.next_cursor!, 'base64url').toString().split('|') as [string, string];
    const damaged = [
      `2024-13-45T09:00:00.000000Z|${logId}`, // the right shape, not a time
      `${at}|------------------------------------`, // the right length, not a UUID
      `${at}|${logId}|extra`,
    ].map((c) => Buffer.from(c).toString('base64url'));
    for (const cursor of damaged) {
      const err = await sdkRejects(sdk.listLogs({ workspaceId: id, cursor }), 400);
      assert.match(err.body, /cursor is not a cursor this API returned/, cursor);
      assert.match(err.body, /without cursor/, cursor);
    }
    assert.equal((await sdk.listLogs({ workspaceId: id, cursor: r.pagination.next_cursor })).result.logs.length, TURNS.length - 1);
  });
  test('deleteUserData also erases turns answered just before it that were still waiting to be written', async () => {
    const at = new Date().toISOString();
    svc.logs!.record({
      log_id: uuid7(), workspace_id: id, language: 'en', customer_id: 'carol', request_timestamp: at, response_timestamp: at,
      request: { input: { text: 'my address is ...' } }, response: { input: { text: 'my address is ...' }, intents: [], entities: [], output: { log_messages: [] }, context: {} },
    });
    assert.equal((await sdk.deleteUserData({ customerId: 'carol' })).status, 202);
    await svc.logs!.flush();
    assert.deepEqual(await texts('customer_id::carol'), []);
  });
});
