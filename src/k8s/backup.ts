/**
 * Scheduled backups as the seeds deploy them: the CronJob `<instance>-store-cronjob` running
 * `astore backup-job` into the PVC `<instance>-store-db-backup-pvc` mounted at /store-backups,
 * its pods labelled `component=store-cronjob`, and the encryption key copied beside the data.
 */
import { stringify } from 'yaml';
import type { BackupSettings } from '../backup/index.ts';
import type { ManifestDocument } from './document.ts';
import { BACKUP_DIR, CONFIG_FILE_NAME, databaseAccess, KEY_FILE_NAME, keyAccess, type StoreFiles } from './mounts.ts';
import { labels, objectMeta } from './names.ts';
import type { ManifestOptions } from './options.ts';
import { INIT_CONTAINER_REQUESTS, podSpec, type ContainerPlan } from './pod.ts';
import { cronJobSchedule } from './schedule.ts';

/**
 * The settings `astore backup-job` reads in the pod. Suspend, schedule and starting deadline are
 * left out: they are the CronJob's own fields, and an operator who resumes or reschedules it
 * (the seeds' `oc edit cronjob`) must not find the pods still obeying a stale copy.
 */
function backupJobConfig(s: BackupSettings): string {
  return stringify({
    'store.backup.dir': BACKUP_DIR,
    'store.backup.engine': s.engine,
    'store.backup.history.jobs.success': s.jobsSuccess,
    'store.backup.history.jobs.failed': s.jobsFailed,
    'store.backup.history.files.weekly_backup_day': s.weeklyBackupDay,
    'store.backup.history.files.keep_weekly': s.keepWeekly,
    'store.backup.history.files.keep_daily': s.keepDaily,
  });
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
    args: ['secret', 'export', '--name', o.encryptionSecret, '--keep-other', '-o', `${BACKUP_DIR}/${KEY_FILE_NAME}`, ...db.args],
    env: [...key.env, ...db.env],
    files: [...key.files, ...db.files, files.backups],
    requests: INIT_CONTAINER_REQUESTS,
  };
  const backupJob: ContainerPlan = {
    name: 'backup-job',
    args: ['backup-job', '--config', files.config.path, ...db.args],
    env: db.env,
    files: [files.config, ...db.files, files.backups],
    requests: { cpu: '250m', memory: '256Mi' },
  };
  return [
    {
      comment: `${o.names.config}: the backup settings astore backup-job reads (directory, engine, retention)`,
      object: {
        apiVersion: 'v1', kind: 'ConfigMap',
        metadata: objectMeta(o.names.config, o.instance, o.namespace, 'store-cronjob'),
        data: { [CONFIG_FILE_NAME]: backupJobConfig(s) },
      },
    },
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
      comment: `${o.names.cronJob}: astore backup-job on store.backup.schedule (suspend with store.backup.suspend or kubectl patch)`,
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
