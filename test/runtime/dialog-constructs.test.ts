/**
 * Dialog constructs the shared real exports use, each reduced to the smallest workspace that shows
 * what the service does with it (IBM Cloud docs: dialog-overview, dialog-runtime, dialog-slots).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { respond, type DialogNode, type MessageContext, type MessageResponse, type RespondOptions } from '../../src/runtime/index.ts';
import { fixedNlu } from './stub-nlu.ts';

const options: RespondOptions = { version: '2021-06-14', now: new Date(2024, 2, 13, 10), newConversationId: () => 'conv-1' };
const say = (text: string): Record<string, unknown> => ({ text });

/** Runs a conversation with no intents; each turn sends the previous response's context. */
function chat(nodes: DialogNode[], turns: string[]): MessageResponse[] {
  const ws = { dialog_nodes: nodes };
  let context: MessageContext | undefined;
  return turns.map((text) => {
    const r = respond(ws, { input: { text }, ...(context ? { context } : {}) }, fixedNlu([]), options);
    context = r.context;
    return r;
  });
}

const texts = (r: MessageResponse): unknown[] => r.output.generic.map((g) => g.text);

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
