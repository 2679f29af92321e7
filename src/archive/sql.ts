/**
 * Converts an archive into a plain SQL script, like `pg_restore -f -`: the entries pg_restore
 * would select, in its order (everything, then ACLs, then event triggers / matview refreshes),
 * each with its ownership, and table data as COPY blocks streamed straight from the archive.
 * Because data blocks follow the TOC in TOC order, this works in one pass on a pipe.
 */
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { AppError } from '../errors/index.ts';
import { openArchive, describeEntry, type ArchiveInput, type DataBlock } from './reader.ts';
import { isListed } from './listing.ts';
import type { TocEntry } from './format.ts';

/** desc → the object type `ALTER … OWNER TO` takes (pg_restore knows the same list). */
const OWNER_TYPES: Record<string, string> = {
  SCHEMA: 'SCHEMA', TABLE: 'TABLE', SEQUENCE: 'TABLE', VIEW: 'TABLE', 'MATERIALIZED VIEW': 'TABLE',
  'FOREIGN TABLE': 'TABLE', TYPE: 'TYPE', DOMAIN: 'DOMAIN', FUNCTION: 'FUNCTION', PROCEDURE: 'PROCEDURE',
  AGGREGATE: 'AGGREGATE', COLLATION: 'COLLATION', CONVERSION: 'CONVERSION', 'TEXT SEARCH DICTIONARY': 'TEXT SEARCH DICTIONARY',
  'TEXT SEARCH CONFIGURATION': 'TEXT SEARCH CONFIGURATION', 'FOREIGN DATA WRAPPER': 'FOREIGN DATA WRAPPER', SERVER: 'SERVER',
  PUBLICATION: 'PUBLICATION', SUBSCRIPTION: 'SUBSCRIPTION', 'EVENT TRIGGER': 'EVENT TRIGGER', BLOB: 'LARGE OBJECT',
  OPERATOR: 'OPERATOR', 'OPERATOR CLASS': 'OPERATOR CLASS', 'OPERATOR FAMILY': 'OPERATOR FAMILY', 'STATISTICS': 'STATISTICS',
};
const SIGNATURE_TAGS = new Set(['FUNCTION', 'PROCEDURE', 'AGGREGATE', 'OPERATOR']);

export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

function ownerStatement(e: TocEntry): string | undefined {
  const type = OWNER_TYPES[e.desc];
  if (!type || !e.owner || !e.dropStmt || e.tag === null) return undefined;
  let name: string;
  if (e.desc === 'BLOB') name = e.tag;
  else if (SIGNATURE_TAGS.has(e.desc)) name = `${e.namespace ? quoteIdent(e.namespace) + '.' : ''}${e.tag}`;
  else name = `${e.namespace ? quoteIdent(e.namespace) + '.' : ''}${quoteIdent(e.tag)}`;
  return `ALTER ${type} ${name} OWNER TO ${quoteIdent(e.owner)};\n`;
}

function restorePass(e: TocEntry): number {
  if (e.desc === 'ACL' || e.desc === 'DEFAULT ACL' || e.desc === 'ACL LANGUAGE') return 2;
  if (e.desc === 'EVENT TRIGGER' || e.desc === 'MATERIALIZED VIEW DATA' || (e.desc === 'COMMENT' && e.tag?.startsWith('EVENT TRIGGER '))) return 3;
  return 1;
}

function literal(s: string): string { return `'${s.replace(/'/g, "''")}'`; }

