/** Backups: `astore backup`, `astore backup-job` (the CronJob command), `astore backups list|jobs`. */
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  engineFor, isWeekly, listBackups, listJobs, loadBackupSettings, readSecretConnection, readStoreFacts, runBackupJob,
  scheduleStatus, takeBackup,
} from '../../backup/index.ts';
import { connectionUrl } from '../../config/index.ts';
import { AppError, isAppError } from '../../errors/index.ts';
import { assertCurrentRelease, CURRENT_RELEASE, isKnownRelease, openDatabase, type Database } from '../../store/index.ts';
import { removePartialOnSignal } from '../interrupt.ts';
import { humanBytes, printJson, printTable, stdoutCarriesArchive } from '../output.ts';

interface TargetFlags { postgres?: string; secret?: string }

// The options every command here shares (commander takes them as [flags, description]).
const POSTGRES_OPTION = ['--postgres <file>', 'PostgreSQL connection from a postgres.yaml'] as const;
const SECRET_OPTION = ['--secret <file>', 'PostgreSQL connection from the store secret YAML (oc get secret NAME -o yaml)'] as const;
const CONFIG_OPTION = ['--config <file>', 'config file with store.backup.* settings (default ASTORE_HOME/config.yaml)'] as const;

/** Connection order: --postgres, --secret (a Kubernetes store secret), ASTORE_POSTGRES or DATABASE_URL, embedded. */
async function openTarget(o: TargetFlags): Promise<Database> {
  if (o.postgres) return openDatabase({ postgres: o.postgres, poolSize: 2 });
  if (o.secret) {
    const c = readSecretConnection(o.secret);
    return openDatabase({ env: { ...process.env, ASTORE_POSTGRES: undefined, DATABASE_URL: connectionUrl(c) }, poolSize: 2 });
  }
  return openDatabase({ poolSize: 2 });
}

/**
 * A database without the store's schema is not a store: backing it up would report success and
 * hand the operator an archive that restores nothing (the usual cause: no connection was given,
 * so the command opened the embedded server of its ASTORE_HOME, perhaps new and empty). A schema
 * a newer release upgraded is refused too.
 */
function refuseNonStore(db: Database, release: string | undefined): void {
  if (release === undefined) throw notAStore(db);
  // A schema a newer release upgraded: this release would record facts it cannot vouch for.
  if (!isKnownRelease(release)) {
    throw new AppError('SCHEMA_TOO_NEW', `the store schema is at release ${release}, newer than this program (${CURRENT_RELEASE}); no backup was written`, {
      hint: `back it up with astore ${release} or later, the release that upgraded it`, exitCode: 4,
    });
  }
}

function notAStore(db: Database): AppError {
  const c = db.connection;
  const where = db.embedded
    ? `the embedded PostgreSQL under ${db.embedded.home} (no --postgres, --secret, ASTORE_POSTGRES or DATABASE_URL was given)`
    : `database ${c.database} on ${c.host}:${c.port}`;
  return new AppError('NOT_A_STORE', `${where} holds no Assistant Store (no store schema): a backup of it would restore nothing, so none was written`, {
    hint: 'point the command at the store\'s database: --postgres postgres.yaml, --secret store-secret.yaml, ASTORE_POSTGRES=postgres.yaml or DATABASE_URL (in the store\'s pods ASTORE_POSTGRES is set)',
    exitCode: 2,
  });
}

function progress(enabled: boolean): ((bytes: number) => void) | undefined {
  if (!enabled) return undefined;
  let last = 0;
  return (bytes) => {
    const t = Date.now();
    if (t - last < 200) return;
    last = t;
    process.stderr.write(`\rbackup: ${(bytes / 1048576).toFixed(1)} MiB written`);
  };
}

/**
 * Whether the backup directory is there. A directory named on the command line must be: a typo in
 * --dir listed no backups, exit 0, as if there were none. The configured one is missing until the
 * first backup-job, which is no error, but is said (on stderr, so --json output stays a list).
 */
