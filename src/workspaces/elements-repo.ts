/**
 * The workspace sub-resources: intents, examples, counterexamples, entities, values, synonyms
 * and dialog nodes. Callers have already resolved the workspace through its instance; every
 * function here is scoped by workspace id and answers 404/409 as the v1 API does.
 */
import type pg from 'pg';
import { AppError } from '../errors/index.ts';
import {
  insertExamples, insertSynonyms, insertValues, nodeDocument,
} from './insert.ts';
import { pageQuery, type Page, type PageResult } from './page.ts';
import {
  counterexampleJson, entityJson, exampleJson, groupBy, intentJson, mentionJson, nodeJson, synonymJson, valueJson,
  type EntityRow, type ExampleRow, type IntentRow, type Json, type MentionRow, type NodeRow, type Shape, type SynonymRow, type TextRow, type ValueRow,
} from './serialize.ts';
import { checkDialogTree, checkUnique, checkValueUnique, invalidBody, valueKindError, type DialogNodeInput, type EntityInput, type ExampleInput, type IntentInput, type ValueInput } from './validate.ts';
import { conflict, notFound, touch } from './workspace-repo.ts';

type Db = Pick<pg.ClientBase, 'query'>;

const UNIQUE_VIOLATION = '23505';
async function unique<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw conflict(what);
    throw err;
  }
}

async function one<T extends pg.QueryResultRow>(db: Db, sql: string, args: unknown[]): Promise<T> {
  const r = await db.query<T>(sql, args);
  const row = r.rows[0];
  if (!row) throw notFound();
  return row;
}

// ---- intents & examples ----

const intentRow = (db: Db, ws: string, intent: string): Promise<IntentRow> =>
  one<IntentRow>(db, 'select id, intent, description, created, updated from intents where workspace_id = $1 and intent = $2', [ws, intent]);

async function examplesOf(db: Db, intentIds: string[]): Promise<Map<string, ExampleRow[]>> {
  const r = await db.query<ExampleRow>('select intent_id, text, mentions, created, updated from examples where intent_id = any($1) order by id', [intentIds]);
  return groupBy(r.rows, (e) => e.intent_id);
}

export async function listIntents(db: Db, ws: string, page: Page, shape: Shape & { export: boolean }): Promise<PageResult<Json>> {
  const r = await pageQuery<IntentRow>(db, page, { select: 'id, intent, description, created, updated', from: 'intents where workspace_id = $1', args: [ws], columns: { intent: 'intent', updated: 'updated' }, tiebreak: ['id'] });
  const ex = shape.export ? await examplesOf(db, r.rows.map((i) => i.id)) : undefined;
  return { items: r.rows.map((i) => intentJson(i, ex ? ex.get(i.id) ?? [] : undefined, shape)), total: r.total, next: r.next };
}

export async function getIntent(db: Db, ws: string, intent: string, shape: Shape & { export: boolean }): Promise<Json> {
  const row = await intentRow(db, ws, intent);
  const ex = shape.export ? (await examplesOf(db, [row.id])).get(row.id) ?? [] : undefined;
  return intentJson(row, ex, shape);
}

export async function createIntent(db: Db, ws: string, input: IntentInput): Promise<string> {
  checkUnique(input.examples, (e: ExampleInput) => e.text, 'example', '/examples');
  const r = await unique(`intent "${input.intent}"`, () => db.query<{ id: string }>(
    'insert into intents (workspace_id, intent, description) values ($1, $2, $3) returning id', [ws, input.intent, input.description ?? null]));
  await insertExamples(db, r.rows[0]!.id, input.examples ?? []);
  await touch(db, ws, true);
  return input.intent;
}

export async function updateIntent(db: Db, ws: string, intent: string, input: Partial<IntentInput>, append: boolean): Promise<string> {
  const row = await intentRow(db, ws, intent);
  const name = input.intent ?? row.intent;
  await unique(`intent "${name}"`, () => db.query(
    `update intents set intent = $2, description = case when $4 then $3 else description end, updated = now() where id = $1`,
    [row.id, name, input.description ?? null, input.description !== undefined]));
  if (input.examples) {
    checkUnique(input.examples, (e: ExampleInput) => e.text, 'example', '/examples');
    if (!append) await db.query('delete from examples where intent_id = $1', [row.id]);
    await unique('an example of the update', () => insertExamples(db, row.id, input.examples ?? []));
  }
  await touch(db, ws, true);
  return name;
}

