/**
 * Workspaces: create (a whole skill in one transaction), read (with or without its elements),
 * update (replace or append), delete, list. Instance scoping is in every query, so a workspace
 * is only ever reached through the instance that owns it.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { decryptWebhooks, encryptWebhooks, UUID, type EncryptionKey } from '../auth/index.ts';
import { AppError } from '../errors/index.ts';
import { MAX_READABLE_BYTEA, recordedFingerprint, STORE_SCHEMA } from '../store/index.ts';
import {
  insertCounterexamples, insertEntities, insertIntents, insertNodes,
} from './insert.ts';
import {
  audit, compact, counterexampleJson, entityJson, groupBy, intentJson, nodeJson, stableSort, valueJson,
  type EntityRow, type ExampleRow, type IntentRow, type Json, type NodeRow, type Shape, type SynonymRow, type TextRow, type ValueRow,
} from './serialize.ts';
import { checkDialogTree, checkWorkspaceUnique, type WorkspaceInput } from './validate.ts';
import { pageQuery, type Page, type PageResult } from './page.ts';

type Db = Pick<pg.ClientBase, 'query'>;
/** One connection, not the pool: its several queries must see one snapshot (withSnapshot, withTransaction). */
type Connection = Pick<pg.PoolClient, 'query' | 'release'>;

export interface WorkspaceRow {
  id: string; instance_id: string; name: string; description: string | null; language: string;
  learning_opt_out: boolean; metadata: unknown; system_settings: unknown; webhooks: unknown;
  created: Date; updated: Date; status: string; status_error: string | null;
}

/**
 * The workspace id of a URL as a query parameter compared with `id = $n::uuid`, or null (which
 * matches nothing) when it cannot name a workspace. Comparing `id::text` instead also kept
 * malformed ids away from the uuid cast, but no index serves it: every lookup scanned the whole
 * table, about a millisecond per request at 5,000 workspaces. Lower case only, as ids are written
 * and as the text comparison matched.
 */
export function workspaceKey(id: string): string | null {
  return UUID.test(id) && id === id.toLowerCase() ? id : null;
}

export const notFound = (): AppError => new AppError('NOT_FOUND', 'Resource not found', { status: 404 });
export const conflict = (what: string): AppError => new AppError('CONFLICT', `Unique Violation: ${what} already exists`, { status: 409 });

/** SQL: the generation of the algorithm version `expr`, its trailing /N (0 without one). */
export function algorithmGeneration(expr: string): string {
  return `coalesce(substring(${expr} from '/([0-9]+)$')::int, 0)`;
}

/**
 * SQL over `w` (workspaces) and `m` (its models row, left-joined): true when the model was trained
 * from the workspace's latest training data (same training_version) by the running algorithm,
 * whose version is the query parameter `algo` (e.g. '$2'), or by a newer generation of it (a newer
 * release's, during a rolling upgrade: retraining it here would only undo that). The one
 * definition of "stale" that status, the training queue, retrain-all and the message endpoint all use.
 */
export function modelIsCurrent(algo: string): string {
  return `coalesce(m.trained_version = w.training_version
    and ${algorithmGeneration('m.algorithm_version')} >= ${algorithmGeneration(`${algo}::text`)}
    and ${modelIsReadable('m')}, false)`;
}

/**
 * SQL over a models row: the model can be read back. Release 1.2 stored dense models, which for
 * the largest workspaces passed what the driver can read; such a model counts as stale, so that
 * it is retrained into the smaller form instead of ending the process that reads it.
 */
export function modelIsReadable(models: string): string {
  return `octet_length(${models}.model) <= ${MAX_READABLE_BYTEA}`;
}

/**
 * SQL over `w`, `m` and `f` (its training_failures row, left-joined): the model is stale and
 * training the latest data has not already failed. A failure is final for that training_version
 * (the trainer gave up after its attempts; a data change bumps the version and tries again), so
 * reading or messaging a failed workspace must not queue it again, as the queue's sweep does not.
 */
export function trainingWanted(algo: string): string {
  return `(not ${modelIsCurrent(algo)} and f.failed_version is distinct from w.training_version)`;
}

/**
 * Training status: Available with a current model; Training when training is queued or under way
 * (a failed workspace queued again too: a client polling for a result keeps polling), or will be:
 * a data change queues it (just after its commit), and AUTO_RETRAIN trains any stale model; Failed
 * when training the current data failed and nothing is queued. Otherwise — a model left stale by
 * an algorithm upgrade while AUTO_RETRAIN is off, waiting for retrain-all — Non Existent: no
 * usable model exists and nothing is training one. It said Training there, and a client polling
 * for Available waited for ever.
 */
