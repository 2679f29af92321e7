/**
 * Objects outside the store schema that depend on objects inside it: an operator's reporting view
 * over the store's tables, a foreign key from their own table, a function taking a store table's
 * row type. Replacing the store schema drops it with CASCADE, which would silently take those
 * along, so a restore refuses while any exist (the swap checks again, inside its transaction).
 */
import type pg from 'pg';
import { AppError } from '../errors/index.ts';

/**
 * pg_depend rows whose referenced object lies in the schema and whose dependent does not. Internal
 * and extension dependencies are the schema's own machinery (row types, TOAST); a dependent's
 * schema comes from its owning relation where its catalog has no namespace column (rules of
 * views, triggers, defaults, policies), from its own namespace column
 * (constraints, default privileges), else from pg_identify_object, and a dependent with no
 * schema at all (a publication's membership) counts as outside.
 */
const DEPENDENTS_SQL = `
  with ns as (select oid from pg_namespace where nspname = $1),
  inside as (
    select 'pg_class'::regclass as classid, c.oid from pg_class c, ns where c.relnamespace = ns.oid
    union all select 'pg_type'::regclass, t.oid from pg_type t, ns where t.typnamespace = ns.oid
    union all select 'pg_proc'::regclass, p.oid from pg_proc p, ns where p.pronamespace = ns.oid
    union all select 'pg_namespace'::regclass, ns.oid from ns
  ),
  deps as (
    select distinct d.classid, d.objid, d.objsubid
      from pg_depend d join inside i on i.classid = d.refclassid and i.oid = d.refobjid
     where d.deptype in ('n', 'a')
  ),
  placed as (
    select d.*, case d.classid
      when 'pg_class'::regclass then (select relnamespace from pg_class where oid = d.objid)
      when 'pg_rewrite'::regclass then (select c.relnamespace from pg_rewrite r join pg_class c on c.oid = r.ev_class where r.oid = d.objid)
      when 'pg_trigger'::regclass then (select c.relnamespace from pg_trigger t join pg_class c on c.oid = t.tgrelid where t.oid = d.objid)
      when 'pg_attrdef'::regclass then (select c.relnamespace from pg_attrdef a join pg_class c on c.oid = a.adrelid where a.oid = d.objid)
      when 'pg_policy'::regclass then (select c.relnamespace from pg_policy p join pg_class c on c.oid = p.polrelid where p.oid = d.objid)
      when 'pg_constraint'::regclass then (select connamespace from pg_constraint where oid = d.objid)
      when 'pg_default_acl'::regclass then (select defaclnamespace from pg_default_acl where oid = d.objid)
      else (select oid from pg_namespace where nspname = (pg_identify_object(d.classid, d.objid, d.objsubid)).schema)
    end as nsoid
    from deps d
  )
  -- A view is named as itself, not as its rule ("rule _RETURN on view …").
  select distinct case when p.classid = 'pg_rewrite'::regclass
           then pg_describe_object('pg_class'::regclass, (select ev_class from pg_rewrite where oid = p.objid), 0)
           else pg_describe_object(p.classid, p.objid, p.objsubid) end as what
    from placed p
   where p.nsoid is distinct from (select oid from ns)
   order by 1`;

export async function outsideDependents(client: pg.ClientBase, schema: string): Promise<string[]> {
  const r = await client.query<{ what: string }>(DEPENDENTS_SQL, [schema]);
  return r.rows.map((x) => x.what);
}

/** Refuses the restore while objects outside `schema` depend on it. */
export async function assertNoOutsideDependents(client: pg.ClientBase, schema: string): Promise<void> {
  const found = await outsideDependents(client, schema);
  if (found.length === 0) return;
  const shown = found.slice(0, 20).join('; ') + (found.length > 20 ? `; and ${found.length - 20} more` : '');
  throw new AppError('TARGET_HAS_DEPENDENTS', `objects outside the store schema ${schema} depend on it, and replacing the schema would drop them: ${shown}`, {
    hint: `nothing was changed in the target. Save their definitions (e.g. pg_dump --schema-only --schema=<their schema>), drop them, run pgmig again, then re-create them`,
    exitCode: 6,
  });
}
