/** Query-parameter parsing with the SDK's encodings (booleans as `true`/`false`). */
import { AppError } from '../errors/index.ts';
import { decodeCursor, type Page } from '../workspaces/index.ts';

export type Query = Record<string, string | undefined>;

/** The 400 every query-parameter check answers with: `name` and what is wrong with it. */
export const invalidParameter = (name: string, message: string): AppError =>
  new AppError('INVALID_PARAMETER', `Invalid value for ${name}`, { status: 400, details: { errors: [{ message: `${name} ${message}`, path: `/${name}` }] } });

/**
 * The request's query as one string per name. A repeated name (`?sort=a&sort=b`) arrives as an
 * array, which no parameter accepts; say so rather than guess which one was meant.
 */
export function queryOf(raw: unknown): Query {
  const out: Query = {};
  for (const [name, v] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
    if (Array.isArray(v)) throw invalidParameter(name, `was sent ${v.length} times; send it once`);
    out[name] = v === undefined ? undefined : String(v);
  }
  return out;
}

export function bool(q: Query, name: string, fallback = false): boolean {
  const v = q[name];
  if (v === undefined || v === '') return fallback;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalidParameter(name, 'must be true or false');
}

/** A given `page_limit`, from 1 to `max`. */
export function pageLimit(q: Query, max: number): number {
  // Digits only: Number() would also read '0x10', '1e2', '2.0' and ' 5' as whole numbers.
  const limit = /^\d{1,9}$/.test(q.page_limit ?? '') ? Number(q.page_limit) : NaN;
  if (!(limit >= 1 && limit <= max)) throw invalidParameter('page_limit', `must be a whole number from 1 to ${max}`);
  return limit;
}

export function page(q: Query): Page {
  const limit = q.page_limit === undefined ? 100 : pageLimit(q, 100_000);
  return { limit, after: decodeCursor(q.cursor), sort: q.sort || undefined, count: bool(q, 'include_count') };
}

/** The `version` date every v1 call must carry. */
export function version(q: Query): string {
  const v = q.version;
  if (!v) {
    throw new AppError('MISSING_VERSION', "Missing 'version' query parameter", { status: 400, details: { errors: [{ message: "Missing 'version' query parameter", path: '/version' }] } });
  }
  if (!isCalendarDate(v)) throw invalidParameter('version', 'must be a date in YYYY-MM-DD form, e.g. 2021-11-27');
  return v;
}

/** YYYY-MM-DD naming a day that exists: versions are compared as strings, so 2021-13-01 would pass for a date after 2021. */
function isCalendarDate(v: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v);
}

/** The API change of this date made include_audit default to false; older versions get audit fields unasked (spec §1.3). */
const AUDIT_OFF_BY_DEFAULT = '2018-02-16';

/** include_audit, defaulting as the request's `version` says. */
export function includeAudit(q: Query, version: string): boolean {
  return bool(q, 'include_audit', version < AUDIT_OFF_BY_DEFAULT);
}