const JOB_EXISTS = 'exists (select 1 from training_jobs j where j.workspace_id = w.id)';
const FAILED_NOW = `f.failed_version = w.training_version and not ${JOB_EXISTS}`;
const statusSql = (algo: string, autoRetrain: boolean): string => `
  case
    when ${modelIsCurrent(algo)} then 'Available'
    when ${FAILED_NOW} then 'Failed'
    when ${autoRetrain} or m.workspace_id is null or m.trained_version < w.training_version or ${JOB_EXISTS} then 'Training'
    else 'Non Existent' end`;

// The failure's message only while it is the status (the same order of tests as statusSql): not
// beside a later Training or Available.
const WORKSPACE_COLUMNS = (algoParam: string, autoRetrain: boolean): string => `
  w.id, w.instance_id, w.name, w.description, w.language, w.learning_opt_out, w.metadata, w.system_settings, w.webhooks,
  w.created, w.updated, ${statusSql(algoParam, autoRetrain)} as status,
  case when ${modelIsCurrent(algoParam)} then null when ${FAILED_NOW} then f.message end as status_error`;
const WORKSPACE_FROM = `workspaces w left join models m on m.workspace_id = w.id left join training_failures f on f.workspace_id = w.id`;

export interface ReadContext {
  key: EncryptionKey;
  algorithmVersion: string;
  /** AUTO_RETRAIN: a stale model will be retrained (default true). */
  autoRetrain?: boolean | undefined;
}

export function workspaceJson(w: WorkspaceRow, shape: Shape, key: EncryptionKey): Json {
  return audit(compact({
    name: w.name,
    description: w.description,
    language: w.language,
    learning_opt_out: w.learning_opt_out,
    metadata: w.metadata,
    system_settings: w.system_settings,
    webhooks: w.webhooks ? decryptWebhooks(w.webhooks, key) : null,
    workspace_id: w.id,
    status: w.status,
    status_errors: w.status_error ? [{ message: w.status_error }] : null,
  }), w, shape);
}

export async function findWorkspace(db: Db, instanceId: string, workspaceId: string, ctx: ReadContext, lock = false): Promise<WorkspaceRow> {
  if (lock) {
    const l = await db.query('select 1 from workspaces where id = $1::uuid and instance_id = $2 for update', [workspaceKey(workspaceId), instanceId]);
    if (l.rowCount === 0) throw notFound();
  }
  const r = await db.query<WorkspaceRow>(
    `select ${WORKSPACE_COLUMNS('$3', ctx.autoRetrain !== false)} from ${WORKSPACE_FROM} where w.id = $1::uuid and w.instance_id = $2`,
    [workspaceKey(workspaceId), instanceId, ctx.algorithmVersion]);
  const row = r.rows[0];
  if (!row) throw notFound();
  return row;
}

export async function listWorkspaces(db: Db, instanceId: string, page: Page, shape: Shape, ctx: ReadContext): Promise<PageResult<Json>> {
  const r = await pageQuery<WorkspaceRow>(db, page, {
    select: WORKSPACE_COLUMNS('$2', ctx.autoRetrain !== false), from: `${WORKSPACE_FROM} where w.instance_id = $1`, args: [instanceId, ctx.algorithmVersion],
    columns: { name: 'w.name', updated: 'w.updated' }, tiebreak: ['w.created', 'w.id'],
    count: { from: 'workspaces w where w.instance_id = $1', args: [instanceId] },
  });
  return { items: r.rows.map((w) => workspaceJson(w, shape, ctx.key)), total: r.total, next: r.next };
}

/**
 * Every element of a workspace, as the export (`export=true`) shows them. Several queries: call it
 * inside a snapshot or transaction, or a concurrent write shows through half done.
 */
export async function exportElements(db: Connection, workspaceId: string, shape: Shape): Promise<Json> {
  // One after another: they share one connection (and its snapshot), where queries queue anyway.
  const intents = await db.query<IntentRow>('select id, intent, description, created, updated from intents where workspace_id = $1 order by id', [workspaceId]);
  const examples = await db.query<ExampleRow>(`select e.intent_id, e.text, e.mentions, e.created, e.updated from examples e
    join intents i on i.id = e.intent_id where i.workspace_id = $1 order by e.id`, [workspaceId]);
  const { entities, dialog_nodes } = await dialogElements(db, workspaceId, shape);
  const cx = await db.query<TextRow>('select text, created, updated from counterexamples where workspace_id = $1 order by id', [workspaceId]);
  const exByIntent = groupBy(examples.rows, (e) => e.intent_id);
  return {
    intents: stableSort(intents.rows, (i) => i.intent, shape).map((i) => intentJson(i, exByIntent.get(i.id) ?? [], shape)),
    entities,
    dialog_nodes,
    counterexamples: stableSort(cx.rows, (c) => c.text, shape).map((c) => counterexampleJson(c, shape)),
  };
}

