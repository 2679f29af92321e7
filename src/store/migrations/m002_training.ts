import type { Migration } from './types.ts';

/**
 * 1.1.0: trained models and the training-data hash that tells which are stale. A workspace's
 * model is current when its data_hash equals the hash of the workspace's training data now and
 * its algorithm_version is the running one.
 */
export const m002Training: Migration = {
  id: 2,
  release: '1.1.0',
  name: 'training',
  up: `
alter table workspaces add column training_data_hash text;
alter table workspaces add column training_requested timestamptz;

create table models (
  workspace_id uuid primary key references workspaces(id) on delete cascade,
  data_hash text not null,
  algorithm_version text not null,
  model bytea not null,
  trained_at timestamptz not null default now(),
  train_ms integer not null
);

create table training_failures (
  workspace_id uuid primary key references workspaces(id) on delete cascade,
  data_hash text not null,
  message text not null,
  failed_at timestamptz not null default now()
);
`,
};
