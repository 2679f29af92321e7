/**
 * Request-body validation with the v1 limits (spec §3) and the tolerances real exports need
 * (§11: empty descriptions, values without `type`, sys- entities without values, legacy node
 * output, unknown top-level keys). Violations become a 400 whose `errors[]` carry JSON Pointers.
 */
import { z } from 'zod';
import { AppError } from '../errors/index.ts';
import { compileEntityPattern } from '../runtime/index.ts';

const CTL = /[\r\n\t]/;
const noCtl = (s: string): boolean => !CTL.test(s);
const CTL_MSG = 'must not contain carriage return, newline or tab characters';

const text = (max: number) => z.string()
  .min(1, 'must not be empty').max(max, `must be at most ${max} characters`)
  .refine(noCtl, CTL_MSG).refine((s) => s.trim().length > 0, 'must not be only whitespace');
const description = z.string().max(128, 'must be at most 128 characters').refine(noCtl, CTL_MSG);
const jsonObject = z.record(z.string(), z.unknown());

export const SYSTEM_ENTITIES = new Set([
  'sys-number', 'sys-date', 'sys-time', 'sys-currency', 'sys-percentage', 'sys-person', 'sys-location',
  'sys-date_range', 'sys-duration', 'sys-email', 'sys-phone_number', 'sys-url', 'sys-organization',
]);

export const intentName = z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters')
  .regex(/^[\p{L}\p{N}_.-]+$/u, 'may contain only Unicode letters and digits, underscore, hyphen and period')
  .refine((s) => !s.startsWith('sys-'), 'Intent name cannot start with sys-');

export const entityName = z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters')
  .regex(/^[\p{L}\p{N}_-]+$/u, 'may contain only Unicode letters and digits, underscore and hyphen')
  .refine((s) => !s.startsWith('sys-') || SYSTEM_ENTITIES.has(s), 'is not a known system entity (names starting with sys- enable system entities)');

export const mention = z.object({
  entity: z.string().min(1),
  location: z.array(z.number().int().min(0)).length(2, 'must hold exactly two offsets'),
});
export const example = z.object({ text: text(1024), mentions: z.array(mention).optional() });
export const counterexample = z.object({ text: text(1024) });
export const intent = z.object({
  intent: intentName,
  description: description.optional(),
  examples: z.array(example).optional(),
});

export const valueName = text(64);
export const synonym = text(64);
/** Whether `source` compiles as the runtime will match it (Java-only syntax included). */
export function compiles(source: string): boolean {
  return compileEntityPattern(source) !== undefined;
}
export const pattern = z.string().min(1, 'must not be empty').max(512, 'must be at most 512 characters')
  .refine(compiles, 'must be a valid regular expression (check for unclosed groups or character classes, and quantifiers with nothing to repeat)');
/**
 * A value holds synonyms or patterns, never both; its type (default synonyms) says which.
 * Returns the offending field and what is wrong with it, worded to follow the field's name.
 */
export function valueKindError(type: string | undefined, v: { synonyms?: string[] | undefined; patterns?: string[] | undefined }): { field: 'synonyms' | 'patterns'; message: string } | undefined {
  if ((type ?? 'synonyms') === 'synonyms' && v.patterns && v.patterns.length > 0) {
    return { field: 'patterns', message: 'are not allowed on a value of type synonyms: send type "patterns" with them, or send synonyms instead' };
  }
  if (type === 'patterns' && v.synonyms && v.synonyms.length > 0) {
    return { field: 'synonyms', message: 'are not allowed on a value of type patterns: send type "synonyms" with them, or send patterns instead' };
  }
  return undefined;
}

const valueFields = z.object({
  value: valueName,
  type: z.enum(['synonyms', 'patterns']).optional(),
  metadata: jsonObject.optional(),
  synonyms: z.array(synonym).optional(),
  patterns: z.array(pattern).max(5, 'a value may have at most 5 patterns').optional(),
});
export const value = valueFields.superRefine((v, ctx) => {
  const err = valueKindError(v.type, v);
  if (err) ctx.addIssue({ code: 'custom', path: [err.field], message: err.message });
});
/**
 * An update body: every field optional and no type check here, because a body without `type`
 * takes the stored value's type; updateValue applies valueKindError after merging. (zod 4 also
 * refuses .partial() on a refined object.)
 */
