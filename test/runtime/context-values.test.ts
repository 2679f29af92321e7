/**
 * Context values a node sets (IBM Cloud docs: dialog-runtime-context): a string is text in which
 * `$var`, `@entity` and `<? ?>` are filled in, unless the whole value is one reference or one
 * `<? ?>` expression, which keeps the value's type.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DialogNode, WorkspaceEntity } from '../../src/runtime/index.ts';
import { chat, say } from './chat.ts';

const set = (context: Record<string, unknown>): DialogNode[] => [
  { dialog_node: 'set', conditions: 'true', context, output: say('ok') },
];
const entities: WorkspaceEntity[] = [{ entity: 'sys-number' }, { entity: 'city', values: [{ value: 'Paris' }] }];

test('a context value with references among text is text, not arithmetic', () => {
  const start = { month: 3, day: 14, first: 'Ada', last: 'Lovelace', hour: 10, minute: 30 };
  // Before: 0.214… for "$month/$day", a context_error ("needs numbers") for "$first-$last".
  const [r] = chat(set({ date: '$month/$day', name: '$first-$last', at: '$hour:$minute', sum: '$month + $day' }), ['go'], start);
  assert.equal(r!.context.date, '3/14');
  assert.equal(r!.context.name, 'Ada-Lovelace');
  assert.equal(r!.context.at, '10:30');
  assert.equal(r!.context.sum, '3 + 14');
  assert.deepEqual(r!.output.log_messages, []);
});

test('a context value that is one reference or one expression keeps its type', () => {
  const [r] = chat(set({ n: '@sys-number', where: '@city', copy: '$list', size: '$list.size()', next: '<? $month + 1 ?>' }), ['7 in Paris'], { list: ['a', 'b'], month: 3 }, entities);
  assert.equal(r!.context.n, 7);
  assert.equal(r!.context.where, 'Paris');
  assert.deepEqual(r!.context.copy, ['a', 'b']);
  assert.equal(r!.context.size, 2);
  assert.equal(r!.context.next, 4);
});

test('a condition as a context value (a slot\'s Check for, copied by the tooling) stores its truth', () => {
  const [r] = chat(set({ confirm: '@city && true' }), ['Paris'], undefined, entities);
  assert.equal(r!.context.confirm, true);
});
