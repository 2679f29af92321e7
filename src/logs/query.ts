/**
 * Reading and erasing message logs: the v1 `logs` lists (one workspace, or every workspace of the
 * instance by filter) with keyset pagination, and DELETE /v1/user_data by customer_id.
 */
import type pg from 'pg';
import { invalidParameter } from '../api/index.ts';
import { filterSql, parseFilter, requiredExact, type FilterTree } from './filter.ts';

export interface LogQuery {
  instanceId: string;
  /** One workspace (already resolved through the instance), or all of the instance's. */
  workspaceId?: string;
  filter?: FilterTree;
  sort?: string;
  limit: number;
  cursor?: string;
}

export interface LogPage { logs: unknown[]; nextCursor?: string }

/** The instance-wide list must be narrowed as the API reference says, with exact matches. */
export function requireInstanceFilter(filter: string | undefined): FilterTree {
  if (!filter) throw invalidParameter('filter', "is required: it must include language::… and one of workspace_id::…, request.context.system.assistant_id::… or request.context.metadata.deployment::…");
  const tree = parseFilter(filter);
  const exact = requiredExact(tree);
  const scope = ['workspace_id', 'request.context.system.assistant_id', 'request.context.metadata.deployment'];
  if (!exact.has('language') || !scope.some((f) => exact.has(f))) {
    throw invalidParameter('filter', `must include language::… and one of ${scope.map((f) => `${f}::…`).join(', ')}, each as an exact (::) match joined by commas`);
  }
  return tree;
}

// A cursor is the sort key of the last log returned: its timestamp to the microsecond (exact, as
// PostgreSQL stores it; a JavaScript Date has milliseconds) and the log id, so a page is one index
// range and never skips or repeats logs written while a client pages.
function encodeCursor(at: string, logId: string): string {
  return Buffer.from(`${at}|${logId}`).toString('base64url');
}
// Checked completely here: a cursor of the right shape with an impossible time or a malformed id
// would otherwise reach PostgreSQL's casts and come back as a 500.
function decodeCursor(cursor: string): { at: string; logId: string } {
  const parts = Buffer.from(cursor, 'base64url').toString().split('|');
  const [at, logId] = parts;
  const ms = at && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(at) ? new Date(`${at.slice(0, 23)}Z`) : undefined;
  if (parts.length !== 2 || !ms || Number.isNaN(ms.getTime()) || ms.toISOString().slice(0, 23) !== at!.slice(0, 23)
    || !logId || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(logId)) {
    throw invalidParameter('cursor', 'is not a cursor this API returned; repeat the request without cursor to start again from the first page');
  }
  return { at: at!, logId };
}

export async function listLogs(pool: pg.Pool, q: LogQuery): Promise<LogPage> {
  const params: unknown[] = [q.instanceId];
  const where = ['w.instance_id = $1'];
  if (q.workspaceId) { params.push(q.workspaceId); where.push(`l.workspace_id = $${params.length}`); }
  if (q.filter) where.push(filterSql(q.filter, params));
  const sort = q.sort ?? 'request_timestamp';
  if (sort !== 'request_timestamp' && sort !== '-request_timestamp') throw invalidParameter('sort', 'must be request_timestamp or -request_timestamp');
  const desc = sort.startsWith('-');
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    params.push(c.at, c.logId);
    where.push(`(l.request_timestamp, l.log_id) ${desc ? '<' : '>'} ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(q.limit + 1);
  const dir = desc ? 'desc' : 'asc';
  const r = await pool.query<{ log: unknown; at: string; log_id: string }>(`
    select json_build_object(
             'request', l.request, 'response', l.response, 'log_id', l.log_id,
             'request_timestamp', to_char(l.request_timestamp at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'response_timestamp', to_char(l.response_timestamp at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'workspace_id', l.workspace_id, 'language', l.language) as log,
           to_char(l.request_timestamp at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at, l.log_id
      from message_logs l join workspaces w on w.id = l.workspace_id
     where ${where.join(' and ')}
     order by l.request_timestamp ${dir}, l.log_id ${dir}
     limit $${params.length}`, params);
  const rows = r.rows.slice(0, q.limit);
  const last = rows[rows.length - 1];
  return { logs: rows.map((x) => x.log), nextCursor: r.rows.length > q.limit && last ? encodeCursor(last.at, last.log_id) : undefined };
}

/** Deletes the instance's logs labelled with `customerId`; returns how many. */
export async function deleteUserData(pool: pg.Pool, instanceId: string, customerId: string): Promise<number> {
  const r = await pool.query(`
    delete from message_logs l using workspaces w
     where w.id = l.workspace_id and w.instance_id = $1 and l.customer_id = $2`, [instanceId, customerId]);
  return r.rowCount ?? 0;
}
