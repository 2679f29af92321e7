/**
 * sys-number in words and sys-date relative to a weekday, as a user types them. Locations are
 * UTF-16 offsets into the text sent, end exclusive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileEntities } from '../../src/runtime/index.ts';

const now = new Date(2024, 2, 13, 10, 0, 0); // Wednesday 13 March 2024, local time
const matcher = compileEntities([{ entity: 'sys-number' }, { entity: 'sys-date' }]);
const found = (name: string, text: string) =>
  matcher.extract(text, { now }).filter((e) => e.entity === name).map((e) => [e.value, text.slice(e.location[0], e.location[1])]);

test('number words: "and" joins only after hundred or a scale; numbers side by side stay apart', () => {
  // Before: 15 for "five and ten", 6 for "one two three", 55 for "twenty five and thirty".
  assert.deepEqual(found('sys-number', 'between five and ten guests'), [['5', 'five'], ['10', 'ten']]);
  assert.deepEqual(found('sys-number', 'one two three'), [['1', 'one'], ['2', 'two'], ['3', 'three']]);
  assert.deepEqual(found('sys-number', 'twenty five and thirty'), [['25', 'twenty five'], ['30', 'thirty']]);
  assert.deepEqual(found('sys-number', 'seven eleven'), [['7', 'seven'], ['11', 'eleven']]);
});

test('number words: compounds still read as one number', () => {
  assert.deepEqual(found('sys-number', 'twenty-one'), [['21', 'twenty-one']]);
  assert.deepEqual(found('sys-number', 'one hundred and five'), [['105', 'one hundred and five']]);
  assert.deepEqual(found('sys-number', 'two thousand and twenty four'), [['2024', 'two thousand and twenty four']]);
  assert.deepEqual(found('sys-number', 'three hundred thousand'), [['300000', 'three hundred thousand']]);
  assert.deepEqual(found('sys-number', 'one million two hundred fifty thousand'), [['1250000', 'one million two hundred fifty thousand']]);
  assert.deepEqual(found('sys-number', 'a thousand and one nights'), [['1001', 'thousand and one']]);
  // "and" that no number word follows is the sentence's: the number ends before it.
  assert.deepEqual(found('sys-number', 'one hundred and more'), [['100', 'one hundred']]);
  assert.deepEqual(found('sys-number', 'zero one'), [['0', 'zero'], ['1', 'one']]);
});

test('sys-number: exponent notation is one number whose value keeps its text', () => {
  // Before: "1E10" was the number 1 at [0, 1], the rest ignored.
  assert.deepEqual(found('sys-number', '1E10'), [['1E10', '1E10']]);
  assert.deepEqual(found('sys-number', 'about 2.5e-3 grams'), [['2.5e-3', '2.5e-3']]);
  const [e] = matcher.extract('1E10', { now }).filter((x) => x.entity === 'sys-number');
  assert.deepEqual(e!.location, [0, 4]);
  assert.equal((e!.interpretation as { numeric_value: number }).numeric_value, 1e10);
  // Not an exponent without digits after the "e": the number ends before it, as before.
  assert.deepEqual(found('sys-number', '10e'), [['10', '10']]);
});

test('sys-date: "last <weekday>" is the one before today, not the one to come', () => {
  // Before: "last friday" was read as "friday", two days ahead.
  assert.deepEqual(found('sys-date', 'I was charged last Friday'), [['2024-03-08', 'last Friday']]);
  assert.deepEqual(found('sys-date', 'last monday'), [['2024-03-11', 'last monday']]);
  assert.deepEqual(found('sys-date', 'last wednesday'), [['2024-03-06', 'last wednesday']]); // today is Wednesday
  assert.deepEqual(found('sys-date', 'this friday or next friday'), [['2024-03-15', 'this friday'], ['2024-03-15', 'next friday']]);
});

const units = compileEntities([{ entity: 'sys-percentage' }, { entity: 'sys-currency' }]);
const unitsFound = (name: string, text: string) =>
  units.extract(text, { now }).filter((e) => e.entity === name).map((e) => [e.value, text.slice(e.location[0], e.location[1])]);

test('sys-number: a range "5-10" is two numbers; a leading minus still reads as negative', () => {
  // Before: only 5, the hyphen keeping 10 from being read.
  assert.deepEqual(found('sys-number', '5-10 people'), [['5', '5'], ['10', '10']]);
  assert.deepEqual(found('sys-number', 'between 1,000-2,500.50'), [['1000', '1,000'], ['2500.5', '2,500.50']]);
  assert.deepEqual(found('sys-number', 'it is -5 outside'), [['-5', '-5']]);
});

test('sys-percentage and sys-currency take the number next to the unit, not the sum of number words', () => {
  // Before: "five and ten percent" was 15%, "one two dollars" 3 USD.
  assert.deepEqual(unitsFound('sys-percentage', 'five and ten percent'), [['10', 'ten percent']]);
  assert.deepEqual(unitsFound('sys-percentage', 'twenty five percent'), [['25', 'twenty five percent']]);
  assert.deepEqual(unitsFound('sys-currency', 'one two dollars'), [['2', 'two dollars']]);
  assert.deepEqual(unitsFound('sys-currency', 'one hundred and five euros'), [['105', 'one hundred and five euros']]);
  assert.deepEqual(unitsFound('sys-currency', 'USD five and ten'), [['5', 'USD five']]);
});
