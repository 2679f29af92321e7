/**
 * Reads the database's user schemas from the catalogs (inside the dump's snapshot, with an empty
 * search_path so every name PostgreSQL prints is schema-qualified) and turns them into archive TOC
 * entries in a valid creation order:
 *
 *   special entries, metadata → schemas → types (dependency order) → tables → sequences →
 *   OWNED BY → sequence defaults → TABLE DATA → SEQUENCE SET → constraints, indexes → foreign
 *   keys → comments, privileges
 *
 * Serial pg_restore replays exactly this order; the dependency lists let `pg_restore -j` schedule
 * the data and post-data entries in parallel. Validated CHECK constraints and defaults are
 * written inside CREATE TABLE, except a default that calls a sequence: as pg_dump does, that is
 * its own DEFAULT entry after the sequence, so that `pg_restore --clean` (which drops in reverse
 * order) drops a sequence before the table that owns it, and `pg_restore -t TABLE` can create the
 * table alone. Identity columns are declared inline with their sequence options.
 */
import type pg from 'pg';
import { AppError } from '../errors/index.ts';
import {
  SECTION_DATA, SECTION_NONE, SECTION_POST_DATA, SECTION_PRE_DATA, metadataEntry, type ArchiveMetadata, type WriterEntry,
} from '../archive/index.ts';

export interface TablePlan {
  dumpId: number;
  schema: string;
  name: string;
  /** `COPY … TO STDOUT` for the live database. */
  copyOut: string;
  /**
   * For a table with bytea columns: the same rows as binary COPY, bytea raw and every other
   * column cast to text, and which columns are bytea (see copyTextFromBinary).
   */
  binary?: { copyOut: string; bytea: boolean[] };
}

export interface DumpPlan {
  entries: WriterEntry[];
  tables: TablePlan[];
}

const BYTEA = 17;

interface TypeRow { oid: number; nspname: string; typname: string; typtype: string; owner: string; qname: string; labels: string[]; basetype: string | null; typbasetype: number; notnull: boolean; def: string | null; checks: string | null; typrelid: number }
interface AttrRow { attrelid: number; attnum: number; attname: string; qname: string; typ: string; atttypid: number; attnotnull: boolean; attidentity: string; attgenerated: string; def: string | null; coll: string | null }
interface SeqRow { oid: number; nspname: string; relname: string; qname: string; owner: string; typ: string; seqstart: string; seqincrement: string; seqmin: string; seqmax: string; seqcache: string; seqcycle: boolean; reftable: number | null; refcol: number | null; deptype: string | null; refcolq: string | null }
interface TableRow { oid: number; nspname: string; relname: string; qname: string; owner: string; relpersistence: string; reloptions: string[] | null; amname: string | null }
interface ConRow { oid: number; conrelid: number; conname: string; qname: string; contype: string; def: string; convalidated: boolean; conindid: number; confrelid: number }
interface IdxRow { indexrelid: number; indrelid: number; relname: string; qname: string; def: string; owner: string }

async function rows<T extends pg.QueryResultRow>(client: pg.Client, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await client.query<T>(sql, params)).rows;
}

/** Catalog oids of the catalogs objects live in, as pg_dump records them in tableoid. */
const PG_CLASS = '1259';
const PG_NAMESPACE = '2615';
const PG_TYPE = '1247';
const PG_CONSTRAINT = '2606';

