/**
 * The v1 runtime endpoints: `/message` (a dialog turn) and `bulk_classify` (intents and entities
 * only). Both load the workspace through one `Understanding`, so the hot path is a cache lookup,
 * a classification and, for /message, a dialog turn.
 */
import { z } from 'zod';
import type { Router, V1Handler } from '../api/index.ts';
import { respond, type MessageRequest } from '../runtime/index.ts';
import { parseBody } from '../workspaces/index.ts';
import { bulkClassify } from './bulk-classify.ts';
import { inputText, Understanding, type UnderstandingOptions } from './understanding.ts';

// The characters OAS Context forbids in conversation_id (&& and || as pairs: a single & or | is
// allowed). The API sets no length bound on it.
const CONVERSATION_ID_FORBIDDEN = /&&|\|\||[+=><!(){}[\]^"~*?:\\/]/;
const conversationId = z.string().refine((s) => !CONVERSATION_ID_FORBIDDEN.test(s),
  'must not contain any of + = && || > < ! ( ) { } [ ] ^ " ~ * ? : \\ / (other characters, such as letters, digits, - _ . and a single & or |, are allowed)');

// Far more than a 2048-character input yields (a client sends back the previous turn's). Slots
// compare every supplied entity with every other: thousands made one turn take seconds of CPU
// that every other request waited for.
const MAX_SUPPLIED = 500;

const messageBody = z.object({
  input: z.object({ text: inputText.optional() }).loose().optional(),
  intents: z.array(z.object({ intent: z.string(), confidence: z.number().optional() }).loose()).max(MAX_SUPPLIED).optional(),
  entities: z.array(z.object({ entity: z.string(), value: z.string() }).loose()).max(MAX_SUPPLIED).optional(),
  alternate_intents: z.boolean().optional(),
  // The runtime echoes these back and takes the user id from them, so their types are checked
  // (OAS Context); the rest of the context is the dialog's own variables, any JSON.
  context: z.object({
    conversation_id: conversationId.optional(),
    metadata: z.object({ user_id: z.string().min(1).max(256).optional() }).loose().optional(),
  }).catchall(z.unknown()).optional(),
  output: z.record(z.string(), z.unknown()).optional(),
  user_id: z.string().min(1).max(256).optional(),
});

/** One answered /message turn, as the message logs keep it. */
export interface MessageTurn {
  workspaceId: string;
  language: string;
  /** The body the client sent, and the body it is answered with. */
  request: unknown;
  response: unknown;
  received: Date;
  answered: Date;
  headers: Record<string, string | string[] | undefined>;
}

export interface MessageServiceOptions extends UnderstandingOptions {
  /** Called with every answered turn (the message logs); must not block. */
  turn?(turn: MessageTurn): void;
}

export class MessageService {
  readonly #understanding: Understanding;
  readonly #turn: MessageServiceOptions['turn'];

  constructor(opts: MessageServiceOptions) {
    this.#understanding = new Understanding(opts);
    this.#turn = opts.turn;
  }

  readonly handler: V1Handler = async (c) => {
    const received = new Date();
    const body = parseBody(messageBody, c.body) as MessageRequest;
    const ws = await this.#understanding.load(c.pool, c.instanceId, c.params.ws!);
    const response = respond(ws.dialog, body, ws.nlu, {
      version: c.version, nodesVisitedDetails: c.query.nodes_visited_details === 'true',
    });
    if (!ws.model) {
      response.output.log_messages.push({ level: 'warn', msg: 'The workspace has no trained model yet; intents are not recognized until training completes.', code: 'workspace_not_trained' });
    }
    this.#turn?.({ workspaceId: ws.id, language: ws.language, request: c.body, response, received, answered: new Date(), headers: c.headers });
    return { body: response };
  };

  register(router: Router<V1Handler>): void {
    router.add('POST', 'v1/workspaces/:ws/message', this.handler);
    router.add('POST', 'v1/workspaces/:ws/bulk_classify', bulkClassify(this.#understanding));
  }
}
