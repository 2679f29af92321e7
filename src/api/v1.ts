/**
 * The v1 workspace API (spec §2): workspaces and their sub-resources, answering with the
 * statuses, pagination object and error bodies the ibm-watson SDK expects.
 */
import type pg from 'pg';
import type { EncryptionKey } from '../auth/index.ts';
import { withSnapshot, withTransaction } from '../store/index.ts';
import {
  createWorkspace, deleteWorkspace, elements, findWorkspace, getWorkspace, listWorkspaces, nullKeys, parseBody,
  schemas, updateWorkspace, type Json, type Page, type PageResult, type ReadContext,
} from '../workspaces/index.ts';
import { z } from 'zod';
import { bool, includeAudit, page, type Query } from './params.ts';
import { Router } from './router.ts';
import { KeyedQueue } from './write-queue.ts';

export interface V1Context {
  pool: pg.Pool;
  key: EncryptionKey;
  algorithmVersion: string;
  /** AUTO_RETRAIN, for the workspace status. */
  autoRetrain: boolean;
  instanceId: string;
  params: Record<string, string>;
  query: Query;
  body: unknown;
  /** The request's headers (lower-case names). */
  headers: Record<string, string | string[] | undefined>;
  /** The request path from `/v1/` on, for pagination URLs. */
  path: string;
  version: string;
  /** Called after a change to a workspace's training data has committed. */
  trainingChanged(workspaceId: string): void;
  /** Called when a workspace is read; the trainer may retrain it (AUTO_RETRAIN). */
  workspaceOpened(workspaceId: string): void;
}

const synonymBody = z.object({ synonym: schemas.synonym });

export interface V1Reply { status?: number; body: unknown }
export type V1Handler = (ctx: V1Context) => Promise<V1Reply>;

const readCtx = (c: V1Context): ReadContext => ({ key: c.key, algorithmVersion: c.algorithmVersion, autoRetrain: c.autoRetrain });
const wantsAudit = (c: V1Context): boolean => includeAudit(c.query, c.version);
const shape = (c: V1Context) => ({ audit: wantsAudit(c), stable: c.query.sort === 'stable', export: bool(c.query, 'export') });
/** Sub-resource lists take `sort` as a field name, so `stable` there is not special. */
const listShape = (c: V1Context) => ({ audit: wantsAudit(c), stable: false, export: bool(c.query, 'export') });

/** This request's URL from `/v1/` on, with `cursor` set to `cursor` (spec §4: relative, query kept). */
export function pageUrl(c: V1Context, cursor: string | undefined): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(c.query)) if (v !== undefined && k !== 'cursor') q.set(k, v);
  if (cursor) q.set('cursor', cursor);
  return `${c.path}?${q.toString()}`;
}

function collection(c: V1Context, key: string, p: Page, result: PageResult<Json>): V1Reply {
  const items = result.items.slice(0, p.limit);
  const pagination: Json = { refresh_url: pageUrl(c, c.query.cursor) };
  if (c.query.cursor) pagination.refresh_cursor = c.query.cursor;
  if (result.next) {
    pagination.next_url = pageUrl(c, result.next);
    pagination.next_cursor = result.next;
  }
  if (p.count) pagination.total = result.total;
  return { body: { [key]: items, pagination } };
}

/** A list endpoint: the page is parsed once, for the query and for the pagination object. */
function list(key: string, fetch: (db: pg.PoolClient, c: V1Context, p: Page) => Promise<PageResult<Json>>): V1Handler {
  return async (c) => {
    const p = page(c.query);
    return collection(c, key, p, await withSnapshot(c.pool, (db) => fetch(db, c, p)));
  };
}

/** A read of one element (with its sub-elements when exported), from one snapshot. */
function read(fetch: (db: pg.PoolClient, c: V1Context) => Promise<Json>): V1Handler {
  return async (c) => ({ body: await withSnapshot(c.pool, (db) => fetch(db, c)) });
}

/** Resolves the workspace through the caller's instance (404 otherwise) and returns its id. */
async function ws(db: pg.ClientBase | pg.Pool, c: V1Context, lock = false): Promise<string> {
  return (await findWorkspace(db, c.instanceId, c.params.ws!, readCtx(c), lock)).id;
}

const workspaceWrites = new KeyedQueue();
/** A write to the workspace the path names, after this process's earlier writes to it (see write-queue.ts). */
const queued = <T>(c: V1Context, fn: () => Promise<T>): Promise<T> => workspaceWrites.run(`${c.instanceId}/${c.params.ws!.toLowerCase()}`, fn);

