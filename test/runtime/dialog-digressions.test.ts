/**
 * Digressions (IBM Cloud docs: dialog-runtime, "Digressions"; the digression-showcase tutorial),
 * each on the smallest workspace that shows it: a node waiting for input is left for a root-level
 * node, and the dialog comes back to ask its question again when both sides allow it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DialogNode, MessageContext, MessageResponse, WorkspaceEntity } from '../../src/runtime/index.ts';
import { chat as chatWith, say, texts } from './chat.ts';

const is = (text: string): string => `input.text == "${text}"`;
const entities: WorkspaceEntity[] = [
  { entity: 'day', values: [{ value: 'tomorrow' }, { value: 'today' }] },
  { entity: 'hour', values: [{ value: '8pm' }, { value: '9pm' }] },
];
const chat = (nodes: DialogNode[], turns: string[], start?: MessageContext): MessageResponse[] => chatWith(nodes, turns, start, entities);
const stack = (r: MessageResponse): unknown => r.context.system!.dialog_stack;

/** The showcase's restaurant booking: a frame with two slots, and root nodes to digress to. */
function booking(frame: Partial<DialogNode>, roots: DialogNode[]): DialogNode[] {
  return [
    { dialog_node: 'book', type: 'frame', conditions: is('book'), output: say('Booked for $day at $hour.'), ...frame },
    { dialog_node: 'slot_day', type: 'slot', parent: 'book', variable: '$day', conditions: '@day', output: say('Which day?') },
    {
      dialog_node: 'slot_hour', type: 'slot', parent: 'book', previous_sibling: 'slot_day', variable: '$hour', conditions: '@hour',
      output: say('<? returning_from_digression ? "Back to your booking: what time?" : "What time?" ?>'),
    },
    ...roots.map((n, i) => ({ previous_sibling: i === 0 ? 'book' : roots[i - 1]!.dialog_node, ...n })),
  ];
}

const hours: DialogNode = { dialog_node: 'hours', conditions: is('hours?'), output: say('We open at 8.'), digress_in: 'returns' };

test('a frame allowing digressions answers a returning root node, then asks for its slot again', () => {
  const rs = chat(booking({ digress_out_slots: 'allow_all' }, [hours]), ['book', 'tomorrow', 'hours?', '8pm']);
  assert.deepEqual(rs.map(texts), [['Which day?'], ['What time?'], ['We open at 8.', 'Back to your booking: what time?'], ['Booked for tomorrow at 8pm.']]);
  assert.deepEqual(rs[2]!.output.nodes_visited, ['book', 'hours', 'book', 'slot_hour']);
  assert.deepEqual(stack(rs[2]!), [{ dialog_node: 'book', state: 'in_progress', slot_in_focus: 'slot_hour' }]);
  assert.deepEqual(rs[2]!.output.log_messages, []);
});

test('a digression into a node waiting for its children returns once that branch completes, turns later', () => {
  const nodes = booking({ digress_out_slots: 'allow_all' }, [
    { dialog_node: 'jobs', conditions: is('jobs?'), output: say('Which role?'), digress_in: 'returns' },
    { dialog_node: 'chef', parent: 'jobs', conditions: is('chef'), output: say('Chefs apply by mail.') },
  ]);
  const rs = chat(nodes, ['book', 'tomorrow', 'jobs?', 'chef', '9pm']);
  assert.deepEqual(rs.slice(2).map(texts), [['Which role?'], ['Chefs apply by mail.', 'Back to your booking: what time?'], ['Booked for tomorrow at 9pm.']]);
  // The frame waits under the digression, in the context the client sends back.
  assert.deepEqual(stack(rs[2]!), [{ dialog_node: 'book', state: 'in_progress', slot_in_focus: 'slot_hour' }, { dialog_node: 'jobs' }]);
});

test('a root node inside a folder takes the folder\'s digress_in', () => {
  const nodes = booking({ digress_out_slots: 'allow_all' }, [
    { dialog_node: 'faq', type: 'folder', digress_in: 'returns' },
    { dialog_node: 'faq_hours', parent: 'faq', conditions: is('hours?'), output: say('We open at 8.') },
  ]);
  const rs = chat(nodes, ['book', 'hours?']);
  assert.deepEqual(texts(rs[1]!), ['We open at 8.', 'Which day?']);
});

