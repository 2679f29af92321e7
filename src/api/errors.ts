/**
 * The v1 error body: `{ error, code, errors?: [{ message, path }] }`. 5xx is reserved for real
 * server faults; anything the caller got wrong is a 4xx with a message saying what.
 */
import { isAppError } from '../errors/index.ts';
import { isDatabaseUnavailable } from '../store/index.ts';

export interface ErrorBody { error: string; code: number; errors?: Array<{ message: string; path?: string }> }

export function errorBody(status: number, error: string, errors?: ErrorBody['errors']): ErrorBody {
  return errors && errors.length > 0 ? { error, code: status, errors } : { error, code: status };
}

/** From this version on `errors[].path` is a JSON Pointer; before, dot notation (".intent"). */
const POINTER_PATHS = '2018-09-20';

/** `/examples/0/text` → `.examples[0].text`: how error paths read before 2018-09-20. */
export function dotPath(pointer: string): string {
  if (!pointer.startsWith('/')) return pointer;
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((t) => (/^\d+$/.test(t) ? `[${t}]` : `.${t}`)).join('');
}

/** The body as a caller of API `version` expects it (a version the request failed to give or spell is today's). */
export function forVersion(body: ErrorBody, version: unknown): ErrorBody {
  const dated = typeof version === 'string' && /^\d{4}-\d\d-\d\d$/.test(version);
  if (!dated || version >= POINTER_PATHS || !body.errors) return body;
  return { ...body, errors: body.errors.map((e) => (e.path === undefined ? e : { ...e, path: dotPath(e.path) })) };
}

export function isBodyTooLarge(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'FST_ERR_CTP_BODY_TOO_LARGE';
}

/**
 * A body over its route's limit, saying which limit and what to do: a caller that hit the sync
 * limit with a big skill is sent to the async route, which takes more.
 */
export function bodyTooLarge(limit: { bytes: number; setting: string }, larger?: { path: string; bytes: number }): ErrorBody {
  const message = `the request body is larger than this endpoint's limit of ${limit.bytes} bytes (set by ${limit.setting})`
    + (larger ? `; send a workspace this large to POST ${larger.path}, which takes up to ${larger.bytes} bytes` : '');
  return errorBody(413, 'Request Entity Too Large', [{ message }]);
}

/** Maps anything thrown by a handler (AppError, Fastify's own errors) to a status and body. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody; fault: boolean } {
  if (isAppError(err)) {
    const errors = (err.details?.errors as ErrorBody['errors']) ?? undefined;
    return { status: err.status, body: errorBody(err.status, err.message, errors), fault: err.status >= 500 };
  }
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (e.code === 'FST_ERR_BAD_URL') {
    return { status: 400, body: errorBody(400, 'Bad Request', [{ message: 'the URL path is not valid percent-encoded UTF-8' }]), fault: false };
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 415, body: errorBody(415, 'Unsupported Media Type', [{ message: 'send the body as application/json' }]), fault: false };
  }
  if (e.statusCode === 400 || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || e instanceof SyntaxError) {
    return { status: 400, body: errorBody(400, 'Invalid Request Body', [{ message: `the body is not valid JSON: ${e.message ?? ''}`.trim() }]), fault: false };
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: errorBody(e.statusCode, e.message ?? 'Bad Request'), fault: false };
  }
  if (isDatabaseUnavailable(err)) {
    // Not the caller's fault and not a bug: the request can be retried once PostgreSQL is back.
    // A connection that broke mid-request may have committed first, so a write's outcome is unknown.
    return {
      status: 503, fault: true,
      body: errorBody(503, 'Service Unavailable', [{ message: 'the store cannot reach its database; retry later (after a write, read the resource back first: a write under way when the connection broke may have been saved)' }]),
    };
  }
  return { status: 500, body: errorBody(500, 'Internal Server Error'), fault: true };
}
