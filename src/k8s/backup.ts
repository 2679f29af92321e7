/**
 * Scheduled backups as the seeds deploy them: the CronJob `<instance>-store-cronjob` running
 * `astore backup-job` into the PVC `<instance>-store-db-backup-pvc` mounted at /store-backups,
 * its pods labelled `component=store-cronjob`, and the encryption key copied beside the data.
 */
import type { BackupSettings } from '../backup/index.ts';
import type { ManifestDocument } from './document.ts';
import { BACKUP_DIR, databaseAccess, KEY_FILE_NAME, keyAccess, type EnvVar, type StoreFiles } from './mounts.ts';
import { labels, objectMeta } from './names.ts';
import type { ManifestOptions } from './options.ts';
import { INIT_CONTAINER_REQUESTS, podSpec, type ContainerPlan } from './pod.ts';
import { cronJobSchedule } from './schedule.ts';

/**
 * The settings `astore backup-job` reads in the pod, as variables of the CronJob's container: the
 * seeds change all seven backup settings with `oc edit cronjob $INSTANCE-store-cronjob`, and these
 * are what that edit reaches besides the CronJob's own fields. Suspend, schedule and starting
 * deadline are those fields only, so an operator who resumes or reschedules the CronJob does not
 * find its pods obeying a stale copy.
 */
function backupJobEnv(s: BackupSettings): EnvVar[] {
  return Object.entries({
    STORE_BACKUP_DIR: BACKUP_DIR,
    STORE_BACKUP_ENGINE: s.engine,
    STORE_BACKUP_HISTORY_JOBS_SUCCESS: s.jobsSuccess,
    STORE_BACKUP_HISTORY_JOBS_FAILED: s.jobsFailed,
    STORE_BACKUP_HISTORY_FILES_WEEKLY_BACKUP_DAY: s.weeklyBackupDay,
    STORE_BACKUP_HISTORY_FILES_KEEP_WEEKLY: s.keepWeekly,
    STORE_BACKUP_HISTORY_FILES_KEEP_DAILY: s.keepDaily,
  }).map(([name, value]) => ({ name, value: String(value) }));
}

export function backupManifests(o: ManifestOptions, files: StoreFiles): ManifestDocument[] {
  const s = o.backup;
  const db = databaseAccess(files);
  const key = keyAccess(files);
  const podLabels = labels(o.instance, 'store-cronjob');
  // The seeds back the key up beside the data; `secret export` also refuses a key the data is not
  // encrypted with, so a wrong key fails the job instead of being kept as the backup's key.
  const exportKey: ContainerPlan = {
    name: 'export-key',
    // --keep-other: after the store's key changed (a restore of another store's data), the old key
    // is kept under its fingerprint for the older backups instead of failing every run.
    args: ['secret', 'export', '--name', o.encryptionSecret, '--keep-other', '-o', `${BACKUP_DIR}/${KEY_FILE_NAME}`],
    env: [...key.env, ...db.env],
    files: [...key.files, ...db.files, files.backups],
    requests: INIT_CONTAINER_REQUESTS,
  };
  const backupJob: ContainerPlan = {
    name: 'backup-job',
    args: ['backup-job'],
    env: [...backupJobEnv(s), ...db.env],
    files: [...db.files, files.backups],
    requests: { cpu: '250m', memory: '256Mi' },
  };
  return [
    {
      comment: `${o.names.backupPvc}: the backup directory (${BACKUP_DIR}); move backups off the cluster too`,
      object: {
        apiVersion: 'v1', kind: 'PersistentVolumeClaim',
        metadata: objectMeta(o.names.backupPvc, o.instance, o.namespace, 'store-cronjob'),
        spec: {
          accessModes: ['ReadWriteOnce'],
          ...(o.storageClass === undefined ? {} : { storageClassName: o.storageClass }),
          resources: { requests: { storage: o.backupStorage } },
        },
      },
    },
    {
      comment: `${o.names.cronJob}: astore backup-job on store.backup.schedule; kubectl edit cronjob ${o.names.cronJob} changes every backup setting (schedule, suspend, history limits, and the container's STORE_BACKUP_* retention)`,
      object: {
        apiVersion: 'batch/v1', kind: 'CronJob',
        metadata: objectMeta(o.names.cronJob, o.instance, o.namespace, 'store-cronjob'),
        spec: {
          schedule: cronJobSchedule(s.schedule),
          suspend: s.suspend,
          concurrencyPolicy: 'Forbid',
          successfulJobsHistoryLimit: s.jobsSuccess,
          failedJobsHistoryLimit: s.jobsFailed,
          ...(s.startingDeadlineSeconds === undefined ? {} : { startingDeadlineSeconds: s.startingDeadlineSeconds }),
          jobTemplate: {
            metadata: { labels: podLabels },
            spec: {
              // A failed run is recorded in the store's job history (astore backups jobs); run again
              // at once it would mostly fail the same way, and the next slot tries anyway.
              backoffLimit: 0,
              template: {
                metadata: { labels: podLabels },
                spec: podSpec(o, { initContainers: [exportKey], containers: [backupJob], extra: { restartPolicy: 'Never' } }),
              },
            },
          },
        },
      },
    },
  ];
}
