/**
 * The training queue (table training_jobs, one row per workspace). Claiming uses
 * FOR UPDATE SKIP LOCKED so any number of workers, in any number of processes, take distinct
 * jobs; a claim is a lease that the worker renews, and an expired lease makes the job claimable
 * again, which is how the job of a worker that died is retried by another.
 */
import type pg from 'pg';
import { trainingWanted } from '../../workspaces/index.ts';

type Db = Pick<pg.ClientBase, 'query'>;

/** `requestedAt` is PostgreSQL's text form, exact to the microsecond (a JS Date would round it). */
export interface Job { workspaceId: string; requestedAt: string; attempts: number }

/**
 * Requests training. After a data change (`changed`), an existing job is renewed: a running one
 * re-runs when it finishes, and `delayMs` pushes the start back (debounce). Without a change (a
 * stale model, retrain-all), a workspace already queued keeps its job as it is.
 */
export async function enqueue(db: Db, workspaceIds: readonly string[], opts: { delayMs?: number; changed?: boolean } = {}): Promise<number> {
  if (workspaceIds.length === 0) return 0;
  const r = await db.query(`
    insert into training_jobs (workspace_id, requested_at, run_after)
    select w.id, clock_timestamp(), clock_timestamp() + $2 * interval '1 millisecond'
      from workspaces w where w.id = any($1::uuid[])
      -- A workspace deleted meanwhile is skipped instead of failing the insert's foreign key.
      for key share
    on conflict (workspace_id) do ${opts.changed
    ? 'update set requested_at = excluded.requested_at, run_after = excluded.run_after, attempts = 0, last_error = null'
    : 'nothing'}`,
  [workspaceIds, opts.delayMs ?? 0]);
  return r.rowCount ?? 0;
}

/**
 * Takes the next due job. Each claim counts an attempt, and a failing attempt reaches `fail`,
 * which gives up at `maxAttempts`; a job claimed once more than that was therefore left by a
 * worker that died (killed, out of memory). It is recorded as failed instead of being handed to
 * this worker, which it would likely take down too.
 */
export async function claim(db: Db, workerId: string, leaseMs: number, maxAttempts: number): Promise<Job | undefined> {
  for (;;) {
    const r = await db.query<{ workspace_id: string; requested_at: string; attempts: number }>(`
      update training_jobs set locked_by = $1, locked_until = clock_timestamp() + $2 * interval '1 millisecond', attempts = attempts + 1
       where workspace_id = (
         select workspace_id from training_jobs
          where run_after <= clock_timestamp() and (locked_until is null or locked_until < clock_timestamp())
          order by run_after limit 1 for update skip locked)
      returning workspace_id, requested_at::text, attempts`, [workerId, leaseMs]);
    const row = r.rows[0];
    if (!row) return undefined;
    if (row.attempts <= maxAttempts) return { workspaceId: row.workspace_id, requestedAt: row.requested_at, attempts: row.attempts };
    await db.query(`
      with dead as (delete from training_jobs where workspace_id = $1 and locked_by = $2 returning workspace_id)
      insert into training_failures (workspace_id, failed_version, message)
      select w.id, w.training_version, 'training did not finish in ' || $3 || ' attempts, and the worker of the last one stopped ' ||
             'without reporting (killed or out of memory?); change the workspace or retrain it to try again'
        from dead d join workspaces w on w.id = d.workspace_id
      on conflict (workspace_id) do update set failed_version = excluded.failed_version, message = excluded.message, failed_at = now()`,
    [row.workspace_id, workerId, maxAttempts]);
  }
}

export async function renew(db: Db, workerId: string, job: Job, leaseMs: number): Promise<boolean> {
  const r = await db.query(`update training_jobs set locked_until = clock_timestamp() + $3 * interval '1 millisecond'
    where workspace_id = $1 and locked_by = $2`, [job.workspaceId, workerId, leaseMs]);
  return r.rowCount === 1;
}

/**
 * Locks the job for the rest of the caller's transaction if this worker still holds it. False
 * when its lease ran out and another worker claimed it: that worker's result is the one to keep.
 */
export async function stillHeld(db: Db, workerId: string, job: Job): Promise<boolean> {
  const r = await db.query('select 1 from training_jobs where workspace_id = $1 and locked_by = $2 for update', [job.workspaceId, workerId]);
  return r.rowCount === 1;
}