export async function deleteIntent(db: Db, ws: string, intent: string): Promise<void> {
  const r = await db.query('delete from intents where workspace_id = $1 and intent = $2', [ws, intent]);
  if (r.rowCount === 0) throw notFound();
  await touch(db, ws, true);
}

const exampleRow = (db: Db, intentId: string, text: string): Promise<ExampleRow & { id: string }> =>
  one(db, 'select id, intent_id, text, mentions, created, updated from examples where intent_id = $1 and text = $2', [intentId, text]);

export async function listExamples(db: Db, ws: string, intent: string, page: Page, shape: Shape): Promise<PageResult<Json>> {
  const i = await intentRow(db, ws, intent);
  const r = await pageQuery<ExampleRow>(db, page, { select: 'intent_id, text, mentions, created, updated', from: 'examples where intent_id = $1', args: [i.id], columns: { text: 'text', updated: 'updated' }, tiebreak: ['id'] });
  return { items: r.rows.map((e) => exampleJson(e, shape)), total: r.total, next: r.next };
}

export async function getExample(db: Db, ws: string, intent: string, text: string, shape: Shape): Promise<Json> {
  const i = await intentRow(db, ws, intent);
  return exampleJson(await exampleRow(db, i.id, text), shape);
}

export async function createExample(db: Db, ws: string, intent: string, input: ExampleInput): Promise<string> {
  const i = await intentRow(db, ws, intent);
  await unique(`example "${input.text}"`, () => insertExamples(db, i.id, [input]));
  await touch(db, ws, true);
  return input.text;
}

export async function updateExample(db: Db, ws: string, intent: string, text: string, input: Partial<ExampleInput>): Promise<string> {
  const i = await intentRow(db, ws, intent);
  const e = await exampleRow(db, i.id, text);
  const newText = input.text ?? e.text;
  await unique(`example "${newText}"`, () => db.query(
    `update examples set text = $2, mentions = case when $4 then $3::jsonb else mentions end, updated = now() where id = $1`,
    [e.id, newText, JSON.stringify(input.mentions ?? null), input.mentions !== undefined]));
  await touch(db, ws, true);
  return newText;
}

export async function deleteExample(db: Db, ws: string, intent: string, text: string): Promise<void> {
  const i = await intentRow(db, ws, intent);
  const r = await db.query('delete from examples where intent_id = $1 and text = $2', [i.id, text]);
  if (r.rowCount === 0) throw notFound();
  await touch(db, ws, true);
}

// ---- counterexamples ----

export async function listCounterexamples(db: Db, ws: string, page: Page, shape: Shape): Promise<PageResult<Json>> {
  const r = await pageQuery<TextRow>(db, page, { select: 'text, created, updated', from: 'counterexamples where workspace_id = $1', args: [ws], columns: { text: 'text', updated: 'updated' }, tiebreak: ['id'] });
  return { items: r.rows.map((c) => counterexampleJson(c, shape)), total: r.total, next: r.next };
}

const cxRow = (db: Db, ws: string, text: string): Promise<TextRow & { id: string }> =>
  one(db, 'select id, text, created, updated from counterexamples where workspace_id = $1 and text = $2', [ws, text]);

export async function getCounterexample(db: Db, ws: string, text: string, shape: Shape): Promise<Json> {
  return counterexampleJson(await cxRow(db, ws, text), shape);
}

export async function createCounterexample(db: Db, ws: string, text: string): Promise<string> {
  await unique(`counterexample "${text}"`, () => db.query('insert into counterexamples (workspace_id, text) values ($1, $2)', [ws, text]));
  await touch(db, ws, true);
  return text;
}

export async function updateCounterexample(db: Db, ws: string, text: string, newText: string | undefined): Promise<string> {
  const c = await cxRow(db, ws, text);
  const t = newText ?? c.text;
  await unique(`counterexample "${t}"`, () => db.query('update counterexamples set text = $2, updated = now() where id = $1', [c.id, t]));
  await touch(db, ws, true);
  return t;
}