/** A write to a workspace's elements: lock the workspace row, apply, report the change. */
function write(fn: (db: pg.PoolClient, wsId: string, c: V1Context) => Promise<string | void>, reread: (db: pg.PoolClient, wsId: string, key: string | undefined, c: V1Context) => Promise<Json>, status = 200, training = true): V1Handler {
  return async (c) => {
    let wsId = '';
    // The reply is read inside the write's transaction: read after the commit, a concurrent
    // delete or rename turned a write that had succeeded into a 404.
    const body = await queued(c, () => withTransaction(c.pool, async (db) => {
      wsId = await ws(db, c, true);
      const key = await fn(db, wsId, c);
      return reread(db, wsId, key ?? undefined, c);
    }));
    if (training) c.trainingChanged(wsId);
    return { status, body };
  };
}

const audit = (c: V1Context) => ({ audit: wantsAudit(c), stable: false });
const withExport = (c: V1Context) => ({ ...audit(c), export: true });

/**
 * Workspace create and update, sync and async alike: one transaction, then training is requested.
 * The sync calls answer with the whole skill as stored (201/200), the async ones with the workspace
 * alone (202).
 */
function createHandler(status: number, whole: boolean): V1Handler {
  return async (c) => {
    const input = parseBody(schemas.workspace, c.body);
    const body = await withTransaction(c.pool, async (db) => {
      const id = await createWorkspace(db, c.instanceId, input, c.key);
      return getWorkspace(db, c.instanceId, id, written(c, whole), readCtx(c));
    });
    c.trainingChanged(String(body.workspace_id));
    return { status, body };
  };
}

function updateHandler(status: number, whole: boolean): V1Handler {
  return async (c) => {
    const input = parseBody(schemas.workspace, c.body);
    const body = await queued(c, () => withTransaction(c.pool, async (db) => {
      await updateWorkspace(db, c.instanceId, c.params.ws!, input, bool(c.query, 'append'), readCtx(c));
      return getWorkspace(db, c.instanceId, c.params.ws!, written(c, whole), readCtx(c));
    }));
    c.trainingChanged(String(body.workspace_id));
    return { status, body };
  };
}

const written = (c: V1Context, whole: boolean) => ({ export: whole, audit: whole && wantsAudit(c), stable: false });