test('slots that do not allow digressions keep asking, as they do by default', () => {
  const answers = (frame: Partial<DialogNode>): unknown[] => texts(chat(booking(frame, [hours]), ['book', 'tomorrow', 'hours?'])[2]!);
  assert.deepEqual(answers({}), ['What time?']);
  assert.deepEqual(answers({ digress_out_slots: 'not_allowed' }), ['What time?']);
  assert.deepEqual(answers({ digress_out_slots: 'allow_all' }), ['We open at 8.', 'Back to your booking: what time?']);
});

test('a target that does not return, or a node that never returns, ends the interrupted flow', () => {
  const cancel: DialogNode = { dialog_node: 'cancel', conditions: is('cancel'), output: say('Cancelled.'), digress_in: 'does_not_return' };
  const fromSlots = chat(booking({ digress_out_slots: 'allow_all' }, [cancel]), ['book', 'cancel']);
  assert.deepEqual(texts(fromSlots[1]!), ['Cancelled.']);
  assert.deepEqual(stack(fromSlots[1]!), [{ dialog_node: 'root' }]);
  // digress_in unset is does_not_return too.
  const unset = chat(booking({ digress_out_slots: 'allow_all' }, [{ ...hours, digress_in: undefined }]), ['book', 'hours?']);
  assert.deepEqual(texts(unset[1]!), ['We open at 8.']);
  // allow_all_never_return: the showcase's chef question is not asked again after the digression.
  const fromNode = chat([
    { dialog_node: 'menu', conditions: is('menu'), output: say('Vegan or regular?'), digress_out: 'allow_all_never_return' },
    { dialog_node: 'vegan', parent: 'menu', conditions: is('vegan'), output: say('Vegan menu.') },
    { ...hours, previous_sibling: 'menu' },
  ], ['menu', 'hours?']);
  assert.deepEqual(texts(fromNode[1]!), ['We open at 8.']);
  assert.deepEqual(stack(fromNode[1]!), [{ dialog_node: 'root' }]);
});

test('a slot never digresses to a root anything_else node: input it did not understand is asked for again', () => {
  const anythingElse: DialogNode = { dialog_node: 'else', conditions: 'anything_else', output: say('Sorry?') };
  const rs = chat(booking({ digress_out_slots: 'allow_all' }, [hours, anythingElse]), ['book', 'tomorow', 'tomorrow', 'hours?']);
  assert.deepEqual(rs.map(texts), [['Which day?'], ['Which day?'], ['What time?'], ['We open at 8.', 'Back to your booking: what time?']]);
  assert.deepEqual(stack(rs[1]!), [{ dialog_node: 'book', state: 'in_progress', slot_in_focus: 'slot_day' }]);
});

test('a slot digresses before its nomatch handler answers, which it does only when no root node is triggered', () => {
  const nodes = booking({ digress_out_slots: 'allow_all' }, [hours]);
  nodes.push({ dialog_node: 'day_nomatch', type: 'event_handler', event_name: 'nomatch', parent: 'slot_day', conditions: 'true', output: say('Today or tomorrow?') });
  const rs = chat(nodes, ['book', 'hours?', 'soon', 'tomorrow']);
  assert.deepEqual(rs.map(texts), [['Which day?'], ['We open at 8.', 'Which day?'], ['Today or tomorrow?'], ['What time?']]);
});

test('slots that allow only returning digressions ignore root nodes that do not return', () => {
  const cancel: DialogNode = { dialog_node: 'cancel', conditions: is('cancel'), output: say('Cancelled.') };
  const rs = chat(booking({ digress_out_slots: 'allow_returning' }, [cancel, hours]), ['book', 'cancel', 'hours?']);
  assert.deepEqual(rs.slice(1).map(texts), [['Which day?'], ['We open at 8.', 'Which day?']]);
});