/** `namespace`: the userNamespace() condition choosing the schemas to dump. */
export async function planDump(client: pg.Client, metadata: ArchiveMetadata | undefined, namespace: string): Promise<DumpPlan> {
  const schemas = await rows<{ oid: number; nspname: string; q: string; owner: string }>(client, `
    SELECT n.oid::int8::float8 AS oid, n.nspname, quote_ident(n.nspname) AS q, pg_get_userbyid(n.nspowner) AS owner
      FROM pg_namespace n WHERE ${namespace} ORDER BY n.nspname`);

  const tables = await rows<TableRow>(client, `
    SELECT c.oid::int8::float8 AS oid, n.nspname, c.relname, format('%I.%I', n.nspname, c.relname) AS qname,
           pg_get_userbyid(c.relowner) AS owner, c.relpersistence, c.reloptions, am.amname
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_am am ON am.oid = c.relam
     WHERE c.relkind = 'r' AND ${namespace} ORDER BY n.nspname, c.relname`);
  if (tables.length > 0) {
    // Like pg_dump: hold ACCESS SHARE locks so no table can be dropped or altered under the dump.
    await client.query(`LOCK TABLE ${tables.map((t) => `ONLY ${t.qname}`).join(', ')} IN ACCESS SHARE MODE`);
  }
  const tableOids = tables.map((t) => t.oid);

  const types = await rows<TypeRow>(client, `
    SELECT t.oid::int8::float8 AS oid, n.nspname, t.typname, t.typtype, pg_get_userbyid(t.typowner) AS owner,
           format('%I.%I', n.nspname, t.typname) AS qname,
           ARRAY(SELECT quote_literal(e.enumlabel) FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels,
           CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS basetype,
           t.typbasetype::int8::float8 AS typbasetype, t.typnotnull AS notnull, pg_get_expr(t.typdefaultbin, 0) AS def,
           (SELECT string_agg(format('CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid)), E'\\n    ' ORDER BY c.conname)
              FROM pg_constraint c WHERE c.contypid = t.oid) AS checks,
           t.typrelid::int8::float8 AS typrelid
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE ${namespace}
       AND (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
     ORDER BY n.nspname, t.typname`);
  const compositeOids = types.filter((t) => t.typtype === 'c').map((t) => t.typrelid);

  const attrs = await rows<AttrRow>(client, `
    SELECT a.attrelid::int8::float8 AS attrelid, a.attnum, a.attname, quote_ident(a.attname) AS qname,
           format_type(a.atttypid, a.atttypmod) AS typ, a.atttypid::int8::float8 AS atttypid, a.attnotnull,
           a.attidentity, a.attgenerated, pg_get_expr(ad.adbin, ad.adrelid) AS def,
           CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN format('%I.%I', cn.nspname, co.collname) END AS coll
      FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
      LEFT JOIN pg_collation co ON co.oid = a.attcollation LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
     WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attrelid, a.attnum`, [[...tableOids, ...compositeOids]]);
  const attrsOf = groupBy(attrs, (a) => a.attrelid);

  /** Array type oid → element oid, to see through `mood[]` to `mood`. */
  const arrays = new Map((await rows<{ oid: number; elem: number }>(client, `
    SELECT t.oid::int8::float8 AS oid, t.typelem::int8::float8 AS elem FROM pg_type t
     WHERE t.typelem <> 0 AND t.typlen = -1 AND t.typelem IN (SELECT oid FROM pg_type WHERE typtype IN ('e', 'd', 'c'))`)).map((r) => [r.oid, r.elem]));

  const sequences = await rows<SeqRow>(client, `
    SELECT c.oid::int8::float8 AS oid, n.nspname, c.relname, format('%I.%I', n.nspname, c.relname) AS qname,
           pg_get_userbyid(c.relowner) AS owner, format_type(s.seqtypid, NULL) AS typ,
           s.seqstart::text, s.seqincrement::text, s.seqmin::text, s.seqmax::text, s.seqcache::text, s.seqcycle,
           d.refobjid::int8::float8 AS reftable, d.refobjsubid AS refcol, d.deptype,
           (SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = d.refobjid AND attnum = d.refobjsubid) AS refcolq
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid
      LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
            AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
     WHERE c.relkind = 'S' AND ${namespace} ORDER BY n.nspname, c.relname`);

  const defaultSeqs = await rows<{ rel: number; num: number; seq: number }>(client, `
    SELECT DISTINCT ad.adrelid::int8::float8 AS rel, ad.adnum AS num, d.refobjid::int8::float8 AS seq
      FROM pg_attrdef ad JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
      JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
     WHERE d.refclassid = 'pg_class'::regclass AND ad.adrelid = ANY($1::oid[])`, [tableOids]);

  const constraints = await rows<ConRow>(client, `
    SELECT co.oid::int8::float8 AS oid, co.conrelid::int8::float8 AS conrelid, co.conname, quote_ident(co.conname) AS qname,
           co.contype, pg_get_constraintdef(co.oid) AS def, co.convalidated,
           co.conindid::int8::float8 AS conindid, co.confrelid::int8::float8 AS confrelid
      FROM pg_constraint co WHERE co.conrelid = ANY($1::oid[]) AND co.contype IN ('p', 'u', 'c', 'f', 'x')
     ORDER BY co.conrelid, co.conname`, [tableOids]);

  const indexes = await rows<IdxRow>(client, `
    SELECT i.indexrelid::int8::float8 AS indexrelid, i.indrelid::int8::float8 AS indrelid, ic.relname,
           format('%I.%I', n.nspname, ic.relname) AS qname, pg_get_indexdef(i.indexrelid) AS def, pg_get_userbyid(ic.relowner) AS owner
      FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
     WHERE i.indrelid = ANY($1::oid[])
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))
     ORDER BY ic.relname`, [tableOids]);

  // ---- entries -------------------------------------------------------------------------------
  const entries: WriterEntry[] = [];
  let nextId = 1;
  const add = (e: Omit<WriterEntry, 'dumpId'>): number => { const dumpId = nextId++; entries.push({ dumpId, ...e }); return dumpId; };

  add({ desc: 'ENCODING', tag: 'ENCODING', section: SECTION_PRE_DATA, defn: "SET client_encoding = 'UTF8';\n" });
  add({ desc: 'STDSTRINGS', tag: 'STDSTRINGS', section: SECTION_PRE_DATA, defn: "SET standard_conforming_strings = 'on';\n" });
  add({ desc: 'SEARCHPATH', tag: 'SEARCHPATH', section: SECTION_PRE_DATA, defn: "SELECT pg_catalog.set_config('search_path', '', false);\n" });
  if (metadata) entries.push(metadataEntry(nextId++, metadata));

  const schemaId = new Map<string, number>();
  for (const s of schemas) {
    // The public schema exists in every new database (PostgreSQL 15+ dumps do not create it either).
    if (s.nspname === 'public') continue;
    schemaId.set(s.nspname, add({ desc: 'SCHEMA', tag: s.nspname, section: SECTION_PRE_DATA, tableoid: PG_NAMESPACE, oid: String(s.oid),
      defn: `CREATE SCHEMA ${s.q};\n`, dropStmt: `DROP SCHEMA ${s.q};\n`, owner: s.owner }));
  }
  const inSchema = (nsp: string): number[] => (schemaId.has(nsp) ? [schemaId.get(nsp)!] : []);

  // Types, each after the user types it uses.
  const typeByOid = new Map(types.map((t) => [t.oid, t]));
  const typeId = new Map<number, number>();
  const userTypeOf = (oid: number): TypeRow | undefined => typeByOid.get(arrays.get(oid) ?? oid);
  const typeDeps = (t: TypeRow): TypeRow[] => {
    const used = t.typtype === 'd' ? [t.typbasetype] : t.typtype === 'c' ? (attrsOf.get(t.typrelid) ?? []).map((a) => a.atttypid) : [];
    return used.map(userTypeOf).filter((x): x is TypeRow => x !== undefined && x !== t);
  };
  const visiting = new Set<number>();
  const emitType = (t: TypeRow): void => {
    if (typeId.has(t.oid)) return;
    if (visiting.has(t.oid)) throw new AppError('DUMP_UNSUPPORTED_OBJECT', `type ${t.qname} is part of a dependency cycle between types`);
    visiting.add(t.oid);
    const deps = typeDeps(t);
    for (const d of deps) emitType(d);
    let defn: string;
    if (t.typtype === 'e') defn = `CREATE TYPE ${t.qname} AS ENUM (\n    ${t.labels.join(',\n    ')}\n);\n`;
    else if (t.typtype === 'c') {
      const cols = (attrsOf.get(t.typrelid) ?? []).map((a) => `    ${a.qname} ${a.typ}${a.coll ? ` COLLATE ${a.coll}` : ''}`);
      defn = `CREATE TYPE ${t.qname} AS (\n${cols.join(',\n')}\n);\n`;
    } else {
      defn = `CREATE DOMAIN ${t.qname} AS ${t.basetype}${t.def !== null ? ` DEFAULT ${t.def}` : ''}${t.notnull ? ' NOT NULL' : ''}${t.checks ? `\n    ${t.checks}` : ''};\n`;
    }
    const desc = t.typtype === 'd' ? 'DOMAIN' : 'TYPE';
    typeId.set(t.oid, add({ desc, tag: t.typname, namespace: t.nspname, section: SECTION_PRE_DATA, tableoid: PG_TYPE, oid: String(t.oid),
      defn, dropStmt: `DROP ${desc} ${t.qname};\n`, owner: t.owner, dependencies: [...inSchema(t.nspname), ...deps.map((d) => typeId.get(d.oid)!)] }));
    visiting.delete(t.oid);
  };
  for (const t of types) emitType(t);

  const seqOptions = (s: SeqRow): string =>
    `    AS ${s.typ}\n    START WITH ${s.seqstart}\n    INCREMENT BY ${s.seqincrement}\n    MINVALUE ${s.seqmin}\n    MAXVALUE ${s.seqmax}\n    CACHE ${s.seqcache}${s.seqcycle ? '\n    CYCLE' : ''}`;
  const identitySeq = new Map(sequences.filter((s) => s.deptype === 'i').map((s) => [`${s.reftable}:${s.refcol}`, s]));

  const consOf = groupBy(constraints, (c) => c.conrelid);
  /** Columns whose default calls a sequence, as `rel:attnum` → the sequences it calls. */
  const seqDefaults = groupBy(defaultSeqs, (d) => `${d.rel}:${d.num}`);
  const separateDefaults: Array<{ t: TableRow; a: AttrRow }> = [];
  const tableId = new Map<number, number>();
  const tableByOid = new Map(tables.map((t) => [t.oid, t]));
  for (const t of tables) {
    const cols = attrsOf.get(t.oid) ?? [];
    const lines: string[] = [];
    const usedTypes = new Set<number>();
    for (const a of cols) {
      const ut = userTypeOf(a.atttypid);
      if (ut) usedTypes.add(typeId.get(ut.oid)!);
      let line = `    ${a.qname} ${a.typ}`;
      if (a.coll) line += ` COLLATE ${a.coll}`;
      if (a.attgenerated === 's') line += ` GENERATED ALWAYS AS (${a.def}) STORED`;
      else if (a.def !== null && seqDefaults.has(`${t.oid}:${a.attnum}`)) separateDefaults.push({ t, a });
      else if (a.def !== null) line += ` DEFAULT ${a.def}`;
      if (a.attnotnull) line += ' NOT NULL';
      if (a.attidentity === 'a' || a.attidentity === 'd') {
        const s = identitySeq.get(`${t.oid}:${a.attnum}`);
        if (!s) throw new AppError('DUMP_CATALOG_INCONSISTENT', `identity column ${t.qname}.${a.qname} has no sequence`);
        line += ` GENERATED ${a.attidentity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY (\n    SEQUENCE NAME ${s.qname}\n${seqOptions(s).replace(/^ {4}AS .*\n/, '')}\n    )`;
      }
      lines.push(line);
    }
    for (const c of consOf.get(t.oid) ?? []) {
      if (c.contype === 'c' && c.convalidated) lines.push(`    CONSTRAINT ${c.qname} ${c.def}`);
    }
    const opts = t.reloptions?.length ? `\nWITH (${t.reloptions.join(', ')})` : '';
    const defn = `CREATE ${t.relpersistence === 'u' ? 'UNLOGGED ' : ''}TABLE ${t.qname} (\n${lines.join(',\n')}\n)${opts};\n`;
    const deps = [...inSchema(t.nspname), ...usedTypes];
    tableId.set(t.oid, add({ desc: 'TABLE', tag: t.relname, namespace: t.nspname, section: SECTION_PRE_DATA, tableoid: PG_CLASS, oid: String(t.oid),
      defn, dropStmt: `DROP TABLE ${t.qname};\n`, owner: t.owner, tablespace: '', tableam: t.amname ?? 'heap', dependencies: [...new Set(deps)] }));
  }

  // Sequences not created by identity columns.
  const seqId = new Map<number, number>();
  for (const s of sequences) {
    if (s.deptype === 'i') continue;
    seqId.set(s.oid, add({ desc: 'SEQUENCE', tag: s.relname, namespace: s.nspname, section: SECTION_PRE_DATA, tableoid: PG_CLASS, oid: String(s.oid),
      defn: `CREATE SEQUENCE ${s.qname}\n${seqOptions(s)};\n`, dropStmt: `DROP SEQUENCE ${s.qname};\n`, owner: s.owner, dependencies: inSchema(s.nspname) }));
  }
  for (const s of sequences) {
    if (s.deptype !== 'a' || s.reftable === null) continue;
    const t = tableByOid.get(s.reftable);
    if (!t) continue; // owned by a table outside the user schemas: nothing to restore it against
    add({ desc: 'SEQUENCE OWNED BY', tag: s.relname, namespace: s.nspname, section: SECTION_PRE_DATA,
      defn: `ALTER SEQUENCE ${s.qname} OWNED BY ${t.qname}.${s.refcolq};\n`, owner: s.owner, dependencies: [seqId.get(s.oid)!, tableId.get(t.oid)!] });
  }

  for (const { t, a } of separateDefaults) {
    const seqs = (seqDefaults.get(`${t.oid}:${a.attnum}`) ?? []).map((d) => seqId.get(d.seq)).filter((x): x is number => x !== undefined);
    add({ desc: 'DEFAULT', tag: `${t.relname} ${a.attname}`, namespace: t.nspname, section: SECTION_PRE_DATA,
      defn: `ALTER TABLE ONLY ${t.qname} ALTER COLUMN ${a.qname} SET DEFAULT ${a.def};\n`,
      dropStmt: `ALTER TABLE ${t.qname} ALTER COLUMN ${a.qname} DROP DEFAULT;\n`, owner: t.owner, dependencies: [tableId.get(t.oid)!, ...seqs] });
  }

  // Column types whose `::text` is their output function (no function cast to text: an I/O or a
  // binary-coercible one), so a text cast prints what text COPY would. bool, bpchar, inet and
  // the like have their own casts and keep their table on text COPY.
  const dataAttrs = attrs.filter((a) => a.attgenerated !== 's');
  const textSafe = new Set((await rows<{ oid: number }>(client, `
    SELECT t.oid::int8::float8 AS oid FROM pg_type t
     WHERE t.oid = ANY($1::oid[]) AND t.typtype IN ('b', 'e')
       AND NOT EXISTS (SELECT 1 FROM pg_cast c WHERE c.castsource = t.oid AND c.casttarget = 'text'::regtype AND c.castmethod = 'f')`,
  [[...new Set(dataAttrs.map((a) => a.atttypid))]])).map((r) => r.oid));
  const plans: TablePlan[] = [];
  for (const t of tables) {
    const attrList = (attrsOf.get(t.oid) ?? []).filter((a) => a.attgenerated !== 's');
    const cols = attrList.map((a) => a.qname);
    const colList = cols.length > 0 ? ` (${cols.join(', ')})` : '';
    const dumpId = add({ desc: 'TABLE DATA', tag: t.relname, namespace: t.nspname, section: SECTION_DATA, oid: String(t.oid),
      copyStmt: `COPY ${t.qname}${colList} FROM stdin;\n`, owner: t.owner, dependencies: [tableId.get(t.oid)!], hasData: true });
    const plan: TablePlan = { dumpId, schema: t.nspname, name: t.relname, copyOut: `COPY ${t.qname}${colList} TO STDOUT` };
    const bytea = attrList.map((a) => a.atttypid === BYTEA);
    if (bytea.includes(true) && attrList.every((a) => a.atttypid === BYTEA || textSafe.has(a.atttypid))) {
      const exprs = attrList.map((a) => (a.atttypid === BYTEA ? a.qname : `${a.qname}::pg_catalog.text`));
      plan.binary = { copyOut: `COPY (SELECT ${exprs.join(', ')} FROM ONLY ${t.qname}) TO STDOUT (FORMAT binary)`, bytea };
    }
    plans.push(plan);
  }

  for (const s of sequences) {
    const state = (await rows<{ last_value: string; is_called: boolean }>(client, `SELECT last_value::text, is_called FROM ${s.qname}`))[0]!;
    const dep = s.deptype === 'i' ? tableId.get(s.reftable!) : seqId.get(s.oid);
    add({ desc: 'SEQUENCE SET', tag: s.relname, namespace: s.nspname, section: SECTION_DATA,
      defn: `SELECT pg_catalog.setval(${quoteLiteral(s.qname)}, ${state.last_value}, ${state.is_called});\n`, owner: s.owner,
      dependencies: dep !== undefined ? [dep] : [] });
  }

  // Post-data: index-backed constraints and indexes first, foreign keys last (they need the referenced keys).
  const indexEntry = new Map<number, number>();
  for (const c of constraints) {
    const t = tableByOid.get(c.conrelid)!;
    if (c.contype === 'p' || c.contype === 'u' || c.contype === 'x') {
      indexEntry.set(c.conindid, add({ desc: 'CONSTRAINT', tag: `${t.relname} ${c.conname}`, namespace: t.nspname, section: SECTION_POST_DATA,
        tableoid: PG_CONSTRAINT, oid: String(c.oid), defn: `ALTER TABLE ONLY ${t.qname}\n    ADD CONSTRAINT ${c.qname} ${c.def};\n`,
        dropStmt: `ALTER TABLE ONLY ${t.qname} DROP CONSTRAINT ${c.qname};\n`, owner: t.owner, tablespace: '', dependencies: [tableId.get(t.oid)!] }));
    } else if (c.contype === 'c' && !c.convalidated) {
      add({ desc: 'CHECK CONSTRAINT', tag: `${t.relname} ${c.conname}`, namespace: t.nspname, section: SECTION_POST_DATA,
        tableoid: PG_CONSTRAINT, oid: String(c.oid), defn: `ALTER TABLE ${t.qname}\n    ADD CONSTRAINT ${c.qname} ${c.def};\n`,
        dropStmt: `ALTER TABLE ${t.qname} DROP CONSTRAINT ${c.qname};\n`, owner: t.owner, dependencies: [tableId.get(t.oid)!] });
    }
  }
  for (const i of indexes) {
    const t = tableByOid.get(i.indrelid)!;
    indexEntry.set(i.indexrelid, add({ desc: 'INDEX', tag: i.relname, namespace: t.nspname, section: SECTION_POST_DATA, tableoid: PG_CLASS,
      oid: String(i.indexrelid), defn: `${i.def};\n`, dropStmt: `DROP INDEX ${i.qname};\n`, owner: i.owner,
      tablespace: '', dependencies: [tableId.get(t.oid)!] }));
  }
  for (const c of constraints) {
    if (c.contype !== 'f') continue;
    const t = tableByOid.get(c.conrelid)!;
    const deps = [tableId.get(t.oid)!];
    const ref = tableId.get(c.confrelid);
    if (ref !== undefined) deps.push(ref);
    const key = indexEntry.get(c.conindid);
    if (key !== undefined) deps.push(key);
    add({ desc: 'FK CONSTRAINT', tag: `${t.relname} ${c.conname}`, namespace: t.nspname, section: SECTION_POST_DATA, tableoid: PG_CONSTRAINT,
      oid: String(c.oid), defn: `ALTER TABLE ONLY ${t.qname}\n    ADD CONSTRAINT ${c.qname} ${c.def};\n`,
      dropStmt: `ALTER TABLE ONLY ${t.qname} DROP CONSTRAINT ${c.qname};\n`, owner: t.owner, dependencies: [...new Set(deps)] });
  }

  // Comments and privileges last, as pg_dump writes them (pg_restore applies ACL entries in a pass
  // of their own after everything else). Before, the builtin engine left both out without a word.
  const objectId = (cls: string, oid: number): number | undefined =>
    cls === 'n' ? schemaId.get(schemas.find((x) => x.oid === oid)?.nspname ?? '') : (tableId.get(oid) ?? seqId.get(oid));
  for (const c of await rows<{ cls: string; oid: number; kind: string; tag: string; target: string; nsp: string | null; owner: string; body: string }>(client, `
    SELECT 'n' AS cls, n.oid::int8::float8 AS oid, 'SCHEMA' AS kind, n.nspname AS tag, quote_ident(n.nspname) AS target, NULL AS nsp,
           pg_get_userbyid(n.nspowner) AS owner, quote_literal(d.description) AS body
      FROM pg_description d JOIN pg_namespace n ON d.classoid = 'pg_namespace'::regclass AND d.objoid = n.oid
     WHERE ${namespace}
    UNION ALL
    SELECT 'c', c.oid::int8::float8, CASE WHEN d.objsubid > 0 THEN 'COLUMN' WHEN c.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
           c.relname || CASE WHEN d.objsubid > 0 THEN '.' || a.attname ELSE '' END,
           format('%I.%I', n.nspname, c.relname) || CASE WHEN d.objsubid > 0 THEN '.' || quote_ident(a.attname) ELSE '' END,
           n.nspname, pg_get_userbyid(c.relowner), quote_literal(d.description)
      FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid AND c.relkind IN ('r', 'S')
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
     WHERE ${namespace}
     ORDER BY 1, 2, 4`)) {
    const of = objectId(c.cls, c.oid);
    if (of === undefined) continue; // the public schema, which is not dumped either
    add({ desc: 'COMMENT', tag: `${c.kind} ${c.tag}`, ...(c.nsp !== null ? { namespace: c.nsp } : {}), section: SECTION_NONE,
      defn: `COMMENT ON ${c.kind} ${c.target} IS ${c.body};\n`, owner: c.owner, dependencies: [of] });
  }
  for (const g of await rows<{ cls: string; oid: number; kind: string; tag: string; target: string; nsp: string | null; owner: string; ownerq: string; grants: string[] }>(client, `
    WITH objs AS (
      SELECT 'n' AS cls, n.oid, 'SCHEMA' AS kind, n.nspname AS tag, quote_ident(n.nspname) AS target, NULL AS nsp, n.nspowner AS ownerid, n.nspacl AS acl
        FROM pg_namespace n WHERE n.nspacl IS NOT NULL AND ${namespace}
      UNION ALL
      SELECT 'c', c.oid, CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, c.relname, format('%I.%I', n.nspname, c.relname), n.nspname, c.relowner, c.relacl
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'S') AND c.relacl IS NOT NULL AND ${namespace}
    )
    SELECT o.cls, o.oid::int8::float8 AS oid, o.kind, o.tag, o.target, o.nsp, pg_get_userbyid(o.ownerid) AS owner,
           quote_ident(pg_get_userbyid(o.ownerid)) AS ownerq,
           ARRAY(SELECT format('GRANT %s ON %s %s TO %s%s;', string_agg(x.privilege_type, ',' ORDER BY x.privilege_type), o.kind, o.target,
                               CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x.grantee)) END,
                               CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
                   FROM aclexplode(o.acl) x GROUP BY x.grantee, x.is_grantable ORDER BY x.grantee, x.is_grantable) AS grants
      FROM objs o ORDER BY 1, 4`)) {
    const of = objectId(g.cls, g.oid);
    if (of === undefined) continue;
    // From nothing, as the ACL stands: what the object had by default (its owner's rights, and
    // PUBLIC's USAGE on a new schema) is revoked first, then every grant it holds is made again.
    const revoke = `REVOKE ALL ON ${g.kind} ${g.target} FROM PUBLIC;\nREVOKE ALL ON ${g.kind} ${g.target} FROM ${g.ownerq};\n`;
    add({ desc: 'ACL', tag: `${g.kind} ${g.tag}`, ...(g.nsp !== null ? { namespace: g.nsp } : {}), section: SECTION_NONE,
      defn: revoke + g.grants.map((x) => `${x}\n`).join(''), owner: g.owner, dependencies: [of] });
  }
  return { entries, tables: plans };
}

function groupBy<T, K>(items: T[], key: (t: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const it of items) { const k = key(it); const list = m.get(k); if (list) list.push(it); else m.set(k, [it]); }
  return m;
}

function quoteLiteral(s: string): string { return `'${s.replace(/'/g, "''")}'`; }
