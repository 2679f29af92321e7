import type { Migration } from './types.ts';

/**
 * 1.2.0: the history of backup runs (scheduled, `astore backup-job`), pruned by
 * store.backup.history.jobs.*. A scheduled run records the cron slot it serves; the unique index
 * makes a slot run at most once even when several processes schedule the same store.
 */
export const m004BackupJobs: Migration = {
  id: 4,
  release: '1.2.0',
  name: 'backup-jobs',
  up: `
create table backup_jobs (
  id bigserial primary key,
  trigger text not null check (trigger in ('schedule', 'job')),
  scheduled_for timestamptz,
  started_at timestamptz not null,
  finished_at timestamptz,
  status text not null check (status in ('running', 'succeeded', 'failed')),
  file text,
  bytes bigint,
  log text not null default ''
);
create unique index backup_jobs_slot on backup_jobs (scheduled_for) where scheduled_for is not null;
create index backup_jobs_status on backup_jobs (status, started_at desc);
`,
};
