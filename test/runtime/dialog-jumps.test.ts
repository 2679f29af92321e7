/**
 * jump_to with the target's condition checked: when neither the target nor its later siblings
 * match, the root level is tried with the same input (the docs' basic fallback), as after
 * skip_user_input. The branch that jumped has already answered this turn.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DialogNode } from '../../src/runtime/index.ts';
import { chat, say, texts } from './chat.ts';

test('a condition jump that finds no match does not fire the jumping root again and again', () => {
  const nodes: DialogNode[] = [
    {
      dialog_node: 'order', conditions: 'input.text == "order"', output: say('What size?'),
      next_step: { behavior: 'jump_to', dialog_node: 'sized', selector: 'condition' },
    },
    { dialog_node: 'sized', parent: 'order', conditions: '$size', output: say('A $size one.') },
    { dialog_node: 'hours', conditions: 'input.text == "hours"', previous_sibling: 'order', output: say('We open at 8.') },
  ];
  const [r] = chat(nodes, ['order']);
  // Before: "What size?" 25 times over, then dialog.loop, as order matched at the root each time.
  assert.deepEqual(texts(r!), ['What size?']);
  assert.deepEqual(r!.output.nodes_visited, ['order']);
  assert.deepEqual(r!.output.log_messages.map((l) => l.code), []);
  assert.deepEqual(r!.context.system!.dialog_stack, [{ dialog_node: 'root' }]);
});

test('the fallback after a condition jump still reaches the other roots, anything_else included', () => {
  const nodes: DialogNode[] = [
    {
      dialog_node: 'order', conditions: 'input.text == "order"', output: say('What size?'),
      next_step: { behavior: 'jump_to', dialog_node: 'sized', selector: 'condition' },
    },
    { dialog_node: 'sized', parent: 'order', conditions: '$size', output: say('A $size one.') },
    { dialog_node: 'fallback', conditions: 'anything_else', previous_sibling: 'order', output: say('Sorry?') },
  ];
  const [r] = chat(nodes, ['order']);
  assert.deepEqual(texts(r!), ['What size?', 'Sorry?']);
  assert.deepEqual(r!.output.nodes_visited, ['order', 'fallback']);
});

test('output in an expression is the turn\'s output so far: the docs\' output.number + 1 counts the nodes a jump passed through', () => {
  const nodes: DialogNode[] = [
    {
      dialog_node: 'first', conditions: 'input.text == "go"', output: { number: 1, text: 'one' },
      next_step: { behavior: 'jump_to', dialog_node: 'second', selector: 'body' },
    },
    {
      dialog_node: 'second', conditions: 'false', previous_sibling: 'first',
      output: { number: '<? output.number + 1 ?>', text: 'Said <? output.text.size() ?> so far, <? output.generic[0].text ?> first.' },
    },
  ];
  const [r] = chat(nodes, ['go']);
  assert.equal(r!.output.number, 2);
  assert.deepEqual(texts(r!), ['one', 'Said 1 so far, one first.']);
  assert.deepEqual(r!.output.log_messages, []);
});
