/**
 * The store's PostgreSQL stops while the API is serving (an external server restarted by its DBA):
 * /health says 503 "unavailable" and why, API calls are 503 (retry) rather than a 500 "Internal
 * Server Error", and both answer as before once the server is back, without restarting the store.
 * A server that stops answering altogether is a 503 once the pool's connect timeout runs out.
 * /health used to be a bare 500 like any bug. Runs its own server, since it stops it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { cleanUp } from '../support/cleanup.ts';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createServer } from '../../src/api/index.ts';
import { createInstance, createToken } from '../../src/auth/index.ts';
import { createPool, openStore, startCluster, type RunningCluster, type Store } from '../../src/store/index.ts';
import { ALGORITHM_VERSION, enqueue, Trainer } from '../../src/training/index.ts';
import { slowIntents } from '../support/training.ts';

describe('the database goes away under a running API', () => {
  let dir: string;
  let cluster: RunningCluster;
  let store: Store;
  let app: FastifyInstance;
  let url: string;
  let serviceUrl: string;
  let token: string;
  const start = (port = 0): Promise<RunningCluster> =>
    startCluster({ dataDir: join(dir, 'pg'), password: 'pw', port, logFile: join(dir, 'pg.log') });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'astore-dbdown-'));
    cluster = await start();
    process.env.ASTORE_HOME = join(dir, 'home');
    delete process.env.ASTORE_ENCRYPTION_SECRET;
    store = await openStore({ env: { DATABASE_URL: cluster.url('postgres') }, migrate: true });
    app = createServer({ pool: store.pool, key: store.key, algorithmVersion: ALGORITHM_VERSION, release: store.release });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    const i = await createInstance(store.pool, 'i', 'ops');
    token = (await createToken(store.pool, 'ops')).token;
    serviceUrl = `${url}/instances/${i.id}/api`;
  });
  // Every step runs even if one fails: a failed close must not leave this test's PostgreSQL running.
  after(() => cleanUp(() => app?.close(), () => store?.close(), () => cluster?.stop(), () => rmSync(dir, { recursive: true, force: true })));

  const listWorkspaces = (): Promise<Response> =>
    fetch(`${serviceUrl}/v1/workspaces?version=2021-11-27`, { headers: { authorization: `Bearer ${token}` } });

  test('503 while it is down, ok again when it is back', { timeout: 120_000 }, async () => {
    assert.equal((await fetch(`${url}/health`)).status, 200);
    const port = cluster.port;
    await cluster.stop();

    const down = await fetch(`${url}/health`);
    assert.equal(down.status, 503);
    const body = (await down.json()) as { status: string; error: string };
    assert.equal(body.status, 'unavailable');
    assert.equal(body.error, 'the database is unreachable; the server log says why');

    const api = await listWorkspaces();
    assert.equal(api.status, 503);
    const apiBody = (await api.json()) as { error: string; code: number; errors: Array<{ message: string }> };
    assert.equal(apiBody.code, 503);
    assert.match(apiBody.errors[0]!.message, /cannot reach its database; retry later/);

    cluster = await start(port);
    const up = await fetch(`${url}/health`);
    assert.equal(up.status, 200);
    assert.equal(((await up.json()) as { status: string }).status, 'ok');
    assert.equal((await listWorkspaces()).status, 200);
  });

  /**
   * The database goes away while a model trains and comes back after the training ended: the
   * model is saved then, uncounted. Before, the save failed, the attempt was counted, and the job
   * sat claimed until its lease ran out, to be trained again from the start.
   */
  test('a model trained while the database is out is saved once it is back', { timeout: 120_000 }, async () => {
    const created = await fetch(`${serviceUrl}/v1/workspaces?version=2021-11-27`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'outage', intents: slowIntents(300, 25) }), // about 13 s of training
    });
    assert.equal(created.status, 201);
    const id = ((await created.json()) as { workspace_id: string }).workspace_id;
    const lines: string[] = [];
    const record = (_: object, msg: string): void => { lines.push(msg); };
    // A lease longer than the outage: nothing but the outage is in play.
    const trainer = new Trainer(store.pool, { concurrency: 1, pollMs: 20, sweepMs: 0, leaseMs: 120_000, logger: { info: record, warn: record, error: record } });
    await enqueue(store.pool, [id]);
    trainer.start();
    try {
      for (const deadline = Date.now() + 30_000; !(await store.pool.query('select 1 from training_jobs where workspace_id = $1 and locked_by is not null', [id])).rowCount;) {
        assert.ok(Date.now() < deadline, 'never claimed');
        await new Promise((r) => setTimeout(r, 20));
      }
      const port = cluster.port;
      await cluster.stop();
      // Down until the trainer has met the outage (its model ready to save, or its data still to
      // read): a fixed wait was too short where other tests slowed the training down.
      for (const deadline = Date.now() + 90_000; !lines.includes('the database cannot be reached; trying again until it can');) {
        assert.ok(Date.now() < deadline, `the trainer never met the outage: ${lines.join(' | ')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      cluster = await start(port);
      for (const deadline = Date.now() + 30_000; !(await store.pool.query('select 1 from models where workspace_id = $1', [id])).rowCount;) {
        assert.ok(Date.now() < deadline, `no model saved after the database came back: ${lines.join(' | ')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual((await store.pool.query('select 1 from training_jobs where workspace_id = $1', [id])).rows, [], 'the job is done');
      assert.deepEqual((await store.pool.query('select 1 from training_failures where workspace_id = $1', [id])).rows, []);
    } finally {
      await trainer.stop();
    }
  });

  test('a server that stops answering (no refusal, no reply) is a 503 after the connect timeout, not a hang', { timeout: 60_000 }, async () => {
    // A listener that accepts connections and never says a word: what a network partition looks like.
    const held: Socket[] = [];
    const tarpit = createNetServer((socket) => { held.push(socket); });
    await new Promise<void>((resolve) => tarpit.listen(0, '127.0.0.1', resolve));
    const pool = createPool({ ...store.connection, host: '127.0.0.1', port: (tarpit.address() as AddressInfo).port }, 2, 500);
    const silent = createServer({ pool, key: store.key, algorithmVersion: ALGORITHM_VERSION, release: store.release });
    try {
      const at = await silent.listen({ host: '127.0.0.1', port: 0 });
      const health = await fetch(`${at}/health`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(health.status, 503);
      const api = await fetch(`${at}/instances/00000000-0000-4000-8000-000000000000/api/v1/workspaces?version=2021-11-27`, {
        headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000),
      });
      assert.equal(api.status, 503, await api.text());
    } finally {
      await silent.close();
      await pool.end().catch(() => undefined);
      for (const s of held) s.destroy();
      tarpit.close();
    }
  });
});
