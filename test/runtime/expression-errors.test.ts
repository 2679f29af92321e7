/**
 * Expressions that fail while a turn runs (a method called on a missing variable, a regular
 * expression that does not compile) are the dialog author's mistake: the turn still answers, and
 * log_messages says what went wrong, as for conditions and context values. A throw here was a 500.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chat, say, texts } from './chat.ts';

test('an output key other than generic whose expression fails is left out and logged, not a crash', () => {
  const [r] = chat([
    { dialog_node: 'order', conditions: 'true', output: { ...say('Ordering.'), action: { name: 'order', item: '<? $items.get(0) ?>' } } },
  ], ['order']);
  assert.deepEqual(texts(r!), ['Ordering.']);
  assert.equal(r!.output.action, undefined);
  assert.deepEqual(r!.output.log_messages.map((l) => [l.code, l.source]), [['dialog.output_error', { dialog_node: 'order' }]]);
});

test('matches() with a regular expression that does not compile is a condition error, not a crash', () => {
  const [r] = chat([
    { dialog_node: 'digits', conditions: 'input.text.matches("[0-9")', output: say('A number.') },
    { dialog_node: 'other', conditions: 'anything_else', previous_sibling: 'digits', output: say('Something else.') },
  ], ['42']);
  assert.deepEqual(texts(r!), ['Something else.']);
  assert.deepEqual(r!.output.log_messages.map((l) => [l.code, l.source]), [['dialog.condition_error', { dialog_node: 'digits' }]]);
});

test('matches() is a whole-string match, find() a search', () => {
  const nodes = [
    { dialog_node: 'whole', conditions: 'input.text.matches("[0-9]+")', output: say('Only digits.') },
    { dialog_node: 'some', conditions: 'input.text.find("[0-9]+")', previous_sibling: 'whole', output: say('Some digits.') },
  ];
  assert.deepEqual(chat(nodes, ['42']).map(texts), [['Only digits.']]);
  assert.deepEqual(chat(nodes, ['room 42']).map(texts), [['Some digits.']]);
});

test('an expression that would build a huge string fails like any other, before it is built (a 400-character input made a 64 MB answer)', () => {
  const grow = "<? input.text.replaceAll('.', input.text).replaceAll('.', input.text) ?>";
  const nodes = [{ dialog_node: 'big', conditions: 'true', context: { big: grow }, output: { ...say('Done.'), echo: "<? input.text.replace('a', input.text).replace('a', input.text) ?>" } }];
  const [r] = chat(nodes, ['a'.repeat(400)]);
  assert.deepEqual(texts(r!), ['Done.']);
  assert.equal(r!.context.big, undefined);
  assert.equal(r!.output.echo, undefined);
  assert.ok(r!.output.log_messages.every((l) => /would build a string of 160400 characters; at most 100000 are allowed/.test(l.msg)), JSON.stringify(r!.output.log_messages));
  assert.ok(r!.output.log_messages.length >= 2);
  // Short enough, the same expressions still work.
  const [small] = chat(nodes, ['a.']);
  // '.' is a regular expression in replaceAll: every character becomes the input.
  assert.equal(small!.context.big, 'a.'.repeat(4));
});
