/**
 * `POST /v1/workspaces/{ws}/bulk_classify`: for each of 1–50 texts, the intents and entities a
 * /message turn would find in it — the same model, entity tables and confidences, with intents
 * listed as alternate_intents: true lists them (the top 10) — without running the dialog or
 * reading or writing any context.
 *
 * Without a current model it answers as /message does: while the workspace retrains, with the last
 * model it had (and a stale workspace is queued for training, as /message queues it); before its
 * first model exists, with no intents (entities are still found). /message says so in
 * output.log_messages; this response has no such field, so callers check that the workspace's
 * status is Available.
 */
import { z } from 'zod';
import type { V1Handler } from '../api/index.ts';
import { ALTERNATE_INTENTS } from '../runtime/index.ts';
import { parseBody } from '../workspaces/index.ts';
import { inputText, type Understanding } from './understanding.ts';

/** The spec's limits (§2): 1–50 utterances per call, each as /message accepts it (at most 2048 characters). */
const MAX_UTTERANCES = 50;

const bulkBody = z.object({
  input: z.array(z.object({ text: inputText }))
    .min(1, 'must hold at least 1 utterance')
    .max(MAX_UTTERANCES, `must hold at most ${MAX_UTTERANCES} utterances; split the texts over several calls`),
});

export function bulkClassify(understanding: Understanding): V1Handler {
  return async (c) => {
    const { input } = parseBody(bulkBody, c.body);
    const ws = await understanding.load(c.pool, c.instanceId, c.params.ws!);
    // One "now" for the whole call, so relative dates (sys-date "today") agree across its texts.
    const now = new Date();
    const output = input.map(({ text }) => {
      const { intents, entities } = ws.interpret(text, now);
      return { input: { text }, entities, intents: intents.slice(0, ALTERNATE_INTENTS) };
    });
    return { body: { output } };
  };
}
