import type { Migration } from './types.ts';

/**
 * 1.2.0: the training queue. One row per workspace that needs training, so repeated changes
 * coalesce into one job (run_after is pushed back: a debounce). A worker leases a job
 * (locked_by, locked_until) and renews the lease while it trains; a job whose worker died is
 * claimed again once its lease runs out, so no job is lost. Plain tables and SKIP LOCKED keep
 * the queue dumpable by the store's own backup, and shared by workers on any number of machines.
 */
export const m005TrainingQueue: Migration = {
  id: 5,
  release: '1.2.0',
  name: 'training-queue',
  up: `
create table training_jobs (
  workspace_id uuid primary key references workspaces(id) on delete cascade,
  requested_at timestamptz not null default clock_timestamp(),
  run_after timestamptz not null default clock_timestamp(),
  attempts integer not null default 0,
  locked_by text,
  locked_until timestamptz,
  last_error text
);
create index training_jobs_ready_idx on training_jobs (run_after);
`,
};