export async function deleteCounterexample(db: Db, ws: string, text: string): Promise<void> {
  const r = await db.query('delete from counterexamples where workspace_id = $1 and text = $2', [ws, text]);
  if (r.rowCount === 0) throw notFound();
  await touch(db, ws, true);
}

// ---- entities, values, synonyms ----

const entityRow = (db: Db, ws: string, entity: string): Promise<EntityRow> =>
  one<EntityRow>(db, 'select id, entity, description, fuzzy_match, metadata, extra, created, updated from entities where workspace_id = $1 and entity = $2', [ws, entity]);
const valueRow = (db: Db, entityId: string, value: string): Promise<ValueRow> =>
  one<ValueRow>(db, 'select id, entity_id, value, type, metadata, patterns, created, updated from entity_values where entity_id = $1 and value = $2', [entityId, value]);

async function valuesOf(db: Db, entityIds: string[], shape: Shape, withSynonyms: boolean): Promise<Map<string, Json[]>> {
  const v = await db.query<ValueRow>('select id, entity_id, value, type, metadata, patterns, created, updated from entity_values where entity_id = any($1) order by id', [entityIds]);
  const syn = withSynonyms ? await synonymsOf(db, v.rows.map((x) => x.id)) : undefined;
  const out = new Map<string, Json[]>();
  for (const [entityId, rows] of groupBy(v.rows, (x) => x.entity_id)) {
    out.set(entityId, rows.map((x) => valueJson(x, syn ? syn.get(x.id) ?? [] : undefined, shape)));
  }
  return out;
}

async function synonymsOf(db: Db, valueIds: string[]): Promise<Map<string, SynonymRow[]>> {
  const r = await db.query<SynonymRow>('select value_id, synonym, created, updated from synonyms where value_id = any($1) order by id', [valueIds]);
  return groupBy(r.rows, (s) => s.value_id);
}

export async function listEntities(db: Db, ws: string, page: Page, shape: Shape & { export: boolean }): Promise<PageResult<Json>> {
  const r = await pageQuery<EntityRow>(db, page, { select: 'id, entity, description, fuzzy_match, metadata, extra, created, updated', from: 'entities where workspace_id = $1', args: [ws], columns: { entity: 'entity', updated: 'updated' }, tiebreak: ['id'] });
  const values = shape.export ? await valuesOf(db, r.rows.map((e) => e.id), shape, true) : undefined;
  return { items: r.rows.map((e) => entityJson(e, values ? values.get(e.id) ?? [] : undefined, shape)), total: r.total, next: r.next };
}

export async function getEntity(db: Db, ws: string, entity: string, shape: Shape & { export: boolean }): Promise<Json> {
  const e = await entityRow(db, ws, entity);
  const values = shape.export ? (await valuesOf(db, [e.id], shape, true)).get(e.id) ?? [] : undefined;
  return entityJson(e, values, shape);
}

/**
 * Every mention of `entity` in the workspace's intent examples, one item per mention (an example
 * may mention the entity twice), in the order the intents, examples and mentions were stored.
 */
export async function listMentions(db: Db, ws: string, entity: string, shape: Shape): Promise<Json[]> {
  const e = await entityRow(db, ws, entity);
  const r = await db.query<MentionRow>(`
    select x.text, i.intent, m.mention->'location' as location, x.created, x.updated
      from intents i join examples x on x.intent_id = i.id
     cross join lateral jsonb_array_elements(coalesce(x.mentions, '[]')) with ordinality m(mention, ord)
     where i.workspace_id = $1 and m.mention->>'entity' = $2
     order by i.id, x.id, m.ord`, [ws, e.entity]);
  return r.rows.map((m) => mentionJson(m, shape));
}

function checkValues(values: ValueInput[] | undefined): void {
  checkUnique(values, (v: ValueInput) => v.value, 'value', '/values');
  values?.forEach((v, i) => checkValueUnique(v, `/values/${i}`));
}

const isSystem = (entity: string): boolean => entity.startsWith('sys-');

/** Enabling a system entity is all there is to it: the service recognises its values itself. */
function noSystemValues(entity: string, path: string): AppError {
  return invalidBody([{
    message: `entity "${entity}" is a system entity and cannot have values; put the values on an entity of your own (a name not starting with sys-)`,
    path,
  }]);
}

