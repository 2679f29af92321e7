/**
 * The load: everything happens in a staging schema the store never reads, and the store schema
 * is replaced by it in one short transaction at the end. Until that commit the target is
 * untouched, whatever happens to this process.
 *
 * It is built the way pg_restore builds a database, which is what makes it fast: the staging
 * tables lose their constraints and indexes, the data is copied in over two connections, and
 * the indexes and constraints are then built over two connections, the largest tables first.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { encryptWebhooks, type EncryptionKey } from '../auth/index.ts';
import { openArchive } from '../archive/index.ts';
import { AppError, isAppError } from '../errors/index.ts';
import { ident, migrate, recordFingerprint, STORE_SCHEMA } from '../store/index.ts';
import { adoptOwnerAndGrants } from './ownership.ts';
import { coalesce } from './coalesce.ts';
import { assertNoOutsideDependents } from './dependents.ts';
import { STAGING_PREFIX } from './staging.ts';
import { archiveIdentity, countRows, counted, isStoreTableData, RowCounter, type ArchiveSummary, type ProgressFn } from './scan.ts';
import { requireStoreData, SKIPPED_TABLES, TARGET_HISTORY, TARGET_TABLES } from './tables.ts';

async function exists(client: pg.ClientBase, schema: string, table: string): Promise<boolean> {
  const r = await client.query<{ t: string | null }>('select to_regclass($1) as t', [`${ident(schema)}.${ident(table)}`]);
  return r.rows[0]!.t !== null;
}

/** The tables of `schema`, as quoted qualified names. */
async function tablesOf(client: pg.ClientBase, schema: string): Promise<string[]> {
  const r = await client.query<{ t: string }>(`select format('%I.%I', schemaname, tablename) as t from pg_tables where schemaname = $1`, [schema]);
  return r.rows.map((x) => x.t);
}

/** A statement that recreates a dropped constraint or index, and the table it belongs to. */
interface Rebuild { table: string; name: string; sql: string }

/** What the load drops from the staging tables, as the statements that recreate it, in order. */
interface Stripped {
  /** Every index, those of primary keys and unique constraints included. */
  indexes: Rebuild[];
  /** Turns the key indexes back into their constraints (catalog only). */
  keys: string[];
  /** Foreign keys, checked when added; pg_dump data is not in dependency order anyway. */
  foreignKeys: Rebuild[];
}

/**
 * Drops every constraint and index of the staging tables. COPY into bare tables is several
 * times faster than maintaining the indexes row by row, and building them afterwards checks
 * every constraint all the same. Key indexes are rebuilt as plain unique indexes and then
 * attached (ADD CONSTRAINT ... USING INDEX): index builds need only a SHARE lock, so a table's
 * indexes build side by side, where ADD PRIMARY KEY / UNIQUE would take turns.
 */
async function stripTables(client: pg.ClientBase, schema: string): Promise<Stripped> {
  // Definitions are read with the staging schema off the search path, so they name it.
  const foreignKeys = (await client.query<Rebuild>(`
    select format('%I.%I', n.nspname, c.relname) as table, con.conname as name,
      format('alter table %I.%I add constraint %I %s', n.nspname, c.relname, con.conname, pg_get_constraintdef(con.oid)) as sql
    from pg_constraint con join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
    where con.contype = 'f' and n.nspname = $1 order by con.oid`, [schema])).rows;
  for (const fk of foreignKeys) await client.query(`alter table ${fk.table} drop constraint ${ident(fk.name)}`);
  const keys = (await client.query<{ table: string; name: string; attach: string }>(`
    select format('%I.%I', n.nspname, c.relname) as table, con.conname as name,
      format('alter table %I.%I add constraint %I %s using index %I', n.nspname, c.relname, con.conname,
        case con.contype when 'p' then 'primary key' else 'unique' end, i.relname) as attach
    from pg_constraint con join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
      join pg_class i on i.oid = con.conindid
    where con.contype in ('p', 'u') and n.nspname = $1 order by con.oid`, [schema])).rows;
  const indexes = (await client.query<Rebuild>(`
    select format('%I.%I', n.nspname, c.relname) as table, i.relname as name, pg_get_indexdef(i.oid) as sql
    from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class c on c.oid = x.indrelid
      join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = $1 order by i.oid`, [schema])).rows;
  // Dropping a key constraint drops its index (and keeps its columns NOT NULL, which a primary key USING INDEX needs).
  for (const k of keys) await client.query(`alter table ${k.table} drop constraint ${ident(k.name)}`);
  const remaining = new Set((await client.query<{ name: string }>(`select i.relname as name from pg_class i
    join pg_namespace n on n.oid = i.relnamespace where n.nspname = $1 and i.relkind = 'i'`, [schema])).rows.map((r) => r.name));
  for (const r of indexes) if (remaining.has(r.name)) await client.query(`drop index ${ident(schema)}.${ident(r.name)}`);
  return { indexes, keys: keys.map((k) => k.attach), foreignKeys };
}

