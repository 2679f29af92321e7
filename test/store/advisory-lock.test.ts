/**
 * The store's advisory locks (opening, migrating) report the error of the work they guard: when
 * that work failed because its connection broke, the unlock failed as well and its "not queryable"
 * error replaced the real one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { withAdvisoryLock } from '../../src/store/advisory-lock.ts';
import { adminUrl } from '../support/pg.ts';

const KEY = 0x74_65_73_74_6c_6b;

async function connect(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: await adminUrl() });
  c.on('error', () => {}); // the terminated session reports here as well as to the query
  await c.connect();
  return c;
}

async function lockIsFree(): Promise<boolean> {
  const other = await connect();
  try {
    const { rows } = await other.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [KEY]);
    if (rows[0]!.ok) await other.query('select pg_advisory_unlock($1)', [KEY]);
    return rows[0]!.ok;
  } finally {
    await other.end();
  }
}

test('a failure that broke the connection is reported as itself, not as the failed unlock', async () => {
  const c = await connect();
  try {
    await assert.rejects(
      withAdvisoryLock(c, KEY, async () => { await c.query('select pg_terminate_backend(pg_backend_pid())'); }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, '57P01', `expected the termination (57P01), got: ${err.message}`);
        return true;
      },
    );
  } finally {
    await c.end().catch(() => {});
  }
  assert.equal(await lockIsFree(), true, 'the lock ends with its session');
});

test('the lock is held during the work and released after success and after an ordinary failure', async () => {
  const c = await connect();
  try {
    assert.equal(await withAdvisoryLock(c, KEY, async () => {
      assert.equal(await lockIsFree(), false, 'held while the work runs');
      return 42;
    }), 42);
    assert.equal(await lockIsFree(), true);
    await assert.rejects(withAdvisoryLock(c, KEY, async () => { throw new Error('work failed'); }), /work failed/);
    assert.equal(await lockIsFree(), true);
  } finally {
    await c.end();
  }
});
