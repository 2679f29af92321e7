/**
 * What the scheduled backup will do, for `astore backups schedule`: the operator's view of the
 * CronJob (`oc get cronjobs`: schedule, suspend, active, last schedule) plus the next slots, and
 * the catch-up a scheduler starting now would run, so a schedule change can be checked before a
 * restart of `serve` takes it up.
 */
import type pg from 'pg';
import { nextCronTime, parseCron } from '../schedule/index.ts';
import { BACKUP_LOCK } from './run.ts';
import { latestSlotBetween } from './scheduler.ts';
import type { BackupSettings } from './settings.ts';

export interface ScheduleStatus {
  schedule: string;
  suspend: boolean;
  /** The time zone the cron fields are read in: this machine's (serve's) local time. */
  timeZone: string;
  /** The next slots (none when suspended). */
  next: Date[];
  /** The newest slot run, from the job history. */
  lastSlot: Date | undefined;
  /** Runs under way now (the CronJob's "active"); not a row a dead process left 'running'. */
  active: number;
  /**
   * The slot a scheduler starting now would catch up (one run; older missed slots are dropped),
   * and whether the starting deadline still allows it.
   */
  catchUp: { slot: Date; withinDeadline: boolean } | undefined;
}

export async function scheduleStatus(pool: pg.Pool, settings: BackupSettings, now = new Date(), count = 3): Promise<ScheduleStatus> {
  const cron = parseCron(settings.schedule);
  // A row stays 'running' when its process died, until the next run (holding the lock) marks it
  // interrupted: a run is under way only while some session holds the backup lock. Looked up in
  // pg_locks, not tried: taking the lock even for a moment would make a run starting then skip its slot.
  const r = await pool.query<{ last: Date | null; active: string }>(`
    select max(scheduled_for) as last,
           case when exists (select 1 from pg_locks where locktype = 'advisory' and granted and objsubid = 1
                               and database = (select oid from pg_database where datname = current_database())
                               and classid::bigint = ($1::bigint >> 32) and objid::bigint = ($1::bigint & 4294967295))
                then count(*) filter (where status = 'running') else 0 end as active
      from backup_jobs`, [BACKUP_LOCK]);
  const lastSlot = r.rows[0]?.last ?? undefined;
  const next: Date[] = [];
  if (!settings.suspend) {
    for (let at = now; next.length < count; at = next[next.length - 1]!) next.push(nextCronTime(cron, at));
  }
  const missed = !settings.suspend && lastSlot ? latestSlotBetween(cron, lastSlot, now) : undefined;
  const deadlineMs = settings.startingDeadlineSeconds === undefined ? undefined : settings.startingDeadlineSeconds * 1000;
  return {
    schedule: settings.schedule, suspend: settings.suspend, timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    next, lastSlot, active: Number(r.rows[0]?.active ?? 0),
    catchUp: missed && { slot: missed, withinDeadline: deadlineMs === undefined || now.getTime() - missed.getTime() <= deadlineMs },
  };
}
