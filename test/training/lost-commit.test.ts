/**
 * The connection drops between a training's commit and its acknowledgement: the model and the
 * job's completion are committed, but the worker hears only that the connection is gone, and
 * saves again once the database answers. That retry used to find the job gone and log that
 * another worker had taken it over (and report the training as not done); it is a saved model.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { createPool } from '../../src/store/index.ts';
import { enqueue, Trainer } from '../../src/training/index.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

let s: TestStore;
before(async () => { s = await startTestStore(); });
after(async () => { await s.close(); });

/**
 * A proxy to PostgreSQL that, on the first connection to send `marker` in a statement, holds back
 * the server's next COMMIT acknowledgement and cuts the connection instead: the commit has
 * happened, and the client never hears of it.
 */
async function cutFirstCommitAfter(host: string, port: number, marker: string): Promise<{ port: number; cuts: () => number; server: Server }> {
  let cuts = 0;
  let used = false;
  const server = createServer((client) => {
    const upstream = connect(port, host);
    let armed = false;
    client.on('data', (d: Buffer) => {
      if (!used && d.includes(marker)) { used = true; armed = true; }
      upstream.write(d);
    });
    // The server's side is read message by message (a type byte, then a length counting itself).
    let pending = Buffer.alloc(0);
    upstream.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 5 && pending.length >= 1 + pending.readInt32BE(1)) {
        const size = 1 + pending.readInt32BE(1);
        const message = pending.subarray(0, size);
        pending = pending.subarray(size);
        if (armed && message[0] === 0x43 && message.subarray(5, 11).toString() === 'COMMIT') {
          cuts++;
          client.destroy();
          upstream.destroy();
          return;
        }
        client.write(message);
      }
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, cuts: () => cuts, server };
}

test('a save whose commit acknowledgement is lost counts as saved, not as a takeover', { timeout: 60_000 }, async () => {
  const t = await s.tenant('lost-commit');
  const res = await fetch(`${t.serviceUrl}/v1/workspaces?version=2021-11-27`, {
    method: 'POST', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'acked', intents: [
      { intent: 'hello', examples: [{ text: 'hi there' }, { text: 'good morning' }] },
      { intent: 'bye', examples: [{ text: 'see you later' }, { text: 'goodbye' }] },
    ] }),
  });
  const id = ((await res.json()) as { workspace_id: string }).workspace_id;

  const url = new URL(s.db.url);
  const proxy = await cutFirstCommitAfter(url.hostname, Number(url.port), 'insert into models');
  const pool = createPool({
    host: '127.0.0.1', port: proxy.port, database: url.pathname.slice(1),
    user: decodeURIComponent(url.username), password: decodeURIComponent(url.password),
  });
  const lines: string[] = [];
  const record = (_: object, msg: string): void => { lines.push(msg); };
  const outcomes: boolean[] = [];
  const worker = new Trainer(pool, {
    concurrency: 1, pollMs: 20, sweepMs: 0, logger: { info: record, warn: record, error: record },
    onTrained: (workspace, ok) => { if (workspace === id) outcomes.push(ok); },
  });
  try {
    await enqueue(s.store.pool, [id]);
    worker.start();
    for (const deadline = Date.now() + 30_000; outcomes.length === 0 && !lines.some((l) => /taken the job over/.test(l)); await new Promise((r) => setTimeout(r, 20))) {
      assert.ok(Date.now() < deadline, `neither trained nor lost: ${lines.join(' | ')}`);
    }
  } finally {
    await worker.stop();
    await pool.end();
    proxy.server.close();
  }
  assert.equal(proxy.cuts(), 1, 'the acknowledgement of the save was held back');
  assert.doesNotMatch(lines.join(' | '), /taken the job over/);
  assert.deepEqual(outcomes, [true], lines.join(' | '));
  assert.ok(lines.includes('the database cannot be reached; trying again until it can'), lines.join(' | '));
  const { rowCount: models } = await s.store.pool.query('select 1 from models where workspace_id = $1', [id]);
  assert.equal(models, 1, 'the model committed before the cut is there');
  const { rowCount: jobs } = await s.store.pool.query('select 1 from training_jobs where workspace_id = $1', [id]);
  assert.equal(jobs, 0, 'and the job is done');
});
