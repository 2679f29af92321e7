/**
 * Schema migrations, applied in order inside the store schema (search_path), each in its own
 * transaction together with its row in schema_migrations. The schema release of a database is
 * the release of its newest applied migration.
 *
 * Migrations never name a schema, so the same list can build a staging schema during restore.
 */
import type pg from 'pg';
import { AppError } from '../../errors/index.ts';
import { withAdvisoryLock } from '../advisory-lock.ts';
import { m001Core } from './m001_core.ts';
import { m002Training } from './m002_training.ts';
import { m003Secrets } from './m003_secrets.ts';
import { m005TrainingQueue } from './m005_training_queue.ts';
import { m004BackupJobs } from './m004_backup_jobs.ts';
import { m006MessageLogs } from './m006_message_logs.ts';
import type { Migration, MigrationContext } from './types.ts';

export type { Migration, MigrationContext } from './types.ts';

export const MIGRATIONS: readonly Migration[] = [m001Core, m002Training, m003Secrets, m004BackupJobs, m005TrainingQueue, m006MessageLogs];
export const CURRENT_RELEASE = MIGRATIONS[MIGRATIONS.length - 1]!.release;

/** Serialises migrators across processes (any int64 unique to this purpose). */
const MIGRATION_LOCK = 0x61_73_74_6f_72_65; // "astore"

/**
 * An identifier for a statement, always quoted: names read from the catalog or made up (staging
 * schemas) go into SQL this way, and a bare name that is a keyword would break the statement.
 * (The archive's quoteIdent leaves lower-case names bare, as script output like pg_restore's does,
 * and does not know the keywords.)
 */
export function ident(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

export interface MigrateOptions {
  schema: string;
  /** Stop after the last migration of this release (restore builds old schemas this way). */
  untilRelease?: string;
  context: MigrationContext;
}

export interface MigrateResult { applied: Migration[]; release: string | undefined }

export async function appliedMigrations(client: pg.ClientBase, schema: string): Promise<number[]> {
  const exists = await client.query(
    `select 1 from pg_tables where schemaname = $1 and tablename = 'schema_migrations'`, [schema]);
  if (exists.rowCount === 0) return [];
  const r = await client.query<{ id: number }>(`select id from ${ident(schema)}.schema_migrations order by id`);
  return r.rows.map((row) => row.id);
}

/**
 * The release of the last migration applied. One this program does not know was applied by a newer
 * release, which recorded its release beside it: that is returned (see isKnownRelease), where
 * undefined made a newer store look like no store at all ("no store schema", "run astore migrate").
 */
export async function schemaRelease(client: pg.ClientBase, schema: string): Promise<string | undefined> {
  const ids = await appliedMigrations(client, schema);
  const last = ids[ids.length - 1];
  if (last === undefined) return undefined;
  const known = MIGRATIONS.find((m) => m.id === last);
  if (known) return known.release;
  const r = await client.query<{ release: string }>(`select release from ${ident(schema)}.schema_migrations where id = $1`, [last]);
  return r.rows[0]?.release;
}

/** Whether some migration of this program belongs to `release`; one that none does is a newer release's. */
export function isKnownRelease(release: string): boolean {
  return MIGRATIONS.some((m) => m.release === release);
}

export async function migrate(client: pg.ClientBase, opts: MigrateOptions): Promise<MigrateResult> {
  const schema = ident(opts.schema);
  if (opts.untilRelease && !MIGRATIONS.some((m) => m.release === opts.untilRelease)) {
    throw new AppError('UNKNOWN_RELEASE', `no schema release ${opts.untilRelease} is known to this store`);
  }
  return withAdvisoryLock(client, MIGRATION_LOCK, async () => {
    await client.query(`create schema if not exists ${schema}`);
    await client.query(`create table if not exists ${schema}.schema_migrations (
      id integer primary key, name text not null, release text not null, applied_at timestamptz not null default now())`);
    const done = new Set(await appliedMigrations(client, opts.schema));
    const known = new Set(MIGRATIONS.map((m) => m.id));
    const unknown = [...done].filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new AppError('SCHEMA_TOO_NEW', `the database schema has migrations this store does not know (${unknown.join(', ')})`, {
        hint: `it was written by a newer store release; run that release (this one is ${CURRENT_RELEASE})`, exitCode: 4,
      });
    }
    const applied: Migration[] = [];
    const lastIndex = opts.untilRelease
      ? MIGRATIONS.map((m) => m.release).lastIndexOf(opts.untilRelease)
      : MIGRATIONS.length - 1;
    for (const m of MIGRATIONS.slice(0, lastIndex + 1)) {
      if (done.has(m.id)) continue;
      await client.query('begin');
      try {
        await client.query(`set local search_path = ${schema}, public`);
        if (typeof m.up === 'string') await client.query(m.up);
        else await m.up(client, opts.context);
        await client.query(`insert into ${schema}.schema_migrations (id, name, release) values ($1, $2, $3)`, [m.id, m.name, m.release]);
        await client.query('commit');
      } catch (err) {
        // On a broken connection the rollback fails too; the migration's own error is the one to report.
        await client.query('rollback').catch(() => {});
        throw new AppError('MIGRATION_FAILED', `migration ${m.id} (${m.name}, release ${m.release}) failed: ${(err as Error).message}`, { cause: err, exitCode: 4 });
      }
      applied.push(m);
    }
    return { applied, release: await schemaRelease(client, opts.schema) };
  });
}

