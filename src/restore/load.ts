/**
 * The load: everything happens in a staging schema the store never reads, and the store schema
 * is replaced by it in one short transaction at the end. Until that commit the target is
 * untouched, whatever happens to this process.
 */
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { encryptWebhooks, type EncryptionKey } from '../auth/index.ts';
import { openArchive } from '../archive/index.ts';
import { AppError } from '../errors/index.ts';
import { migrate, recordFingerprint, STORE_SCHEMA } from '../store/index.ts';
import { rewriteIds } from './remap.ts';
import { isStoreTableData, type ArchiveSummary, type ProgressFn } from './scan.ts';

export const STAGING_PREFIX = 'astore_restore_';

/** The target's tenants are authoritative: these tables come from the target, not the archive. */
const TARGET_TABLES = ['users', 'tokens', 'instances'];
/** Built by the migrations themselves. */
/** The target's own history, copied once the staging schema is at the current release. */
const TARGET_HISTORY = ['backup_jobs'];
const SKIPPED_TABLES = new Set([...TARGET_TABLES, ...TARGET_HISTORY, 'schema_migrations',
  // Every restored workspace is retrained (queued below); old models and queue rows are stale.
  'models', 'training_failures', 'training_jobs']);

async function exists(client: pg.ClientBase, schema: string, table: string): Promise<boolean> {
  const r = await client.query<{ t: string | null }>('select to_regclass($1) as t', [`${ident(schema)}.${ident(table)}`]);
  return r.rows[0]!.t !== null;
}

