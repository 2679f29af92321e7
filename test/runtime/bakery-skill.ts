/** A small dialog skill written for the runtime tests: one feature of the dialog language per node. */
import type { DialogNode, Workspace } from '../../src/runtime/index.ts';

const intent = (name: string, ...examples: string[]) => ({ intent: name, examples: examples.map((text) => ({ text })) });

const nodes: DialogNode[] = [
  { dialog_node: 'welcome', conditions: 'welcome', output: { generic: [{ response_type: 'text', values: [{ text: 'Welcome to the bakery!' }] }] } },
  // A folder only gates its children; it never answers itself.
  { dialog_node: 'vip', type: 'folder', conditions: '$vip', previous_sibling: 'welcome' },
  { dialog_node: 'vip_greet', parent: 'vip', conditions: '#greet', output: { text: 'Welcome back, VIP $name.' } },
  {
    dialog_node: 'greet', conditions: '#greet', previous_sibling: 'vip', context: { greeted: true },
    output: { text: { values: ['Hello $name!', 'Hi again $name!'], selection_policy: 'sequential' } },
  },
  { dialog_node: 'hours', conditions: '#hours', previous_sibling: 'greet', output: {} },
  { dialog_node: 'hours_saturday', type: 'response_condition', parent: 'hours', conditions: "@sys-date.reformatDateTime('EEEE') == 'Saturday'", output: { text: 'On <? @sys-date.reformatDateTime("EEEE d MMMM") ?> we open 9-13.' } },
  { dialog_node: 'hours_default', type: 'response_condition', parent: 'hours', previous_sibling: 'hours_saturday', output: { text: 'We open 8-18.' } },

  { dialog_node: 'order', type: 'frame', conditions: '#order', previous_sibling: 'hours', output: {} },
  { dialog_node: 'order_cancel', type: 'event_handler', event_name: 'generic', parent: 'order', conditions: '#cancel', context: { cancelled: true }, next_step: { behavior: 'skip_all_slots' }, output: { text: 'Cancelled.' } },
  { dialog_node: 'slot_size', type: 'slot', parent: 'order', variable: '$size', previous_sibling: 'order_cancel' },
  { dialog_node: 'size_input', type: 'event_handler', event_name: 'input', parent: 'slot_size', conditions: '@size', context: { size: '@size' } },
  { dialog_node: 'size_focus', type: 'event_handler', event_name: 'focus', parent: 'slot_size', previous_sibling: 'size_input', output: { text: 'Which size?' } },
  { dialog_node: 'size_huge', type: 'event_handler', event_name: 'filled', parent: 'slot_size', previous_sibling: 'size_focus', conditions: '@size:huge', next_step: { behavior: 'reprompt' }, output: { text: "We don't do huge." } },
  { dialog_node: 'slot_filling', type: 'slot', parent: 'order', variable: '$filling', previous_sibling: 'slot_size' },
  { dialog_node: 'filling_input', type: 'event_handler', event_name: 'input', parent: 'slot_filling', conditions: '@filling' },
  { dialog_node: 'filling_focus', type: 'event_handler', event_name: 'focus', parent: 'slot_filling', previous_sibling: 'filling_input', output: { text: 'Which filling?' } },
  { dialog_node: 'filling_help', type: 'event_handler', event_name: 'nomatch', parent: 'slot_filling', previous_sibling: 'filling_focus', conditions: '#help', output: { text: 'We have apple and cherry.' } },
  // Optional: no prompt, filled only when the user happens to mention it.
  { dialog_node: 'slot_count', type: 'slot', parent: 'order', variable: '$count', previous_sibling: 'slot_filling' },
  { dialog_node: 'count_input', type: 'event_handler', event_name: 'input', parent: 'slot_count', conditions: '@sys-number', context: { count: '@sys-number' } },
  { dialog_node: 'order_cancelled', type: 'response_condition', parent: 'order', previous_sibling: 'slot_count', conditions: '$cancelled', context: { size: null, filling: null, cancelled: null }, output: { text: 'Order cancelled.' } },
  { dialog_node: 'order_done', type: 'response_condition', parent: 'order', previous_sibling: 'order_cancelled', output: { text: 'One $size $filling pie<? $count ? " x" + $count : "" ?> coming up.' } },

  { dialog_node: 'menu', conditions: '#menu', previous_sibling: 'order', output: { text: 'Apple or cherry?' } },
  { dialog_node: 'menu_pick', parent: 'menu', conditions: '@filling', output: { text: 'Good choice: @filling.' } },

  { dialog_node: 'jump_body', conditions: '#jump', previous_sibling: 'menu', output: { text: 'Jumping.' }, next_step: { behavior: 'jump_to', dialog_node: 'target_never', selector: 'body' } },
  { dialog_node: 'jump_cond', conditions: '#condjump', previous_sibling: 'jump_body', next_step: { behavior: 'jump_to', dialog_node: 'target_never', selector: 'condition' } },
  { dialog_node: 'jump_wait', conditions: '#wait', previous_sibling: 'jump_cond', context: { awaiting_name: true }, output: { text: 'What is your name?' }, next_step: { behavior: 'jump_to', dialog_node: 'target_name', selector: 'user_input' } },
  { dialog_node: 'skip', conditions: '#skip', previous_sibling: 'jump_wait', output: { text: 'Skipping...' }, next_step: { behavior: 'skip_user_input' } },
  { dialog_node: 'skip_child', parent: 'skip', conditions: '#skip', output: { text: '...and continuing.' } },
  {
    dialog_node: 'multi', conditions: '#multi', previous_sibling: 'skip', output: {
      generic: [
        { response_type: 'text', selection_policy: 'multiline', values: [{ text: 'Line 1' }, { text: 'Line 2 for <? input.text ?>' }] },
        { response_type: 'option', title: 'Pick one, $name', options: [{ label: 'Apple', value: { input: { text: 'apple' } } }] },
      ],
    },
  },
  { dialog_node: 'random', conditions: '#random', previous_sibling: 'multi', output: { generic: [{ response_type: 'text', selection_policy: 'random', values: [{ text: 'A' }, { text: 'B' }, { text: 'C' }] }] } },
  { dialog_node: 'loop_a', conditions: '#loop', previous_sibling: 'random', next_step: { behavior: 'jump_to', dialog_node: 'loop_b', selector: 'body' } },
  { dialog_node: 'loop_b', previous_sibling: 'loop_a', next_step: { behavior: 'jump_to', dialog_node: 'loop_a', selector: 'body' } },
  { dialog_node: 'broken', conditions: '#order &&', previous_sibling: 'loop_b', output: { text: 'never' } },
  { dialog_node: 'target_never', conditions: 'false', previous_sibling: 'broken', output: { text: 'Target reached.' } },
  { dialog_node: 'target_next', conditions: 'true && #condjump', previous_sibling: 'target_never', output: { text: 'Next sibling of the target.' } },
  { dialog_node: 'target_name', conditions: '$awaiting_name', previous_sibling: 'target_next', context: { name: '<? input.text ?>', awaiting_name: null }, output: { text: 'Nice to meet you, $name.' } },
  { dialog_node: 'fallback', conditions: 'anything_else', previous_sibling: 'target_name', output: { text: "Sorry, I didn't get that." } },
];

export const bakery: Workspace = {
  name: 'bakery',
  language: 'en',
  intents: [
    intent('greet', 'hello', 'hi there'), intent('order', 'i want a pie', 'order a pie'), intent('hours', 'opening hours', 'when are you open'),
    intent('help', 'help'), intent('cancel', 'cancel'), intent('menu', 'menu'), intent('jump', 'jump'), intent('condjump', 'condjump'),
    intent('wait', 'wait'), intent('skip', 'skip'), intent('multi', 'multi'), intent('random', 'random'), intent('loop', 'loop'),
  ],
  entities: [
    { entity: 'size', values: [{ value: 'small' }, { value: 'large', synonyms: ['big'] }, { value: 'huge' }] },
    { entity: 'filling', values: [{ value: 'apple', synonyms: ['apples'] }, { value: 'cherry', synonyms: ['cherries'] }] },
    { entity: 'sys-date' },
    { entity: 'sys-number' },
  ],
  // Shuffled on purpose: order comes from parent/previous_sibling, not from the array.
  dialog_nodes: [...nodes].reverse(),
};
