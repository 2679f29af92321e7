/**
 * Dialog constructs the shared real exports use, each reduced to the smallest workspace that shows
 * what the service does with it (IBM Cloud docs: dialog-overview, dialog-runtime, dialog-slots).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { respond, type DialogNode, type MessageContext } from '../../src/runtime/index.ts';
import { chat, CHAT_OPTIONS, say, texts } from './chat.ts';
import { fixedNlu } from './stub-nlu.ts';

test('a disabled node keeps its place in the sibling order', () => {
  // As exported: the node after a disabled one names it as its previous sibling (adv-dialog1's
  // return frame asked for the e-mail before the order number because of this).
  const [r] = chat([
    { dialog_node: 'second', conditions: 'true', previous_sibling: 'retired', output: say('second') },
    { dialog_node: 'first', conditions: 'true', output: say('first') },
    { dialog_node: 'retired', conditions: 'true', previous_sibling: 'first', output: say('retired'), disabled: true },
    { dialog_node: 'retired_child', parent: 'retired', conditions: 'true', output: say('child of retired') },
  ], ['hi']);
  assert.deepEqual(texts(r!), ['first']);
  assert.deepEqual(r!.output.nodes_visited, ['first']);
});

test("a response condition's own next_step replaces the node's", () => {
  // car-dashboard: "It looks like the music is off! What type of music…" then waits at the genre node.
  const nodes: DialogNode[] = [
    { dialog_node: 'volume', conditions: 'true', next_step: { behavior: 'jump_to', dialog_node: 'elsewhere', selector: 'body' } },
    { dialog_node: 'music_off', type: 'response_condition', parent: 'volume', conditions: '$music == "off"', output: say('The music is off. Which genre?'), next_step: { behavior: 'jump_to', dialog_node: 'genre', selector: 'user_input' } },
    { dialog_node: 'music_on', type: 'response_condition', parent: 'volume', previous_sibling: 'music_off', output: say('Louder.') },
    { dialog_node: 'elsewhere', conditions: 'false', previous_sibling: 'volume', output: say('The node jumped here.') },
    { dialog_node: 'genre', conditions: 'input.text != ""', previous_sibling: 'elsewhere', context: { music: '<? input.text ?>' }, output: say('Playing $music.') },
  ];
  const off = chat(nodes, ['up', 'jazz'], { music: 'off' });
  assert.deepEqual(off.map(texts), [['The music is off. Which genre?'], ['Playing jazz.']]);
  assert.deepEqual(off[0]!.output.nodes_visited, ['volume', 'music_off']);
  assert.deepEqual(off[0]!.context.system!.dialog_stack, [{ dialog_node: 'genre', state: 'jumped' }]);
  // Without a next_step of its own, the response condition leaves the node's jump in force.
  const [on] = chat(nodes, ['up']);
  assert.deepEqual(texts(on!), ['Louder.', 'The node jumped here.']);
});

test('a jump whose target and later siblings do not match falls back to the root level', () => {
  const is = (text: string): string => `input.text == "${text}"`;
  const nodes: DialogNode[] = [
    { dialog_node: 'order', conditions: is('order'), output: say('Shall I order?'), next_step: { behavior: 'jump_to', dialog_node: 'yes', selector: 'user_input' } },
    { dialog_node: 'menu', conditions: is('menu'), previous_sibling: 'order', output: say('Pick one.') },
    { dialog_node: 'menu_go', parent: 'menu', conditions: is('go'), output: say('Checking.'), next_step: { behavior: 'jump_to', dialog_node: 'yes', selector: 'condition' } },
    { dialog_node: 'confirm', conditions: 'false', previous_sibling: 'menu' },
    { dialog_node: 'yes', parent: 'confirm', conditions: is('yes'), output: say('Ordered.') },
    { dialog_node: 'no', parent: 'confirm', previous_sibling: 'yes', conditions: is('no'), output: say('Cancelled.') },
    { dialog_node: 'hours', conditions: is('hours?'), previous_sibling: 'confirm', output: say('We open at 8.') },
    { dialog_node: 'go', conditions: is('go'), previous_sibling: 'hours', output: say('Going.') },
  ];
  // Waiting at "yes" after user_input, the user asks something else: the root level answers.
  const waited = chat(nodes, ['order', 'hours?']);
  assert.deepEqual(waited.map(texts), [['Shall I order?'], ['We open at 8.']]);
  assert.deepEqual(waited[1]!.output.log_messages, []);
  // A condition jump in the same turn: neither "yes" nor "no" holds, so the root level is tried.
  const jumped = chat(nodes, ['menu', 'go']);
  assert.deepEqual(jumped.map(texts), [['Pick one.'], ['Checking.', 'Going.']]);
  assert.deepEqual(jumped[1]!.output.nodes_visited, ['menu_go', 'go']);
});

test('skip_user_input with no child matching evaluates the root level with the same input, the skipping node aside', () => {
  const nodes: DialogNode[] = [
    { dialog_node: 'loc', conditions: 'input.text == "location"', output: say('Let me check.'), next_step: { behavior: 'skip_user_input' } },
    { dialog_node: 'ask', parent: 'loc', conditions: '$city == null', output: say('Which city?') },
    { dialog_node: 'else', previous_sibling: 'loc', conditions: 'anything_else', output: say('I did not understand.') },
  ];
  assert.deepEqual(texts(chat(nodes, ['location'])[0]!), ['Let me check.', 'Which city?']);
  const [r] = chat(nodes, ['location'], { city: 'Boston' } as MessageContext);
  assert.deepEqual(texts(r!), ['Let me check.', 'I did not understand.']);
  assert.deepEqual(r!.output.nodes_visited, ['loc', 'else']);
  assert.deepEqual(r!.output.log_messages, []);
});

test('the root fallback after skip_user_input passes over the root of a branch a jump landed in: its answers once', () => {
  const nodes: DialogNode[] = [
    { dialog_node: 'a', conditions: 'input.text == "a"', output: say('A'), next_step: { behavior: 'jump_to', selector: 'body', dialog_node: 'b1' } },
    { dialog_node: 'b', previous_sibling: 'a', conditions: 'input.text == "a"', next_step: { behavior: 'skip_user_input' } },
    { dialog_node: 'b1', parent: 'b', conditions: 'true', output: say('B1'), next_step: { behavior: 'skip_user_input' } },
    { dialog_node: 'b1a', parent: 'b1', conditions: 'false', output: say('never') },
    { dialog_node: 'else', previous_sibling: 'b', conditions: 'anything_else', output: say('I did not understand.') },
  ];
  const [r] = chat(nodes, ['a']);
  assert.deepEqual(texts(r!), ['A', 'B1', 'I did not understand.']);
  assert.deepEqual(r!.output.nodes_visited, ['a', 'b1', 'else']);
});

test('a slot waiting for a system entity the store does not recognise says so in log_messages', () => {
  // community-adv-dialog1's welcome asks for @sys-person and, never finding one, asks again forever.
  const nodes: DialogNode[] = [
    { dialog_node: 'welcome', type: 'frame', conditions: 'welcome', output: say('Nice to meet you $person!') },
    { dialog_node: 'slot_person', type: 'slot', parent: 'welcome', variable: '$person' },
    { dialog_node: 'person_input', type: 'event_handler', event_name: 'input', parent: 'slot_person', conditions: '@sys-person', context: { person: '@sys-person' } },
    { dialog_node: 'person_focus', type: 'event_handler', event_name: 'focus', parent: 'slot_person', previous_sibling: 'person_input', output: say('Who am I talking to?') },
  ];
  const rs = chat(nodes, ['', 'I am John'], undefined, [{ entity: 'sys-person' }]);
  assert.deepEqual(rs.map(texts), [['Who am I talking to?'], ['Who am I talking to?']]);
  for (const r of rs) {
    const warnings = r.output.log_messages.filter((l) => l.code === 'entity.system_unsupported');
    assert.deepEqual(warnings.map((l) => [l.level, l.source]), [['warn', { dialog_node: 'person_input' }]]);
    assert.match(warnings[0]!.msg, /uses @sys-person, a system entity this store does not recognise/);
  }
  // Not enabled in the workspace, @sys-person is just an entity nobody defined: nothing to report.
  const [quiet] = chat(nodes, [''], undefined, []);
  assert.deepEqual(quiet!.output.log_messages, []);
});

test('a node setting an object variable merges it into the object already there', () => {
  // banking-chatbot: the start date, then the end date and the lookup, in one `action` object.
  const nodes: DialogNode[] = [
    { dialog_node: 'start', conditions: 'input.text == "transactions"', context: { action: { startdt: '2024-03-01' }, tags: ['a'] }, output: say('End date?') },
    { dialog_node: 'end', parent: 'start', conditions: 'true', context: { action: { enddt: '<? input.text ?>', lookup: 'transactions' }, tags: ['b'] }, output: say('Here they are.') },
  ];
  const rs = chat(nodes, ['transactions', '2024-03-10'], { action: { startdt: 'stale', account: 'checking' } });
  assert.deepEqual(rs[1]!.context.action, { startdt: '2024-03-01', account: 'checking', enddt: '2024-03-10', lookup: 'transactions' });
  assert.deepEqual(rs[1]!.context.tags, ['b']); // lists are replaced, not merged
});

test('a context.system or _node_output_map a client mangled gets an answer and a warning, never an exception', () => {
  const nodes: DialogNode[] = [{ dialog_node: 'a', conditions: 'true', output: { generic: [{ response_type: 'text', values: [{ text: 'one' }, { text: 'two' }], selection_policy: 'sequential' }] } }];
  const warned = (start: unknown): string[] => {
    const [r] = chat(nodes, ['hi'], start as MessageContext);
    assert.deepEqual(texts(r!), ['one'], JSON.stringify(start));
    return r!.output.log_messages.map((l) => l.code ?? '');
  };
  for (const system of [5, 'x', [1]]) assert.deepEqual(warned({ system }), ['dialog.context_invalid'], JSON.stringify(system));
  for (const map of [5, 'x', [1], { a: 'x' }, { a: [null] }, { a: { 0: 'x' } }, { a: { 0: -1 } }]) {
    assert.deepEqual(warned({ system: { _node_output_map: map } }), ['dialog.context_invalid'], JSON.stringify(map));
  }
  // What the runtime itself writes is read back as it was: the second variation comes next.
  const [, second] = chat(nodes, ['hi', 'hi']);
  assert.deepEqual(texts(second!), ['two']);
  assert.deepEqual(second!.output.log_messages, []);
});

test('a backslash keeps $, @ and # as text and is dropped (it was printed, and \\@ cut "@example.com" out as an entity)', () => {
  const [r] = chat([{ dialog_node: 'n', conditions: 'true', context: { user: 'Sam' }, output: say('Mail feedback\\@example.com. The fee is \\$2, \\#1 seller. Price: \\$user, not $user.') }], ['x']);
  assert.deepEqual(texts(r!), ['Mail feedback@example.com. The fee is $2, #1 seller. Price: $user, not Sam.']);
});

test('a pattern\'s capture groups by number: @e.groups[n] is the captured text, null for a group that took no part', () => {
  // entities docs ("Capture groups"): <? @ContactInfo.groups[1] ?> is the area code. Before, it
  // was the group's {group, location} object, and a group that took no part was left out, so
  // the later groups' numbers shifted.
  const contact = [{ entity: 'ContactInfo', values: [{ value: 'phone', type: 'patterns' as const, patterns: ['(\\+1 )?(\\d{3})-(\\d{3})-(\\d{4})'] }] }];
  const nodes: DialogNode[] = [{
    dialog_node: 'phone', conditions: '@ContactInfo:phone',
    output: say('area <? @ContactInfo.groups[2] ?>, line <? @ContactInfo.groups[4] ?>, country <? @ContactInfo.groups[1] == null ? "none" : @ContactInfo.groups[1] ?>'),
    context: { area_code: '<? @ContactInfo.groups[2] ?>' },
  }];
  const [plain] = chat(nodes, ['call 800-426-4968'], undefined, contact);
  assert.deepEqual(texts(plain!), ['area 800, line 4968, country none']);
  assert.equal(plain!.context.area_code, '800');
  const [intl] = chat(nodes, ['call +1 800-426-4968'], undefined, contact);
  assert.deepEqual(texts(intl!), ['area 800, line 4968, country +1 ']);
});

test('groups of a supplied entity in any shape give no error', () => {
  const nodes: DialogNode[] = [{ dialog_node: 'n', conditions: '@code', output: say('<? @code.groups.size() ?> <? @code.groups[1] ?>') }];
  for (const groups of ['x', [null, 7, { group: 'group_1' }, { group: 'group_99999', location: [0, 1] }], [{ group: 'group_1', location: [0, 2] }]]) {
    const r = respond({ dialog_nodes: nodes, entities: [] }, { input: { text: 'ab' }, entities: [{ entity: 'code', value: 'c', location: [0, 2], groups } as never] }, fixedNlu([]), CHAT_OPTIONS);
    assert.deepEqual(texts(r), [Array.isArray(groups) && groups.length === 1 ? '2 ab' : '0 '], JSON.stringify(groups));
  }
});

test('response text names a hyphenated variable as $(card-type) or ${card-type}', () => {
  const [r] = chat([{ dialog_node: 'n', conditions: 'true', output: say('Card: $(card-type), ${card-type}; price $5.') }], ['hi'], { 'card-type': 'visa' } as MessageContext);
  assert.deepEqual(texts(r!), ['Card: visa, visa; price $5.']);
});

test('a chain of 20,000 sibling nodes (an FAQ skill at the root) compiles and answers in order', () => {
  // The sibling order was walked recursively, one call per node: from about 8,500 nodes every
  // /message of such a workspace answered 500 (Maximum call stack size exceeded).
  const N = 20_000;
  const nodes: DialogNode[] = Array.from({ length: N }, (_, i) => ({
    dialog_node: `faq_${i}`, conditions: `input.text == 'q${i}' || input.text == 'any'`, output: say(`a${i}`),
    ...(i > 0 ? { previous_sibling: `faq_${i - 1}` } : {}),
  }));
  nodes.reverse(); // export order says nothing; the chain does
  assert.deepEqual(texts(chat(nodes, ['q19999'])[0]!), ['a19999']);
  assert.deepEqual(texts(chat(nodes, ['any'])[0]!), ['a0']);
});