/**
 * What a dialog is compiled from: entities (values, synonyms, patterns) and dialog nodes, without
 * the training data. Intents and their examples, up to 25,000 rows, are the model's business;
 * reading them for every dialog compile made a big workspace's cold /message seconds slower.
 */
export async function dialogElements(db: Connection, workspaceId: string, shape: Shape): Promise<Json> {
  const entities = await db.query<EntityRow>('select id, entity, description, fuzzy_match, metadata, extra, created, updated from entities where workspace_id = $1 order by id', [workspaceId]);
  const values = await db.query<ValueRow>(`select v.id, v.entity_id, v.value, v.type, v.metadata, v.patterns, v.created, v.updated from entity_values v
    join entities e on e.id = v.entity_id where e.workspace_id = $1 order by v.id`, [workspaceId]);
  const synonyms = await db.query<SynonymRow>(`select s.value_id, s.synonym, s.created, s.updated from synonyms s join entity_values v on v.id = s.value_id
    join entities e on e.id = v.entity_id where e.workspace_id = $1 order by s.id`, [workspaceId]);
  const nodes = await db.query<NodeRow>('select dialog_node, node, created, updated from dialog_nodes where workspace_id = $1 order by id', [workspaceId]);
  const valByEntity = groupBy(values.rows, (v) => v.entity_id);
  const synByValue = groupBy(synonyms.rows, (s) => s.value_id);
  return {
    entities: stableSort(entities.rows, (e) => e.entity, shape).map((e) => entityJson(e,
      stableSort(valByEntity.get(e.id) ?? [], (v) => v.value, shape).map((v) => valueJson(v, synByValue.get(v.id) ?? [], shape)), shape)),
    dialog_nodes: stableSort(nodes.rows, (n) => n.dialog_node, shape).map((n) => nodeJson(n, shape)),
  };
}

export async function getWorkspace(db: Connection, instanceId: string, workspaceId: string, opts: { export: boolean } & Shape, ctx: ReadContext): Promise<Json> {
  const w = await findWorkspace(db, instanceId, workspaceId, ctx);
  const json = workspaceJson(w, opts, ctx.key);
  return opts.export ? { ...json, ...(await exportElements(db, w.id, opts)) } : json;
}

/** Marks the workspace's training data as changed (the trainer picks it up) and bumps `updated`. */
export async function touch(db: Db, workspaceId: string, trainingData: boolean): Promise<void> {
  await db.query(
    `update workspaces set updated = now()${trainingData ? ', training_version = training_version + 1, training_requested = now()' : ''} where id = $1`,
    [workspaceId]);
}

async function insertElements(db: Db, id: string, ws: WorkspaceInput): Promise<void> {
  await insertIntents(db, id, ws.intents ?? []);
  await insertEntities(db, id, ws.entities ?? []);
  await insertNodes(db, id, ws.dialog_nodes ?? []);
  await insertCounterexamples(db, id, (ws.counterexamples ?? []).map((c) => c.text));
}

/**
 * Encrypts webhook headers for storage, after checking that the key this process loaded at start
 * is still the one the database is written with. A restore (pgmig) of data under another key
 * while the store runs changes the database's key under it; writing with the old key would leave
 * data that neither key reads in full.
 */
async function sealWebhooks(db: Db, webhooks: unknown, key: EncryptionKey): Promise<string> {
  const recorded = await recordedFingerprint(db, STORE_SCHEMA);
  if (recorded !== undefined && recorded !== key.fingerprint) {
    // The v1 error body carries only the message, so the remedy is in it.
    throw new AppError('KEY_CHANGED', `The database is now encrypted with key ${recorded}, but this running store loaded key ${key.fingerprint} when it started (data restored since): restart astore serve so it loads the installed key.`, {
      hint: 'restart astore serve (and any train-worker) so it loads the installed key', status: 503,
    });
  }
  return JSON.stringify(encryptWebhooks(webhooks, key));
}

