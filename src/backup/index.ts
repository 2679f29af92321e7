/**
 * Backups of the store: on-demand archives (`astore backup`), the scheduled job with the seeds'
 * retention (`astore backup-job`, and the scheduler inside `astore serve`), the backup directory
 * catalog (`astore backups list`) and the connection from a Kubernetes store secret.
 */
export {
  loadBackupSettings, defaultSettings, envName, BACKUP_ENGINES, type BackupEngineName, type BackupSettings, type LoadSettingsOptions,
} from './settings.ts';
export { connectionFromSecretYaml, readSecretConnection } from './secret-connection.ts';
export { takeBackup, readStoreFacts, type BackupSummary, type StoreFacts, type TakeBackupOptions } from './take.ts';
export { storeDumpEngine, pgDumpEngine, engineFor, type DumpEngine, type DumpRequest, type DumpStats } from './engine.ts';
export {
  listBackups, backupName, parseBackupName, isWeekly, sidecarPath, sha256File,
  type BackupEntry, type BackupStatus, type Sidecar,
} from './catalog.ts';
export { planRetention, applyRetention, type RetentionLimits, type RetentionPlan, type RetentionResult } from './retention.ts';
export { listJobs, pruneJobs, type BackupJob } from './jobs.ts';
export { runBackupJob, BACKUP_LOCK, type RunOptions, type RunResult } from './run.ts';
export { removeLiveTempFiles } from './atomic-file.ts';
export { scheduleStatus, type ScheduleStatus } from './schedule-status.ts';
export { startBackupScheduler, latestSlotBetween, type BackupScheduler, type SchedulerOptions } from './scheduler.ts';
