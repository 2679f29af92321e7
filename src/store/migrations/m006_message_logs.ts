import type { Migration } from './types.ts';

/**
 * 1.2.1: message logs (the v1 `logs` calls and `user_data` deletion). One row per /message turn,
 * the request and response as the client saw them. Rows belong to their workspace (deleting it
 * deletes its logs) and travel with it through backup and restore, since workspace ids survive a
 * restore. `customer_id` is the X-Watson-Metadata label that DELETE /v1/user_data erases by.
 * `json`, not `jsonb`: logs are written on every turn and read rarely, and json stores the text as
 * sent instead of converting it.
 *
 * A release of its own (a 1.2.0 archive must not be asked for this table's data) on the 1.2 line,
 * so the upgrade paths stay as they are.
 */
export const m006MessageLogs: Migration = {
  id: 6,
  release: '1.2.1',
  name: 'message-logs',
  up: `
create table message_logs (
  log_id uuid primary key,
  workspace_id uuid not null references workspaces(id) on delete cascade,
  request_timestamp timestamptz not null,
  response_timestamp timestamptz not null,
  language text not null,
  customer_id text,
  request json not null,
  response json not null
);
create index message_logs_workspace_idx on message_logs (workspace_id, request_timestamp, log_id);
create index message_logs_time_idx on message_logs (request_timestamp);
create index message_logs_customer_idx on message_logs (customer_id) where customer_id is not null;
`,
};
