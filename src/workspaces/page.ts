/**
 * Pagination: `page_limit`, `sort` (a field, `-` for descending), `cursor` (opaque) and
 * `include_count`. Sorting always ends on a unique tiebreak, and the cursor is the sort key of
 * the page's last row (keyset pagination): the next page starts after that row wherever it now
 * stands, so rows created or deleted between two pages neither push a row onto two pages nor
 * make one fall between them (an offset did both, and a client paging through an export lost
 * rows without a word).
 */
import type pg from 'pg';
import { AppError } from '../errors/index.ts';

export interface Page {
  limit: number;
  /** The sort key of the previous page's last row, from the cursor. */
  after?: { sort: string; key: string[] } | undefined;
  sort?: string | undefined;
  count: boolean;
}
export interface PageResult<T> {
  /** Up to limit + 1 items: one more than the page when there is a next page. */
  items: T[];
  total: number;
  /** The cursor of the next page, when there is one. */
  next?: string | undefined;
}

function invalidCursor(why: string): AppError {
  return new AppError('INVALID_CURSOR', 'Invalid cursor', {
    status: 400, details: { errors: [{ message: `cursor ${why}; repeat the request without cursor to start from the first page`, path: '/cursor' }] },
  });
}

function encodeCursor(sort: string, key: string[]): string {
  return Buffer.from(JSON.stringify({ s: sort, k: key })).toString('base64url');
}

/** The position a cursor names; its sort is checked against the request's when the page is read. */
export function decodeCursor(cursor: string | undefined): Page['after'] {
  if (!cursor) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    throw invalidCursor('is not a cursor this service issued');
  }
  const { s, k } = (parsed ?? {}) as { s?: unknown; k?: unknown };
  if (typeof s !== 'string' || !Array.isArray(k) || k.length === 0 || !k.every((v) => typeof v === 'string')) {
    throw invalidCursor('is not a cursor this service issued');
  }
  return { sort: s, key: k as string[] };
}

export interface PageQuery {
  /** The select list (without the sort key, which is added). */
  select: string;
  /** `table where …`: the rows to page through; the where clause is required. */
  from: string;
  args: unknown[];
  /** Each sortable field and its SQL column. */
  columns: Record<string, string>;
  /** Unique together: the order of rows whose sort field ties, and the whole order when there is no sort. */
  tiebreak: string[];
  /** include_count's count, when `from` holds parameters the count does not need. */
  count?: { from: string; args: unknown[] };
}

/** One page of rows; include_count's total counts every row of `from`, not only those after the cursor. */
export async function pageQuery<R>(db: Pick<pg.ClientBase, 'query'>, page: Page, q: PageQuery): Promise<{ rows: R[]; total: number; next?: string }> {
  const sort = page.sort ?? '';
  const desc = sort.startsWith('-');
  const field = desc ? sort.slice(1) : sort;
  const column = field && Object.hasOwn(q.columns, field) ? q.columns[field] : undefined;
  if (field && !column) {
    throw new AppError('INVALID_SORT', `Invalid value for sort: ${sort}`, {
      status: 400, details: { errors: [{ message: `sort must be one of ${Object.keys(q.columns).map((c) => `${c}, -${c}`).join(', ')}`, path: '/sort' }] },
    });
  }
  const keys = column ? [column, ...q.tiebreak] : q.tiebreak;
  const args = [...q.args];
  let where = q.from;
  if (page.after) {
    if (page.after.sort !== sort) throw invalidCursor(`was issued for ${page.after.sort ? `sort=${page.after.sort}` : 'no sort'}, not ${sort ? `sort=${sort}` : 'no sort'}`);
    if (page.after.key.length !== keys.length) throw invalidCursor('is not a cursor this service issued');
    // One row comparison, in the order's direction (the tiebreak follows the sort's direction).
    const params = page.after.key.map((v) => { args.push(v); return `$${args.length}`; });
    where += ` and (${keys.join(', ')}) ${desc ? '<' : '>'} (${params.join(', ')})`;
  }
  const keyColumns = keys.map((k, i) => `(${k})::text as _k${i}`).join(', ');
  const order = keys.map((k) => `${k}${desc ? ' desc' : ''}`).join(', ');
  let r: pg.QueryResult<R & Record<string, string>>;
  try {
    r = await db.query(`select ${q.select}, ${keyColumns} from ${where} order by ${order} limit ${page.limit + 1}`, args);
  } catch (err) {
    // A cursor edited by hand whose key does not read as the column's type (22xxx: data exception).
    if (page.after && /^22/.test(String((err as { code?: unknown }).code))) throw invalidCursor('is not a cursor this service issued');
    throw err;
  }
  const last = r.rows.length > page.limit ? r.rows[page.limit - 1] : undefined;
  const next = last ? encodeCursor(sort, keys.map((_, i) => last[`_k${i}`]!)) : undefined;
  let total = 0;
  if (page.count) {
    const c = q.count ?? { from: q.from, args: q.args };
    total = Number((await db.query<{ total: string }>(`select count(*) as total from ${c.from}`, c.args)).rows[0]!.total);
  }
  return { rows: r.rows, total, next };
}
