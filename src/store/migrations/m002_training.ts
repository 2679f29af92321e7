import type { Migration } from './types.ts';

/**
 * 1.1.0: trained models and what tells which are stale. Every change to a workspace's training
 * data bumps `training_version` in the same transaction, so a model trained from a snapshot is
 * current exactly when its `trained_version` equals the workspace's and its algorithm is the
 * running one; `data_hash` (SHA-256 of the training data) finds stale models after a restore.
 */
export const m002Training: Migration = {
  id: 2,
  release: '1.1.0',
  name: 'training',
  up: `
alter table workspaces add column training_version bigint not null default 1;
alter table workspaces add column training_requested timestamptz not null default now();

create table models (
  workspace_id uuid primary key references workspaces(id) on delete cascade,
  data_hash text not null,
  trained_version bigint not null,
  algorithm_version text not null,
  model bytea not null,
  trained_at timestamptz not null default now(),
  train_ms integer not null
);

create table training_failures (
  workspace_id uuid primary key references workspaces(id) on delete cascade,
  failed_version bigint not null,
  message text not null,
  failed_at timestamptz not null default now()
);
`,
};
