/**
 * A workspace author's regular expression that backtracks exponentially ((a+)+$ on thirty a's and
 * a !) held the event loop, and every other request, for seconds (found by the security review).
 * Patterns and the dialog's regular-expression methods now run in a worker with a time budget:
 * over it, the turn still answers (no pattern entity, or the expression fails) and says why, and
 * the next turn works.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { chat, say, texts } from './chat.ts';

const EVIL = 'a'.repeat(40) + '!';

test('an entity pattern over its time budget finds nothing, says so, and other patterns keep working', () => {
  const entities = [
    { entity: 'evil', values: [{ value: 'v', type: 'patterns' as const, patterns: ['(a+)+$'] }] },
    { entity: 'code', values: [{ value: 'c', type: 'patterns' as const, patterns: ['[A-Z]{2}\\d{3}'] }] },
  ];
  const nodes = [
    { dialog_node: 'code', conditions: '@code', output: say('Code <? @code.literal ?>.') },
    { dialog_node: 'other', conditions: 'anything_else', previous_sibling: 'code', output: say('Nothing.') },
  ];
  const started = performance.now();
  const [slow] = chat(nodes, [EVIL], undefined, entities);
  // Without the budget this input takes hours (the time doubles per character: 3.8 s at 28, measured by
  // the review); the budget is 100 ms, plus the worker's start (about 20 ms).
  assert.ok(performance.now() - started < 5_000, `took ${performance.now() - started} ms`);
  assert.deepEqual(texts(slow!), ['Nothing.']);
  assert.deepEqual(slow!.output.log_messages.map((l) => l.code), ['entity.pattern_timeout']);
  assert.match(slow!.output.log_messages[0]!.msg, /nested repetition, such as \(a\+\)\+/);
  // A new worker takes over: the patterns work on the next input, the evil one included.
  const [fine] = chat(nodes, ['order AB123 please aaa'], undefined, entities);
  assert.deepEqual(texts(fine!), ['Code AB123.']);
  assert.deepEqual(fine!.entities.map((e) => e.entity).sort(), ['code', 'evil']);
  assert.deepEqual(fine!.output.log_messages, []);
});

test('a dialog regular-expression method over its budget is an expression error, and the turn answers', () => {
  const nodes = [
    { dialog_node: 'm', conditions: "input.text.matches('(a|aa)+')", output: say('Matched.') },
    { dialog_node: 'other', conditions: 'anything_else', previous_sibling: 'm', output: say('Something else.') },
  ];
  const [r] = chat(nodes, [EVIL]);
  assert.deepEqual(texts(r!), ['Something else.']);
  assert.deepEqual(r!.output.log_messages.map((l) => l.code), ['dialog.condition_error']);
  assert.match(r!.output.log_messages[0]!.msg, /took more than 100 ms/);
  assert.deepEqual(texts(chat(nodes, ['aaaa'])[0]!), ['Matched.']);
  // The other methods go the same way and still work.
  const [x] = chat([{ dialog_node: 'x', conditions: 'true', output: say("<? input.text.extract('(\\d+)-(\\d+)', 2) ?>|<? input.text.split('-').size() ?>|<? input.text.replaceAll('\\d', '#') ?>") }], ['12-345']);
  assert.deepEqual(texts(x!), ['345|2|##-###']);
});

test('a workspace of 20,000 patterns matches on its first turn (the budget grows with the patterns)', () => {
  // Each value's patterns are distinct, as a real workspace's are: V8 runs each one interpreted
  // until it has compiled it, so a cold first turn costs about 10 µs a pattern.
  const values = Array.from({ length: 4_000 }, (_, i) => ({
    value: `v${i}`, type: 'patterns' as const, patterns: Array.from({ length: 5 }, (_, k) => `\\b[A-Z]{2}${i}-${k}\\d{2}\\b`),
  }));
  const entities = [{ entity: 'ticket', values }];
  const nodes = [{ dialog_node: 't', conditions: '@ticket', output: say('Ticket <? @ticket ?>.') }];
  const [r] = chat(nodes, ['my ticket is QX3999-412 thanks'], undefined, entities);
  assert.deepEqual(r!.output.log_messages, []);
  assert.deepEqual(texts(r!), ['Ticket v3999.']);
});
