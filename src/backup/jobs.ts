/** The backup job history (astore.backup_jobs): one row per run, pruned by the history limits. */
import type pg from 'pg';

export type JobTrigger = 'schedule' | 'job';
export type JobStatus = 'running' | 'succeeded' | 'failed';

export interface BackupJob {
  id: string;
  trigger: JobTrigger;
  scheduledFor: Date | null;
  startedAt: Date;
  finishedAt: Date | null;
  status: JobStatus;
  file: string | null;
  bytes: number | null;
  log: string;
}

export async function startJob(db: pg.ClientBase, trigger: JobTrigger, startedAt: Date, slot: Date | undefined): Promise<string> {
  const r = await db.query<{ id: string }>(
    `insert into backup_jobs (trigger, scheduled_for, started_at, status) values ($1, $2, $3, 'running') returning id`,
    [trigger, slot ?? null, startedAt]);
  return r.rows[0]!.id;
}

export async function finishJob(db: pg.ClientBase, id: string, f: { status: 'succeeded' | 'failed'; finishedAt: Date; file?: string | undefined; bytes?: number | undefined; log: string }): Promise<void> {
  await db.query(`update backup_jobs set status = $2, finished_at = $3, file = $4, bytes = $5, log = $6 where id = $1`,
    [id, f.status, f.finishedAt, f.file ?? null, f.bytes ?? null, f.log]);
}

/** Runs left 'running' by a process that died. Only called while holding the backup lock. */
export async function failInterruptedJobs(db: pg.ClientBase, at: Date): Promise<number> {
  const r = await db.query(`update backup_jobs set status = 'failed', finished_at = $1,
    log = log || 'interrupted: the process running this backup stopped before it finished' || E'\\n' where status = 'running'`, [at]);
  return r.rowCount ?? 0;
}

export async function slotTaken(db: pg.ClientBase, slot: Date): Promise<boolean> {
  const r = await db.query('select 1 from backup_jobs where scheduled_for = $1', [slot]);
  return (r.rowCount ?? 0) > 0;
}

export async function lastScheduledSlot(db: pg.Pool | pg.ClientBase): Promise<Date | undefined> {
  const r = await db.query<{ slot: Date | null }>(`select max(scheduled_for) as slot from backup_jobs`);
  return r.rows[0]?.slot ?? undefined;
}

/**
 * Applies the history limits. The row of the newest scheduled slot is kept whatever they say: it is
 * the record that the slot was run (slotTaken, lastScheduledSlot), without which another process
 * would run the slot again and a restart would not know which slots it missed.
 */
export async function pruneJobs(db: pg.ClientBase, keepSucceeded: number, keepFailed: number): Promise<number> {
  const r = await db.query(`delete from backup_jobs where id in (
      select id from (select id, status, row_number() over (partition by status order by started_at desc, id desc) as n
        from backup_jobs where status <> 'running') ranked
      where (status = 'succeeded' and n > $1) or (status = 'failed' and n > $2))
    and id is distinct from (select id from backup_jobs where scheduled_for is not null order by scheduled_for desc, id desc limit 1)`,
  [keepSucceeded, keepFailed]);
  return r.rowCount ?? 0;
}

export async function listJobs(db: pg.Pool | pg.ClientBase): Promise<BackupJob[]> {
  const r = await db.query(`select id, trigger, scheduled_for, started_at, finished_at, status, file, bytes, log
    from backup_jobs order by started_at desc, id desc`);
  return r.rows.map((x) => ({
    id: x.id, trigger: x.trigger, scheduledFor: x.scheduled_for, startedAt: x.started_at, finishedAt: x.finished_at,
    status: x.status, file: x.file, bytes: x.bytes === null ? null : Number(x.bytes), log: x.log,
  }));
}
