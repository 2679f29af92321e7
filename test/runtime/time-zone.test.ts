/**
 * `$timezone`: a client that gives the user's time zone (context.timezone) gets "tomorrow" and
 * now() in the user's day and time. The runtime ignored it, so near midnight a user east or west
 * of the server booked the wrong day.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { respond, type MessageResponse, type RespondOptions } from '../../src/runtime/index.ts';
import { fixedNlu } from './stub-nlu.ts';

// 13 March 2024, 23:30 UTC: already the 14th in Tokyo (UTC+9), still the 13th in Los Angeles (UTC-7).
const instant = new Date(Date.UTC(2024, 2, 13, 23, 30, 5));
const options: RespondOptions = { version: '2021-06-14', now: instant, newConversationId: () => 'conv-1' };
const ws = {
  entities: [{ entity: 'sys-date' }],
  dialog_nodes: [{ dialog_node: 'n', conditions: 'true', output: { text: 'now <? now() ?>' } }],
};

const turn = (text: string, timezone?: unknown): MessageResponse =>
  respond(ws, { input: { text }, ...(timezone === undefined ? {} : { context: { timezone } }) }, fixedNlu([]), options);
const date = (r: MessageResponse): unknown => r.entities.find((e) => e.entity === 'sys-date')?.value;
const pad = (n: number): string => String(n).padStart(2, '0');

test('relative dates and now() follow context.timezone', () => {
  const tokyo = turn('tomorrow', 'Asia/Tokyo');
  assert.equal(date(tokyo), '2024-03-15');
  assert.deepEqual(tokyo.output.text, ['now 2024-03-14 08:30:05']);
  const la = turn('tomorrow', 'America/Los_Angeles');
  assert.equal(date(la), '2024-03-14');
  assert.deepEqual(la.output.text, ['now 2024-03-13 16:30:05']);
  assert.equal(date(turn('today', 'UTC')), '2024-03-13');
  // It stays in the context, as every variable does.
  assert.equal(tokyo.context.timezone, 'Asia/Tokyo');
});

test('without a time zone, or with an unknown one, the server\'s clock; an unknown one is reported', () => {
  const local = (d: Date): string => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const plain = turn('hello');
  assert.deepEqual(plain.output.text, [`now ${local(instant)}`]);
  assert.deepEqual(plain.output.log_messages ?? [], []);
  for (const bad of ['Mars/Olympus_Mons', 42]) {
    const r = turn('hello', bad);
    assert.deepEqual(r.output.text, [`now ${local(instant)}`]);
    assert.ok(r.output.log_messages?.some((m) => m.code === 'dialog.timezone_invalid' && m.msg.includes(JSON.stringify(bad))), JSON.stringify(r.output.log_messages));
  }
});
