/**
 * Slots (IBM Cloud docs: dialog-slots, "Replacing a slot context variable value"): until the user
 * leaves the node, a new value for a slot already filled replaces the old one, and the slot's
 * Found handler runs for it, with event.previous_value and event.current_value to tell the change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DialogNode, WorkspaceEntity } from '../../src/runtime/index.ts';
import { chat, say, texts } from './chat.ts';

const entities: WorkspaceEntity[] = [
  { entity: 'city', values: [{ value: 'Paris' }, { value: 'Madrid' }, { value: 'Rome' }] },
  { entity: 'seat', values: [{ value: 'window' }, { value: 'aisle' }] },
];

const flight: DialogNode[] = [
  { dialog_node: 'book', type: 'frame', conditions: 'input.text.contains("fly")', output: say('Booked: $destination, $seat seat.') },
  { dialog_node: 'slot_city', type: 'slot', parent: 'book', variable: '$destination' },
  { dialog_node: 'city_input', type: 'event_handler', event_name: 'input', parent: 'slot_city', conditions: '@city', context: { destination: '@city' } },
  { dialog_node: 'city_focus', type: 'event_handler', event_name: 'focus', parent: 'slot_city', previous_sibling: 'city_input', output: say('Where to?') },
  {
    dialog_node: 'city_changed', type: 'event_handler', event_name: 'filled', parent: 'slot_city', previous_sibling: 'city_focus',
    conditions: 'event.previous_value != null && event.previous_value != event.current_value',
    output: say('Ok, updating destination from <? event.previous_value ?> to <? event.current_value ?>.'),
  },
  { dialog_node: 'city_found', type: 'event_handler', event_name: 'filled', parent: 'slot_city', previous_sibling: 'city_changed', output: say('Ok, destination is $destination.') },
  { dialog_node: 'slot_seat', type: 'slot', parent: 'book', previous_sibling: 'slot_city', variable: '$seat' },
  { dialog_node: 'seat_input', type: 'event_handler', event_name: 'input', parent: 'slot_seat', conditions: '@seat', context: { seat: '@seat' } },
  { dialog_node: 'seat_focus', type: 'event_handler', event_name: 'focus', parent: 'slot_seat', previous_sibling: 'seat_input', output: say('Window or aisle?') },
];

test('a new value for a filled slot replaces it, and Found can tell the change', () => {
  const rs = chat(flight, ['I want to fly to Paris', 'Oh wait. I want to fly to Madrid instead.', 'aisle'], undefined, entities);
  assert.deepEqual(rs.map(texts), [
    ['Ok, destination is Paris.', 'Window or aisle?'],
    ['Ok, updating destination from Paris to Madrid.', 'Window or aisle?'],
    ['Booked: Madrid, aisle seat.'],
  ]);
  assert.equal(rs[2]!.context.destination, 'Madrid');
});

test('input that repeats nothing for a filled slot leaves it alone', () => {
  const rs = chat(flight, ['fly to Rome', 'window'], undefined, entities);
  assert.deepEqual(rs.map(texts), [['Ok, destination is Rome.', 'Window or aisle?'], ['Booked: Rome, window seat.']]);
});

/**
 * Overlapping entities (docs: dialog-slots): a slot takes the entity with the longer span, so the
 * 2 of "May 2" is the date's day, not a number of guests.
 */
const booking: DialogNode[] = [
  { dialog_node: 'reserve', type: 'frame', conditions: 'input.text.contains("book")', output: say('Table for $guests on $date.') },
  { dialog_node: 'slot_date', type: 'slot', parent: 'reserve', variable: '$date', conditions: '@sys-date', output: say('Which day?') },
  { dialog_node: 'slot_guests', type: 'slot', parent: 'reserve', previous_sibling: 'slot_date', variable: '$guests', conditions: '@sys-number', output: say('How many guests?') },
];
const systemEntities: WorkspaceEntity[] = [{ entity: 'sys-date' }, { entity: 'sys-number' }];

test('a slot passes over an entity inside a longer one: "May 2" fills the date, not the guests', () => {
  const rs = chat(booking, ['book a table for May 2', '4'], undefined, systemEntities);
  assert.deepEqual(rs.map(texts), [['How many guests?'], ['Table for 4 on 2024-05-02.']]);
  // The response still lists every entity found, as Watson does.
  assert.deepEqual(rs[0]!.entities.map((e) => e.entity).sort(), ['sys-date', 'sys-number']);
});

test('an entity no longer one overlaps still fills its slot', () => {
  const rs = chat(booking, ['book for 4 people on May 2'], undefined, systemEntities);
  assert.deepEqual(rs.map(texts), [['Table for 4 on 2024-05-02.']]);
});

/**
 * A Not found handler that moves on (next_step skip_slot) leaves its slot empty and asks for the
 * next one instead of waiting on the same question.
 */
test('skip_slot in a Not found handler moves on to the next empty slot', () => {
  const nodes: DialogNode[] = [
    ...flight,
    { dialog_node: 'city_unknown', type: 'event_handler', event_name: 'nomatch', parent: 'slot_city', previous_sibling: 'city_found', output: say('We will pick a city later.'), next_step: { behavior: 'skip_slot' } },
  ];
  const rs = chat(nodes, ['I want to fly', 'somewhere warm'], undefined, entities);
  // Before: the handler's answer stood in for the city question, and the dialog waited on it.
  assert.deepEqual(rs.map(texts), [['Where to?'], ['We will pick a city later.', 'Window or aisle?']]);
  assert.deepEqual(rs[1]!.context.system!.dialog_stack, [{ dialog_node: 'book', state: 'in_progress', slot_in_focus: 'slot_seat' }]);
});