export const valueUpdate = valueFields.partial();
export const entity = z.object({
  entity: entityName,
  description: description.optional(),
  metadata: jsonObject.optional(),
  fuzzy_match: z.boolean().optional(),
  values: z.array(value).optional(),
}).catchall(z.unknown());

const NODE_TYPES = ['standard', 'event_handler', 'frame', 'slot', 'response_condition', 'folder'] as const;
const EVENT_NAMES = ['focus', 'input', 'filled', 'validate', 'filled_multiple', 'generic', 'nomatch',
  'nomatch_responses_depleted', 'digression_return_prompt'] as const;
const nodeId = z.string().min(1, 'must not be empty').max(1024, 'must be at most 1024 characters')
  .regex(/^[\p{L}\p{N} _.-]+$/u, 'may contain only Unicode letters and digits, space, underscore, hyphen and period');
const ACTION_TYPES = ['client', 'server', 'cloud_function', 'web_action', 'webhook'] as const;
// Loose, so keys a newer export adds to an action are kept rather than silently dropped.
const action = z.object({
  name: z.string().min(1, 'must not be empty'),
  type: z.enum(ACTION_TYPES, { error: `must be one of ${ACTION_TYPES.join(', ')} (default client)` }).optional(),
  parameters: jsonObject.optional(),
  result_variable: z.string().min(1, 'must not be empty'),
  credentials: z.string().optional(),
}).loose();
export const dialogNode = z.object({
  dialog_node: nodeId,
  description: description.optional(),
  conditions: z.string().max(2048, 'must be at most 2048 characters').refine(noCtl, CTL_MSG).optional(),
  parent: z.string().optional(),
  previous_sibling: z.string().optional(),
  output: jsonObject.optional(),
  context: jsonObject.optional(),
  metadata: jsonObject.optional(),
  next_step: z.object({
    behavior: z.enum(['get_user_input', 'skip_user_input', 'jump_to', 'reprompt', 'skip_slot', 'skip_all_slots']),
    dialog_node: z.string().optional(),
    selector: z.enum(['condition', 'client', 'user_input', 'body']).optional(),
  }).loose().superRefine((s, ctx) => {
    if (s.behavior === 'jump_to' && !s.dialog_node) ctx.addIssue({ code: 'custom', path: ['dialog_node'], message: 'is required when behavior is jump_to' });
  }).optional(),
  title: z.string().min(1, 'must not be empty').max(512, 'must be at most 512 characters')
    .regex(/^[\p{L}\p{N} _.-]*$/u, 'may contain only Unicode letters and digits, space, underscore, hyphen and period').optional(),
  type: z.enum(NODE_TYPES).optional(),
  event_name: z.enum(EVENT_NAMES).optional(),
  variable: z.string().optional(),
  actions: z.array(action).max(5, 'a node may have at most 5 actions').optional(),
  digress_in: z.enum(['not_available', 'returns', 'does_not_return']).optional(),
  digress_out: z.enum(['allow_returning', 'allow_all', 'allow_all_never_return']).optional(),
  digress_out_slots: z.enum(['not_allowed', 'allow_returning', 'allow_all']).optional(),
  user_label: z.string().min(1).max(512).optional(),
  disambiguation_opt_out: z.boolean().optional(),
}).loose();

const webhook = z.object({
  url: z.string().min(1),
  name: z.literal('main_webhook', { error: 'must be main_webhook: it is the only webhook name supported' }),
  headers: z.array(z.object({ name: z.string().min(1), value: z.string() })).optional(),
});

export const LANGUAGES = ['ar', 'zh-cn', 'zh-tw', 'cs', 'nl', 'en', 'fr', 'de', 'it', 'ja', 'ko', 'pt-br', 'es', 'xx'] as const;
const SENSITIVITIES = ['auto', 'high', 'medium_high', 'medium', 'medium_low', 'low'] as const;
const enabled = z.object({ enabled: z.boolean().optional() }).loose();
/**
 * The documented settings are checked for range and type; extra properties are allowed and kept
 * (loose objects), as the API allows them. nlp.model is left free: its values differ by platform.
 */
