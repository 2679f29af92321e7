/**
 * Pagination: `page_limit`, `sort` (a field, `-` for descending), `cursor` (opaque; an offset
 * here) and `include_count`. Sorting always ends on the insertion order so pages are stable.
 */
import type pg from 'pg';
import { AppError } from '../errors/index.ts';

export interface Page { limit: number; offset: number; sort?: string | undefined; count: boolean }
export interface PageResult<T> { items: T[]; total: number }

export function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): number {
  if (!cursor) return 0;
  const m = /^o:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new AppError('INVALID_CURSOR', 'Invalid cursor', { status: 400, details: { errors: [{ message: 'cursor is not a cursor this service issued', path: '/cursor' }] } });
  return Number(m[1]);
}

/** ORDER BY/LIMIT/OFFSET for a page, with `columns` mapping each sortable field to SQL. */
export function pageClause(page: Page, columns: Record<string, string>, tiebreak: string): { sql: string; total: string } {
  let order = tiebreak;
  if (page.sort) {
    const desc = page.sort.startsWith('-');
    const field = desc ? page.sort.slice(1) : page.sort;
    const col = columns[field];
    if (!col) {
      throw new AppError('INVALID_SORT', `Invalid value for sort: ${page.sort}`, {
        status: 400, details: { errors: [{ message: `sort must be one of ${Object.keys(columns).map((c) => `${c}, -${c}`).join(', ')}`, path: '/sort' }] },
      });
    }
    order = `${col} ${desc ? 'desc' : 'asc'}, ${tiebreak}`;
  }
  return {
    sql: `order by ${order} limit ${page.limit + 1} offset ${page.offset}`,
    total: page.count ? 'count(*) over () as total' : '0 as total',
  };
}

/**
 * include_count's total. The window count rides on the page's rows, so a cursor past the last
 * page (no rows) counts again over `from` (the list's table and where clause, with `args`).
 */
export async function pageTotal(db: Pick<pg.ClientBase, 'query'>, page: Page, rows: ReadonlyArray<{ total?: string }>, from: string, args: unknown[]): Promise<number> {
  if (!page.count) return 0;
  if (rows[0]) return Number(rows[0].total);
  if (page.offset === 0) return 0;
  const r = await db.query<{ total: string }>(`select count(*) as total from ${from}`, args);
  return Number(r.rows[0]!.total);
}
