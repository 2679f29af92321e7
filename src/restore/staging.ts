/**
 * pgmig's staging schemas: a restore loads into `astore_restore_<random>` and swaps it in at the
 * end. One left behind by a killed pgmig is a full copy of a backup's data that nobody reads; it
 * is dropped by whoever next holds the restore lock, which a live restore holds for its whole run.
 */
import type pg from 'pg';
import { ident } from '../store/index.ts';

export const STAGING_PREFIX = 'astore_restore_';

/** Only one restore per database at a time (any int64 unique to this purpose). */
export const RESTORE_LOCK = 0x70_67_6d_69_67; // "pgmig"

/** Staging schemas of earlier runs that died; the caller holds the restore lock, so none is live. */
export async function dropStaleStaging(client: pg.ClientBase): Promise<string[]> {
  const r = await client.query<{ nspname: string }>(`select nspname from pg_namespace where starts_with(nspname, $1)`, [STAGING_PREFIX]);
  for (const { nspname } of r.rows) await client.query(`drop schema ${ident(nspname)} cascade`);
  return r.rows.map((x) => x.nspname);
}

/**
 * Drops the staging schemas of dead restores when no restore is running (the lock is free), and
 * returns their names; with a restore running it leaves everything alone and returns none. The
 * lock is taken only when there is something to drop, so a pgmig starting meanwhile is not told
 * that another restore runs for nothing.
 */
export async function dropStaleStagingIfIdle(client: pg.ClientBase): Promise<string[]> {
  const found = await client.query(`select 1 from pg_namespace where starts_with(nspname, $1) limit 1`, [STAGING_PREFIX]);
  if (found.rowCount === 0) return [];
  const r = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [RESTORE_LOCK]);
  if (!r.rows[0]!.ok) return [];
  try {
    return await dropStaleStaging(client);
  } finally {
    await client.query('select pg_advisory_unlock($1)', [RESTORE_LOCK]);
  }
}
