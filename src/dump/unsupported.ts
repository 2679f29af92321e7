/**
 * Object kinds the dumper cannot reproduce yet. Finding any of them in the user schemas stops the
 * dump with an error naming the objects: a backup that silently lacks a view or a trigger would
 * look complete and restore into something different.
 */
import type pg from 'pg';
import { AppError } from '../errors/index.ts';

/** Schemas that belong to PostgreSQL itself; everything else is user data. */
const SYSTEM_NAMESPACE = `n.nspname IN ('pg_catalog', 'information_schema') OR n.nspname LIKE 'pg\\_toast%' OR n.nspname LIKE 'pg\\_temp\\_%'`;

/**
 * The condition on `n` (pg_namespace) selecting the schemas a dump covers: the user schemas, less
 * those whose names start with one of `skip` (the caller's own scratch schemas).
 */
export function userNamespace(skip: readonly string[] = []): string {
  const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;
  return [`NOT (${SYSTEM_NAMESPACE})`, ...skip.map((prefix) => `NOT starts_with(n.nspname, ${literal(prefix)})`)].join(' AND ');
}

/** Each query yields (kind, name) rows; names are quoted and qualified for the message. */
const checks = (namespace: string): string => `
SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table'
         WHEN 'p' THEN 'partitioned table' END AS kind, format('%I.%I', n.nspname, c.relname) AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('v', 'm', 'f', 'p') AND ${namespace}
UNION ALL
SELECT 'inherited or partition table', format('%I.%I', n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND (c.relispartition OR EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)) AND ${namespace}
UNION ALL
SELECT 'table with row-level security', format('%I.%I', n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND (c.relrowsecurity OR c.relforcerowsecurity) AND ${namespace}
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window function' ELSE 'function' END,
       format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE ${namespace}
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'i')
UNION ALL
SELECT 'trigger', format('%I on %I.%I', t.tgname, n.nspname, c.relname)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT t.tgisinternal AND ${namespace}
UNION ALL
SELECT 'rule', format('%I on %I.%I', r.rulename, n.nspname, c.relname)
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE r.rulename <> '_RETURN' AND ${namespace}
UNION ALL
SELECT 'policy', format('%I on %I.%I', p.polname, n.nspname, c.relname)
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
UNION ALL
SELECT 'extension', format('%I', e.extname) FROM pg_extension e WHERE e.oid >= 16384
UNION ALL
SELECT CASE t.typtype WHEN 'r' THEN 'range type' WHEN 'm' THEN 'multirange type' WHEN 'b' THEN 'base type' ELSE 'pseudo-type' END,
       format('%I.%I', n.nspname, t.typname)
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE t.typtype IN ('r', 'm', 'b', 'p') AND ${namespace}
   AND NOT (t.typtype = 'b' AND t.typelem <> 0 AND t.typlen = -1 AND EXISTS (SELECT 1 FROM pg_type e WHERE e.oid = t.typelem AND e.typarray = t.oid))
UNION ALL
SELECT 'collation', format('%I.%I', n.nspname, c.collname) FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace WHERE ${namespace}
UNION ALL
SELECT 'conversion', format('%I.%I', n.nspname, c.conname) FROM pg_conversion c JOIN pg_namespace n ON n.oid = c.connamespace WHERE ${namespace}
UNION ALL
SELECT 'operator', format('%I.%s', n.nspname, o.oprname) FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE ${namespace}
UNION ALL
SELECT 'operator class', format('%I.%I', n.nspname, o.opcname) FROM pg_opclass o JOIN pg_namespace n ON n.oid = o.opcnamespace WHERE ${namespace}
UNION ALL
SELECT 'operator family', format('%I.%I', n.nspname, o.opfname) FROM pg_opfamily o JOIN pg_namespace n ON n.oid = o.opfnamespace WHERE ${namespace}
UNION ALL
SELECT 'text search configuration', format('%I.%I', n.nspname, c.cfgname) FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace WHERE ${namespace}
UNION ALL
SELECT 'text search dictionary', format('%I.%I', n.nspname, d.dictname) FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace WHERE ${namespace}
UNION ALL
SELECT 'text search parser', format('%I.%I', n.nspname, p.prsname) FROM pg_ts_parser p JOIN pg_namespace n ON n.oid = p.prsnamespace WHERE ${namespace}
UNION ALL
SELECT 'text search template', format('%I.%I', n.nspname, t.tmplname) FROM pg_ts_template t JOIN pg_namespace n ON n.oid = t.tmplnamespace WHERE ${namespace}
UNION ALL
SELECT 'extended statistics', format('%I.%I', n.nspname, s.stxname) FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE ${namespace}
UNION ALL
SELECT 'event trigger', format('%I', evtname) FROM pg_event_trigger
UNION ALL
SELECT 'publication', format('%I', pubname) FROM pg_publication
UNION ALL
SELECT 'foreign server', format('%I', srvname) FROM pg_foreign_server
UNION ALL
SELECT 'foreign-data wrapper', format('%I', fdwname) FROM pg_foreign_data_wrapper
UNION ALL
SELECT 'large object', oid::text FROM pg_largeobject_metadata
UNION ALL
-- Comments on schemas, tables, columns and sequences are dumped; on anything else, refused.
SELECT 'comment on', pg_describe_object(d.classoid, d.objoid, d.objsubid)
  FROM pg_description d
 WHERE (d.classoid = 'pg_class'::regclass AND EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.oid = d.objoid AND c.relkind NOT IN ('r', 'S') AND ${namespace}))
    OR (d.classoid = 'pg_constraint'::regclass AND EXISTS (SELECT 1 FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace
          WHERE co.oid = d.objoid AND ${namespace}))
    OR (d.classoid = 'pg_type'::regclass AND EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE t.oid = d.objoid AND ${namespace}))
UNION ALL
SELECT CASE WHEN a.attacl IS NOT NULL THEN 'column privileges'
            WHEN a.attstorage <> t.typstorage THEN 'column storage setting'
            WHEN a.attstattarget <> -1 THEN 'column statistics target'
            WHEN a.attoptions IS NOT NULL THEN 'column options'
            ELSE 'column compression setting' END,
       format('%I.%I.%I', n.nspname, c.relname, a.attname)
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid
 WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND ${namespace}
   AND (a.attacl IS NOT NULL OR a.attstorage <> t.typstorage OR a.attstattarget <> -1 OR a.attoptions IS NOT NULL OR a.attcompression <> '')
UNION ALL
SELECT 'table replica identity', format('%I.%I', n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND c.relreplident <> 'd' AND ${namespace}
UNION ALL
SELECT 'default privileges', coalesce(format('in schema %I', n.nspname), 'for all schemas') || format(' for role %I', pg_get_userbyid(a.defaclrole))
  FROM pg_default_acl a LEFT JOIN pg_namespace n ON n.oid = a.defaclnamespace
UNION ALL
SELECT 'constraint trigger', format('%I on %I.%I', co.conname, n.nspname, c.relname)
  FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE co.contype = 't' AND ${namespace}
ORDER BY 1, 2`;

/** Refuses a dump of the schemas `namespace` (a userNamespace condition) selects if they hold any object the dumper cannot reproduce. */
export async function refuseUnsupported(client: pg.Client, namespace: string): Promise<void> {
  const { rows } = await client.query<{ kind: string; name: string }>(checks(namespace));
  if (rows.length === 0) return;
  const shown = rows.slice(0, 10).map((r) => `${r.kind} ${r.name}`).join(', ');
  throw new AppError('DUMP_UNSUPPORTED_OBJECT',
    `the database contains ${rows.length} object(s) the dumper cannot back up yet: ${shown}${rows.length > 10 ? ', …' : ''}`,
    {
      hint: 'remove or move these objects out of the database, or take this backup with `pg_dump -Fc`; nothing was written as a complete backup',
      exitCode: 1,
      details: { objects: rows },
    });
}
