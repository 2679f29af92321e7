/**
 * The message-log writer against a real store: turns queued while the database refuses the insert
 * are kept and written once it accepts them; past `maxQueued` the oldest are dropped and the loss is
 * reported with its count; a turn of a workspace deleted meanwhile is skipped without losing the
 * rest of its batch; retention deletes only logs older than its days.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { LogWriter, type LogEntry } from '../../src/logs/index.ts';
import { v1Request } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

describe('message-log writer', () => {
  let s: TestStore;
  let ws: string;
  const warnings: string[] = [];
  const entry = (text: string, workspace = ws, at = new Date()): LogEntry => ({
    log_id: randomUUID(), workspace_id: workspace, language: 'en', customer_id: null,
    request_timestamp: at.toISOString(), response_timestamp: at.toISOString(), request: { input: { text } }, response: { output: {} },
  });
  const texts = async (): Promise<string[]> =>
    (await s.store.pool.query(`select request #>> '{input,text}' as t from message_logs order by request_timestamp, t`)).rows.map((r) => r.t);

  before(async () => {
    s = await startTestStore();
    const t = await s.tenant('writer');
    ws = (await v1Request(t.serviceUrl, { authorization: `Bearer ${t.token}` }, 'POST', '/v1/workspaces', { name: 'w' })).workspace_id;
  });
  after(async () => { await s.close(); });

  test('keeps what the database refused, drops the oldest past maxQueued and says how many', async () => {
    const w = new LogWriter(s.store.pool, { flushMs: 5, maxQueued: 5, warn: (m) => warnings.push(m) });
    await s.store.pool.query('alter table message_logs rename to message_logs_away');
    try {
      for (let i = 1; i <= 8; i++) w.record(entry(`turn ${i}`, ws, new Date(Date.UTC(2030, 0, 1, 0, 0, i))));
      await assert.rejects(w.flush(), /message_logs/);
      assert.ok(warnings.some((m) => /writing message logs failed; they are kept in memory and retried/.test(m)), warnings.join('\n'));
    } finally {
      await s.store.pool.query('alter table message_logs_away rename to message_logs');
    }
    await w.flush();
    assert.deepEqual(await texts(), ['turn 4', 'turn 5', 'turn 6', 'turn 7', 'turn 8']);
    assert.ok(warnings.some((m) => m.startsWith('3 message logs were dropped: more than 5 ')), warnings.join('\n'));
    assert.ok(warnings.includes('message logs are being written again'));
    await w.close();
    await s.store.pool.query('delete from message_logs');
  });

  test('the queue is also bounded by size: the oldest large turns are dropped while the database is away', async () => {
    const dropped: string[] = [];
    const w = new LogWriter(s.store.pool, { flushMs: 60_000, maxQueuedBytes: 6_000, warn: (m) => dropped.push(m) });
    await s.store.pool.query('alter table message_logs rename to message_logs_away');
    try {
      for (let i = 1; i <= 6; i++) w.record(entry(`big ${i} ${'x'.repeat(1_500)}`));
      await assert.rejects(w.flush());
    } finally {
      await s.store.pool.query('alter table message_logs_away rename to message_logs');
    }
    await w.flush();
    assert.deepEqual((await texts()).map((t) => t.slice(0, 5)), ['big 4', 'big 5', 'big 6']);
    assert.ok(dropped.some((m) => /^3 message logs were dropped/.test(m)), dropped.join('\n'));
    await w.close();
    await s.store.pool.query('delete from message_logs');
  });

  test('a turn of a deleted workspace is skipped, the rest of its batch written', async () => {
    const w = new LogWriter(s.store.pool, { flushMs: 1000 });
    w.record(entry('kept'));
    w.record(entry('orphan', randomUUID()));
    w.record(entry('also kept'));
    await w.flush();
    assert.deepEqual((await texts()).sort(), ['also kept', 'kept']);
    await w.close();
    await s.store.pool.query('delete from message_logs');
  });

  test('an entry the database refuses is dropped with a warning; the rest of its batch is written', async () => {
    const refused: string[] = [];
    const w = new LogWriter(s.store.pool, { flushMs: 1000, warn: (m) => refused.push(m) });
    w.record(entry('before'));
    w.record({ ...entry('bad time'), request_timestamp: 'not a time' });
    w.record(entry('nul \u0000 inside'));
    w.record(entry('after'));
    await w.flush();
    // PostgreSQL's json functions refuse \u0000 (22P05), as they do an unparsable timestamp (22007).
    assert.deepEqual((await texts()).sort(), ['after', 'before']);
    assert.ok(refused.includes('a message log the database refuses was dropped'), refused.join('\n'));
    w.record(entry('later'));
    await w.flush();
    assert.ok((await texts()).includes('later'));
    await w.close();
    await s.store.pool.query('delete from message_logs');
  });

  test('a full batch is written without waiting for the timer', async () => {
    const w = new LogWriter(s.store.pool, { flushMs: 60_000, batchSize: 3 });
    for (const t of ['a', 'b', 'c']) w.record(entry(t));
    const deadline = Date.now() + 10_000;
    while ((await texts()).length < 3) {
      assert.ok(Date.now() < deadline, 'a full batch was not written within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    await w.close();
    await s.store.pool.query('delete from message_logs');
  });

  test('flush and close wait for every write, also one a timer started while flush was writing', async () => {
    // Inserts take 100 ms, so the timer the background write sets when it ends fires while flush
    // writes the next batch.
    let inFlight = 0;
    const slow = {
      query: async (...args: Parameters<typeof s.store.pool.query>) => {
        const insert = /insert into message_logs/.test(String(args[0]));
        if (insert) inFlight++;
        try {
          if (insert) await new Promise((r) => setTimeout(r, 100));
          return await (s.store.pool.query as (...a: unknown[]) => unknown)(...args);
        } finally {
          if (insert) inFlight--;
        }
      },
    } as unknown as typeof s.store.pool;
    const w = new LogWriter(slow, { batchSize: 2, flushMs: 1 });
    w.record(entry('a'));
    w.record(entry('b'));
    await new Promise((r) => setTimeout(r, 30)); // a and b are being written
    for (const t of ['c', 'd', 'e']) w.record(entry(t));
    await w.flush();
    assert.equal(inFlight, 0, 'flush returned while a write was still running');
    assert.deepEqual((await texts()).sort(), ['a', 'b', 'c', 'd', 'e']);
    w.record(entry('f'));
    await new Promise((r) => setTimeout(r, 30));
    for (const t of ['g', 'h', 'i']) w.record(entry(t));
    await w.close();
    assert.equal(inFlight, 0, 'close returned while a write was still running (the pool is closed next)');
    assert.deepEqual((await texts()).sort(), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']);
    await s.store.pool.query('delete from message_logs');
  });

  test('retention deletes logs older than its days, and only those', async () => {
    const day = 86_400_000;
    const w = new LogWriter(s.store.pool, { retentionDays: 30 });
    w.record(entry('40 days old', ws, new Date(Date.now() - 40 * day)));
    w.record(entry('29 days old', ws, new Date(Date.now() - 29 * day)));
    w.record(entry('today'));
    await w.flush();
    assert.equal(await w.prune(), 1);
    assert.deepEqual(await texts(), ['29 days old', 'today']);
    assert.equal(await new LogWriter(s.store.pool, { retentionDays: 0 }).prune(), 0);
    await w.close();
  });
});