export function v1Routes(): Router<V1Handler> {
  const r = new Router<V1Handler>();
  const S = schemas;
  const deleted = async (): Promise<Json> => ({});

  // ---- workspaces ----
  r.add('GET', 'v1/workspaces', list('workspaces', (db, c, p) =>
    listWorkspaces(db, c.instanceId, p, audit(c), readCtx(c))));
  r.add('POST', 'v1/workspaces', createHandler(201, true));
  r.add('GET', 'v1/workspaces/:ws', async (c) => {
    const body = await withSnapshot(c.pool, (db) => getWorkspace(db, c.instanceId, c.params.ws!, shape(c), readCtx(c)));
    c.workspaceOpened(String(body.workspace_id));
    return { body };
  });
  r.add('POST', 'v1/workspaces/:ws', updateHandler(200, true));
  r.add('DELETE', 'v1/workspaces/:ws', async (c) => {
    await queued(c, () => deleteWorkspace(c.pool, c.instanceId, c.params.ws!));
    return { body: {} };
  });

  // ---- async workspace writes and export (spec §2, P1) ----
  // Done before answering, in one transaction like the sync ones: 202 says "accepted", and a
  // client that polls the workspace until `Available` (or `Failed`) sees it training at once, so
  // `Processing` is never observed. What they add is the larger body limit (see server.ts).
  r.add('POST', 'v1/workspaces_async', createHandler(202, false));
  r.add('POST', 'v1/workspaces_async/:ws', updateHandler(202, false));
  r.add('GET', 'v1/workspaces_async/:ws/export', async (c) => {
    const body = await withSnapshot(c.pool, (db) => getWorkspace(db, c.instanceId, c.params.ws!, { ...shape(c), export: true }, readCtx(c)));
    c.workspaceOpened(String(body.workspace_id));
    if (!bool(c.query, 'verbose')) return { body };
    const count = (k: string): number => (Array.isArray(body[k]) ? (body[k] as unknown[]).length : 0);
    return { body: { ...body, counts: { intent: count('intents'), entity: count('entities'), node: count('dialog_nodes') } } };
  });

  // ---- intents & examples ----
  const E = elements;
  r.add('GET', 'v1/workspaces/:ws/intents', list('intents', async (db, c, p) => E.listIntents(db, await ws(db, c), p, listShape(c))));
  r.add('POST', 'v1/workspaces/:ws/intents', write((db, w, c) => E.createIntent(db, w, parseBody(S.intent, c.body)),
    (db, w, k, c) => E.getIntent(db, w, k!, withExport(c)), 201));
  r.add('GET', 'v1/workspaces/:ws/intents/:intent', read(async (db, c) => E.getIntent(db, await ws(db, c), c.params.intent!, shape(c))));
  r.add('POST', 'v1/workspaces/:ws/intents/:intent', write((db, w, c) => E.updateIntent(db, w, c.params.intent!, parseBody(S.intent.partial(), c.body), bool(c.query, 'append')),
    (db, w, k, c) => E.getIntent(db, w, k!, withExport(c))));
  r.add('DELETE', 'v1/workspaces/:ws/intents/:intent', write((db, w, c) => E.deleteIntent(db, w, c.params.intent!), deleted));
  r.add('GET', 'v1/workspaces/:ws/intents/:intent/examples', list('examples', async (db, c, p) => E.listExamples(db, await ws(db, c), c.params.intent!, p, audit(c))));
  r.add('POST', 'v1/workspaces/:ws/intents/:intent/examples', write((db, w, c) => E.createExample(db, w, c.params.intent!, parseBody(S.example, c.body)),
    (db, w, k, c) => E.getExample(db, w, c.params.intent!, k!, audit(c)), 201));
  r.add('GET', 'v1/workspaces/:ws/intents/:intent/examples/:text', read(async (db, c) => E.getExample(db, await ws(db, c), c.params.intent!, c.params.text!, audit(c))));
  r.add('POST', 'v1/workspaces/:ws/intents/:intent/examples/:text', write((db, w, c) => E.updateExample(db, w, c.params.intent!, c.params.text!, parseBody(S.example.partial(), c.body)),
    (db, w, k, c) => E.getExample(db, w, c.params.intent!, k!, audit(c))));
  r.add('DELETE', 'v1/workspaces/:ws/intents/:intent/examples/:text', write((db, w, c) => E.deleteExample(db, w, c.params.intent!, c.params.text!), deleted));

  // ---- counterexamples ----
  r.add('GET', 'v1/workspaces/:ws/counterexamples', list('counterexamples', async (db, c, p) => E.listCounterexamples(db, await ws(db, c), p, audit(c))));
  r.add('POST', 'v1/workspaces/:ws/counterexamples', write((db, w, c) => E.createCounterexample(db, w, parseBody(S.counterexample, c.body).text),
    (db, w, k, c) => E.getCounterexample(db, w, k!, audit(c)), 201));
  r.add('GET', 'v1/workspaces/:ws/counterexamples/:text', read(async (db, c) => E.getCounterexample(db, await ws(db, c), c.params.text!, audit(c))));
  r.add('POST', 'v1/workspaces/:ws/counterexamples/:text', write((db, w, c) => E.updateCounterexample(db, w, c.params.text!, parseBody(S.counterexample.partial(), c.body).text),
    (db, w, k, c) => E.getCounterexample(db, w, k!, audit(c))));
  r.add('DELETE', 'v1/workspaces/:ws/counterexamples/:text', write((db, w, c) => E.deleteCounterexample(db, w, c.params.text!), deleted));

  // ---- entities, values, synonyms ----
  r.add('GET', 'v1/workspaces/:ws/entities', list('entities', async (db, c, p) => E.listEntities(db, await ws(db, c), p, listShape(c))));
  r.add('POST', 'v1/workspaces/:ws/entities', write((db, w, c) => E.createEntity(db, w, parseBody(S.entity, c.body)),
    (db, w, k, c) => E.getEntity(db, w, k!, withExport(c)), 201));
  r.add('GET', 'v1/workspaces/:ws/entities/:entity', read(async (db, c) => E.getEntity(db, await ws(db, c), c.params.entity!, shape(c))));
  r.add('POST', 'v1/workspaces/:ws/entities/:entity', write((db, w, c) => E.updateEntity(db, w, c.params.entity!, parseBody(S.entity.partial(), c.body), bool(c.query, 'append')),
    (db, w, k, c) => E.getEntity(db, w, k!, withExport(c))));
  r.add('DELETE', 'v1/workspaces/:ws/entities/:entity', write((db, w, c) => E.deleteEntity(db, w, c.params.entity!), deleted));
  // listMentions takes no page_limit or cursor: the whole list is one page. `export` is checked as
  // on every list, but a mention has no sub-elements for it to add.
  r.add('GET', 'v1/workspaces/:ws/entities/:entity/mentions', async (c) => {
    const examples = await withSnapshot(c.pool, async (db) => E.listMentions(db, await ws(db, c), c.params.entity!, listShape(c)));
    return { body: { examples, pagination: { refresh_url: pageUrl(c, undefined) } } };
  });
  r.add('GET', 'v1/workspaces/:ws/entities/:entity/values', list('values', async (db, c, p) => E.listValues(db, await ws(db, c), c.params.entity!, p, listShape(c))));
  r.add('POST', 'v1/workspaces/:ws/entities/:entity/values', write((db, w, c) => E.createValue(db, w, c.params.entity!, parseBody(S.value, c.body)),
    (db, w, k, c) => E.getValue(db, w, c.params.entity!, k!, withExport(c)), 201));
  r.add('GET', 'v1/workspaces/:ws/entities/:entity/values/:value', read(async (db, c) => E.getValue(db, await ws(db, c), c.params.entity!, c.params.value!, shape(c))));
  r.add('POST', 'v1/workspaces/:ws/entities/:entity/values/:value', write((db, w, c) => E.updateValue(db, w, c.params.entity!, c.params.value!, parseBody(S.valueUpdate, c.body), bool(c.query, 'append')),
    (db, w, k, c) => E.getValue(db, w, c.params.entity!, k!, withExport(c))));
  r.add('DELETE', 'v1/workspaces/:ws/entities/:entity/values/:value', write((db, w, c) => E.deleteValue(db, w, c.params.entity!, c.params.value!), deleted));
  r.add('GET', 'v1/workspaces/:ws/entities/:entity/values/:value/synonyms', list('synonyms', async (db, c, p) => E.listSynonyms(db, await ws(db, c), c.params.entity!, c.params.value!, p, audit(c))));
  r.add('POST', 'v1/workspaces/:ws/entities/:entity/values/:value/synonyms', write((db, w, c) => E.createSynonym(db, w, c.params.entity!, c.params.value!, parseBody(synonymBody, c.body).synonym),
    (db, w, k, c) => E.getSynonym(db, w, c.params.entity!, c.params.value!, k!, audit(c)), 201));
  r.add('GET', 'v1/workspaces/:ws/entities/:entity/values/:value/synonyms/:synonym', read(async (db, c) => E.getSynonym(db, await ws(db, c), c.params.entity!, c.params.value!, c.params.synonym!, audit(c))));
  r.add('POST', 'v1/workspaces/:ws/entities/:entity/values/:value/synonyms/:synonym', write((db, w, c) => E.updateSynonym(db, w, c.params.entity!, c.params.value!, c.params.synonym!, parseBody(synonymBody.partial(), c.body).synonym),
    (db, w, k, c) => E.getSynonym(db, w, c.params.entity!, c.params.value!, k!, audit(c))));
  r.add('DELETE', 'v1/workspaces/:ws/entities/:entity/values/:value/synonyms/:synonym', write((db, w, c) => E.deleteSynonym(db, w, c.params.entity!, c.params.value!, c.params.synonym!), deleted));

  // ---- dialog nodes (not training data) ----
  r.add('GET', 'v1/workspaces/:ws/dialog_nodes', list('dialog_nodes', async (db, c, p) => E.listNodes(db, await ws(db, c), p, audit(c))));
  r.add('POST', 'v1/workspaces/:ws/dialog_nodes', write((db, w, c) => E.createNode(db, w, parseBody(S.dialogNode, c.body)),
    (db, w, k, c) => E.getNode(db, w, k!, audit(c)), 201, false));
  r.add('GET', 'v1/workspaces/:ws/dialog_nodes/:node', read(async (db, c) => E.getNode(db, await ws(db, c), c.params.node!, audit(c))));
  r.add('POST', 'v1/workspaces/:ws/dialog_nodes/:node', write((db, w, c) => E.updateNode(db, w, c.params.node!, parseBody(S.dialogNode.partial(), c.body), nullKeys(c.body)),
    (db, w, k, c) => E.getNode(db, w, k!, audit(c)), 200, false));
  r.add('DELETE', 'v1/workspaces/:ws/dialog_nodes/:node', write((db, w, c) => E.deleteNode(db, w, c.params.node!), deleted, 200, false));
  return r;
}
