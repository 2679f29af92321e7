/**
 * Bulk inserts of whole element trees, one statement per tree, driven by a JSON parameter so
 * importing a skill with thousands of values is a handful of round trips. Row order follows the
 * input order, which exports preserve.
 */
import type pg from 'pg';
import type { DialogNodeInput, EntityInput, IntentInput } from './validate.ts';

type Db = Pick<pg.ClientBase, 'query'>;

export async function insertIntents(db: Db, workspaceId: string, intents: IntentInput[]): Promise<void> {
  if (intents.length === 0) return;
  await db.query(`
    with src as (select j, ord from jsonb_array_elements($2::jsonb) with ordinality t(j, ord)),
    ins as (
      insert into intents (workspace_id, intent, description)
      select $1, j->>'intent', j->>'description' from src order by ord
      returning id, intent)
    insert into examples (intent_id, text, mentions)
    select ins.id, e.j->>'text', e.j->'mentions'
      from src join ins on ins.intent = src.j->>'intent'
      cross join lateral jsonb_array_elements(coalesce(src.j->'examples', '[]'::jsonb)) with ordinality e(j, ord)
     order by src.ord, e.ord`, [workspaceId, JSON.stringify(intents)]);
}

export async function insertExamples(db: Db, intentId: string, examples: Array<{ text: string; mentions?: unknown }>): Promise<void> {
  if (examples.length === 0) return;
  await db.query(`
    insert into examples (intent_id, text, mentions)
    select $1, j->>'text', j->'mentions' from jsonb_array_elements($2::jsonb) with ordinality t(j, ord) order by ord`,
  [intentId, JSON.stringify(examples)]);
}

/** System entities carry no values: enabling one is the whole meaning of creating it. */
function normaliseEntity(e: EntityInput): EntityInput {
  return e.entity.startsWith('sys-') ? { ...e, values: [] } : e;
}

export async function insertEntities(db: Db, workspaceId: string, entities: EntityInput[]): Promise<void> {
  if (entities.length === 0) return;
  await db.query(`
    with src as (select j, ord from jsonb_array_elements($2::jsonb) with ordinality t(j, ord)),
    ent as (
      insert into entities (workspace_id, entity, description, fuzzy_match, metadata, extra)
      select $1, j->>'entity', j->>'description', (j->>'fuzzy_match')::boolean, j->'metadata',
             nullif(j - '{entity,description,fuzzy_match,metadata,values,created,updated}'::text[], '{}'::jsonb)
        from src order by ord
      returning id, entity),
    vsrc as (
      select ent.id as entity_id, v.j, src.ord as eord, v.ord as vord
        from src join ent on ent.entity = src.j->>'entity'
        cross join lateral jsonb_array_elements(coalesce(src.j->'values', '[]'::jsonb)) with ordinality v(j, ord)),
    val as (
      insert into entity_values (entity_id, value, type, metadata, patterns)
      select entity_id, j->>'value', coalesce(j->>'type', 'synonyms'), j->'metadata',
             case when coalesce(j->>'type', 'synonyms') = 'patterns'
                  then array(select jsonb_array_elements_text(coalesce(j->'patterns', '[]'::jsonb))) end
        from vsrc order by eord, vord
      returning id, entity_id, value)
    insert into synonyms (value_id, synonym)
    select val.id, s.syn
      from vsrc join val on val.entity_id = vsrc.entity_id and val.value = vsrc.j->>'value'
      cross join lateral jsonb_array_elements_text(coalesce(vsrc.j->'synonyms', '[]'::jsonb)) with ordinality s(syn, ord)
     order by vsrc.eord, vsrc.vord, s.ord`, [workspaceId, JSON.stringify(entities.map(normaliseEntity))]);
}

export async function insertValues(db: Db, entityId: string, values: NonNullable<EntityInput['values']>): Promise<void> {
  if (values.length === 0) return;
  await db.query(`
    with vsrc as (select j, ord from jsonb_array_elements($2::jsonb) with ordinality t(j, ord)),
    val as (
      insert into entity_values (entity_id, value, type, metadata, patterns)
      select $1, j->>'value', coalesce(j->>'type', 'synonyms'), j->'metadata',
             case when coalesce(j->>'type', 'synonyms') = 'patterns'
                  then array(select jsonb_array_elements_text(coalesce(j->'patterns', '[]'::jsonb))) end
        from vsrc order by ord
      returning id, value)
    insert into synonyms (value_id, synonym)
    select val.id, s.syn from vsrc join val on val.value = vsrc.j->>'value'
      cross join lateral jsonb_array_elements_text(coalesce(vsrc.j->'synonyms', '[]'::jsonb)) with ordinality s(syn, ord)
     order by vsrc.ord, s.ord`, [entityId, JSON.stringify(values)]);
}

export async function insertSynonyms(db: Db, valueId: string, synonyms: string[]): Promise<void> {
  if (synonyms.length === 0) return;
  await db.query(`insert into synonyms (value_id, synonym)
    select $1, s from unnest($2::text[]) with ordinality t(s, ord) order by ord`, [valueId, synonyms]);
}

/**
 * Node documents are stored without their id and audit fields, which live in columns. `disabled`
 * stays: the spec calls it internal, but Watson's exports carry it, and a disabled node must stay
 * switched off after an import (the dialog runtime skips it).
 */
export function nodeDocument(n: DialogNodeInput): Record<string, unknown> {
  const { dialog_node: _id, created: _c, updated: _u, ...rest } = n as DialogNodeInput & Record<string, unknown>;
  return rest;
}

export async function insertNodes(db: Db, workspaceId: string, nodes: DialogNodeInput[]): Promise<void> {
  if (nodes.length === 0) return;
  await db.query(`
    insert into dialog_nodes (workspace_id, dialog_node, node)
    select $1, j->>'id', j->'node' from jsonb_array_elements($2::jsonb) with ordinality t(j, ord) order by ord`,
  [workspaceId, JSON.stringify(nodes.map((n) => ({ id: n.dialog_node, node: nodeDocument(n) })))]);
}

export async function insertCounterexamples(db: Db, workspaceId: string, texts: string[]): Promise<void> {
  if (texts.length === 0) return;
  await db.query(`insert into counterexamples (workspace_id, text)
    select $1, s from unnest($2::text[]) with ordinality t(s, ord) order by ord`, [workspaceId, texts]);
}
