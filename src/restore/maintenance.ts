/**
 * The quiesce flag. A restore records itself in astore_control.maintenance — outside the store
 * schema, which the restore replaces — and the API refuses writes while the flag is set. The
 * flag names the restoring backend (pid and start time): a restore killed without cleaning up
 * leaves a row whose backend is gone, and such a row blocks nothing — also when the operating
 * system later gives the same pid to another backend, which has another start time.
 */
import type pg from 'pg';

type Queryable = Pick<pg.ClientBase, 'query'>;

export const CONTROL_SCHEMA = 'astore_control';

export async function setMaintenance(client: Queryable, message: string): Promise<void> {
  await client.query(`create schema if not exists ${CONTROL_SCHEMA}`);
  await client.query(`create table if not exists ${CONTROL_SCHEMA}.maintenance (
    id integer primary key default 1 check (id = 1), message text not null, backend_pid integer not null,
    started timestamptz not null default now())`);
  // Not in the first version of the table.
  await client.query(`alter table ${CONTROL_SCHEMA}.maintenance add column if not exists backend_start timestamptz`);
  await client.query(`insert into ${CONTROL_SCHEMA}.maintenance (message, backend_pid, backend_start)
    select $1, pid, backend_start from pg_stat_activity where pid = pg_backend_pid()
    on conflict (id) do update set message = excluded.message, backend_pid = excluded.backend_pid,
      backend_start = excluded.backend_start, started = now()`, [message]);
}

export async function clearMaintenance(client: Queryable): Promise<void> {
  await client.query(`delete from ${CONTROL_SCHEMA}.maintenance where backend_pid = pg_backend_pid()`);
}

/** The message to refuse writes with, or undefined when writes are allowed. */
export async function maintenanceMessage(db: Queryable): Promise<string | undefined> {
  try {
    const r = await db.query<{ message: string }>(`select m.message from ${CONTROL_SCHEMA}.maintenance m
      where exists (select 1 from pg_stat_activity a where a.pid = m.backend_pid
        and (m.backend_start is null or a.backend_start = m.backend_start))`);
    return r.rows[0]?.message;
  } catch (err) {
    // No restore has ever run here: the control table does not exist yet.
    if ((err as { code?: string }).code === '42P01' || (err as { code?: string }).code === '3F000') return undefined;
    throw err;
  }
}
