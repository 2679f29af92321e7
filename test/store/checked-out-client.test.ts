/**
 * A pooled client that loses its connection while checked out (a PostgreSQL restart, a failover,
 * pg_terminate_backend) between two queries: pg-pool listens for errors only on idle clients, so
 * the client emitted an unhandled 'error' and the process died — serve crashed when this hit the
 * client a backup run holds for its whole run. The next query must fail instead, and the pool go on.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sqlAt } from '../support/pg.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

let s: TestStore;
before(async () => { s = await startTestStore(); });
after(async () => { await s.close(); });

test('a checked-out client whose backend is terminated fails its next query; the process and the pool go on', async () => {
  const client = await s.store.pool.connect();
  try {
    const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    await sqlAt(s.db.url, `select pg_terminate_backend(${pid})`);
    // Time for the FATAL message and the socket's end to reach the client while it holds no query.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await assert.rejects(client.query('select 1'));
  } finally {
    client.release();
  }
  assert.equal((await s.store.pool.query<{ x: number }>('select 1 as x')).rows[0]!.x, 1);
});
