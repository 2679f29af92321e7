/**
 * An idle trainer, as in a long-running `astore serve` or `astore train-worker` with nothing to
 * train: each empty poll must not leave a wake-up callback behind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Trainer } from '../../src/training/index.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

let s: TestStore;
before(async () => { s = await startTestStore(); });
after(async () => { await s.close(); });

test('an idle trainer keeps no wake-up callback per poll', async () => {
  const worker = new Trainer(s.store.pool, { concurrency: 2, pollMs: 5, sweepMs: 0 });
  worker.start();
  try {
    await new Promise((r) => setTimeout(r, 1_000)); // about a hundred empty polls per loop
    // poke() calls each pending wake-up, and each clears its poll timer: count them.
    let wakeUps = 0;
    const original = globalThis.clearTimeout;
    globalThis.clearTimeout = ((t?: Parameters<typeof clearTimeout>[0]) => { wakeUps++; original(t); }) as typeof clearTimeout;
    try { worker.poke(); } finally { globalThis.clearTimeout = original; }
    assert.ok(wakeUps <= 2, `${wakeUps} wake-up callbacks kept for 2 idle loops`);
  } finally {
    await worker.stop();
  }
});

test('poke still wakes an idle loop at once', async () => {
  // A long poll: without the wake-up, the job below would wait 30 s.
  const trained: string[] = [];
  const worker = new Trainer(s.store.pool, { concurrency: 1, pollMs: 30_000, sweepMs: 0, onTrained: (id) => trained.push(id) });
  worker.start();
  try {
    await new Promise((r) => setTimeout(r, 200)); // the loop found nothing and sleeps
    const t = await s.tenant('idle');
    const res = await fetch(`${t.serviceUrl}/v1/workspaces?version=2021-11-27`, {
      method: 'POST', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'poked', intents: [{ intent: 'hello', examples: [{ text: 'hi there' }] }, { intent: 'bye', examples: [{ text: 'see you' }] }] }),
    });
    const id = ((await res.json()) as { workspace_id: string }).workspace_id;
    await s.store.pool.query('insert into training_jobs (workspace_id) values ($1) on conflict do nothing', [id]);
    worker.poke();
    const deadline = Date.now() + 10_000;
    while (!trained.includes(id)) {
      if (Date.now() > deadline) assert.fail('the poked loop did not take the job');
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await worker.stop();
  }
});

/**
 * Claims that keep failing (here the queue table renamed away; in life the database out) are
 * logged once, not on every poll (twice a second per loop, for as long as the outage lasted), and
 * the recovery is logged too.
 */
test('failing claims are logged once, then once they work again', async () => {
  const lines: string[] = [];
  const record = (_: object, msg: string): void => { lines.push(msg); };
  const worker = new Trainer(s.store.pool, { concurrency: 1, pollMs: 10, sweepMs: 0, logger: { info: record, warn: record, error: record } });
  await s.store.pool.query('alter table training_jobs rename to training_jobs_away');
  worker.start();
  try {
    await new Promise((r) => setTimeout(r, 1_000)); // dozens of failed polls
    await s.store.pool.query('alter table training_jobs_away rename to training_jobs');
    for (const deadline = Date.now() + 10_000; !lines.some((l) => /works again/.test(l)); await new Promise((r) => setTimeout(r, 20))) {
      assert.ok(Date.now() < deadline, `no recovery logged: ${lines.join(' | ')}`);
    }
  } finally {
    await worker.stop();
    await s.store.pool.query('alter table if exists training_jobs_away rename to training_jobs');
  }
  assert.equal(lines.filter((l) => /claiming a training job failed/.test(l)).length, 1, lines.join(' | '));
});