/** A rename must not turn an entity with values into a system entity, or a system entity into an ordinary one. */
function checkRename(from: string, to: string): void {
  if (from === to) return;
  if (isSystem(from)) {
    throw invalidBody([{ message: `the system entity "${from}" cannot be renamed; delete it and create the entity you want instead`, path: '/entity' }]);
  }
  if (isSystem(to)) {
    throw invalidBody([{ message: `entity "${from}" cannot be renamed to the system entity "${to}"; create "${to}" to enable it, or choose a name not starting with sys-`, path: '/entity' }]);
  }
}

export async function createEntity(db: Db, ws: string, input: EntityInput): Promise<string> {
  checkValues(input.values);
  const r = await unique(`entity "${input.entity}"`, () => db.query<{ id: string }>(
    'insert into entities (workspace_id, entity, description, fuzzy_match, metadata) values ($1, $2, $3, $4, $5) returning id',
    [ws, input.entity, input.description ?? null, input.fuzzy_match ?? null, input.metadata ?? null]));
  // Values sent when enabling a system entity are ignored (spec §2.2), as on workspace import.
  if (!isSystem(input.entity)) await insertValues(db, r.rows[0]!.id, input.values ?? []);
  await touch(db, ws, true);
  return input.entity;
}

export async function updateEntity(db: Db, ws: string, entity: string, input: Partial<EntityInput>, append: boolean): Promise<string> {
  const e = await entityRow(db, ws, entity);
  const name = input.entity ?? e.entity;
  checkRename(e.entity, name);
  if (isSystem(e.entity) && input.values && input.values.length > 0) throw noSystemValues(e.entity, '/values');
  await unique(`entity "${name}"`, () => db.query(
    `update entities set entity = $2,
        description = case when $4 then $3 else description end,
        fuzzy_match = case when $6 then $5 else fuzzy_match end,
        metadata = case when $8 then $7::jsonb else metadata end,
        updated = now() where id = $1`,
    [e.id, name, input.description ?? null, input.description !== undefined, input.fuzzy_match ?? null,
      input.fuzzy_match !== undefined, JSON.stringify(input.metadata ?? null), input.metadata !== undefined]));
  if (name !== e.entity) await renameMentions(db, ws, e.entity, name);
  if (input.values) {
    checkValues(input.values);
    if (!append) await db.query('delete from entity_values where entity_id = $1', [e.id]);
    await unique('a value of the update', () => insertValues(db, e.id, input.values ?? []));
  }
  await touch(db, ws, true);
  return name;
}

/**
 * Examples annotate their mentions by entity name: a renamed entity takes its mentions along,
 * or they would name an entity the workspace no longer has (and list under neither name).
 */
async function renameMentions(db: Db, ws: string, from: string, to: string): Promise<void> {
  await db.query(`
    update examples x set mentions = (
      select jsonb_agg(case when m->>'entity' = $2 then jsonb_set(m, '{entity}', to_jsonb($3::text)) else m end order by ord)
        from jsonb_array_elements(x.mentions) with ordinality t(m, ord))
      from intents i
     where i.id = x.intent_id and i.workspace_id = $1 and x.mentions @> jsonb_build_array(jsonb_build_object('entity', $2::text))`,
  [ws, from, to]);
}

export async function deleteEntity(db: Db, ws: string, entity: string): Promise<void> {
  const r = await db.query('delete from entities where workspace_id = $1 and entity = $2', [ws, entity]);
  if (r.rowCount === 0) throw notFound();
  await touch(db, ws, true);
}

export async function listValues(db: Db, ws: string, entity: string, page: Page, shape: Shape & { export: boolean }): Promise<PageResult<Json>> {
  const e = await entityRow(db, ws, entity);
  const r = await pageQuery<ValueRow>(db, page, { select: 'id, entity_id, value, type, metadata, patterns, created, updated', from: 'entity_values where entity_id = $1', args: [e.id], columns: { value: 'value', updated: 'updated' }, tiebreak: ['id'] });
  const syn = shape.export ? await synonymsOf(db, r.rows.map((v) => v.id)) : undefined;
  return { items: r.rows.map((v) => valueJson(v, syn ? syn.get(v.id) ?? [] : undefined, shape)), total: r.total, next: r.next };
}