test('a root node with digress_in not_available is never a digression target', () => {
  const help: DialogNode = { dialog_node: 'help', conditions: is('hours?'), output: say('Not now.'), digress_in: 'not_available' };
  const fromSlots = chat(booking({ digress_out_slots: 'allow_all' }, [help, hours]), ['book', 'hours?']);
  assert.deepEqual(texts(fromSlots[1]!), ['We open at 8.', 'Which day?']);
  const fromNode = chat([
    { dialog_node: 'menu', conditions: is('menu'), output: say('Vegan or regular?') },
    { dialog_node: 'vegan', parent: 'menu', conditions: is('vegan'), output: say('Vegan menu.') },
    { ...help, previous_sibling: 'menu' },
    { dialog_node: 'else', previous_sibling: 'help', conditions: 'anything_else', output: say('Sorry?') },
  ], ['menu', 'hours?']);
  assert.deepEqual(texts(fromNode[1]!), ['Sorry?']);
  // Outside a flow it answers as any root node does.
  assert.deepEqual(texts(chat(booking({}, [help]), ['hours?'])[0]!), ['Not now.']);
});

test('a node waiting for its children says its response again after a returning digression', () => {
  for (const digress_out of ['allow_returning', 'allow_all'] as const) {
    const rs = chat([
      { dialog_node: 'menu', conditions: is('menu'), output: say('<? returning_from_digression ? "So, vegan or regular?" : "Vegan or regular?" ?>'), digress_out },
      { dialog_node: 'vegan', parent: 'menu', conditions: is('vegan'), output: say('Vegan menu.') },
      { ...hours, previous_sibling: 'menu' },
    ], ['menu', 'hours?', 'vegan']);
    assert.deepEqual(rs.map(texts), [['Vegan or regular?'], ['We open at 8.', 'So, vegan or regular?'], ['Vegan menu.']], digress_out);
    assert.deepEqual(stack(rs[1]!), [{ dialog_node: 'menu' }]);
    assert.deepEqual(rs[1]!.output.nodes_visited, ['hours', 'menu']);
  }
});

test('a frame\'s digression_return_prompt handler, which the store does not run, is reported on return', () => {
  const nodes = booking({ digress_out_slots: 'allow_all' }, [hours]);
  nodes.push({ dialog_node: 'book_return', type: 'event_handler', event_name: 'digression_return_prompt', parent: 'book', output: say('Where were we?') });
  const rs = chat(nodes, ['book', 'hours?']);
  assert.deepEqual(texts(rs[1]!), ['We open at 8.', 'Which day?']);
  assert.deepEqual(rs[1]!.output.log_messages.map((l) => [l.code, l.source]), [['dialog.digression_return_prompt_unsupported', { dialog_node: 'book' }]]);
  assert.deepEqual(chat(nodes, ['book'])[0]!.output.log_messages, []);
});

test('a digression to a branch already on the dialog stack resumes it there instead of stacking it again', () => {
  const jobs: DialogNode[] = [
    { dialog_node: 'jobs', conditions: is('jobs?'), output: say('Which role?'), digress_in: 'returns' },
    { dialog_node: 'chef', parent: 'jobs', conditions: is('chef'), output: say('Chefs apply by mail.') },
  ];
  // The waiting node asked again: it answers in place, and its branch ends with one answer.
  const alone = chat(jobs, ['jobs?', 'jobs?', 'jobs?', 'jobs?', 'chef']);
  assert.deepEqual(alone.map(stack), [...Array(4).fill([{ dialog_node: 'jobs' }]), [{ dialog_node: 'root' }]]);
  assert.deepEqual(texts(alone[4]!), ['Chefs apply by mail.']);
  // Asked again within a digression, it keeps its one place above the flow it interrupted.
  const nodes = booking({ digress_out_slots: 'allow_all' }, jobs);
  const waiting = { dialog_node: 'book', state: 'in_progress', slot_in_focus: 'slot_day' };
  const rs = chat(nodes, ['book', 'jobs?', 'jobs?', 'chef']);
  assert.deepEqual(stack(rs[2]!), [waiting, { dialog_node: 'jobs' }]);
  assert.deepEqual(texts(rs[3]!), ['Chefs apply by mail.', 'Which day?']);
  assert.deepEqual(stack(rs[3]!), [waiting]);
  // So does a branch waiting further down, at a child of the target.
  const deeper = chat([...nodes, { dialog_node: 'pastry', parent: 'chef', conditions: is('pastry'), output: say('Pastry chefs too.') }], ['book', 'jobs?', 'chef', 'jobs?']);
  assert.deepEqual(stack(deeper[3]!), [waiting, { dialog_node: 'jobs' }]);
});

