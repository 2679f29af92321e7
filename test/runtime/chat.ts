/**
 * A conversation against the runtime alone, for dialog tests: no intents (conditions on the input
 * text and entities drive the dialog), a fixed clock and conversation id, and each turn sends the
 * previous response's context, as a v1 client does.
 */
import { respond, type DialogNode, type MessageContext, type MessageResponse, type RespondOptions, type WorkspaceEntity } from '../../src/runtime/index.ts';
import { fixedNlu } from './stub-nlu.ts';

export const CHAT_OPTIONS: RespondOptions = { version: '2021-06-14', now: new Date(2024, 2, 13, 10), newConversationId: () => 'conv-1' };

export function chat(nodes: DialogNode[], turns: string[], start?: MessageContext, entities: WorkspaceEntity[] = []): MessageResponse[] {
  const ws = { dialog_nodes: nodes, entities };
  let context = start;
  return turns.map((text) => {
    const r = respond(ws, { input: { text }, ...(context ? { context } : {}) }, fixedNlu([]), CHAT_OPTIONS);
    context = r.context;
    return r;
  });
}

/** A text response item, as dialog nodes write them. */
export const say = (text: string): Record<string, unknown> => ({ text });

/** The texts of a response's output.generic. */
export const texts = (r: MessageResponse): unknown[] => (r.output.generic ?? []).map((g) => g.text);