/**
 * Runs statements on all clients at once, each client taking the next statement when it is
 * free, the largest tables' first (they take longest). The first failure stops the others
 * taking more.
 */
async function inParallel(clients: pg.ClientBase[], schema: string, work: Rebuild[], fail: (r: Rebuild, err: unknown) => Error): Promise<void> {
  const sizes = new Map((await clients[0]!.query<{ table: string; bytes: string }>(`
    select format('%I.%I', n.nspname, c.relname) as table, pg_relation_size(c.oid) as bytes
    from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relkind = 'r'`, [schema]))
    .rows.map((r) => [r.table, Number(r.bytes)]));
  const queue = [...work].sort((x, y) => (sizes.get(y.table) ?? 0) - (sizes.get(x.table) ?? 0));
  let failure: Error | undefined;
  // Every client finishes its statement before this returns: none is left busy on failure.
  await Promise.all(clients.map(async (client) => {
    for (let r = queue.shift(); r && !failure; r = queue.shift()) {
      try {
        await client.query(r.sql);
      } catch (err) {
        failure ??= fail(r, err);
      }
    }
  }));
  if (failure) throw failure;
}

/** PostgreSQL names the offending key in the error's detail ("Key (id)=(7) is duplicated."). */
const detail = (err: unknown): string => {
  const d = (err as { detail?: string }).detail;
  return d ? ` (${d})` : '';
};

/** Builds the dropped indexes or foreign keys; a failure is the archive's inconsistency (a duplicate key, a dangling reference). */
function rebuild(clients: pg.ClientBase[], schema: string, work: Rebuild[]): Promise<void> {
  return inParallel(clients, schema, work, (r, err) => new AppError('RESTORE_INCONSISTENT',
    `the restored data violates ${r.name} on ${r.table.slice(r.table.indexOf('.') + 1)}: ${(err as Error).message}${detail(err)}`,
    { hint: 'the archive is internally inconsistent; nothing was changed in the target', exitCode: 7, cause: err }));
}

/**
 * One table's COPY text, split at row boundaries over one COPY per client. Rows are
 * independent, so their order across the connections does not matter; each run of whole rows
 * goes to the next connection, and a row longer than a chunk stays on its connection until it
 * ends. Returns the number of rows the server loaded.
 */
async function copyInParallel(clients: pg.ClientBase[], sql: string, chunks: AsyncIterable<Buffer>): Promise<number> {
  const sinks = clients.map((client) => client.query(copyStreams.from(sql)));
  // pg-copy-streams emits a server error directly, without destroying the stream, so the
  // stream itself does not know it failed: keep count here, and listen with `on` (a later
  // destroy of such a stream would emit once more).
  const dead = new Set<Writable>();
  let failure: Error | undefined;
  let rejectFailed: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => { rejectFailed = reject; });
  failed.catch(() => undefined); // observed through `failure` and the races below
  for (const sink of sinks) {
    sink.on('error', (err: Error) => { dead.add(sink); failure ??= err; rejectFailed(err); });
  }
  const write = async (sink: Writable, b: Buffer): Promise<void> => {
    if (failure) throw failure;
    if (!sink.write(b)) await Promise.race([once(sink, 'drain'), failed]);
  };
  try {
    let current = 0;
    for await (const chunk of chunks) {
      const cut = chunk.lastIndexOf(0x0a) + 1;
      if (cut === 0) {
        await write(sinks[current]!, chunk);
        continue;
      }
      await write(sinks[current]!, chunk.subarray(0, cut));
      current = (current + 1) % sinks.length;
      if (cut < chunk.length) await write(sinks[current]!, chunk.subarray(cut));
    }
    await Promise.race([Promise.all(sinks.map(async (sink) => { sink.end(); await once(sink, 'finish'); })), failed]);
  } catch (err) {
    // CopyFail on every connection still copying, so each is usable again (to drop the staging schema).
    const live = sinks.filter((sink) => !sink.writableFinished && !dead.has(sink));
    for (const sink of live) sink.destroy(err as Error);
    await Promise.allSettled(live.map((sink) => once(sink, 'close')));
    throw err;
  }
  return sinks.reduce((n, sink) => n + sink.rowCount, 0);
}