const ident = (s: string): string => '"' + s.replace(/"/g, '""') + '"';

/** Staging schemas of earlier runs that died; the caller holds the restore lock, so none is live. */
export async function dropStaleStaging(client: pg.ClientBase): Promise<string[]> {
  const r = await client.query<{ nspname: string }>(`select nspname from pg_namespace where nspname like $1`, [`${STAGING_PREFIX}%`]);
  for (const { nspname } of r.rows) await client.query(`drop schema ${ident(nspname)} cascade`);
  return r.rows.map((x) => x.nspname);
}

interface ForeignKey { table: string; name: string; definition: string }

/** Foreign keys are dropped for the load (pg_dump data is not in dependency order) and re-added after, which checks them all. */
async function dropForeignKeys(client: pg.ClientBase, schema: string): Promise<ForeignKey[]> {
  const r = await client.query<ForeignKey>(`select format('%I.%I', n.nspname, c.relname) as table, con.conname as name,
      pg_get_constraintdef(con.oid) as definition
    from pg_constraint con join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
    where con.contype = 'f' and n.nspname = $1 order by con.oid`, [schema]);
  for (const fk of r.rows) await client.query(`alter table ${fk.table} drop constraint ${ident(fk.name)}`);
  return r.rows;
}

async function addForeignKeys(client: pg.ClientBase, schema: string, fks: ForeignKey[]): Promise<void> {
  await client.query(`set search_path = ${ident(schema)}, public`);
  try {
    for (const fk of fks) {
      try {
        await client.query(`alter table ${fk.table} add constraint ${ident(fk.name)} ${fk.definition}`);
      } catch (err) {
        throw new AppError('RESTORE_INCONSISTENT', `the restored data violates ${fk.name} on ${fk.table}: ${(err as Error).message}`, {
          hint: 'the archive is internally inconsistent; nothing was changed in the target', exitCode: 7, cause: err,
        });
      }
    }
  } finally {
    await client.query('reset search_path');
  }
}

async function fixSequences(client: pg.ClientBase, schema: string): Promise<void> {
  const r = await client.query<{ tbl: string; col: string; seq: string }>(`select format('%I.%I', c.table_schema, c.table_name) as tbl,
      c.column_name as col, pg_get_serial_sequence(format('%I.%I', c.table_schema, c.table_name), c.column_name) as seq
    from information_schema.columns c where c.table_schema = $1 and c.column_default like 'nextval(%'`, [schema]);
  for (const { tbl, col, seq } of r.rows) {
    await client.query(`select setval($1, coalesce((select max(${ident(col)}) from ${tbl}), 0) + 1, false)`, [seq]);
  }
}

export interface LoadOptions {
  client: pg.ClientBase;
  summary: ArchiveSummary;
  mapping: ReadonlyMap<string, string>;
  key: EncryptionKey;
  progress?: ProgressFn | undefined;
  /** Test hook: called after each table is loaded (SIGKILL tests stop the process here). */
  afterTable?: ((table: string) => void | Promise<void>) | undefined;
}

export interface LoadResult { staging: string; rows: number; tables: number; workspaces: number }

export async function loadStaging(o: LoadOptions): Promise<LoadResult> {
  const { client, summary } = o;
  const staging = STAGING_PREFIX + randomBytes(6).toString('hex');
  const s = ident(staging);
  const context = { encryptWebhooks: (w: unknown) => encryptWebhooks(w, o.key) };
  await migrate(client, { schema: staging, untilRelease: summary.release, context });
  const fks = await dropForeignKeys(client, staging);
  for (const t of TARGET_TABLES) {
    await client.query(`insert into ${s}.${ident(t)} select * from ${STORE_SCHEMA}.${ident(t)}`);
  }

  const reader = await openArchive(summary.file);
  let rows = 0;
  let tables = 0;
  for await (const block of reader.blocks()) {
    const e = block.entry;
    if (!isStoreTableData(e) || SKIPPED_TABLES.has(e.tag!)) continue;
    const table = summary.tables.get(e.tag!)!;
    const sql = `copy ${s}.${ident(table.name)} (${table.columns.join(', ')}) from stdin`;
    const sink = client.query(copyStreams.from(sql));
    try {
      await pipeline(Readable.from(rewriteIds(block.payload(), o.mapping)), sink);
    } catch (err) {
      throw new AppError('RESTORE_LOAD_FAILED', `loading table ${table.name} failed: ${(err as Error).message}`, {
        hint: 'nothing was changed in the target; check the archive with `astore archive verify`', exitCode: 7, cause: err,
      });
    }
    if (sink.rowCount !== table.rows) {
      throw new AppError('RESTORE_LOAD_FAILED', `table ${table.name}: ${sink.rowCount} rows loaded, but the archive holds ${table.rows}`, { exitCode: 7 });
    }
    rows += table.rows;
    tables++;
    o.progress?.({ bytes: reader.offset, totalBytes: summary.bytes, rows, phase: 'load' });
    await o.afterTable?.(table.name);
  }

  await addForeignKeys(client, staging, fks);
  // The archive's schema is brought to the running release with the target's key.
  await migrate(client, { schema: staging, context });
  for (const t of TARGET_HISTORY) {
    if (await exists(client, STORE_SCHEMA, t) && await exists(client, staging, t)) {
      await client.query(`insert into ${s}.${ident(t)} select * from ${STORE_SCHEMA}.${ident(t)}`);
    }
  }
  await fixSequences(client, staging);
  const ws = await client.query(`update ${s}.workspaces set training_requested = now()`);
  if (await exists(client, staging, 'training_jobs')) {
    await client.query(`insert into ${s}.training_jobs (workspace_id) select id from ${s}.workspaces`);
  }
  await recordFingerprint(client, staging, o.key);
  await client.query(`analyze`);
  return { staging, rows, tables, workspaces: ws.rowCount ?? 0 };
}

/** The one moment the target changes: the store schema is replaced atomically. */
export async function swapIn(client: pg.ClientBase, staging: string): Promise<void> {
  await client.query('begin');
  try {
    await client.query(`drop schema ${STORE_SCHEMA} cascade`);
    await client.query(`alter schema ${ident(staging)} rename to ${STORE_SCHEMA}`);
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw new AppError('RESTORE_SWAP_FAILED', `replacing the store schema failed: ${(err as Error).message}`, {
      hint: 'nothing was changed in the target; run pgmig again', exitCode: 7, cause: err,
    });
  }
}