export async function getValue(db: Db, ws: string, entity: string, value: string, shape: Shape & { export: boolean }): Promise<Json> {
  const e = await entityRow(db, ws, entity);
  const v = await valueRow(db, e.id, value);
  return valueJson(v, shape.export ? (await synonymsOf(db, [v.id])).get(v.id) ?? [] : undefined, shape);
}

export async function createValue(db: Db, ws: string, entity: string, input: ValueInput): Promise<string> {
  const e = await entityRow(db, ws, entity);
  if (isSystem(e.entity)) throw noSystemValues(e.entity, '/value');
  checkValueUnique(input, '');
  await unique(`value "${input.value}"`, () => insertValues(db, e.id, [input]));
  await touch(db, ws, true);
  return input.value;
}

export async function updateValue(db: Db, ws: string, entity: string, value: string, input: Partial<ValueInput>, append: boolean): Promise<string> {
  const e = await entityRow(db, ws, entity);
  const v = await valueRow(db, e.id, value);
  const name = input.value ?? v.value;
  const type = input.type ?? v.type;
  const kind = valueKindError(type, input);
  if (kind) throw invalidBody([{ message: `${kind.field} ${kind.message}`, path: `/${kind.field}` }]);
  checkValueUnique(input, '');
  // With append, a pattern the value already has collides, as an appended synonym does (409).
  const taken = append && type === 'patterns' ? input.patterns?.find((p) => v.patterns?.includes(p)) : undefined;
  if (taken !== undefined) throw conflict(`pattern "${taken}" of value "${v.value}"`);
  const patterns = type === 'patterns' ? (input.patterns !== undefined ? [...(append ? v.patterns ?? [] : []), ...input.patterns] : v.patterns ?? []) : null;
  if (patterns && patterns.length > 5) {
    throw invalidBody([{ message: 'a value may have at most 5 patterns', path: '/patterns' }]);
  }
  await unique(`value "${name}"`, () => db.query(
    `update entity_values set value = $2, type = $3, patterns = $4,
        metadata = case when $6 then $5::jsonb else metadata end, updated = now() where id = $1`,
    [v.id, name, type, patterns, JSON.stringify(input.metadata ?? null), input.metadata !== undefined]));
  if (type === 'patterns') await db.query('delete from synonyms where value_id = $1', [v.id]);
  if (input.synonyms && type === 'synonyms') {
    if (!append) await db.query('delete from synonyms where value_id = $1', [v.id]);
    await unique('a synonym of the update', () => insertSynonyms(db, v.id, input.synonyms ?? []));
  }
  await touch(db, ws, true);
  return name;
}

export async function deleteValue(db: Db, ws: string, entity: string, value: string): Promise<void> {
  const e = await entityRow(db, ws, entity);
  const r = await db.query('delete from entity_values where entity_id = $1 and value = $2', [e.id, value]);
  if (r.rowCount === 0) throw notFound();
  await touch(db, ws, true);
}

const synonymRow = (db: Db, valueId: string, synonym: string): Promise<SynonymRow & { id: string }> =>
  one(db, 'select id, value_id, synonym, created, updated from synonyms where value_id = $1 and synonym = $2', [valueId, synonym]);

export async function listSynonyms(db: Db, ws: string, entity: string, value: string, page: Page, shape: Shape): Promise<PageResult<Json>> {
  const v = await valueRow(db, (await entityRow(db, ws, entity)).id, value);
  const r = await pageQuery<SynonymRow>(db, page, { select: 'value_id, synonym, created, updated', from: 'synonyms where value_id = $1', args: [v.id], columns: { synonym: 'synonym', updated: 'updated' }, tiebreak: ['id'] });
  return { items: r.rows.map((s) => synonymJson(s, shape)), total: r.total, next: r.next };
}

export async function getSynonym(db: Db, ws: string, entity: string, value: string, synonym: string, shape: Shape): Promise<Json> {
  const v = await valueRow(db, (await entityRow(db, ws, entity)).id, value);
  return synonymJson(await synonymRow(db, v.id, synonym), shape);
}

