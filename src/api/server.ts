/**
 * The HTTP service: the v1 workspace API under `/instances/{id}/api` (and the CP4D form
 * `/assistant/{release}/instances/{id}/api`), the resource controller's instance list, and
 * `/health`. Every v1 call needs a bearer token whose user owns the instance; another user's
 * instance is answered with 404, so its existence is not revealed.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type pg from 'pg';
import { authenticate, authorize, listInstances, type EncryptionKey, type TokenInfo } from '../auth/index.ts';
import { AppError } from '../errors/index.ts';
import { bodyTooLarge, errorBody, forVersion, isBodyTooLarge, toErrorResponse } from './errors.ts';
import { queryOf, version } from './params.ts';
import { decodeSegments, Router } from './router.ts';
import { v1Routes, type V1Context, type V1Handler } from './v1.ts';

export interface ServerHooks {
  trainingChanged?(workspaceId: string): void;
  workspaceOpened?(workspaceId: string): void;
  /** Extra v1 routes (the message endpoint) registered by other capabilities. */
  routes?(router: Router<V1Handler>): void;
  /** Why writes are refused right now (e.g. a restore is running), or undefined. */
  writesBlocked?(): Promise<string | undefined>;
}

export interface ServerOptions {
  pool: pg.Pool;
  key: EncryptionKey;
  algorithmVersion: string;
  /** AUTO_RETRAIN (default true): whether a stale model will be retrained, for the workspace status. */
  autoRetrain?: boolean;
  release: string;
  /** Largest accepted request body (spec: 1.5 MB for synchronous workspace writes). */
  maxBodyBytes?: number;
  /** Largest body of the async workspace create and update, which exist for skills over the sync limit. */
  maxAsyncBodyBytes?: number;
  logger?: boolean | { level: string };
  hooks?: ServerHooks;
}

export const DEFAULT_MAX_BODY_BYTES = 1_572_864;
/** The spec's other figure for workspace updates (its OAS gives both); big skills come through here. */
export const DEFAULT_MAX_ASYNC_BODY_BYTES = 52_428_800;

/** `v1/workspaces/{ws}/…` POSTs that only read the store, answered even while writes are refused (a restore). */
const READ_ONLY_POSTS = new Set(['message', 'bulk_classify']);

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m?.[1];
}

function unauthorized(token: string | undefined): AppError {
  return new AppError('UNAUTHORIZED', 'Unauthorized', {
    status: 401, details: { errors: [{ message: token ? 'the bearer token is invalid or revoked' : 'send an Authorization: Bearer <token> header' }] },
  });
}

async function requireUser(pool: pg.Pool, req: FastifyRequest): Promise<TokenInfo> {
  const token = bearer(req);
  const user = token ? await authenticate(pool, token) : undefined;
  if (!user) throw unauthorized(token);
  return user;
}

/** Splits `…/instances/{id}/api/v1/…` into the instance id and the `v1/…` segments. */
function parseInstancePath(segments: string[]): { instanceId: string; rest: string[]; restRaw: number } | undefined {
  let i = 0;
  if (segments[0] === 'assistant') i = 2;
  if (segments[i] !== 'instances' || segments[i + 2] !== 'api' || !segments[i + 1]) return undefined;
  return { instanceId: segments[i + 1]!, rest: segments.slice(i + 3), restRaw: i + 3 };
}