/**
 * Moves the restored workspaces to their target instances. The only loaded column holding an
 * instance id is workspaces.instance_id (instances come from the target), so that column alone
 * is rewritten: a source id that a user wrote into an example, a node's output or a webhook URL
 * comes back as written. One statement, so swapped pairs (a→b, b→a) move once; it runs before
 * the indexes are built, so none is maintained row by row.
 */
async function remapInstances(client: pg.ClientBase, staging: string, mapping: ReadonlyMap<string, string>): Promise<void> {
  const moves = [...mapping].filter(([source, target]) => source !== target);
  if (moves.length === 0) return;
  await client.query(`update ${ident(staging)}.workspaces w set instance_id = m.target
      from unnest($1::uuid[], $2::uuid[]) as m(source, target) where w.instance_id = m.source`,
  [moves.map(([source]) => source), moves.map(([, target]) => target)]);
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
  /** The first holds the restore lock and the maintenance flag; the load runs on all of them. */
  clients: pg.ClientBase[];
  summary: ArchiveSummary;
  mapping: ReadonlyMap<string, string>;
  key: EncryptionKey;
  progress?: ProgressFn | undefined;
  /** Test hook: called after each table is loaded (SIGKILL tests stop the process here). */
  afterTable?: ((table: string) => void | Promise<void>) | undefined;
  /** Called as each step of the load ends, with the step's name (for the summary's timings). */
  stepDone?: ((step: LoadStep) => void) | undefined;
  /** Called with the staging schema's name before it is created. */
  onStaging?: ((staging: string) => void) | undefined;
}

export type LoadStep = 'prepare' | 'copy' | 'indexes' | 'constraints' | 'upgrade' | 'finish';

export interface LoadResult { staging: string; rows: number; tables: number; workspaces: number }

