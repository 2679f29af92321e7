/**
 * The list methods of Watson's expression docs (dialog-methods, "Arrays") that change a list:
 * append (any number of values), addAll, clear, remove, removeValue, set — they change the list
 * itself, so `<? $toppings.clear() ?>` in an output field empties the context variable — and
 * filter, joinToArray and getRandomItem. The examples are the docs'.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DialogNode } from '../../src/runtime/index.ts';
import { chat, say, texts } from './chat.ts';

const set = (context: Record<string, unknown>, output: DialogNode['output'] = say('ok')): DialogNode[] => [
  { dialog_node: 'set', conditions: 'true', context, output },
];

test('append takes several values; addAll, remove, removeValue and set change the list as the docs show', () => {
  const start = { toppings: ['onion', 'olives'], more: ['mushroom', 'pepperoni'], three: ['onion', 'olives', 'ham'] };
  const cases: Array<[string, unknown]> = [
    ["<? $toppings.append('ketchup', 'tomatoes') ?>", ['onion', 'olives', 'ketchup', 'tomatoes']],
    ['<? $toppings.remove(0) ?>', ['olives']],
    ["<? $toppings.removeValue('onion') ?>", ['olives']],
    ["<? $toppings.removeValue('absent') ?>", ['onion', 'olives']],
    ["<? $three.set(1, 'ketchup') ?>", ['onion', 'ketchup', 'ham']],
  ];
  for (const [expression, want] of cases) {
    const [r] = chat(set({ result: expression }), ['go'], structuredClone(start));
    assert.deepEqual(r!.context.result, want, expression);
    assert.deepEqual(r!.output.log_messages, [], expression);
  }
  // addAll returns null, but the first list now holds both.
  const [r] = chat(set({ ignored: '<? $toppings.addAll($more) ?>' }), ['go'], structuredClone(start));
  assert.deepEqual(r!.context.toppings, ['onion', 'olives', 'mushroom', 'pepperoni']);
  assert.equal(r!.context.ignored, undefined);
});

test('clear() in an output field empties the context variable', () => {
  const nodes: DialogNode[] = [{ dialog_node: 'n', conditions: 'true', output: { ...say('Cleared <? $toppings.size() ?>.'), array_eraser: '<? $toppings.clear() ?>' } }];
  const [r] = chat(nodes, ['go'], { toppings: ['onion', 'olives'] });
  assert.deepEqual(r!.context.toppings, []);
  assert.deepEqual(r!.output.log_messages, []);
});

test('remove and set out of range are expression errors naming the index; the turn still answers', () => {
  const [r] = chat(set({ result: '<? $list.remove(5) ?>' }), ['go'], { list: ['a'] });
  assert.match(JSON.stringify(r!.output.log_messages), /remove\(5\): no such index in a list of 1/);
  assert.deepEqual(r!.context.list, ['a']);
  assert.deepEqual(texts(r!), ['ok']);
});

test('filter: the docs\' cities, with a literal, a context variable and an entity as the comparison', () => {
  const cities = [
    { name: 'Tokyo', population: 9273000 }, { name: 'Rome', population: 2868104 },
    { name: 'Beijing', population: 20693000 }, { name: 'Paris', population: 2241346 },
  ];
  const [r] = chat(set({
    big: '<? $cities.filter("city", "city.population > 5000000") ?>',
    over: '<? $cities.filter("city", "city.population > $population_min") ?>',
    named: '<? $cities.filter("y", "y.name == @city") ?>',
    names: '<? $cities.filter("city", "city.population > 5000000").size() ?>',
  }), ['What is the population of Tokyo?'], { cities, population_min: 5000000 }, [{ entity: 'city', values: [{ value: 'Tokyo' }] }]);
  assert.deepEqual(r!.context.big, [cities[0], cities[2]]);
  assert.deepEqual(r!.context.over, [cities[0], cities[2]]);
  assert.deepEqual(r!.context.named, [cities[0]]);
  assert.equal(r!.context.names, 2);
  assert.deepEqual(r!.context.cities, cities, 'the filtered list is unchanged');
  assert.deepEqual(r!.output.log_messages, []);
});

test('joinToArray: a string template, a one-placeholder template with and without retainDataType, an object template', () => {
  const flights = [
    { flight: 'AZ1040', destination: 'FCO', duration: 485, code: '7' },
    { flight: 'DL1710', destination: 'LAX', duration: 379, code: '8' },
  ];
  const [r] = chat(set({
    text: '<? $flights.joinToArray("Flight %e.flight% to %e.destination%", true) ?>',
    kept: '<? $flights.joinToArray("%e.code%", true) ?>',
    converted: '<? $flights.joinToArray("%e.code%") ?>',
    objects: '<? $flights.joinToArray($template) ?>',
  }), ['go'], { flights, template: { departure: 'Flight %e.flight% departs', minutes: '%e.duration%' } });
  assert.deepEqual(r!.context.text, ['Flight AZ1040 to FCO', 'Flight DL1710 to LAX']);
  assert.deepEqual(r!.context.kept, ['7', '8']);
  assert.deepEqual(r!.context.converted, [7, 8]);
  assert.deepEqual(r!.context.objects, [{ departure: 'Flight AZ1040 departs', minutes: 485 }, { departure: 'Flight DL1710 departs', minutes: 379 }]);
});

test('getRandomItem picks one of the items (every one, over enough turns); an empty list gives null', () => {
  const seen = new Set<unknown>();
  for (let i = 0; i < 200 && seen.size < 3; i++) {
    seen.add(chat(set({ pick: '<? $toppings.getRandomItem() ?>' }), ['go'], { toppings: ['onion', 'olives', 'ham'] })[0]!.context.pick);
  }
  assert.deepEqual([...seen].sort(), ['ham', 'olives', 'onion']);
  assert.equal(chat(set({ pick: '<? $none.getRandomItem() ?>' }), ['go'], { none: [] })[0]!.context.pick, undefined);
});

test('projections (.![name]), selections (.?[cond]) and T(String).join / T(Math), in the docs\' sentences', () => {
  const cities = [
    { name: 'Tokyo', population: 9273000 }, { name: 'Rome', population: 2868104 },
    { name: 'Beijing', population: 20693000 }, { name: 'Paris', population: 2241346 },
  ];
  const flights = [{ time: '10:00', flight_code: 'OK123' }, { time: '12:30', flight_code: 'LH421' }, { time: '16:15', flight_code: 'TS4156' }];
  const nodes: DialogNode[] = [{
    dialog_node: 'n', conditions: 'true',
    context: { codes: '<? $flights_found.![flight_code] ?>', big: '<? $cities.?[population > 5000000].size() ?>', larger: '<? T(Math).max(3, 7) ?>' },
    output: say('The cities with more than 5 million people include <? T(String).join(", ",($cities.filter("city", "city.population > 5000000")).![name]) ?>. '
      + 'The population of @city is: <? ($cities.filter("y", "y.name == @city").![population]).get(0) ?>. '
      + 'The flights that fit your criteria are: <? T(String).join(",", $flights_found.![flight_code]) ?>.'),
  }];
  const [r] = chat(nodes, ['What is the population of Tokyo?'], { cities, flights_found: flights }, [{ entity: 'city', values: [{ value: 'Tokyo' }] }]);
  assert.deepEqual(r!.output.log_messages, []);
  assert.deepEqual(texts(r!), ['The cities with more than 5 million people include Tokyo, Beijing. The population of Tokyo is: 9273000. The flights that fit your criteria are: OK123,LH421,TS4156.']);
  assert.deepEqual(r!.context.codes, ['OK123', 'LH421', 'TS4156']);
  assert.equal(r!.context.big, 2);
  assert.equal(r!.context.larger, 7);
});