const systemSettings = z.object({
  tooling: z.object({ store_generic_responses: z.boolean().optional() }).loose().optional(),
  disambiguation: z.object({
    prompt: z.string().optional(),
    none_of_the_above_prompt: z.string().optional(),
    enabled: z.boolean().optional(),
    sensitivity: z.enum(SENSITIVITIES, { error: `must be one of ${SENSITIVITIES.join(', ')}` }).optional(),
    randomize: z.boolean().optional(),
    max_suggestions: z.number().refine((n) => Number.isInteger(n) && n >= 1 && n <= 5, 'must be a whole number from 1 to 5').optional(),
    suggestion_text_policy: z.string().optional(),
  }).loose().optional(),
  human_agent_assist: jsonObject.optional(),
  spelling_suggestions: z.boolean().optional(),
  spelling_auto_correct: z.boolean().optional(),
  system_entities: enabled.optional(),
  off_topic: enabled.optional(),
}).loose();

export const workspace = z.object({
  name: z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters').refine(noCtl, CTL_MSG).optional(),
  description: description.optional(),
  language: z.enum(LANGUAGES, { error: `must be one of the supported language codes: ${LANGUAGES.join(', ')}` }).optional(),
  learning_opt_out: z.boolean().optional(),
  metadata: jsonObject.optional(),
  system_settings: systemSettings.optional(),
  webhooks: z.array(webhook).max(1, 'only one webhook (main_webhook) is supported').optional(),
  intents: z.array(intent).optional(),
  entities: z.array(entity).optional(),
  dialog_nodes: z.array(dialogNode).optional(),
  counterexamples: z.array(counterexample).optional(),
});

export type WorkspaceInput = z.infer<typeof workspace>;
export type IntentInput = z.infer<typeof intent>;
export type ExampleInput = z.infer<typeof example>;
export type EntityInput = z.infer<typeof entity>;
export type ValueInput = z.infer<typeof value>;
export type DialogNodeInput = z.infer<typeof dialogNode>;

export interface FieldError { message: string; path: string }

function pointer(path: ReadonlyArray<PropertyKey>): string {
  return '/' + path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

export function invalidBody(errors: FieldError[]): AppError {
  return new AppError('INVALID_REQUEST', 'Invalid Request Body', { status: 400, details: { errors } });
}

/** The collections that make up a skill's structure; every other value is kept exactly as sent. */
const STRUCTURE = new Set(['intents', 'examples', 'entities', 'values', 'dialog_nodes', 'counterexamples']);

/**
 * Exports written before API version 2018-02-16 spell "absent" as null (e.g. `"parent": null`).
 * Null-valued properties of the skill's elements are dropped, so they mean what they meant;
 * values inside free-form properties (output, context, go_to …) are not touched. In a node
 * update, null means "remove this field": the route reads those with nullKeys first.
 */
export function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null) continue;
    out[k] = STRUCTURE.has(k) && Array.isArray(v) ? v.map(dropNulls) : v;
  }
  return out;
}

/** The top-level properties a body sets to null. */
export function nullKeys(body: unknown): string[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return [];
  return Object.entries(body).filter(([, v]) => v === null).map(([k]) => k);
}

/**
 * What PostgreSQL cannot store: U+0000 (refused by text and jsonb) and a UTF-16 surrogate without
 * its pair (refused by jsonb, and turned into U+FFFD in a text column, changing the data).
 */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Deepest nesting a body may have. Serialising a value some thousands of levels deep for
 * PostgreSQL overflows the stack (a 500); no skill comes near this, and it is the default limit
 * of Jackson, the JSON parser of Java services such as Watson's.
 */
const MAX_DEPTH = 1000;

interface Visit { value: unknown; key: PropertyKey | undefined; parent: Visit | undefined; depth: number }

const pathOf = (v: Visit, base: ReadonlyArray<PropertyKey>): PropertyKey[] => {
  const keys: PropertyKey[] = [];
  for (let at: Visit | undefined = v; at?.key !== undefined; at = at.parent) keys.unshift(at.key);
  return [...base, ...keys];
};

/** What is wrong with one value of the body, ignoring its contents, or undefined. */
function problemAt({ value, key, depth }: Visit): string | undefined {
  if ((typeof key === 'string' && UNSTORABLE.test(key)) || (typeof value === 'string' && UNSTORABLE.test(value))) {
    return 'holds a character that cannot be stored (U+0000, or half of a surrogate pair)';
  }
  if (depth > MAX_DEPTH && value !== null && typeof value === 'object') return `is nested more than ${MAX_DEPTH} levels deep`;
  return undefined;
}

