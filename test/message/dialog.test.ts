/**
 * The dialog /message runs, as stored:
 * - The compiled-dialog cache notices every edit. It was keyed on `updated` as a JS Date
 *   (milliseconds), so an edit whose `updated` fell in the same millisecond as the cached one kept
 *   the old dialog. Two such commits cannot be timed from a test, so the test writes `updated`
 *   itself: the same millisecond, then the very same microsecond.
 * - Nodes exported with `disabled: true` stay switched off through an import: the flag is kept and
 *   exported again, and /message skips the node. The import used to drop the flag, so a disabled
 *   node answered in place of the live one (the banking fixture lost its welcome text that way).
 * - A 2016 export's `go_to` (food-coach) is kept through the import and jumps like `next_step`.
 * - Digression settings are kept through the import, and the digression's return travels in the
 *   context the client sends back.
 * - A dialog_stack the client sends back malformed is answered with a warning, not an HTTP 500.
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

before(async () => {
  const messages = new MessageService({ algorithmVersion: ALGORITHM_VERSION });
  s = await startTestStore({ hooks: { routes: (r) => messages.register(r) } });
  const t = await s.tenant('cache');
  base = t.serviceUrl;
  auth = { authorization: `Bearer ${t.token}` };
});
after(async () => { await s.close(); });

const api = (method: string, path: string, body?: unknown): Promise<any> => v1Request(base, auth, method, path, body);

const output = (text: string): unknown => ({ generic: [{ response_type: 'text', values: [{ text }] }] });

test('an edit in the same millisecond, or microsecond, as the cached dialog is served', async () => {
  const { workspace_id: id } = await api('POST', '/v1/workspaces', {
    name: 'cache', dialog_nodes: [{ dialog_node: 'welcome', conditions: 'welcome', output: output('first') }],
  });
  const welcome = async (): Promise<string[]> => (await api('POST', `/v1/workspaces/${id}/message`, {})).output.generic.map((g: any) => g.text);
  const edit = async (text: string, updated: string): Promise<void> => {
    await api('POST', `/v1/workspaces/${id}/dialog_nodes/welcome`, { output: output(text) });
    await s.store.pool.query('update workspaces set updated = $2 where id = $1', [id, updated]);
  };

  await s.store.pool.query(`update workspaces set updated = '2024-05-01 12:00:00.000100+00' where id = $1`, [id]);
  assert.deepEqual(await welcome(), ['first']);
  await edit('second', '2024-05-01 12:00:00.000200+00');
  assert.deepEqual(await welcome(), ['second']);
  await edit('third', '2024-05-01 12:00:00.000200+00');
  assert.deepEqual(await welcome(), ['third']);
});

test('a disabled node is kept, exported and skipped by /message', async () => {
  const { workspace_id: id } = await api('POST', '/v1/workspaces', {
    name: 'disabled',
    dialog_nodes: [
      // First in the tree and matching every first turn: it would answer if it were live.
      { dialog_node: 'old-welcome', conditions: 'welcome', output: output('retired greeting'), disabled: true },
      { dialog_node: 'welcome', conditions: 'welcome', output: output('current greeting'), previous_sibling: 'old-welcome' },
    ],
  });
  const exported = await api('GET', `/v1/workspaces/${id}?export=true`);
  assert.deepEqual(exported.dialog_nodes.map((n: any) => [n.dialog_node, n.disabled]), [['old-welcome', true], ['welcome', undefined]]);
  const node = await api('GET', `/v1/workspaces/${id}/dialog_nodes/old-welcome`);
  assert.equal(node.disabled, true);
  const reply = await api('POST', `/v1/workspaces/${id}/message`, { input: { text: '' } });
  assert.deepEqual(reply.output.generic.map((g: any) => g.text), ['current greeting']);
  assert.deepEqual(reply.output.nodes_visited, ['welcome']);
});

test('a 2016 export: go_to jumps like next_step, and its null fields mean absent', async () => {
  // food-coach's shape: every node has go_to, null where it does not jump.
  const legacy = (id: string, fields: Record<string, unknown>): Record<string, unknown> => ({
    dialog_node: id, parent: null, previous_sibling: null, conditions: null, output: null, context: null, metadata: null, go_to: null, description: null, ...fields,
  });
  const { workspace_id: id } = await api('POST', '/v1/workspaces', {
    name: 'legacy go_to',
    dialog_nodes: [
      legacy('feel', { conditions: 'true', output: { text: 'Good for you.' }, go_to: { return: null, selector: 'body', dialog_node: 'exit' } }),
      legacy('exit', { conditions: 'EXIT', previous_sibling: 'feel', output: { text: 'Bye for now!' }, context: { conversationEnd: true } }),
    ],
  });
  const reply = await api('POST', `/v1/workspaces/${id}/message`, { input: { text: 'I feel great' } });
  assert.deepEqual(reply.output.generic.map((g: any) => g.text), ['Good for you.', 'Bye for now!']);
  assert.deepEqual(reply.output.nodes_visited, ['feel', 'exit']);
  assert.equal(reply.context.conversationEnd, true);
});

test('a digression through the API: the booking frame answers the hours question, then asks for the time again', async () => {
  // The digression showcase's shape: a frame allowing digressions, and a root node that returns.
  const { workspace_id: id } = await api('POST', '/v1/workspaces', {
    name: 'digressions',
    entities: [{ entity: 'day', values: [{ value: 'tomorrow' }] }, { entity: 'hour', values: [{ value: '8pm' }] }],
    dialog_nodes: [
      { dialog_node: 'book', type: 'frame', conditions: 'input.text == "book"', output: output('Booked for $day at $hour.'), digress_in: 'does_not_return', digress_out: 'allow_all', digress_out_slots: 'allow_all' },
      { dialog_node: 'slot_day', type: 'slot', parent: 'book', variable: '$day' },
      { dialog_node: 'day_input', type: 'event_handler', event_name: 'input', parent: 'slot_day', conditions: '@day', context: { day: '@day' } },
      { dialog_node: 'day_focus', type: 'event_handler', event_name: 'focus', parent: 'slot_day', previous_sibling: 'day_input', output: output('Which day?') },
      { dialog_node: 'slot_hour', type: 'slot', parent: 'book', previous_sibling: 'slot_day', variable: '$hour' },
      { dialog_node: 'hour_input', type: 'event_handler', event_name: 'input', parent: 'slot_hour', conditions: '@hour', context: { hour: '@hour' } },
      { dialog_node: 'hour_focus', type: 'event_handler', event_name: 'focus', parent: 'slot_hour', previous_sibling: 'hour_input', output: output('What time?') },
      { dialog_node: 'hours', conditions: 'input.text == "when do you open?"', previous_sibling: 'book', output: output('We open at 8.'), digress_in: 'returns', digress_out: 'allow_all' },
    ],
  });
  let context: unknown;
  const said: string[][] = [];
  for (const text of ['book', 'tomorrow', 'when do you open?', '8pm']) {
    const reply = await api('POST', `/v1/workspaces/${id}/message`, { input: { text }, ...(context ? { context } : {}) });
    context = reply.context;
    said.push(reply.output.generic.map((g: any) => g.text));
  }
  assert.deepEqual(said, [['Which day?'], ['What time?'], ['We open at 8.', 'What time?'], ['Booked for tomorrow at 8pm.']]);
});

test('a malformed dialog_stack in the context is answered, with a warning', async () => {
  const { workspace_id: id } = await api('POST', '/v1/workspaces', {
    name: 'stack', dialog_nodes: [{ dialog_node: 'hours', conditions: 'true', output: output('We open at 8.') }],
  });
  const reply = await api('POST', `/v1/workspaces/${id}/message`, { input: { text: 'hi' }, context: { system: { dialog_stack: [null, { dialog_node: 'gone' }] } } });
  assert.deepEqual(reply.output.generic.map((g: any) => g.text), ['We open at 8.']);
  assert.ok(reply.output.log_messages.some((l: any) => l.code === 'dialog.stack_invalid'));
});