export async function createSynonym(db: Db, ws: string, entity: string, value: string, synonym: string): Promise<string> {
  const v = await valueRow(db, (await entityRow(db, ws, entity)).id, value);
  if (v.type === 'patterns') {
    throw invalidBody([{ message: 'a value of type patterns cannot have synonyms', path: '/synonym' }]);
  }
  await unique(`synonym "${synonym}"`, () => insertSynonyms(db, v.id, [synonym]));
  await touch(db, ws, true);
  return synonym;
}

export async function updateSynonym(db: Db, ws: string, entity: string, value: string, synonym: string, newSynonym: string | undefined): Promise<string> {
  const v = await valueRow(db, (await entityRow(db, ws, entity)).id, value);
  const s = await synonymRow(db, v.id, synonym);
  const name = newSynonym ?? s.synonym;
  await unique(`synonym "${name}"`, () => db.query('update synonyms set synonym = $2, updated = now() where id = $1', [s.id, name]));
  await touch(db, ws, true);
  return name;
}

export async function deleteSynonym(db: Db, ws: string, entity: string, value: string, synonym: string): Promise<void> {
  const v = await valueRow(db, (await entityRow(db, ws, entity)).id, value);
  const r = await db.query('delete from synonyms where value_id = $1 and synonym = $2', [v.id, synonym]);
  if (r.rowCount === 0) throw notFound();
  await touch(db, ws, true);
}

// ---- dialog nodes ----

const nodeRow = (db: Db, ws: string, id: string): Promise<NodeRow & { id: string }> =>
  one(db, 'select id, dialog_node, node, created, updated from dialog_nodes where workspace_id = $1 and dialog_node = $2', [ws, id]);

export async function listNodes(db: Db, ws: string, page: Page, shape: Shape): Promise<PageResult<Json>> {
  const r = await pageQuery<NodeRow>(db, page, { select: 'dialog_node, node, created, updated', from: 'dialog_nodes where workspace_id = $1', args: [ws], columns: { dialog_node: 'dialog_node', updated: 'updated' }, tiebreak: ['id'] });
  return { items: r.rows.map((n) => nodeJson(n, shape)), total: r.total, next: r.next };
}

export async function getNode(db: Db, ws: string, id: string, shape: Shape): Promise<Json> {
  return nodeJson(await nodeRow(db, ws, id), shape);
}

/** Checks the workspace's whole tree after a change; jump targets only of the `written` nodes. */
async function checkTree(db: Db, ws: string, written: string): Promise<void> {
  const all = await db.query<{ dialog_node: string; node: Json }>('select dialog_node, node from dialog_nodes where workspace_id = $1 order by id', [ws]);
  checkDialogTree(all.rows.map((r) => ({ ...r.node, dialog_node: r.dialog_node }) as DialogNodeInput), new Map([[written, '']]));
}

interface Position { parent: string | null; previous: string | null }
const positionOf = (node: Json): Position => ({
  parent: (node.parent as string | undefined) ?? null,
  previous: (node.previous_sibling as string | undefined) ?? null,
});

/**
 * Node `id` takes `at`: the sibling that held that place (the one after `at.previous`, or the
 * first child when there is none) now follows `id`, as WA re-links it, instead of two nodes
 * sharing a previous_sibling.
 */
async function takePlace(db: Db, ws: string, id: string, at: Position): Promise<void> {
  await db.query(`update dialog_nodes set node = jsonb_set(node, '{previous_sibling}', to_jsonb($2::text))
    where workspace_id = $1 and dialog_node <> $2
      and node->>'parent' is not distinct from $3::text and node->>'previous_sibling' is not distinct from $4::text`,
  [ws, id, at.parent, at.previous]);
}

/** Node `id` leaves its place: the sibling that followed it follows `previous` (its own previous sibling) instead. */
async function leavePlace(db: Db, ws: string, id: string, previous: string | null): Promise<void> {
  await db.query(`update dialog_nodes set node = case when $3::text is null then node - 'previous_sibling'
      else jsonb_set(node, '{previous_sibling}', to_jsonb($3::text)) end
    where workspace_id = $1 and dialog_node <> $2 and node->>'previous_sibling' = $2`, [ws, id, previous]);
}

