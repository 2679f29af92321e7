/**
 * One backup job, as the seeds' CronJob runs it: take a backup into the backup directory, record
 * the job, prune files and jobs. One run at a time across processes and hosts: the run holds a
 * PostgreSQL advisory lock for its whole duration, and a second run fails fast (Forbid).
 */
import { stat, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { basename, join } from 'node:path';
import type pg from 'pg';
import type { PgConnection } from '../config/index.ts';
import { makeDir } from '../store/index.ts';
import { AppError } from '../errors/index.ts';
import { dropStaleStagingIfIdle } from '../restore/index.ts';
import { backupName, sidecarPath, type Sidecar } from './catalog.ts';
import { engineFor, type DumpEngine } from './engine.ts';
import { failInterruptedJobs, finishJob, pruneJobs, slotTaken, startJob } from './jobs.ts';
import { applyRetention, cleanLeftovers, type RetentionResult } from './retention.ts';
import type { BackupSettings } from './settings.ts';
import { readStoreFacts, takeBackup, type BackupSummary } from './take.ts';

/** Advisory lock key for backup runs ("astbak"). */
export const BACKUP_LOCK = 0x61_73_74_62_61_6b;

export interface RunOptions {
  pool: pg.Pool;
  connection: PgConnection;
  settings: BackupSettings;
  /** The cron slot this run serves (scheduler); absent for `astore backup-job`. */
  slot?: Date | undefined;
  now?: () => Date;
  /** Default: the one settings.engine names. */
  engine?: DumpEngine | undefined;
}

export interface RunResult {
  status: 'succeeded' | 'failed' | 'skipped';
  jobId: string | undefined;
  file: string | undefined;
  backup: BackupSummary | undefined;
  retention: RetentionResult | undefined;
  prunedJobs: number;
  error: Error | undefined;
  log: string;
}

export async function runBackupJob(opts: RunOptions): Promise<RunResult> {
  const now = opts.now ?? (() => new Date());
  const client = await opts.pool.connect();
  let locked = false;
  try {
    locked = (await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [BACKUP_LOCK])).rows[0]!.ok;
    if (!locked) {
      throw new AppError('BACKUP_LOCKED', 'another backup run holds the backup lock on this store', {
        hint: 'wait for it to finish (see `astore backups jobs`); runs never overlap', exitCode: 11,
      });
    }
    const lines: string[] = [];
    const log = (line: string): void => { lines.push(`${now().toISOString()} ${line}`); };
    const interrupted = await failInterruptedJobs(client, now());
    if (interrupted) log(`marked ${interrupted} interrupted run(s) failed`);
    if (opts.slot && await slotTaken(client, opts.slot)) {
      return { status: 'skipped', jobId: undefined, file: undefined, backup: undefined, retention: undefined, prunedJobs: 0, error: undefined, log: 'slot already run' };
    }
    const startedAt = now();
    const jobId = await startJob(client, opts.slot ? 'schedule' : 'job', startedAt, opts.slot);
    let takenAt = opts.slot ?? startedAt;
    let file = join(opts.settings.dir, backupName(takenAt));
    let backup: BackupSummary | undefined;
    let error: Error | undefined;
    // A killed pgmig's staging schema holds a full copy of the data until the next pgmig; backups
    // skip it either way, so a failure here (it belongs to the role pgmig ran as) is only logged.
    try {
      const dropped = await dropStaleStagingIfIdle(client);
      if (dropped.length) log(`dropped staging schema(s) of a killed restore: ${dropped.join(', ')}`);
    } catch (err) {
      log(`could not drop the staging schema(s) of a killed restore (the next pgmig drops them): ${(err as Error).message}`);
    }
    let ours = false;
    let cleanedFirst: string[] = [];
    try {
      // Created here rather than left to takeBackup so the failure names the setting to change;
      // for this user alone, as every archive in it is (each holds every tenant's data).
      await makeDir(opts.settings.dir, 0o700).catch((err: Error) => {
        throw new AppError('BACKUP_DIR_UNUSABLE', `cannot create backup directory ${opts.settings.dir}: ${err.message}`, {
          hint: 'set store.backup.dir (or STORE_BACKUP_DIR) to a directory this process can create and write', exitCode: 1, cause: err,
        });
      });
      // Before the backup, not only after: a killed run's temporary file can hold the space this
      // backup needs. Under the lock, no run of ours is writing one.
      cleanedFirst = await cleanLeftovers(opts.settings.dir);
      if (cleanedFirst.length) log(`cleaned leftovers ${cleanedFirst.join(', ')}`);
      // Names are local wall times to the second: two runs can fall in one second, and a
      // daylight-saving change repeats an hour (and so a slot's name). Writing the sidecar and
      // renaming over an existing backup would replace it: the run takes the name of a later second.
      for (let tries = 0; (await pathExists(file)) || (await pathExists(sidecarPath(file))); tries++) {
        if (tries === 3) {
          throw new AppError('BACKUP_NAME_TAKEN', `${basename(file)} already exists in ${opts.settings.dir}; it was left as it is and no backup was taken`, {
            hint: 'backup names are the local time to the second; check the clock of this machine, then run again', exitCode: 1,
          });
        }
        log(`${basename(file)} is taken; waiting for the next second's name`);
        await sleep(1005 - (Date.now() % 1000));
        takenAt = now();
        file = join(opts.settings.dir, backupName(takenAt));
      }
      ours = true;
      log(`backup to ${file}`);
      const facts = await readStoreFacts(opts.pool);
      backup = await takeBackup({
        connection: opts.connection, facts, output: file, engine: opts.engine ?? engineFor(opts.settings.engine), checksum: true,
        // The sidecar is the completion marker: written (and flushed) before the rename, checked by
        // name and size by every reader, so no other file state can pass for a good backup.
        beforeRename: async (s) => {
          const sidecar: Sidecar = {
            format: 'astore-backup/1', name: basename(file), bytes: s.bytes, sha256: s.sha256!,
            takenAt: takenAt.toISOString(), release: s.release, keyFingerprint: s.keyFingerprint,
            tables: s.tables, rows: s.rows,
          };
          await writeFile(sidecarPath(file), JSON.stringify(sidecar, null, 2) + '\n', { flush: true, mode: 0o600 });
        },
      });
      log(`wrote ${backup.bytes} bytes in ${backup.durationMs} ms (release ${backup.release}, key ${backup.keyFingerprint})`);
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
      log(`failed: ${error.message}`);
      // A failure after the rename (the directory's fsync) left the archive and its sidecar in
      // place: a failed run must not leave a file that counts as its backup.
      if (ours) {
        backup = undefined;
        for (const p of [file, sidecarPath(file)]) await unlink(p).catch(() => undefined);
      }
    }
    let retention: RetentionResult | undefined;
    if (error) {
      // No pruning after a failed run: the backups it would remove are then the newest good ones,
      // and one of those kept in their place may be damaged.
      log('retention skipped: the backup failed');
    } else {
      try {
        const pruned = await applyRetention(opts.settings.dir, opts.settings);
        if (pruned.removed.length) log(`retention removed ${pruned.removed.join(', ')}`);
        if (pruned.cleaned.length) log(`cleaned leftovers ${pruned.cleaned.join(', ')}`);
        // What was cleaned before the backup too, so --json still reports every leftover removed.
        retention = { ...pruned, cleaned: [...cleanedFirst, ...pruned.cleaned] };
      } catch (err) {
        error = err instanceof Error ? err : new Error(String(err));
        log(`retention failed: ${(err as Error).message}`);
      }
    }
    const status = error ? 'failed' : 'succeeded';
    await finishJob(client, jobId, { status, finishedAt: now(), file: backup ? file : undefined, bytes: backup?.bytes, log: lines.join('\n') + '\n' });
    const prunedJobs = await pruneJobs(client, opts.settings.jobsSuccess, opts.settings.jobsFailed);
    return { status, jobId, file: backup ? file : undefined, backup, retention, prunedJobs, error, log: lines.join('\n') };
  } finally {
    if (locked) await client.query('select pg_advisory_unlock($1)', [BACKUP_LOCK]).catch(() => undefined);
    client.release();
  }
}

const pathExists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);