/**
 * The first value anywhere in `body` that cannot be stored (a string or property name PostgreSQL
 * refuses, or nesting too deep to serialise), as a 400 error naming it. Walked with an explicit
 * stack, as free-form fields can nest deeply, and paths are built only for the one reported:
 * imports hold hundreds of thousands of strings.
 */
function findUnstorable(body: unknown, base: ReadonlyArray<PropertyKey>): FieldError | undefined {
  const stack: Visit[] = [{ value: body, key: undefined, parent: undefined, depth: 0 }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const problem = problemAt(visit);
    if (problem) return { message: `${visit.key === undefined ? 'body' : String(visit.key)} ${problem}`, path: pointer(pathOf(visit, base)) };
    const { value, depth } = visit;
    if (value === null || typeof value !== 'object') continue;
    // Pushed in reverse, so the first offending field in document order is the one reported.
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], key: i, parent: visit, depth: depth + 1 });
    } else {
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push({ value: (value as Record<string, unknown>)[keys[i]!], key: keys[i]!, parent: visit, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

function valueAt(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let at = value;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

/** Parses `body` with `schema`, or throws a 400 whose errors name each field by JSON Pointer. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown, base: ReadonlyArray<PropertyKey> = []): z.infer<T> {
  const unstorable = findUnstorable(body, base);
  if (unstorable) throw invalidBody([unstorable]);
  const input = dropNulls(body ?? {});
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw invalidBody(r.error.issues.map((i) => {
    const path = [...base, ...i.path];
    const last = path[path.length - 1];
    // An array item is named with its array: "patterns[0]", not "0".
    const field = last === undefined ? 'body' : typeof last === 'number' && path.length > 1 ? `${String(path[path.length - 2])}[${last}]` : String(last);
    const expected = `expected ${(i as { expected?: string }).expected ?? 'another type'}`;
    // A field left out is reported as missing, not as a value of the wrong type.
    const message = i.code !== 'invalid_type' ? `${field} ${i.message}`
      : valueAt(input, i.path) === undefined ? `${field} is required (${expected})` : `${field}: ${expected}`;
    return { message: i.message.startsWith('Intent name') ? i.message : message, path: pointer(path) };
  }));
}

/** Rejects the same name twice in one body (the unique constraint would otherwise answer 500). */
export function checkUnique(items: ReadonlyArray<unknown> | undefined, key: (x: never) => string, label: string, base: string): void {
  if (!items) return;
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const k = key(item as never);
    if (seen.has(k)) throw invalidBody([{ message: `Unique Violation: ${label} "${k}" appears more than once`, path: `${base}/${i}` }]);
    seen.set(k, i);
  });
}

/** A value's synonyms, and its patterns, each named once. */
export function checkValueUnique(v: { synonyms?: string[] | undefined; patterns?: string[] | undefined }, base: string): void {
  checkUnique(v.synonyms, (s: string) => s, 'synonym', `${base}/synonyms`);
  checkUnique(v.patterns, (p: string) => p, 'pattern', `${base}/patterns`);
}

/** Duplicate checks for a whole workspace body, at every level. */
export function checkWorkspaceUnique(ws: WorkspaceInput): void {
  checkUnique(ws.intents, (i: IntentInput) => i.intent, 'intent', '/intents');
  ws.intents?.forEach((i, n) => checkUnique(i.examples, (e: ExampleInput) => e.text, 'example', `/intents/${n}/examples`));
  checkUnique(ws.entities, (e: EntityInput) => e.entity, 'entity', '/entities');
  ws.entities?.forEach((e, n) => {
    checkUnique(e.values, (v: ValueInput) => v.value, 'value', `/entities/${n}/values`);
    e.values?.forEach((v, m) => checkValueUnique(v, `/entities/${n}/values/${m}`));
  });
  checkUnique(ws.dialog_nodes, (d: DialogNodeInput) => d.dialog_node, 'dialog node', '/dialog_nodes');
  checkUnique(ws.counterexamples, (c: { text: string }) => c.text, 'counterexample', '/counterexamples');
}

/**
 * The first node found on a loop when following `next` (parent or previous_sibling) from every
 * node, or undefined. Each node is walked once, so this is linear in the number of nodes.
 */
function findLoop(ids: ReadonlyArray<string>, next: (id: string) => string | undefined): string | undefined {
  const state = new Map<string, 'walking' | 'done'>();
  for (const start of ids) {
    const path: string[] = [];
    let cur: string | undefined = start;
    while (cur !== undefined && !state.has(cur)) {
      state.set(cur, 'walking');
      path.push(cur);
      cur = next(cur);
    }
    if (cur !== undefined && state.get(cur) === 'walking') return cur;
    for (const id of path) state.set(id, 'done');
  }
  return undefined;
}

/**
 * WA's rules for a valid dialog tree: parents and previous siblings exist; no node is its own
 * parent or previous sibling, and neither chain loops; a previous sibling has the node's parent;
 * each parent (and the root) has one first child and each node at most one follower; a jump_to
 * target exists. With `written`, only problems that involve a written node are refused: a tree
 * stored before these rules were enforced (two nodes sharing a place, say), or a node left jumping
 * to one deleted earlier, does not block changes to other nodes. `written` maps each written
 * node to where the request holds it (a JSON pointer, '' for a request that is the node itself),
 * which is where an error's path points.
 */
export function checkDialogTree(nodes: ReadonlyArray<DialogNodeInput>, written?: ReadonlyMap<string, string>): void {
  const index = new Map(nodes.map((n, i) => [n.dialog_node, i]));
  const node = (id: string): DialogNodeInput | undefined => {
    const i = index.get(id);
    return i === undefined ? undefined : nodes[i];
  };
  // Without `written` the nodes are the request's own list. With it they are the workspace's
  // stored nodes, in no particular order, and a stored node's problem is reported at the written
  // node involved (`at`).
  const where = (id: string, at = id): string => (written ? written.get(id) ?? written.get(at) ?? '' : `/dialog_nodes/${index.get(id)}`);
  const poorly = (id: string, field: 'parent' | 'previous_sibling', why: string, at?: string): AppError => invalidBody([{
    message: `Invalid tree detected. Dialog node '${id}' is poorly defined: ${why}. Check its parent or previous_sibling value.`,
    path: `${where(id, at)}/${field}`,
  }]);

  const involved = (...ids: string[]): boolean => !written || ids.some((id) => written.has(id));
  const positions = new Map<string, string>();
  for (const n of nodes) {
    const id = n.dialog_node;
    const position = JSON.stringify([n.parent ?? null, n.previous_sibling ?? null]);
    const taken = positions.get(position);
    if (taken === undefined) positions.set(position, id);
    if (!involved(id) && (taken === undefined || !involved(taken))) continue;
    for (const ref of ['parent', 'previous_sibling'] as const) {
      const target = n[ref];
      if (target === undefined) continue;
      if (target === id) throw poorly(id, ref, `it is its own ${ref === 'parent' ? 'parent' : 'previous sibling'}`);
      if (!index.has(target)) throw poorly(id, ref, `its ${ref} '${target}' does not exist`);
    }
    if (n.previous_sibling !== undefined && node(n.previous_sibling)!.parent !== n.parent) {
      throw poorly(id, 'previous_sibling', `its previous_sibling '${n.previous_sibling}' has another parent; a previous sibling must share the node's parent`);
    }
    if (taken !== undefined) {
      const place = n.previous_sibling !== undefined ? `'${taken}' already follows '${n.previous_sibling}'`
        : `'${taken}' is already the first ${n.parent !== undefined ? `child of '${n.parent}'` : 'node at the root'}`;
      throw poorly(id, 'previous_sibling', `${place}, and two nodes cannot share a place`, taken);
    }
  }
  const ids = (written ? [...written.keys()].filter((id) => index.has(id)) : nodes.map((n) => n.dialog_node));
  for (const ref of ['parent', 'previous_sibling'] as const) {
    // A loop that involves a written node is reached by walking from it.
    const looped = findLoop(ids, (id) => node(id)?.[ref]);
    if (looped !== undefined) throw poorly(looped, ref, `its ${ref} chain loops back to it`);
  }

  for (const n of nodes) {
    const target = n.next_step?.behavior === 'jump_to' ? n.next_step.dialog_node : undefined;
    if (target === undefined || index.has(target) || !involved(n.dialog_node)) continue;
    throw invalidBody([{
      message: `Dialog node '${n.dialog_node}' jumps to '${target}', which does not exist. Point next_step.dialog_node at an existing node, or remove next_step.`,
      path: `${where(n.dialog_node)}/next_step/dialog_node`,
    }]);
  }
}