export async function loadStaging(o: LoadOptions): Promise<LoadResult> {
  const { clients, summary } = o;
  const client = clients[0]!;
  const staging = STAGING_PREFIX + randomBytes(6).toString('hex');
  o.onStaging?.(staging);
  const s = ident(staging);
  const context = { encryptWebhooks: (w: unknown) => encryptWebhooks(w, o.key) };
  await migrate(client, { schema: staging, untilRelease: summary.release, context });
  // Here the schema of the archive's release names every table it should hold, also those a
  // `pg_dump -t` archive does not define; nothing has been loaded, and the target changes only at the swap.
  const stagingTables = await client.query<{ t: string }>('select tablename as t from pg_tables where schemaname = $1', [staging]);
  requireStoreData(summary.file, stagingTables.rows.map((x) => x.t), summary.tables);
  const stripped = await stripTables(client, staging);
  // Autovacuum would analyze (and vacuum) the tables while they fill, and an index build then
  // waits for it to be cancelled (deadlock_timeout, 1 s each time); the load analyzes them itself.
  for (const t of await tablesOf(client, staging)) await client.query(`alter table ${t} set (autovacuum_enabled = false, toast.autovacuum_enabled = false)`);
  for (const t of TARGET_TABLES) {
    await client.query(`insert into ${s}.${ident(t)} select * from ${STORE_SCHEMA}.${ident(t)}`);
  }
  o.stepDone?.('prepare');

  const reader = await openArchive(summary.file);
  if (archiveIdentity(reader) !== summary.identity) {
    await reader.close();
    throw new AppError('ARCHIVE_CHANGED', `${summary.file} changed after it was checked (it is another file, was modified, or its table of contents differs)`, {
      hint: 'something replaced or rewrote the archive during the restore; nothing was changed in the target; run pgmig again on a file nothing writes to', exitCode: 2,
    });
  }
  let rows = 0;
  let tables = 0;
  const withData = new Set<string>();
  // The COPY text is in the archive's client encoding (pg_dump -E, or a non-UTF8 database): the
  // server converts it when told, as pg_restore tells it. Loaded as UTF-8, a LATIN1 "é" is
  // refused, and "Ã©" silently becomes "é".
  const encoding = reader.copyEncoding();
  // copyEncoding() returns only names from the reader's fixed table, so no quoting is needed.
  for (const c of clients) await c.query(`set client_encoding to '${encoding}'`);
  try {
    for await (const block of reader.blocks()) {
      const e = block.entry;
      if (!isStoreTableData(e)) continue;
      if (SKIPPED_TABLES.has(e.tag!)) {
        // Not loaded, but after a preflight this pass is the only one that reads it: an archive
        // with a damaged block of any store table restores nothing.
        if (!summary.verified) await countRows(block);
        continue;
      }
      const table = summary.tables.get(e.tag!)!;
      withData.add(table.name);
      const sql = `copy ${s}.${ident(table.name)} (${table.columns.map(ident).join(', ')}) from stdin`;
      // The payload's own row count, taken as it streams to the server: what the archive holds,
      // checked against what COPY loaded (and against a full scan's count, when there was one).
      const counter = new RowCounter(table.name);
      let loaded: number;
      let held: number;
      try {
        loaded = await copyInParallel(clients, sql, coalesce(counted(block.payload(), counter)));
        held = counter.finish();
      } catch (err) {
        // A damaged archive is reported as such (its code, offset and hint), not as a failed load.
        if (isAppError(err) && err.code.startsWith('ARCHIVE_')) throw err;
        // Decompressing a damaged block can yield garbage rows before the damage is detected, and the
        // server may refuse one of them first: the block is read whole again, and damage found there
        // is what to report (it was a race which error came first).
        if (!summary.verified) await reader.readBlockAt(e, countRows).catch((again: unknown) => {
          if (isAppError(again) && again.code.startsWith('ARCHIVE_') && !['ARCHIVE_NO_OFFSET', 'ARCHIVE_NOT_SEEKABLE'].includes(again.code)) throw again;
        });
        throw new AppError('RESTORE_LOAD_FAILED', `loading table ${table.name} failed: ${(err as Error).message}`, {
          hint: 'nothing was changed in the target; check the archive with `astore archive verify`', exitCode: 7, cause: err,
        });
      }
      if (table.rows !== undefined && table.rows !== held) {
        throw new AppError('ARCHIVE_CHANGED', `table ${table.name} holds ${held} rows now, but ${table.rows} when the archive was checked`, {
          hint: 'something rewrote the archive during the restore; nothing was changed in the target; run pgmig again on a file nothing writes to', exitCode: 2,
        });
      }
      if (loaded !== held) {
        throw new AppError('RESTORE_LOAD_FAILED', `table ${table.name}: the server loaded ${loaded} rows, but the archive holds ${held}`, {
          hint: 'nothing was changed in the target; check the archive with `astore archive verify`', exitCode: 7,
        });
      }
      rows += held;
      tables++;
      o.progress?.({ bytes: reader.offset, totalBytes: summary.bytes, rows, phase: 'load' });
      await o.afterTable?.(table.name);
    }
  } finally {
    // node-postgres reads every reply as UTF-8 (the encoding it connected with).
    for (const c of clients) await c.query('reset client_encoding').catch(() => undefined);
  }

  // A table of the table of contents whose data block never came (an entry marked as having no
  // data, its block gone) would be restored empty.
  const missing = [...summary.tables.keys()].filter((t) => !SKIPPED_TABLES.has(t) && !withData.has(t)).sort();
  if (missing.length > 0) {
    throw new AppError('ARCHIVE_INCOMPLETE', `${summary.file} has no data block for store table(s) ${missing.map((t) => `${STORE_SCHEMA}.${t}`).join(', ')}: restoring it would leave them empty`, {
      hint: 'nothing was changed in the target; use an intact copy of the archive', exitCode: 2, details: { tables: missing },
    });
  }
  await remapInstances(client, staging, o.mapping);
  o.stepDone?.('copy');
  await rebuild(clients, staging, stripped.indexes);
  o.stepDone?.('indexes');
  for (const sql of stripped.keys) await client.query(sql);
  await rebuild(clients, staging, stripped.foreignKeys);
  o.stepDone?.('constraints');
  // The archive's schema is brought to the running release with the target's key.
  await migrate(client, { schema: staging, context });
  o.stepDone?.('upgrade');
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
  // Planner statistics for the restored tables (only those: the rest of the database is not ours to scan).
  // (Listed again: the upgrade may have added tables.)
  const tablesToAnalyze = await tablesOf(client, staging);
  await inParallel(clients, staging, tablesToAnalyze.map((t) => ({ table: t, name: t, sql: `analyze ${t}` })), (_, err) => err as Error);
  for (const t of tablesToAnalyze) await client.query(`alter table ${t} reset (autovacuum_enabled, toast.autovacuum_enabled)`);
  o.stepDone?.('finish');
  return { staging, rows, tables, workspaces: ws.rowCount ?? 0 };
}

