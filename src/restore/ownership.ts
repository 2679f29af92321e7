/**
 * Who owns the restored schema, and who may use it. The load creates the staging schema as the
 * role pgmig connects as — often postgres.yaml's su_username — while the store runs as its
 * application role, which owns the store schema. Without this step the restored schema would
 * keep the restoring role as its owner and the store would be locked out of its own data
 * ("permission denied for schema astore"). Runs inside the swap transaction, before the old
 * schema is dropped, so the owner and grants are read from the schema being replaced.
 */
import type pg from 'pg';

/** ALTER … OWNER statements for everything in `schema` not yet owned by `owner`, the schema first. */
const OWNER_STATEMENTS = `
  select format('alter schema %I owner to %I', n.nspname, $2::text) as sql, 0 as pass
    from pg_namespace n where n.nspname = $1::text and pg_get_userbyid(n.nspowner) <> $2::text
  union all
  select format('alter %s %I.%I owner to %I', case c.relkind when 'v' then 'view' when 'm' then 'materialized view'
      when 'f' then 'foreign table' else 'table' end, n.nspname, c.relname, $2::text), 1
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = $1::text and c.relkind in ('r', 'p', 'v', 'm', 'f') and pg_get_userbyid(c.relowner) <> $2::text
  union all
  select format('alter %s %I.%I owner to %I', case t.typtype when 'd' then 'domain' else 'type' end, n.nspname, t.typname, $2::text), 1
    from pg_type t join pg_namespace n on n.oid = t.typnamespace
   where n.nspname = $1::text and pg_get_userbyid(t.typowner) <> $2::text and t.typtype in ('e', 'd', 'r', 'c')
     and (t.typtype <> 'c' or exists (select 1 from pg_class c where c.oid = t.typrelid and c.relkind = 'c'))
  union all
  select format('alter routine %I.%I(%s) owner to %I', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), $2::text), 1
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = $1::text and pg_get_userbyid(p.proowner) <> $2::text
  order by pass`;

/** Sequences still owned by another role once the tables are: those of serial columns follow their table. */
const SEQUENCE_STATEMENTS = `
  select format('alter sequence %I.%I owner to %I', n.nspname, c.relname, $2::text) as sql
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = $1::text and c.relkind = 'S' and pg_get_userbyid(c.relowner) <> $2::text`;

const grantee = `case when a.grantee = 0 then 'public' else quote_ident(pg_get_userbyid(a.grantee)) end
  || case when a.is_grantable then ' with grant option' else '' end`;

/**
 * GRANT statements that give `to`'s objects the privileges their namesakes in `from` have: the
 * schema, its tables and sequences (and their columns), and the schema's default privileges.
 */
const GRANT_STATEMENTS = `
  select format('grant %s on schema %I to ', a.privilege_type, $2::text) || ${grantee} as sql
    from pg_namespace n, aclexplode(n.nspacl) a where n.nspname = $1::text
  union all
  select format('grant %s on %s %I.%I to ', a.privilege_type, case c.relkind when 'S' then 'sequence' else 'table' end, $2::text, c.relname) || ${grantee}
    from pg_class c join pg_namespace n on n.oid = c.relnamespace, aclexplode(c.relacl) a
   where n.nspname = $1::text and exists (select 1 from pg_class s where s.relnamespace = to_regnamespace(quote_ident($2::text))
     and s.relname = c.relname and s.relkind = c.relkind)
  union all
  select format('grant %s (%I) on table %I.%I to ', a.privilege_type, att.attname, $2::text, c.relname) || ${grantee}
    from pg_attribute att join pg_class c on c.oid = att.attrelid join pg_namespace n on n.oid = c.relnamespace, aclexplode(att.attacl) a
   where n.nspname = $1::text and exists (select 1 from pg_attribute s join pg_class sc on sc.oid = s.attrelid
     where sc.relnamespace = to_regnamespace(quote_ident($2::text)) and sc.relname = c.relname and s.attname = att.attname and not s.attisdropped)
  union all
  select format('alter default privileges for role %I in schema %I grant %s on %s to ', pg_get_userbyid(d.defaclrole), $2::text, a.privilege_type,
      case d.defaclobjtype when 'r' then 'tables' when 'S' then 'sequences' when 'f' then 'functions' when 'T' then 'types' end) || ${grantee}
    from pg_default_acl d join pg_namespace n on n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a
   where n.nspname = $1::text and d.defaclobjtype in ('r', 'S', 'f', 'T')`;

async function run(client: pg.ClientBase, query: string, params: string[]): Promise<void> {
  const r = await client.query<{ sql: string }>(query, params);
  for (const { sql } of r.rows) await client.query(sql);
}

/** Gives `staging` and everything in it the owner of `current`, and `current`'s grants. */
export async function adoptOwnerAndGrants(client: pg.ClientBase, current: string, staging: string): Promise<void> {
  const r = await client.query<{ owner: string }>('select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = $1::text', [current]);
  const owner = r.rows[0]?.owner;
  if (owner === undefined) return;
  // The schema first: unless a superuser runs them, the other ALTERs need the new owner to have CREATE on it.
  await run(client, OWNER_STATEMENTS, [staging, owner]);
  await run(client, SEQUENCE_STATEMENTS, [staging, owner]);
  await run(client, GRANT_STATEMENTS, [current, staging]);
}