export function createServer(opts: ServerOptions): FastifyInstance {
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    // The v1 API answers JSON everywhere; keep Fastify from rewriting paths we decode ourselves.
    routerOptions: { ignoreTrailingSlash: true },
    // Errors Fastify's router raises before any route runs (a path that is not valid
    // percent-encoded UTF-8) get the v1 error body too, not Fastify's, whose `code` is a string.
    frameworkErrors: (err, _req, reply) => {
      const { status, body } = toErrorResponse(err);
      void (reply as FastifyReply).code(status).type('application/json').send(body);
    },
  });
  const router = v1Routes();
  opts.hooks?.routes?.(router);

  const syncLimit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const asyncLimit = Math.max(opts.maxAsyncBodyBytes ?? DEFAULT_MAX_ASYNC_BODY_BYTES, syncLimit);
  // The async routes take the larger of the two settings: a 413 there names the one in force.
  const asyncSetting = (opts.maxAsyncBodyBytes ?? DEFAULT_MAX_ASYNC_BODY_BYTES) < syncLimit ? 'ASTORE_MAX_BODY_BYTES' : 'ASTORE_MAX_ASYNC_BODY_BYTES';
  app.setErrorHandler((err, req, reply) => {
    if (isBodyTooLarge(err)) {
      const isAsync = req.routeOptions.url?.includes('/v1/workspaces_async') ?? false;
      const path = req.url.split('?')[0]!;
      const syncWorkspaceWrite = !isAsync && req.method === 'POST' && /\/v1\/workspaces(\/[^/]+)?\/?$/.test(path);
      const body = bodyTooLarge(
        isAsync ? { bytes: asyncLimit, setting: asyncSetting } : { bytes: syncLimit, setting: 'ASTORE_MAX_BODY_BYTES' },
        syncWorkspaceWrite && asyncLimit > syncLimit ? { path: path.replace(/\/v1\/workspaces/, '/v1/workspaces_async'), bytes: asyncLimit } : undefined);
      void reply.code(413).type('application/json').send(forVersion(body, (req.query as { version?: unknown } | undefined)?.version));
      return;
    }
    const { status, body, fault } = toErrorResponse(err);
    if (fault) req.log.error({ err }, 'request failed');
    void reply.code(status).type('application/json').send(forVersion(body, (req.query as { version?: unknown } | undefined)?.version));
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).type('application/json').send(errorBody(404, 'Resource not found'));
  });

  app.get('/health', async (req, reply) => {
    try {
      await opts.pool.query('select 1');
    } catch (err) {
      // A probe must see "down" and why (not a bare 500), and "ok" again once the pool reconnects.
      req.log.warn({ err }, 'health: the database is unreachable');
      // The driver's words (host, port, role) are for the log, not for unauthenticated callers.
      return reply.code(503).send({ status: 'unavailable', release: opts.release, error: 'the database is unreachable; the server log says why' });
    }
    return reply.send({ status: 'ok', release: opts.release });
  });

  app.get('/api/ibmcloud/resource-controller/v2/resource_instances', async (req) => {
    const user = await requireUser(opts.pool, req);
    const instances = await listInstances(opts.pool, { userId: user.userId });
    return {
      rows_count: instances.length,
      next_url: null,
      resources: instances.map((i) => ({
        id: i.crn, guid: i.id, crn: i.crn, name: i.name, state: 'active', type: 'service_instance',
        resource_id: 'conversation', created_at: i.created.toISOString(), created_by: i.owner,
        extensions: { workspaces: i.workspaces },
      })),
    };
  });

  /**
   * Who calls, settled in onRequest: before Fastify reads the body, so a caller without a valid
   * token cannot make the server read and parse a body up to the async limit (50 MB).
   */
  const callers = new WeakMap<FastifyRequest, { rawPath: string; rest: string[]; restRaw: number; instanceId: string }>();
  const authorizeV1 = async (req: FastifyRequest): Promise<void> => {
    const rawPath = req.raw.url!.split('?')[0]!;
    const segments = decodeSegments(rawPath);
    const parsed = segments && parseInstancePath(segments);
    if (!parsed) throw new AppError('NOT_FOUND', 'Resource not found', { status: 404 });
    const token = bearer(req);
    const auth = token ? await authorize(opts.pool, token, parsed.instanceId) : undefined;
    if (!auth) throw unauthorized(token);
    if (!auth.instance) throw new AppError('NOT_FOUND', 'Resource not found', { status: 404 });
    callers.set(req, { rawPath, rest: parsed.rest, restRaw: parsed.restRaw, instanceId: auth.instance });
  };

  const v1 = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const { rawPath, rest, restRaw, instanceId } = callers.get(req)!;
    const match = router.match(req.method, rest);
    if (!match) throw new AppError('NOT_FOUND', 'Resource not found', { status: 404 });
    if ('methodNotAllowed' in match) throw new AppError('METHOD_NOT_ALLOWED', `Method ${req.method} is not allowed here`, { status: 405 });
    const query = queryOf(req.query);
    const ver = version(query);
    // By position, not by last segment alone: an intent may be named `message` or `bulk_classify`.
    const isWrite = req.method !== 'GET' && !(rest.length === 4 && READ_ONLY_POSTS.has(rest[3]!));
    if (isWrite) {
      const why = await opts.hooks?.writesBlocked?.();
      if (why) throw new AppError('WRITES_SUSPENDED', why, { status: 503 });
    }
    const ctx: V1Context = {
      pool: opts.pool, key: opts.key, algorithmVersion: opts.algorithmVersion, autoRetrain: opts.autoRetrain !== false, instanceId,
      params: match.params, query, body: req.body, headers: req.headers, version: ver,
      path: '/' + rawPath.split('/').filter(Boolean).slice(restRaw).join('/'),
      trainingChanged: (id) => opts.hooks?.trainingChanged?.(id),
      workspaceOpened: (id) => opts.hooks?.workspaceOpened?.(id),
    };
    const out = await match.handler(ctx);
    await reply.code(out.status ?? 200).type('application/json').send(out.body);
  };
  app.all('/instances/*', { onRequest: authorizeV1 }, v1);
  app.all('/assistant/*', { onRequest: authorizeV1 }, v1);
  // The async workspace writes take bodies over the sync limit: their own routes, with their own limit
  // (a parametric route wins over the wildcards above).
  const asyncRoute = { onRequest: authorizeV1, bodyLimit: asyncLimit };
  for (const prefix of ['/instances/:instance/api', '/assistant/:region/instances/:instance/api']) {
    app.post(`${prefix}/v1/workspaces_async`, asyncRoute, v1);
    app.post(`${prefix}/v1/workspaces_async/:ws`, asyncRoute, v1);
  }
  return app;
}
