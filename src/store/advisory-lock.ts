import type pg from 'pg';

/**
 * Runs `fn` holding a session-level advisory lock on `client`'s connection.
 *
 * When `fn` fails because the connection itself broke (server restart, terminated backend), the
 * unlock fails too; reporting that ("Client has encountered a connection error") would hide the
 * reason. The lock dies with its session, so after a failure the unlock is best effort and the
 * caller's own error is what propagates.
 */
export async function withAdvisoryLock<T>(client: pg.ClientBase, key: number, fn: () => Promise<T>): Promise<T> {
  await client.query('select pg_advisory_lock($1)', [key]);
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    await client.query('select pg_advisory_unlock($1)', [key]).catch(() => {});
    throw err;
  }
  await client.query('select pg_advisory_unlock($1)', [key]);
  return result;
}
