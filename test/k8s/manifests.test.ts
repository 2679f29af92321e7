/**
 * `astore k8s manifests` emits the seeds' deployment: the CronJob `<instance>-store-cronjob` with
 * the backup settings (seeds' defaults, or a config file and STORE_BACKUP_* overrides), its pods
 * labelled `component=store-cronjob` and mounting `<instance>-store-db-backup-pvc` at
 * /store-backups, the serve and train-worker Deployments, and references to the Secrets only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadBackupSettings } from '../../src/backup/index.ts';
import { readServiceSettings } from '../../src/service/index.ts';
import { cleanEnv, containers, find, manifests, objects, podTemplates, type Obj } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'astore-k8s-'));
after(() => rmSync(root, { recursive: true, force: true }));

const envOf = (c: Obj): NodeJS.ProcessEnv => Object.fromEntries((c.env ?? []).map((e: Obj) => [e.name, e.value]));

test('defaults: the seeds\' names, labels, schedule and limits, and the backup PVC at /store-backups', { timeout: 60_000 }, async () => {
  const objs = await objects(['--instance', 'wa']);
  assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
    'ConfigMap/wa-store-config', 'CronJob/wa-store-cronjob', 'Deployment/wa-clu-training', 'Deployment/wa-store',
    'PersistentVolumeClaim/wa-store-db-backup-pvc', 'Service/wa-store',
  ]);
  for (const o of objs) {
    assert.equal(o.metadata.labels['app.kubernetes.io/instance'], 'wa', `${o.kind} labels`);
    assert.equal(o.metadata.namespace, undefined, 'no namespace unless asked for');
  }

  const cron = find(objs, 'CronJob', 'wa-store-cronjob');
  assert.equal(cron.apiVersion, 'batch/v1');
  assert.equal(cron.spec.schedule, '0 23 * * *');
  assert.equal(cron.spec.suspend, false);
  assert.equal(cron.spec.successfulJobsHistoryLimit, 30);
  assert.equal(cron.spec.failedJobsHistoryLimit, 10);
  assert.equal(cron.spec.concurrencyPolicy, 'Forbid');
  assert.equal(cron.spec.startingDeadlineSeconds, undefined);
  const pod = cron.spec.jobTemplate.spec.template;
  assert.equal(pod.metadata.labels.component, 'store-cronjob');
  assert.equal(pod.spec.restartPolicy, 'Never');
  const pvcVolume = pod.spec.volumes.find((v: Obj) => v.persistentVolumeClaim);
  assert.equal(pvcVolume.persistentVolumeClaim.claimName, 'wa-store-db-backup-pvc');
  const job = pod.spec.containers.find((c: Obj) => c.args[0] === 'backup-job');
  assert.ok(job, 'the CronJob runs astore backup-job');
  assert.deepEqual(job.volumeMounts.find((m: Obj) => m.name === pvcVolume.name), { name: pvcVolume.name, mountPath: '/store-backups' });

  const pvc = find(objs, 'PersistentVolumeClaim', 'wa-store-db-backup-pvc');
  assert.deepEqual(pvc.spec.accessModes, ['ReadWriteOnce']);
  assert.equal(pvc.spec.resources.requests.storage, '10Gi');

  // The pod's backup-job reads its settings from the ConfigMap: the backup directory is the PVC.
  const config = find(objs, 'ConfigMap', 'wa-store-config').data['config.yaml'];
  const file = join(root, 'default-config.yaml');
  writeFileSync(file, config);
  const inPod = loadBackupSettings({ config: file, env: {} });
  assert.equal(inPod.dir, '/store-backups');
  assert.deepEqual({ ...inPod, dir: undefined }, { ...loadBackupSettings({ env: { ASTORE_HOME: root } }), dir: undefined });

  const store = find(objs, 'Deployment', 'wa-store');
  assert.equal(store.spec.template.metadata.labels.component, 'store');
  assert.deepEqual(store.spec.selector.matchLabels, store.spec.template.metadata.labels);
  assert.deepEqual(find(objs, 'Service', 'wa-store').spec.selector, store.spec.template.metadata.labels);
  const training = find(objs, 'Deployment', 'wa-clu-training');
  assert.equal(training.spec.replicas, 1);
  assert.equal(training.spec.template.spec.containers[0].args[0], 'train-worker');
  const version = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  for (const { owner, container } of containers(objs)) assert.equal(container.image, `assistant-store:${version}`, owner);
});

test('Secrets are referenced by name and mounted, never written', { timeout: 60_000 }, async () => {
  const objs = await objects(['--instance', 'wa', '--postgres-ca-secret', 'wa-postgres-ca']);
  assert.equal(objs.filter((o) => o.kind === 'Secret').length, 0);
  const secretNames = new Set(podTemplates(objs).flatMap(({ template }) => template.spec.volumes.filter((v: Obj) => v.secret).map((v: Obj) => v.secret.secretName)));
  assert.deepEqual([...secretNames].sort(), ['wa-auth-encryption', 'wa-postgres-ca', 'wa-store-postgres']);
  for (const { owner, container } of containers(objs)) {
    const env = envOf(container);
    assert.equal(env.PG_CA_FILE, '/etc/astore/postgres-ca/ca.crt', owner);
    // Every container that opens the store (all but backup-job, which only reads the database) finds the key.
    // It is the Secret `secret export --name` writes, applied as is and mounted as a directory.
    if (container.args[0] !== 'backup-job') assert.equal(env.ASTORE_ENCRYPTION_SECRET, '/etc/astore/encryption', owner);
  }
  // The key is copied beside the backups, as the seeds keep auth-encryption-secret.yaml with the data.
  const cron = find(objs, 'CronJob', 'wa-store-cronjob').spec.jobTemplate.spec.template.spec;
  assert.deepEqual(cron.initContainers[0].args.slice(0, 7), ['secret', 'export', '--name', 'wa-auth-encryption', '--keep-other', '-o', '/store-backups/auth-encryption-secret.yaml']);
  const keyVolume = cron.volumes.find((v: Obj) => v.secret?.secretName === 'wa-auth-encryption');
  assert.deepEqual(keyVolume.secret.items, [{ key: 'auth_encryption_key', path: 'auth_encryption_key' }]);
});

test('a config file and STORE_BACKUP_* give the CronJob its schedule, suspend, limits and deadline', { timeout: 60_000 }, async () => {
  const config = join(root, 'config.yaml');
  writeFileSync(config, [
    'store:',
    '  backup:',
    '    suspend: yes',
    '    schedule: "30 2 * * 1-5"',
    '    history:',
    '      jobs: { success: 5, failed: 2 }',
    '      files: { keep_daily: 3, weekly_backup_day: 6 }',
    'store.backup.starting_deadline_seconds: 600',
    'store.backup.engine: pg_dump',
    'store.backup.dir: /somewhere/else',
    '',
  ].join('\n'));
  const objs = await objects(['--instance', 'wa', '--config', config], cleanEnv({ STORE_BACKUP_HISTORY_JOBS_FAILED: '4' }));
  const cron = find(objs, 'CronJob', 'wa-store-cronjob');
  assert.equal(cron.spec.schedule, '30 2 * * 1-5');
  assert.equal(cron.spec.suspend, true);
  assert.equal(cron.spec.successfulJobsHistoryLimit, 5);
  assert.equal(cron.spec.failedJobsHistoryLimit, 4, 'the environment overrides the file');
  assert.equal(cron.spec.startingDeadlineSeconds, 600);

  const file = join(root, 'pod-config.yaml');
  writeFileSync(file, find(objs, 'ConfigMap', 'wa-store-config').data['config.yaml']);
  const inPod = loadBackupSettings({ config: file, env: {} });
  assert.deepEqual(
    { dir: inPod.dir, engine: inPod.engine, success: inPod.jobsSuccess, failed: inPod.jobsFailed, daily: inPod.keepDaily, weekly: inPod.keepWeekly, day: inPod.weeklyBackupDay },
    { dir: '/store-backups', engine: 'pg_dump', success: 5, failed: 4, daily: 3, weekly: 4, day: 6 },
    'the pod runs with the same retention and engine, into the PVC',
  );
  // Suspend and schedule are the CronJob's: a pod of a resumed CronJob must not find itself suspended.
  assert.equal(inPod.suspend, false);
});

test('a config file with a mistake is refused as astore serve would refuse it', { timeout: 60_000 }, async () => {
  const config = join(root, 'typo.yaml');
  writeFileSync(config, 'store.backup.history.files.keep_dialy: 3\n');
  const r = await manifests(['--instance', 'wa', '--config', config]);
  assert.equal(r.code, 2, r.output);
  assert.match(r.stderr, /error \[BACKUP_CONFIG_INVALID\].*keep_dialy/);
  assert.equal(r.stdout, '');
});

test('serve: scheduled backups left to the CronJob, training to the train-worker replicas, retrain-all as the seeds size it', { timeout: 60_000 }, async () => {
  const objs = await objects(['--instance', 'wa', '--namespace', 'cpd', '--training-replicas', '5', '--store-replicas', '2',
    '--auto-retrain-all-schedule', '0 0 3 * * ?', '--image', 'registry.example.com/astore:1.2.3', '--storage-class', 'fast', '--backup-storage', '50Gi']);
  for (const o of objs) assert.equal(o.metadata.namespace, 'cpd', `${o.kind} namespace`);
  const store = find(objs, 'Deployment', 'wa-store');
  assert.equal(store.spec.replicas, 2);
  assert.equal(find(objs, 'Deployment', 'wa-clu-training').spec.replicas, 5);
  assert.equal(find(objs, 'PersistentVolumeClaim', 'wa-store-db-backup-pvc').spec.storageClassName, 'fast');
  assert.equal(find(objs, 'PersistentVolumeClaim', 'wa-store-db-backup-pvc').spec.resources.requests.storage, '50Gi');
  for (const { owner, container } of containers(objs)) assert.equal(container.image, 'registry.example.com/astore:1.2.3', owner);

  const serve = store.spec.template.spec.containers[0];
  const env = envOf(serve);
  // What astore serve itself makes of that environment.
  assert.equal(loadBackupSettings({ env: { ...env, ASTORE_HOME: root } }).suspend, true);
  const settings = readServiceSettings(env);
  assert.deepEqual(settings.retrainAll, {
    schedule: '0 0 3 * * ?',
    options: { batchSize: 10, waitBetweenBatchesS: 50, waitBetweenTrainingsS: 1 },
  });
  assert.equal(settings.autoRetrain, true);
  assert.deepEqual(serve.args.slice(serve.args.indexOf('--training-threads'), serve.args.indexOf('--training-threads') + 2), ['--training-threads', '0']);
  assert.equal(serve.readinessProbe.httpGet.path, '/health');
  assert.equal(serve.livenessProbe, undefined);
});
