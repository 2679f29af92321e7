/**
 * Which store tables a restore takes from the archive, and the check that an archive holds the
 * data of those. The swap replaces the whole store schema, so a table whose data the archive left
 * out would be restored empty, erasing the target's rows — unless the restore does not take that
 * table from the archive anyway.
 */
import { AppError } from '../errors/index.ts';
import { STORE_SCHEMA } from '../store/index.ts';

/** The target's tenants are authoritative: these tables come from the target, not the archive. */
export const TARGET_TABLES = ['users', 'tokens', 'instances'];
/** The target's own history, copied once the staging schema is at the current release. */
export const TARGET_HISTORY = ['backup_jobs'];
/** Store tables the load does not copy from the archive. */
export const SKIPPED_TABLES: ReadonlySet<string> = new Set([...TARGET_TABLES, ...TARGET_HISTORY, 'schema_migrations',
  // Every restored workspace is retrained (queued by the load); old models and queue rows are stale.
  'models', 'training_failures', 'training_jobs']);

/**
 * Skipped tables whose archive data pgmig still reads: the release comes from schema_migrations,
 * and the instance mapping is made from the backed-up instances.
 */
const READ_NOT_LOADED: ReadonlySet<string> = new Set(['schema_migrations', 'instances']);

/**
 * Refuses an archive without the data of a store table the restore takes from it. `tables` are the
 * store tables to check (those the archive defines, or those of the schema built for its release,
 * which also names tables a `pg_dump -t` archive does not define at all); `withData` holds those
 * the archive has data for. pg_dump and the store's dumper write a TABLE DATA entry for every table
 * they dump, empty ones included, so a missing entry is always data left out, never an empty table.
 * Data left out of a table the restore does not read (`--exclude-table-data=astore.models`, the
 * obvious way to shrink a backup) loses nothing and is accepted.
 */
export function requireStoreData(file: string, tables: Iterable<string>, withData: { has(table: string): boolean }): void {
  const missing = [...tables].filter((t) => !withData.has(t) && (!SKIPPED_TABLES.has(t) || READ_NOT_LOADED.has(t))).sort();
  if (missing.length > 0) {
    throw new AppError('ARCHIVE_INCOMPLETE', `${file} has no data for store table(s) ${missing.map((t) => `${STORE_SCHEMA}.${t}`).join(', ')}: restoring it would leave them empty`, {
      hint: 'nothing was changed in the target; restore from a full backup (`astore backup`, or plain `pg_dump -Fc` of the store database without --exclude-table-data, -t or -T)',
      exitCode: 2, details: { tables: missing },
    });
  }
}
