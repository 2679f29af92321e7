/**
 * abandon() (a signal's exit) stops the embedded server this process started even while close()
 * waits for a query that does not end: it returned close()'s promise, stuck in pool.end(), so a
 * second SIGTERM during serve's shutdown reached the 10 s cap and left the server running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/index.ts';
import { stopServerIn } from '../support/pg.ts';

test('abandon during a close held up by a running query stops the server at once', { timeout: 120_000 }, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'astore-abandon-'));
  t.after(async () => { await stopServerIn(join(home, 'pg')); rmSync(home, { recursive: true, force: true }); });
  const db = await openDatabase({ env: { ASTORE_HOME: home } });
  assert.equal(db.embedded?.cluster.owned, true);
  const client = await db.pool.connect();
  client.on('error', () => {}); // its connection ends with the server; the query reports it
  const stuck = client.query('select pg_sleep(600)').then(() => 'finished', (e: Error) => e.message);
  const closing = db.close(); // waits in pool.end() for the client in use
  await new Promise((r) => setTimeout(r, 300));
  const outcome = await Promise.race([db.abandon().then(() => 'stopped'), new Promise((r) => setTimeout(() => r('still waiting'), 20_000))]);
  assert.equal(outcome, 'stopped');
  assert.equal(existsSync(join(home, 'pg', 'postmaster.pid')), false, 'the server is stopped');
  assert.notEqual(await stuck, 'finished', 'the query was ended with the server');
  client.release(true);
  await closing;
});