export async function createWorkspace(db: Db, instanceId: string, ws: WorkspaceInput, key: EncryptionKey): Promise<string> {
  checkWorkspaceUnique(ws);
  checkDialogTree(ws.dialog_nodes ?? []);
  const id = randomUUID();
  await db.query(`insert into workspaces (id, instance_id, name, description, language, learning_opt_out, metadata,
      system_settings, webhooks) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
    id, instanceId, ws.name ?? 'Workspace', ws.description ?? null, ws.language ?? 'en', ws.learning_opt_out ?? false,
    ws.metadata ?? null, ws.system_settings ?? null, ws.webhooks ? await sealWebhooks(db, ws.webhooks, key) : null,
  ]);
  await insertElements(db, id, ws);
  return id;
}

/**
 * append=false: each collection present replaces the old one wholesale; append=true: new
 * elements are added and a collision with an existing one fails the request (409).
 */
export async function updateWorkspace(db: Db, instanceId: string, workspaceId: string, ws: WorkspaceInput, append: boolean, ctx: ReadContext): Promise<void> {
  checkWorkspaceUnique(ws);
  const w = await findWorkspace(db, instanceId, workspaceId, ctx, true);
  const id = w.id;
  const set: string[] = [];
  const args: unknown[] = [id];
  const field = (col: string, v: unknown): void => { args.push(v); set.push(`${col} = $${args.length}`); };
  if (ws.name !== undefined) field('name', ws.name);
  if (ws.description !== undefined) field('description', ws.description);
  if (ws.language !== undefined) field('language', ws.language);
  if (ws.learning_opt_out !== undefined) field('learning_opt_out', ws.learning_opt_out);
  if (ws.metadata !== undefined) field('metadata', ws.metadata);
  if (ws.system_settings !== undefined) field('system_settings', ws.system_settings);
  if (ws.webhooks !== undefined) field('webhooks', await sealWebhooks(db, ws.webhooks, ctx.key));
  if (set.length > 0) await db.query(`update workspaces set ${set.join(', ')} where id = $1`, args);

  if (!append) {
    if (ws.intents) await db.query('delete from intents where workspace_id = $1', [id]);
    if (ws.entities) await db.query('delete from entities where workspace_id = $1', [id]);
    if (ws.dialog_nodes) await db.query('delete from dialog_nodes where workspace_id = $1', [id]);
    if (ws.counterexamples) await db.query('delete from counterexamples where workspace_id = $1', [id]);
  } else {
    await checkAppendCollisions(db, id, ws);
  }
  try {
    await insertElements(db, id, ws);
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw conflict('an element of the update');
    throw err;
  }
  if (ws.dialog_nodes) {
    const all = await db.query<{ dialog_node: string; node: Json }>('select dialog_node, node from dialog_nodes where workspace_id = $1', [id]);
    // With append, nodes already stored keep whatever jump targets they had; the body's must exist.
    checkDialogTree(all.rows.map((r) => ({ ...r.node, dialog_node: r.dialog_node }) as never), new Map(ws.dialog_nodes.map((n, i) => [n.dialog_node, `/dialog_nodes/${i}`])));
  }
  const trainingChanged = Boolean(ws.intents || ws.entities || ws.counterexamples || ws.language !== undefined);
  await touch(db, id, trainingChanged);
}

async function checkAppendCollisions(db: Db, id: string, ws: WorkspaceInput): Promise<void> {
  const checks: Array<[string[] | undefined, string, string]> = [
    [ws.intents?.map((i) => i.intent), 'select intent as k from intents where workspace_id = $1 and intent = any($2)', 'intent'],
    [ws.entities?.map((e) => e.entity), 'select entity as k from entities where workspace_id = $1 and entity = any($2)', 'entity'],
    [ws.dialog_nodes?.map((n) => n.dialog_node), 'select dialog_node as k from dialog_nodes where workspace_id = $1 and dialog_node = any($2)', 'dialog node'],
    [ws.counterexamples?.map((c) => c.text), 'select text as k from counterexamples where workspace_id = $1 and text = any($2)', 'counterexample'],
  ];
  for (const [names, sql, label] of checks) {
    if (!names || names.length === 0) continue;
    const r = await db.query<{ k: string }>(sql, [id, names]);
    if (r.rows[0]) throw conflict(`${label} "${r.rows[0].k}"`);
  }
}

export async function deleteWorkspace(db: Db, instanceId: string, workspaceId: string): Promise<void> {
  const r = await db.query('delete from workspaces where id = $1::uuid and instance_id = $2', [workspaceKey(workspaceId), instanceId]);
  if (r.rowCount === 0) throw notFound();
}
