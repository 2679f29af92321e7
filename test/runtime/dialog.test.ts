import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileDialog, respond, type MessageContext, type MessageResponse, type Nlu, type RespondOptions, type Workspace,
} from '../../src/runtime/index.ts';
import { bakery } from './bakery-skill.ts';
import { fixedNlu, keywordNlu } from './stub-nlu.ts';

const nlu = keywordNlu(bakery.intents!);
const base: RespondOptions = { version: '2021-06-14', now: new Date(2024, 2, 13, 10), newConversationId: () => 'conv-1', random: () => 0 };

/** Runs a conversation; each turn's context is the previous response's, as a client would send it. */
function chat(turns: string[], opts: { context?: MessageContext; options?: Partial<RespondOptions>; ws?: Workspace; nlu?: Nlu } = {}): MessageResponse[] {
  let context = opts.context;
  return turns.map((text) => {
    const r = respond(opts.ws ?? bakery, { input: { text }, ...(context ? { context } : {}) }, opts.nlu ?? nlu, { ...base, ...opts.options });
    context = r.context;
    return r;
  });
}

const texts = (r: MessageResponse) => r.output.generic!.filter((g) => g.response_type === 'text').map((g) => g.text);

test('first turn: welcome, conversation id, user id and dialog state', () => {
  const [r] = chat(['']);
  assert.deepEqual(texts(r!), ['Welcome to the bakery!']);
  assert.deepEqual(r!.output.nodes_visited, ['welcome']);
  assert.equal(r!.context.conversation_id, 'conv-1');
  assert.equal(r!.user_id, 'conv-1');
  assert.deepEqual(r!.context.metadata, { user_id: 'conv-1' });
  const system = r!.context.system!;
  assert.deepEqual(system.dialog_stack, [{ dialog_node: 'root' }]);
  assert.equal(system.dialog_turn_counter, 1);
  assert.equal(system.dialog_request_counter, 1);
  assert.equal(system.branch_exited, true);
  assert.deepEqual(r!.output.log_messages, []);
  // The welcome condition is only true when the first request has no text.
  const [withText] = chat(['hello']);
  assert.deepEqual(withText!.output.nodes_visited, ['greet']);
});

test('user_id: the root value wins over context.metadata, which wins over the conversation id', () => {
  const a = respond(bakery, { input: { text: 'hi' }, user_id: 'root-user', context: { conversation_id: 'c', metadata: { user_id: 'meta-user' } } }, nlu, base);
  assert.equal(a.user_id, 'root-user');
  assert.equal(a.context.metadata?.user_id, 'root-user');
  const b = respond(bakery, { input: { text: 'hi' }, context: { conversation_id: 'c', metadata: { user_id: 'meta-user' } } }, nlu, base);
  assert.equal(b.user_id, 'meta-user');
  assert.equal(b.context.conversation_id, 'c');
});

test('sequential responses cycle, $variables interpolate, node context persists', () => {
  const rs = chat(['', 'hello', 'hello', 'hello'], { context: { name: 'Ada' } });
  assert.deepEqual(rs.slice(1).map((r) => texts(r)[0]), ['Hello Ada!', 'Hi again Ada!', 'Hello Ada!']);
  assert.equal(rs[3]!.context.greeted, true);
  assert.equal(rs[3]!.context.system!.dialog_turn_counter, 4);
});

test('a folder gates its children by its own condition', () => {
  const [r] = chat(['hello'], { context: { name: 'Grace', vip: true } });
  assert.deepEqual(texts(r!), ['Welcome back, VIP Grace.']);
  assert.deepEqual(r!.output.nodes_visited, ['vip_greet']);
});

test('response conditions choose the answer, with entity references in text', () => {
  const [sat] = chat(['opening hours on saturday']);
  assert.deepEqual(texts(sat!), ['On Saturday 16 March we open 9-13.']);
  assert.deepEqual(sat!.output.nodes_visited, ['hours', 'hours_saturday']);
  const [other] = chat(['opening hours tomorrow']);
  assert.deepEqual(texts(other!), ['We open 8-18.']);
  assert.deepEqual(other!.output.nodes_visited, ['hours', 'hours_default']);
});