async function backupDirExists(dir: string, given: boolean): Promise<boolean> {
  const st = await stat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' && !given) return undefined;
    throw new AppError('BACKUP_DIR_NOT_FOUND', `cannot list backups in ${dir}: ${err.code === 'ENOENT' ? 'no such directory' : err.message}`, {
      hint: 'check the path given with --dir (the scheduled backups go to store.backup.dir; `astore backups schedule` shows it)', exitCode: 2, cause: err,
    });
  });
  if (st && !st.isDirectory()) {
    throw new AppError('BACKUP_DIR_NOT_FOUND', `cannot list backups in ${dir}: it is not a directory`, {
      hint: `give the backup directory, not a file in it${given ? '' : ' (store.backup.dir in the config file or STORE_BACKUP_DIR)'}`, exitCode: 2,
    });
  }
  return st !== undefined;
}

export function register(program: Command): void {
  program.command('backup')
    .description('write a backup (pg_dump custom-format archive) of the whole store database to stdout or -o FILE')
    .option('-o, --output <file>', 'file to write (through a temporary name, fsync and rename); default stdout')
    .option(...POSTGRES_OPTION)
    .option(...SECRET_OPTION)
    .option('--instance <name>', 'deployment name, recorded in the summary (one store is one deployment)')
    .option('--config <file>', 'config file whose store.backup.engine chooses the dumper (default ASTORE_HOME/config.yaml)')
    .option('--json', 'print a JSON summary (to stderr when the archive goes to stdout)')
    .action(async (o: TargetFlags & { output?: string; instance?: string; config?: string; json?: boolean }) => {
      if (!o.output && process.stdout.isTTY) {
        throw new AppError('BACKUP_TO_TERMINAL', 'refusing to write a binary archive to a terminal', {
          hint: 'redirect stdout to a file (astore backup > backup.dump) or use -o FILE', exitCode: 2,
        });
      }
      if (!o.output) stdoutCarriesArchive();
      const engine = engineFor(loadBackupSettings({ config: o.config }, ['engine']).engine);
      if (o.output) removePartialOnSignal(`no backup was written to ${o.output}`);
      const db = await openTarget(o);
      try {
        const facts = await readStoreFacts(db.pool);
        refuseNonStore(db, facts.release);
        const onProgress = progress(Boolean(process.stderr.isTTY));
        // A JSON summary is for scripts, which compare hashes: a file output is read back once to give one.
        const s = await takeBackup({
          connection: db.connection, facts, output: o.output ?? process.stdout, instance: o.instance, onProgress, engine, checksum: Boolean(o.json),
        });
        if (onProgress) process.stderr.write('\n');
        const summary = {
          file: s.file, bytes: s.bytes, sha256: s.sha256 ?? null, tables: s.tables ?? null, rows: s.rows ?? null,
          duration_ms: s.durationMs, schema_release: s.release ?? null, key_fingerprint: s.keyFingerprint ?? null,
          instance: o.instance ?? null,
        };
        const text = JSON.stringify(summary, null, 2) + '\n';
        if (o.json) (o.output ? process.stdout : process.stderr).write(text);
        else process.stderr.write(`backup: ${s.file ?? 'stdout'} ${humanBytes(s.bytes)} in ${(s.durationMs / 1000).toFixed(1)} s (schema ${s.release ?? 'none'})\n`);
      } finally {
        await db.close();
      }
    });

  program.command('backup-job')
    .description('one scheduled-backup run: backup into the backup directory, record the job, prune files and jobs (the CronJob command)')
    .option(...CONFIG_OPTION)
    .option(...POSTGRES_OPTION)
    .option(...SECRET_OPTION)
    .option('--json', 'machine-readable output')
    .action(async (o: TargetFlags & { config?: string; json?: boolean }) => {
      const settings = loadBackupSettings({ config: o.config });
      if (settings.suspend) {
        process.stderr.write('backup-job: store.backup.suspend is true; nothing to do\n');
        // --json callers read stdout: the same document as a run, saying why nothing was done.
        if (o.json) printJson({ status: 'suspended', job: null, file: null, bytes: null, kept: [], removed: [], cleaned: [], pruned_jobs: 0, error: null });
        return;
      }
      removePartialOnSignal('this run wrote no backup; the next backup-job records it failed');
      const db = await openTarget(o);
      try {
        assertCurrentRelease((await readStoreFacts(db.pool)).release);
        const r = await runBackupJob({ pool: db.pool, connection: db.connection, settings });
        if (o.json) {
          printJson({ status: r.status, job: r.jobId, file: r.file ?? null, bytes: r.backup?.bytes ?? null, kept: r.retention?.kept ?? [], removed: r.retention?.removed ?? [], cleaned: r.retention?.cleaned ?? [], pruned_jobs: r.prunedJobs, error: r.error?.message ?? null });
        } else {
          process.stderr.write(r.log + '\n');
        }
        if (r.error) {
          // The run's own error says what to do about it (e.g. which setting to change) where it can;
          // otherwise the job's log is the place to look.
          throw new AppError('BACKUP_JOB_FAILED', `backup job ${r.jobId} failed: ${r.error.message}`, {
            hint: (isAppError(r.error) ? r.error.hint : undefined)
              ?? `see job ${r.jobId}'s log (astore backups jobs --json), fix the cause and run astore backup-job again`,
            exitCode: 1, cause: r.error,
            details: isAppError(r.error) ? { cause: r.error.code } : undefined,
          });
        }
      } finally {
        await db.close();
      }
    });

  const backups = program.command('backups').description('the scheduled-backup directory and job history');
  backups.command('list')
    .description('backups in the backup directory: name, time, size, daily/weekly, state (complete: the sidecar records its name and size; verified: --verify matched its checksum too)')
    .option('--dir <dir>', 'backup directory (default store.backup.dir, ASTORE_HOME/store-backups)')
    .option(...CONFIG_OPTION)
    .option('--verify', 'recompute every archive checksum against its sidecar')
    .option('--json', 'machine-readable output')
    .action(async (o: { dir?: string; config?: string; verify?: boolean; json?: boolean }) => {
      const settings = loadBackupSettings({ config: o.config }, ['dir', 'weeklyBackupDay']);
      const dir = o.dir ?? settings.dir;
      if (!(await backupDirExists(dir, o.dir !== undefined))) {
        process.stderr.write(`no backups yet: ${dir} (store.backup.dir) does not exist; the first backup-job creates it\n`);
      }
      const entries = await listBackups(dir, { verify: o.verify });
      const rows = entries.map((e) => ({
        name: e.name, time: e.takenAt?.toISOString() ?? null, bytes: e.bytes,
        kind: e.takenAt ? (isWeekly(e.takenAt, settings.weeklyBackupDay) ? 'weekly' : 'daily') : null,
        // Without --verify a good backup has only passed the size check: complete, not verified.
        complete: e.status === 'good', verified: e.status === 'good' && o.verify === true,
        status: e.status, release: e.sidecar?.release ?? null, key_fingerprint: e.sidecar?.keyFingerprint ?? null,
      }));
      if (o.json) printJson(rows);
      else {
        const state = (r: typeof rows[number]): string => (r.verified ? 'verified' : r.complete ? 'complete' : `not a backup (${r.status})`);
        printTable(rows.map((r) => ({ ...r, size: humanBytes(r.bytes), state: state(r) })), ['name', 'time', 'size', 'kind', 'state']);
      }
      // A verification that finds damage fails, as `archive verify` does: monitoring reads exit codes.
      // Only backups that were complete count (their sidecar says so); leftovers were never backups.
      // A damaged sidecar counts too: it was written by a run, and the archive can no longer be checked against it.
      const damaged = o.verify ? entries.filter((e) => ['checksum-mismatch', 'size-mismatch', 'bad-sidecar'].includes(e.status)) : [];
      if (damaged.length > 0) {
        throw new AppError('BACKUP_VERIFY_FAILED',
          `${damaged.length} backup(s) in ${o.dir ?? settings.dir} fail verification: ${damaged.map((e) => `${e.name} (${e.status})`).join(', ')}`, {
            hint: 'the archive or its .done sidecar changed after it was written (disk or copy damage, or something wrote to it); do not restore from it, use another backup and check the storage; `astore archive verify FILE` tells whether an archive itself still reads whole',
            exitCode: 2,
          });
      }
    });
  backups.command('schedule')
    .description('the scheduled backup: schedule, suspend, next runs, last scheduled run, runs under way, a pending catch-up')
    .option(...CONFIG_OPTION)
    .option(...POSTGRES_OPTION)
    .option(...SECRET_OPTION)
    .option('--json', 'machine-readable output')
    .action(async (o: TargetFlags & { config?: string; json?: boolean }) => {
      const settings = loadBackupSettings({ config: o.config });
      const db = await openTarget(o);
      try {
        assertCurrentRelease((await readStoreFacts(db.pool)).release);
        const st = await scheduleStatus(db.pool, settings);
        const iso = (d: Date | undefined): string | null => d?.toISOString() ?? null;
        if (o.json) {
          printJson({
            schedule: st.schedule, suspend: st.suspend, time_zone: st.timeZone, next: st.next.map(iso), last_schedule: iso(st.lastSlot),
            active: st.active, catch_up: st.catchUp ? { slot: iso(st.catchUp.slot), within_deadline: st.catchUp.withinDeadline } : null,
            dir: settings.dir, keep_daily: settings.keepDaily, keep_weekly: settings.keepWeekly, weekly_backup_day: settings.weeklyBackupDay,
            jobs_success: settings.jobsSuccess, jobs_failed: settings.jobsFailed,
          });
          return;
        }
        const local = (d: Date): string => `${d.toString().replace(/ GMT.*$/, '')} (${d.toISOString()})`;
        process.stdout.write([
          `schedule        ${st.schedule} (${st.timeZone} time)${st.suspend ? '  SUSPENDED (store.backup.suspend)' : ''}`,
          `next runs       ${st.next.length ? st.next.map(local).join('\n                ') : 'none while suspended'}`,
          `last schedule   ${st.lastSlot ? local(st.lastSlot) : 'never'}`,
          `active          ${st.active}`,
          ...(st.catchUp ? [`catch-up        ${local(st.catchUp.slot)} was missed: ${st.catchUp.withinDeadline
            ? 'a serve starting now runs it once' : 'past store.backup.starting_deadline_seconds, it will be skipped'}`] : []),
          `backup dir      ${settings.dir} (keep ${settings.keepDaily} daily, ${settings.keepWeekly} weekly on day ${settings.weeklyBackupDay})`,
          `job history     ${settings.jobsSuccess} succeeded, ${settings.jobsFailed} failed`,
          '',
        ].join('\n'));
      } finally {
        await db.close();
      }
    });
  backups.command('jobs')
    .description('the backup job history (start, end, status, bytes)')
    .option(...POSTGRES_OPTION)
    .option(...SECRET_OPTION)
    .option('--json', 'machine-readable output')
    .action(async (o: TargetFlags & { json?: boolean }) => {
      const db = await openTarget(o);
      try {
        assertCurrentRelease((await readStoreFacts(db.pool)).release);
        const jobs = await listJobs(db.pool);
        if (o.json) printJson(jobs);
        else printTable(jobs.map((j) => ({ id: j.id, trigger: j.trigger, started: j.startedAt.toISOString(), finished: j.finishedAt?.toISOString(), status: j.status, bytes: j.bytes, file: j.file })), ['id', 'trigger', 'started', 'finished', 'status', 'bytes', 'file']);
      } finally {
        await db.close();
      }
    });
}