/**
 * The target's users, instances and tokens were copied into the staging schema when the load
 * began; a token created or revoked, or a user or instance created, while the archive loaded would
 * have been undone by the swap (a revoked token working again). They are brought over again here,
 * in the swap's transaction, with those tables locked so that no write slips in between; a write
 * that waits on the lock lands in the restored tables once the swap commits.
 */
async function syncTenants(client: pg.ClientBase, staging: string): Promise<void> {
  const s = ident(staging);
  const t = (table: string): string => `${STORE_SCHEMA}.${ident(table)}`;
  await client.query(`lock table ${TARGET_TABLES.map(t).join(', ')} in share row exclusive mode`);
  // `instances delete` refuses while a restore runs, but one that passed that check just before
  // this restore began commits during the load: its instance must stay deleted. Restored
  // workspaces mapped to it would go with it (on delete cascade), so that is refused instead.
  const gone = await client.query<{ id: string; workspaces: string }>(`
    select i.id, (select count(*) from ${s}.workspaces w where w.instance_id = i.id) as workspaces
      from ${s}.instances i where not exists (select 1 from ${t('instances')} l where l.id = i.id) order by i.id`);
  const mapped = gone.rows.filter((r) => Number(r.workspaces) > 0).map((r) => r.id);
  if (mapped.length > 0) {
    throw new AppError('TARGET_CHANGED', `target instance(s) ${mapped.join(', ')} were deleted while the archive loaded, and the mapping restores backed-up workspaces into them`, {
      hint: 'nothing was changed in the target; map those workspaces to an existing instance (or create the instance again) and run pgmig again', exitCode: 2,
    });
  }
  if (gone.rows.length > 0) await client.query(`delete from ${s}.instances where id = any($1::uuid[])`, [gone.rows.map((r) => r.id)]);
  // Users are never deleted; instances created during the load are added.
  await client.query(`insert into ${s}.users select * from ${t('users')} on conflict do nothing`);
  await client.query(`insert into ${s}.instances select * from ${t('instances')} on conflict do nothing`);
  await client.query(`delete from ${s}.tokens`);
  await client.query(`insert into ${s}.tokens select * from ${t('tokens')}`);
}

/** The one moment the target changes: the store schema is replaced atomically, keeping its owner and grants. */
export async function swapIn(client: pg.ClientBase, staging: string): Promise<void> {
  await client.query('begin');
  try {
    await syncTenants(client, staging);
    await adoptOwnerAndGrants(client, STORE_SCHEMA, staging);
    // Again here: one may have been created during the load.
    await assertNoOutsideDependents(client, STORE_SCHEMA);
    await client.query(`drop schema ${STORE_SCHEMA} cascade`);
    await client.query(`alter schema ${ident(staging)} rename to ${STORE_SCHEMA}`);
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    if (err instanceof AppError) throw err; // already says what to do
    // insufficient_privilege: the restoring role may not give the schema to the store's owner.
    const denied = (err as { code?: string }).code === '42501';
    throw new AppError('RESTORE_SWAP_FAILED', `replacing the store schema failed: ${(err as Error).message}`, {
      hint: denied
        ? `nothing was changed in the target; the restored schema must belong to the owner of ${STORE_SCHEMA}: run pgmig as a superuser (postgres.yaml su_username) or as a member of that role`
        : 'nothing was changed in the target; run pgmig again',
      exitCode: 7, cause: err,
    });
  }
}