test('frame: prompts for each empty slot, handles filled/reprompt and nomatch, then answers', () => {
  const rs = chat(['i want a pie', 'huge', 'big', 'help', 'cherries']);
  assert.deepEqual(rs.map(texts), [
    ['Which size?'],
    ["We don't do huge.", 'Which size?'],
    ['Which filling?'],
    ['We have apple and cherry.'],
    ['One large cherry pie coming up.'],
  ]);
  assert.deepEqual(rs[1]!.context.system!.dialog_stack, [{ dialog_node: 'order', state: 'in_progress', slot_in_focus: 'slot_size' }]);
  assert.equal(rs[1]!.context.size, undefined); // reprompt cleared the refused value
  assert.equal(rs[2]!.context.size, 'large');
  const last = rs[4]!;
  assert.equal(last.context.filling, 'cherry'); // no context on the input handler: the check's value
  assert.deepEqual(last.output.nodes_visited, ['order', 'slot_filling', 'order_done']);
  assert.deepEqual(last.context.system!.dialog_stack, [{ dialog_node: 'root' }]);
});

test('frame: everything in one sentence, including an optional slot', () => {
  const [r] = chat(['i want a pie, 2 small apple ones']);
  assert.deepEqual(texts(r!), ['One small apple pie x2 coming up.']);
  assert.equal(r!.context.count, 2);
});

test('frame: a frame-level handler can skip all slots', () => {
  const rs = chat(['order a pie', 'cancel']);
  assert.deepEqual(rs.map(texts), [['Which size?'], ['Cancelled.', 'Order cancelled.']]);
  assert.equal(rs[1]!.context.cancelled, undefined); // set, then deleted with null by the response
  assert.deepEqual(rs[1]!.output.nodes_visited, ['order', 'order_cancel', 'order_cancelled']);
});

test('children are evaluated on the next turn; without a match the root level answers', () => {
  const picked = chat(['menu', 'apples please']);
  assert.deepEqual(picked.map(texts), [['Apple or cherry?'], ['Good choice: apple.']]);
  assert.deepEqual(picked[0]!.context.system!.dialog_stack, [{ dialog_node: 'menu' }]);
  assert.equal(picked[0]!.context.system!.branch_exited, undefined);
  const fallback = chat(['menu', 'hello']);
  assert.deepEqual(texts(fallback[1]!), ['Hello !']);
});

test('jump_to: body skips the condition, condition continues with the siblings, user_input waits', () => {
  const [body] = chat(['jump']);
  assert.deepEqual(texts(body!), ['Jumping.', 'Target reached.']);
  assert.deepEqual(body!.output.nodes_visited, ['jump_body', 'target_never']);
  const [cond] = chat(['condjump']);
  assert.deepEqual(texts(cond!), ['Next sibling of the target.']);
  const waited = chat(['wait', 'Linus']);
  assert.deepEqual(waited.map(texts), [['What is your name?'], ['Nice to meet you, Linus.']]);
  assert.deepEqual(waited[0]!.context.system!.dialog_stack, [{ dialog_node: 'target_name', state: 'jumped' }]);
  assert.equal(waited[1]!.context.name, 'Linus');
});

test('skip_user_input evaluates the children at once', () => {
  const [r] = chat(['skip']);
  assert.deepEqual(texts(r!), ['Skipping...', '...and continuing.']);
});

test('multiline, random and non-text generic responses', () => {
  const [multi] = chat(['multi'], { context: { name: 'Ada' } });
  assert.deepEqual(multi!.output.generic, [
    { response_type: 'text', text: 'Line 1\nLine 2 for multi' },
    { response_type: 'option', title: 'Pick one, Ada', options: [{ label: 'Apple', value: { input: { text: 'apple' } } }] },
  ]);
  assert.deepEqual(multi!.output.text, ['Line 1', 'Line 2 for multi']);
  const draws = [0.9, 0.9, 0.0];
  let i = 0;
  const rs = chat(['random', 'random', 'random'], { options: { random: () => draws[i++]! } });
  // 0.9 -> C; then C cannot repeat, so 0.9 over the other two -> B; then 0.0 -> A.
  assert.deepEqual(rs.map((r) => texts(r)[0]), ['C', 'B', 'A']);
});

test('version: output.generic from 2018-07-10, output.text before 2021-11-27 only; response conditions in nodes_visited from 2018-02-16', () => {
  const [old] = chat(['opening hours'], { options: { version: '2017-05-26' } });
  assert.deepEqual(old!.output.text, ['We open 8-18.']);
  assert.deepEqual(old!.output.nodes_visited, ['hours']);
  assert.equal(old!.output.generic, undefined, 'no generic[] before 2018-07-10');
  const [rich] = chat(['opening hours'], { options: { version: '2018-07-10' } });
  assert.deepEqual(texts(rich!), ['We open 8-18.']);
  const [mid] = chat(['opening hours'], { options: { version: '2021-11-26' } });
  assert.deepEqual(mid!.output.text, ['We open 8-18.']);
  const [current] = chat(['opening hours'], { options: { version: '2021-11-27' } });
  assert.equal(current!.output.text, undefined);
  assert.deepEqual(texts(current!), ['We open 8-18.']);
});