export async function writeSqlScript(input: ArchiveInput, out: Writable): Promise<void> {
  const reader = await openArchive(input);
  const write = async (s: string | Buffer) => { if (!out.write(s)) await once(out, 'drain'); };
  const blocks = reader.blocks();
  const nextBlock = async (e: TocEntry): Promise<DataBlock> => {
    for (;;) {
      const r = await blocks.next();
      if (r.done) throw new AppError('ARCHIVE_TRUNCATED', `archive ends before the data of ${describeEntry(e)} (dumpId ${e.dumpId})`, { exitCode: 2 });
      if (r.value.dumpId === e.dumpId) return r.value;
      // A block for an entry that is not selected is skipped when the next one is requested.
    }
  };
  const h = reader.header;
  await write('--\n-- PostgreSQL database dump\n--\n\n');
  if (h.serverVersion) await write(`-- Dumped from database version ${h.serverVersion}\n`);
  if (h.pgDumpVersion) await write(`-- Dumped by pg_dump version ${h.pgDumpVersion}\n`);
  const encoding = reader.encoding;
  const stdStrings = reader.entries.find((e) => e.desc === 'STDSTRINGS')?.defn?.includes("'on'") ? 'on' : 'off';
  await write(`\nSET statement_timeout = 0;\nSET lock_timeout = 0;\nSET idle_in_transaction_session_timeout = 0;\nSET client_encoding = ${literal(encoding)};\nSET standard_conforming_strings = ${stdStrings};\n`);
  const searchPath = reader.entries.find((e) => e.desc === 'SEARCHPATH')?.defn;
  if (searchPath) await write(searchPath);
  await write('SET check_function_bodies = false;\nSET xmloption = content;\nSET client_min_messages = warning;\nSET row_security = off;\n\n');

  let tablespace: string | undefined;
  let tableam: string | undefined;
  // Data blocks are consumed in TOC order, and pass 2/3 entries never own data, so one forward pass suffices.
  for (const pass of [1, 2, 3]) {
    for (const e of reader.entries) {
      if (!isListed(e) || restorePass(e) !== pass) continue;
      const isData = e.hadDumper;
      // Like pg_restore, only emit session settings when they change.
      if (e.tablespace !== null && e.tablespace !== tablespace) {
        tablespace = e.tablespace;
        await write(`SET default_tablespace = ${tablespace === '' ? "''" : quoteIdent(tablespace)};\n\n`);
      }
      if (e.tableam !== null && e.tableam !== tableam) {
        tableam = e.tableam;
        await write(`SET default_table_access_method = ${quoteIdent(tableam)};\n\n`);
      }
      await write(`--\n-- ${isData ? 'Data for ' : ''}Name: ${e.tag ?? ''}; Type: ${e.desc}; Schema: ${e.namespace ?? '-'}; Owner: ${e.owner ?? '-'}\n--\n\n`);
      if (e.desc === 'BLOB METADATA' && e.defn) {
        // V1.16 groups large objects: the defn lists OIDs, one per line, each to be created.
        for (const oid of e.defn.split('\n').filter((x) => /^\d+$/.test(x))) {
          await write(`SELECT pg_catalog.lo_create('${oid}');\n`);
          if (e.owner) await write(`ALTER LARGE OBJECT ${oid} OWNER TO ${quoteIdent(e.owner)};\n`);
        }
        await write('\n');
      } else if (e.defn) await write(e.defn + '\n');
      const owner = e.desc === 'BLOB METADATA' ? undefined : ownerStatement(e);
      if (owner) await write('\n' + owner + '\n');
      else if (!isData) await write('\n');
      if (!isData) continue;
      const block = await nextBlock(e);
      if (block.kind === 'table-data') {
        if (e.copyStmt) await write(e.copyStmt);
        for await (const b of block.payload()) await write(b);
      } else {
        await write('BEGIN;\n\n');
        for await (const lo of block.largeObjects()) {
          await write(`SELECT pg_catalog.lo_open('${lo.oid}', 131072);\n`);
          for await (const b of lo.data()) await write(`SELECT pg_catalog.lowrite(0, E'\\\\x${b.toString('hex')}');\n`);
          await write('SELECT pg_catalog.lo_close(0);\n\n');
        }
        await write('COMMIT;\n\n');
      }
    }
  }
  // Read to the end so a damaged tail is reported rather than ignored.
  for (;;) if ((await blocks.next()).done) break;
  await write('--\n-- PostgreSQL database dump complete\n--\n\n');
}
