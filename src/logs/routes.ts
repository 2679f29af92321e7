/**
 * The v1 log calls: `GET v1/workspaces/{ws}/logs`, `GET v1/logs` (instance-wide, filter required)
 * and `DELETE v1/user_data?customer_id=…` (202, as the service answers it).
 */
import { invalidParameter, pageLimit, pageUrl, type Router, type V1Context, type V1Handler } from '../api/index.ts';
import { AppError } from '../errors/index.ts';
import { findWorkspace } from '../workspaces/index.ts';
import { parseFilter, type FilterTree } from './filter.ts';
import { deleteUserData, listLogs, requireInstanceFilter } from './query.ts';
import type { LogWriter } from './writer.ts';

const MAX_PAGE = 10_000;

/** The same check as every other list's (it used Number(), which read '0x2', '1e0' and ' 2'). */
const limitOf = (c: V1Context): number => (c.query.page_limit ? pageLimit(c.query, MAX_PAGE) : 100);

async function page(c: V1Context, workspaceId: string | undefined, filter: FilterTree | undefined): Promise<{ body: unknown }> {
  const limit = limitOf(c);
  const { logs, nextCursor } = await listLogs(c.pool, {
    instanceId: c.instanceId, workspaceId, filter, sort: c.query.sort || undefined, limit, cursor: c.query.cursor || undefined,
  });
  const pagination: Record<string, string> = {};
  if (nextCursor) { pagination.next_url = pageUrl(c, nextCursor); pagination.next_cursor = nextCursor; }
  return { body: { logs, pagination } };
}

/** The X-Watson-Metadata label of a request: `customer_id=…` (the first one, if several). */
export function customerId(headers: V1Context['headers']): string | null {
  const h = headers['x-watson-metadata'];
  const m = /(?:^|[;\s])customer_id=([^;\s]+)/.exec(Array.isArray(h) ? h.join(';') : h ?? '');
  return m ? m[1]! : null;
}

/** `writer`: this process's log writer, flushed before a user_data delete. */
export function registerLogRoutes(router: Router<V1Handler>, writer?: LogWriter): void {
  router.add('GET', 'v1/workspaces/:ws/logs', async (c) => {
    const ws = await findWorkspace(c.pool, c.instanceId, c.params.ws!, { key: c.key, algorithmVersion: c.algorithmVersion });
    return page(c, ws.id, c.query.filter ? parseFilter(c.query.filter) : undefined);
  });
  router.add('GET', 'v1/logs', async (c) => {
    return page(c, undefined, requireInstanceFilter(c.query.filter || undefined));
  });
  router.add('DELETE', 'v1/user_data', async (c) => {
    const id = c.query.customer_id;
    if (!id) {
      throw new AppError('INVALID_PARAMETER', 'Missing customer_id', { status: 400, details: { errors: [{ message: 'customer_id is required: the label sent as X-Watson-Metadata: customer_id=… with the messages to erase', path: '/customer_id' }] } });
    }
    // No stored label holds U+0000 (PostgreSQL text cannot), and the query would fail with a 500.
    if (id.includes('\u0000')) throw invalidParameter('customer_id', 'must not contain the character U+0000');
    // Turns answered before this call but still queued would be written after the delete. (Those
    // queued in other serve processes are not reached: README says so.)
    await writer?.flush();
    await deleteUserData(c.pool, c.instanceId, id);
    return { status: 202, body: {} };
  });
}