export async function createNode(db: Db, ws: string, input: DialogNodeInput): Promise<string> {
  await unique(`dialog node "${input.dialog_node}"`, () => db.query(
    'insert into dialog_nodes (workspace_id, dialog_node, node) values ($1, $2, $3)', [ws, input.dialog_node, nodeDocument(input)]));
  await takePlace(db, ws, input.dialog_node, positionOf(input));
  await checkTree(db, ws, input.dialog_node);
  await touch(db, ws, false);
  return input.dialog_node;
}

/**
 * Fields present in the body replace the node's and fields in `cleared` (sent as null) are
 * removed; a rename also re-points references to the node. A node that moves (new parent or
 * previous_sibling) closes the gap it leaves and takes its new place as createNode does.
 */
export async function updateNode(db: Db, ws: string, id: string, input: Partial<DialogNodeInput>, cleared: string[]): Promise<string> {
  const n = await nodeRow(db, ws, id);
  const name = input.dialog_node ?? n.dialog_node;
  const doc: Json = { ...n.node, ...nodeDocument({ ...input, dialog_node: name } as DialogNodeInput) };
  for (const key of cleared) delete doc[key];
  const from = positionOf(n.node);
  const to = positionOf(doc);
  const moved = from.parent !== to.parent || from.previous !== to.previous;
  if (moved) await leavePlace(db, ws, n.dialog_node, from.previous);
  await unique(`dialog node "${name}"`, () => db.query(
    'update dialog_nodes set dialog_node = $2, node = $3, updated = now() where id = $1', [n.id, name, doc]));
  if (name !== n.dialog_node) {
    for (const ref of ['parent', 'previous_sibling']) {
      await db.query(`update dialog_nodes set node = jsonb_set(node, '{${ref}}', to_jsonb($3::text))
        where workspace_id = $1 and node->>'${ref}' = $2`, [ws, n.dialog_node, name]);
    }
    await db.query(`update dialog_nodes set node = jsonb_set(node, '{next_step,dialog_node}', to_jsonb($3::text))
      where workspace_id = $1 and node#>>'{next_step,dialog_node}' = $2`, [ws, n.dialog_node, name]);
  }
  if (moved) await takePlace(db, ws, name, to);
  await checkTree(db, ws, name);
  await touch(db, ws, false);
  return name;
}

/**
 * Deleting a node deletes its descendants (as WA does) and closes the gap in its sibling chain.
 * A node that another node jumps to (next_step) is refused rather than left dangling: that jump
 * then failed at run time, and every later write of the jumping node, or an import of the
 * workspace's own export, was refused for it.
 */
export async function deleteNode(db: Db, ws: string, id: string): Promise<void> {
  const n = await nodeRow(db, ws, id);
  const prev = (n.node.previous_sibling as string | undefined) ?? null;
  const r = await db.query<{ dialog_node: string }>(`
    with recursive doomed(dialog_node) as (
      select $2::text
      union
      select d.dialog_node from dialog_nodes d join doomed on d.node->>'parent' = doomed.dialog_node where d.workspace_id = $1)
    delete from dialog_nodes where workspace_id = $1 and dialog_node in (select dialog_node from doomed) returning dialog_node`, [ws, id]);
  const jumps = await db.query<{ source: string; target: string }>(`
    select dialog_node as source, node#>>'{next_step,dialog_node}' as target from dialog_nodes
     where workspace_id = $1 and node#>>'{next_step,behavior}' = 'jump_to' and node#>>'{next_step,dialog_node}' = any($2::text[])
     order by dialog_node limit 1`, [ws, r.rows.map((x) => x.dialog_node)]);
  const jump = jumps.rows[0];
  if (jump) {
    const which = jump.target === id ? `'${id}'` : `'${id}' (with its descendant '${jump.target}')`;
    throw new AppError('DIALOG_NODE_IN_USE', `Dialog node ${which} cannot be deleted: dialog node '${jump.source}' jumps to '${jump.target}'. Point next_step of '${jump.source}' at another node, or remove it, first.`, { status: 400 });
  }
  await leavePlace(db, ws, id, prev);
  await touch(db, ws, false);
}