/** Done: remove the job unless the workspace was changed again meanwhile, then just unlock it. */
export async function finish(db: Db, workerId: string, job: Job): Promise<void> {
  const r = await db.query(`delete from training_jobs where workspace_id = $1 and locked_by = $2 and requested_at = $3::timestamptz`,
    [job.workspaceId, workerId, job.requestedAt]);
  if (r.rowCount === 0) {
    await db.query(`update training_jobs set locked_by = null, locked_until = null, attempts = 0
      where workspace_id = $1 and locked_by = $2`, [job.workspaceId, workerId]);
  }
}

/**
 * Hands a job back untried, its attempt not counted (false: the job is no longer this worker's):
 * the worker is shutting down, or lost the database, so the interruption says nothing about the
 * job (counted, three restarts of the training pods during one long training would record it as
 * failed).
 */
export async function release(db: Db, workerId: string, job: Job): Promise<boolean> {
  const r = await db.query(`update training_jobs set locked_by = null, locked_until = null, attempts = greatest(attempts - 1, 0)
    where workspace_id = $1 and locked_by = $2`, [job.workspaceId, workerId]);
  return r.rowCount === 1;
}

/**
 * A failed attempt: retry later with back-off, or give up once the job has had `maxAttempts`
 * (counted in the table, where disown takes back the attempts of workers that lived). Returns true
 * when given up. A job re-requested meanwhile (the data changed) is not given up: the new data
 * gets its own attempts.
 */
export async function fail(db: Db, workerId: string, job: Job, message: string, maxAttempts: number): Promise<boolean> {
  const r = await db.query(`delete from training_jobs
    where workspace_id = $1 and locked_by = $2 and requested_at = $3::timestamptz and attempts >= $4`,
  [job.workspaceId, workerId, job.requestedAt, maxAttempts]);
  if (r.rowCount === 1) return true;
  // Re-requested meanwhile: the request (its attempts reset, its debounce) stands as it is.
  await db.query(`update training_jobs set locked_by = null, locked_until = null,
      last_error = case when requested_at = $4::timestamptz then $3 else last_error end,
      run_after = case when requested_at = $4::timestamptz then clock_timestamp() + power(2, attempts) * interval '1 second' else run_after end
    where workspace_id = $1 and locked_by = $2`,
  [job.workspaceId, workerId, message, job.requestedAt]);
  return false;
}

/**
 * Takes back the attempt of a worker that lost its job while alive: its lease ran out while it
 * could not reach the database (an outage longer than the lease), and another worker claimed the
 * job again, counting an attempt that only a dead worker's claim should cost. Uncounted, three
 * such outages during one long training recorded it as failed ("killed or out of memory?"). Only
 * while the other worker holds it: once that one has failed or handed it back, the count is its.
 */
export async function disown(db: Db, workerId: string, job: Job): Promise<void> {
  await db.query(`update training_jobs set attempts = greatest(attempts - 1, 0)
    where workspace_id = $1 and requested_at = $2::timestamptz and locked_by is not null and locked_by <> $3`,
  [job.workspaceId, job.requestedAt, workerId]);
}

/**
 * Workspaces whose model is missing or stale and that have no job: enqueued. This repairs a
 * request lost between a commit and its enqueue (e.g. a crash), so `Training` never sticks.
 */
export async function sweep(db: Db, algorithmVersion: string): Promise<number> {
  const r = await db.query(`
    insert into training_jobs (workspace_id)
    select w.id from workspaces w
      left join models m on m.workspace_id = w.id
      left join training_failures f on f.workspace_id = w.id
     where ${trainingWanted('$1')}
    on conflict (workspace_id) do nothing`, [algorithmVersion]);
  return r.rowCount ?? 0;
}

export interface QueueCounts { queued: number; training: number }

export async function queueCounts(db: Db): Promise<QueueCounts> {
  const r = await db.query<{ queued: string; training: string }>(`
    select count(*) filter (where locked_until is null or locked_until < clock_timestamp()) as queued,
           count(*) filter (where locked_until >= clock_timestamp()) as training
      from training_jobs`);
  return { queued: Number(r.rows[0]!.queued), training: Number(r.rows[0]!.training) };
}
