/**
 * Pagination: `page_limit`, `sort` (a field, `-` for descending), `cursor` (opaque; an offset
 * here) and `include_count`. Sorting always ends on the insertion order so pages are stable.
 */
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
