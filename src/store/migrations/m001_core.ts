import type { Migration } from './types.ts';

/** 1.0.0: tenants (users, tokens, instances) and dialog skills in normalised tables. */
export const m001Core: Migration = {
  id: 1,
  release: '1.0.0',
  name: 'core',
  up: `
create table store_meta (
  key text primary key,
  value jsonb not null
);

create table users (
  id uuid primary key,
  name text not null unique,
  created timestamptz not null default now()
);

-- Bearer tokens are stored only as SHA-256 hashes; the token itself is shown once at creation.
create table tokens (
  id uuid primary key,
  user_id uuid not null references users(id) on delete cascade,
  token_hash bytea not null unique,
  created timestamptz not null default now(),
  revoked_at timestamptz
);

-- Instance ids change on restore (they are remapped); crn embeds the id, as IBM Cloud CRNs do.
create table instances (
  id uuid primary key,
  name text not null,
  owner_id uuid not null references users(id),
  crn text not null,
  created timestamptz not null default now()
);
create index instances_owner_idx on instances(owner_id);

-- Workspace ids survive backup and restore.
create table workspaces (
  id uuid primary key,
  instance_id uuid not null references instances(id) on delete cascade,
  name text not null,
  description text,
  language text not null,
  learning_opt_out boolean not null default false,
  metadata jsonb,
  system_settings jsonb,
  webhooks jsonb,
  created timestamptz not null default now(),
  updated timestamptz not null default now()
);
create index workspaces_instance_idx on workspaces(instance_id, id);

-- Element order is insertion order (bigserial), which exports preserve.
create table intents (
  id bigserial primary key,
  workspace_id uuid not null references workspaces(id) on delete cascade,
  intent text not null,
  description text,
  created timestamptz not null default now(),
  updated timestamptz not null default now(),
  unique (workspace_id, intent)
);

create table examples (
  id bigserial primary key,
  intent_id bigint not null references intents(id) on delete cascade,
  text text not null,
  mentions jsonb,
  created timestamptz not null default now(),
  updated timestamptz not null default now(),
  unique (intent_id, text)
);

create table counterexamples (
  id bigserial primary key,
  workspace_id uuid not null references workspaces(id) on delete cascade,
  text text not null,
  created timestamptz not null default now(),
  updated timestamptz not null default now(),
  unique (workspace_id, text)
);

create table entities (
  id bigserial primary key,
  workspace_id uuid not null references workspaces(id) on delete cascade,
  entity text not null,
  description text,
  fuzzy_match boolean,
  metadata jsonb,
  -- Properties of older exports the API no longer documents (e.g. open_list), kept verbatim.
  extra jsonb,
  created timestamptz not null default now(),
  updated timestamptz not null default now(),
  unique (workspace_id, entity)
);

create table entity_values (
  id bigserial primary key,
  entity_id bigint not null references entities(id) on delete cascade,
  value text not null,
  type text not null default 'synonyms' check (type in ('synonyms', 'patterns')),
  metadata jsonb,
  patterns text[],
  created timestamptz not null default now(),
  updated timestamptz not null default now(),
  unique (entity_id, value)
);

create table synonyms (
  id bigserial primary key,
  value_id bigint not null references entity_values(id) on delete cascade,
  synonym text not null,
  created timestamptz not null default now(),
  updated timestamptz not null default now(),
  unique (value_id, synonym)
);

-- A node's many optional fields live in one jsonb document; its id is a column for lookups.
create table dialog_nodes (
  id bigserial primary key,
  workspace_id uuid not null references workspaces(id) on delete cascade,
  dialog_node text not null,
  node jsonb not null,
  created timestamptz not null default now(),
  updated timestamptz not null default now(),
  unique (workspace_id, dialog_node)
);
`,
};