test('a branch re-entered by a jump from a digression is taken up where it waits, not stacked again', () => {
  const toConfirm = { behavior: 'jump_to', selector: 'body', dialog_node: 'confirm' } as const;
  const rs = chat([
    { dialog_node: 'agent', conditions: is('agent'), output: say('Agents help.'), digress_in: 'returns', next_step: toConfirm },
    { dialog_node: 'limit', previous_sibling: 'agent', conditions: is('limit'), output: say('Change it in settings.'), digress_in: 'returns', next_step: toConfirm },
    { dialog_node: 'xfer', previous_sibling: 'limit', conditions: 'false' },
    { dialog_node: 'confirm', parent: 'xfer', conditions: 'true', output: say('Transfer you now?') },
    { dialog_node: 'no', parent: 'confirm', conditions: is('no'), output: say('Not transferring.') },
  ], ['agent', 'limit', 'agent', 'limit', 'no']);
  // Each digression's jump lands in the confirmation already waiting: one entry, and one answer ends it.
  assert.deepEqual(rs.map(stack), [...Array(4).fill([{ dialog_node: 'confirm' }]), [{ dialog_node: 'root' }]]);
  assert.deepEqual(texts(rs[4]!), ['Not transferring.']);
});

test('a node waiting for its children asks again when only nodes that return may answer and none does', () => {
  const anythingElse: DialogNode = { dialog_node: 'else', conditions: 'anything_else', output: say('Sorry?') };
  const jobs = (digress_out?: DialogNode['digress_out']): DialogNode[] => [
    { dialog_node: 'jobs', conditions: is('jobs?'), output: say('Which role?'), digress_in: 'returns', ...(digress_out ? { digress_out } : {}) },
    { dialog_node: 'chef', parent: 'jobs', conditions: is('chef'), output: say('Chefs apply by mail.') },
    { ...anythingElse, previous_sibling: 'jobs' },
  ];
  const rs = chat(jobs('allow_returning'), ['jobs?', 'blah', 'chef']);
  assert.deepEqual(rs.map(texts), [['Which role?'], ['Which role?'], ['Chefs apply by mail.']]);
  assert.deepEqual(rs[1]!.output.nodes_visited, ['jobs']);
  assert.deepEqual(rs[1]!.output.log_messages, []);
  assert.deepEqual(stack(rs[1]!), [{ dialog_node: 'jobs' }]);
  // The same while a digression waits to return: anything_else does not return, so it is no target.
  const chain = chat(booking({ digress_out_slots: 'allow_all' }, jobs()), ['book', 'jobs?', 'blah']);
  assert.deepEqual(texts(chain[2]!), ['Which role?']);
  assert.deepEqual(stack(chain[2]!), [{ dialog_node: 'book', state: 'in_progress', slot_in_focus: 'slot_day' }, { dialog_node: 'jobs' }]);
  // Where any node may answer, anything_else does, and the branch is left.
  assert.deepEqual(texts(chat(jobs(), ['jobs?', 'blah'])[1]!), ['Sorry?']);
});

test('a malformed or overlong dialog_stack from the client is cleaned with a warning, and the dialog answers', () => {
  const nodes = booking({ digress_out_slots: 'allow_all' }, [hours]);
  const from = (dialog_stack: unknown): MessageResponse => chat(nodes, ['hours?'], { system: { dialog_stack } })[0]!;
  const gone = { dialog_node: 'gone' };
  for (const sent of [[null, gone], [gone, 'book', { dialog_node: 7 }, [gone]], Array(200_000).fill(gone), { dialog_node: 'book' }]) {
    const r = from(sent);
    assert.deepEqual(texts(r), ['We open at 8.']);
    assert.deepEqual(stack(r), [{ dialog_node: 'root' }]);
    assert.deepEqual(r.output.log_messages.map((l) => l.code), ['dialog.stack_invalid']);
  }
  // The top of an overlong stack is kept: here, a frame under a returning digression.
  const waiting = { dialog_node: 'book', state: 'in_progress', slot_in_focus: 'slot_day' };
  const deep = from([...Array(100).fill(gone), waiting, { dialog_node: 'root' }]);
  assert.deepEqual(texts(deep), ['We open at 8.', 'Which day?']);
  assert.deepEqual(stack(deep), [...Array(48).fill(gone), waiting]);
});