/** "1.1.3" → "1.1.x": upgrade paths speak of release lines, like the seeds' table. */
export function releaseLine(release: string): string {
  const [major, minor] = release.split('.');
  return `${major}.${minor}.x`;
}

/**
 * Which release lines a backup can be restored into, by the release line it was taken at. Like
 * the seeds' table (4.8.x → 5.0.x or 5.1.x), a backup may skip one release line and no more; a
 * path not listed must go through an intermediate release first.
 */
export const UPGRADE_PATHS: ReadonlyArray<UpgradePath> = [
  { from: '1.2.x', to: ['1.2.x'] },
  { from: '1.1.x', to: ['1.1.x', '1.2.x'] },
  { from: '1.0.x', to: ['1.0.x', '1.1.x', '1.2.x'] },
];

export interface UpgradePath { from: string; to: readonly string[] }

/**
 * Refuses a restore of a backup taken at `fromRelease` into `toRelease` unless `paths` lists it;
 * the refusal names a release line to go through when there is one. (`paths` is a parameter so
 * that the rule can be checked against a table with more lines than this store has had.)
 */
export function checkUpgradePath(fromRelease: string, toRelease: string = CURRENT_RELEASE, paths: ReadonlyArray<UpgradePath> = UPGRADE_PATHS): void {
  const from = releaseLine(fromRelease);
  const to = releaseLine(toRelease);
  const row = paths.find((p) => p.from === from);
  if (row?.to.includes(to)) return;
  if (!row) {
    const newer = MIGRATIONS.every((m) => m.release !== fromRelease);
    throw new AppError('UPGRADE_PATH_UNSUPPORTED',
      `the backup is at schema release ${fromRelease}, which this store (${toRelease}) ${newer ? 'does not know' : 'cannot upgrade from'}`,
      { hint: newer ? `restore it with the store release that wrote it (${fromRelease}) or newer` : 'restore it with an older store release first', exitCode: 4 });
  }
  // Find a release line from which `to` is reachable and that `from` can reach: the stop to go through.
  const via = row.to.find((mid) => mid !== from && paths.find((p) => p.from === mid)?.to.includes(to));
  throw new AppError('UPGRADE_PATH_UNSUPPORTED',
    `upgrading from release ${from} to ${to} is not supported`,
    { hint: via ? `restore the backup into a ${via} store first, take a new backup there, then restore that one here` : `supported targets from ${from}: ${row.to.join(', ')}`, exitCode: 4 });
}