test('nodes_visited_details when asked', () => {
  const [r] = chat(['opening hours'], { options: { nodesVisitedDetails: true } });
  assert.deepEqual(r!.output.nodes_visited_details, [
    { dialog_node: 'hours', conditions: '#hours' },
    { dialog_node: 'hours_default' },
  ]);
  const [plain] = chat(['opening hours']);
  assert.equal(plain!.output.nodes_visited_details, undefined);
});

test('intents: top one, or up to ten with alternate_intents; caller-supplied intents and entities', () => {
  const ranking = Array.from({ length: 12 }, (_, k) => ({ intent: k === 0 ? 'greet' : `other${k}`, confidence: 1 - k * 0.05 }));
  const one = respond(bakery, { input: { text: 'x' } }, fixedNlu(ranking), base);
  assert.deepEqual(one.intents, [ranking[0]]);
  assert.equal(one.alternate_intents, false);
  const ten = respond(bakery, { input: { text: 'x' }, alternate_intents: true }, fixedNlu(ranking), base);
  assert.deepEqual(ten.intents, ranking.slice(0, 10));
  const supplied = respond(bakery, { input: { text: 'anything' }, intents: [{ intent: 'menu' }], entities: [{ entity: 'filling', value: 'apple' }] }, fixedNlu([]), base);
  assert.deepEqual(supplied.intents, [{ intent: 'menu', confidence: 1 }]);
  assert.deepEqual(supplied.entities, [{ entity: 'filling', value: 'apple', confidence: 1 }]);
  assert.deepEqual(texts(supplied), ['Apple or cherry?']);
  // Below 0.2 an intent no longer triggers its node, and without alternates it is not returned
  // (Watson's expression-language docs: "only intents with a confidence above 0.2"); with them it is.
  const weak = respond(bakery, { input: { text: 'x' } }, fixedNlu([{ intent: 'menu', confidence: 0.19 }]), base);
  assert.deepEqual(weak.intents, []);
  assert.deepEqual(texts(weak), ["Sorry, I didn't get that."]);
  const weakAlternates = respond(bakery, { input: { text: 'x' }, alternate_intents: true }, fixedNlu([{ intent: 'menu', confidence: 0.19 }]), base);
  assert.deepEqual(weakAlternates.intents, [{ intent: 'menu', confidence: 0.19 }]);
});

test('entities carry locations into the response', () => {
  const [r] = chat(['menu, with cherries']);
  assert.deepEqual(r!.entities, [{ entity: 'filling', location: [11, 19], value: 'cherry', confidence: 1 }]);
});

test('problems are reported in log_messages: unreadable conditions, loops, no match', () => {
  const [loop] = chat(['loop']);
  assert.deepEqual(loop!.output.log_messages.map((l) => [l.level, l.code]), [['error', 'dialog.loop']]);
  assert.equal(loop!.output.nodes_visited.length, 50);
  // An unreadable condition is reported by the turns that reach its node, and at compile time.
  const [passing] = chat(['quux']);
  assert.deepEqual(passing!.output.log_messages.map((l) => [l.code, l.source]), [['dialog.expression_invalid', { dialog_node: 'broken' }]]);
  assert.deepEqual(texts(passing!), ["Sorry, I didn't get that."]);
  assert.deepEqual(compileDialog(bakery).warnings.map((w) => w.source), [{ dialog_node: 'broken' }]);
  const noFallback: Workspace = { ...bakery, dialog_nodes: bakery.dialog_nodes!.filter((n) => n.dialog_node !== 'fallback') };
  const [none] = chat(['quux'], { ws: noFallback });
  assert.deepEqual(texts(none!), []);
  assert.ok(none!.output.log_messages.some((l) => l.code === 'dialog.no_match' && l.level === 'warn'));
});

test('a compiled dialog gives the same answers as the raw workspace', () => {
  const compiled = compileDialog(bakery);
  const a = respond(compiled, { input: { text: 'i want a pie' } }, nlu, base);
  const b = respond(bakery, { input: { text: 'i want a pie' } }, nlu, base);
  assert.deepEqual(a, b);
  assert.equal(compiled.roots[0]!.id, 'welcome');
  assert.deepEqual(compiled.roots.map((n) => n.id).slice(0, 5), ['welcome', 'vip', 'greet', 'hours', 'order']);
});
