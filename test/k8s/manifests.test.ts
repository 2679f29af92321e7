/**
 * `astore k8s manifests` emits the seeds' deployment: the CronJob `<instance>-store-cronjob` with
 * the backup settings (seeds' defaults, or a config file and STORE_BACKUP_* overrides), its pods
 * labelled `component=store-cronjob` and mounting `<instance>-store-db-backup-pvc` at
 * /store-backups, the serve, train-worker and store-admin Deployments, and references to the
 * Secrets only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadBackupSettings } from '../../src/backup/index.ts';
import { parseCron } from '../../src/schedule/index.ts';
import { readServiceSettings } from '../../src/service/index.ts';
import { cleanEnv, containers, find, manifests, objects, parseObjects, podTemplates, type Obj } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'astore-k8s-'));
after(() => rmSync(root, { recursive: true, force: true }));

const envOf = (c: Obj): NodeJS.ProcessEnv => Object.fromEntries((c.env ?? []).map((e: Obj) => [e.name, e.value]));

test('defaults: the seeds\' names, labels, schedule and limits, and the backup PVC at /store-backups', { timeout: 60_000 }, async () => {
  const objs = await objects(['--instance', 'wa']);
  assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
    'CronJob/wa-store-cronjob', 'Deployment/wa-clu-training', 'Deployment/wa-store', 'Deployment/wa-store-admin',
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

  // The pod's backup-job reads its settings from its container's variables, which `kubectl edit
  // cronjob` reaches as the seeds' `oc edit cronjob` does: the backup directory is the PVC.
  assert.deepEqual(job.args, ['backup-job']);
  const inPod = loadBackupSettings({ env: { ...envOf(job), ASTORE_HOME: join(root, 'no-home') } });
  assert.equal(inPod.dir, '/store-backups');
  assert.deepEqual({ ...inPod, dir: undefined }, { ...loadBackupSettings({ env: { ASTORE_HOME: root } }), dir: undefined });

  const store = find(objs, 'Deployment', 'wa-store');
  assert.equal(store.spec.template.metadata.labels.component, 'store');
  assert.deepEqual(store.spec.selector.matchLabels, store.spec.template.metadata.labels);
  assert.deepEqual(find(objs, 'Service', 'wa-store').spec.selector, store.spec.template.metadata.labels);
  const training = find(objs, 'Deployment', 'wa-clu-training');
  assert.equal(training.spec.replicas, 1);
  assert.deepEqual(training.spec.template.spec.containers[0].args, ['train-worker', '--concurrency', '1', '--no-sweep'],
    'the workers train what is queued; the store-admin pod sweeps');
  // The seeds' store-admin: they patch its container's env and read its pod's log by component=store-admin.
  const admin = find(objs, 'Deployment', 'wa-store-admin');
  assert.equal(admin.spec.replicas, 1);
  assert.equal(admin.spec.template.metadata.labels.component, 'store-admin');
  assert.deepEqual(admin.spec.template.spec.containers.map((c: Obj) => [c.name, c.args]), [['store-admin', ['store-admin']]]);
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
    // In the environment, not a flag: `kubectl exec … astore backup` in any of these pods reaches the same database.
    assert.equal(env.ASTORE_POSTGRES, '/etc/astore/postgres/postgres.yaml', owner);
    assert.ok(!container.args.includes('--postgres'), owner);
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

  const job = cron.spec.jobTemplate.spec.template.spec.containers.find((c: Obj) => c.args[0] === 'backup-job');
  const inPod = loadBackupSettings({ env: { ...envOf(job), ASTORE_HOME: join(root, 'no-home') } });
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

test('serve: scheduled backups left to the CronJob, training to the train-worker replicas, retrain-all to store-admin as the seeds size it', { timeout: 60_000 }, async () => {
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
  assert.equal(settings.retrainAll, undefined, 'no serve replica runs retrain-all');
  assert.equal(settings.autoRetrain, false, 'opening a skill does not queue it outside the batches');
  // What astore store-admin makes of its environment: the seeds' settings.
  const admin = readServiceSettings(envOf(find(objs, 'Deployment', 'wa-store-admin').spec.template.spec.containers[0]));
  assert.deepEqual(admin.retrainAll, {
    schedule: '0 0 3 * * ?',
    options: { batchSize: 10, waitBetweenBatchesS: 50, waitBetweenTrainingsS: 1 },
  });
  assert.equal(admin.autoRetrain, false, 'AUTO_RETRAIN=false, the seeds\' first step: no sweep ahead of the batches');
  const worker = find(objs, 'Deployment', 'wa-clu-training').spec.template.spec.containers[0];
  assert.ok(worker.args.includes('--no-sweep'), 'the train-workers do not sweep stale workspaces ahead of the batches');
  assert.deepEqual(serve.args.slice(serve.args.indexOf('--training-threads'), serve.args.indexOf('--training-threads') + 2), ['--training-threads', '0']);
  assert.equal(serve.readinessProbe.httpGet.path, '/health');
  assert.equal(serve.livenessProbe, undefined);
});

test("the seeds' CLU_TRAINING_REPLICAS sets the train-worker replicas (and the retrain-all batches) unless --training-replicas does", { timeout: 60_000 }, async () => {
  const run = async (args: string[], env: NodeJS.ProcessEnv): Promise<Obj[]> => {
    const r = await manifests(['--instance', 'wa', '--auto-retrain-all-schedule', '0 0 3 * * ?', ...args], cleanEnv(env));
    assert.equal(r.code, 0, r.output);
    return parseObjects(r.stdout);
  };
  const replicas = (objs: Obj[]): unknown => find(objs, 'Deployment', 'wa-clu-training').spec.replicas;
  const fromEnv = await run([], { CLU_TRAINING_REPLICAS: '7' });
  assert.equal(replicas(fromEnv), 7);
  assert.equal(envOf(find(fromEnv, 'Deployment', 'wa-store-admin').spec.template.spec.containers[0]).BATCH_RETRAIN_ALL_SIZE, '14');
  assert.equal(replicas(await run(['--training-replicas', '3'], { CLU_TRAINING_REPLICAS: '7' })), 3, 'the flag wins');
  assert.equal(replicas(await run([], {})), 1);
  const bad = await manifests(['--instance', 'wa'], cleanEnv({ CLU_TRAINING_REPLICAS: 'five' }));
  assert.equal(bad.code, 2, bad.output);
  assert.match(bad.stderr, /error \[ARGUMENT_INVALID\]: CLU_TRAINING_REPLICAS must be a whole number from 1 to 2147483647, got "five"/);
});

test('without --auto-retrain-all-schedule, serve and store-admin keep AUTO_RETRAIN at its default and run no retrain-all', { timeout: 60_000 }, async () => {
  const objs = await objects(['--instance', 'wa']);
  for (const name of ['wa-store', 'wa-store-admin']) {
    const env = envOf(find(objs, 'Deployment', name).spec.template.spec.containers[0]);
    assert.equal(env.AUTO_RETRAIN, undefined, name);
    assert.equal(env.AUTO_RETRAIN_ALL_ENABLED, undefined, name);
    assert.deepEqual([readServiceSettings(env).autoRetrain, readServiceSettings(env).retrainAll], [true, undefined], name);
  }
});

test('a backup schedule Kubernetes would refuse (day-of-week 7, an upper-case macro) becomes an equivalent one it accepts', { timeout: 60_000 }, async () => {
  const cases: Array<[string, string]> = [
    ['0 23 * * 7', '0 23 * * 0'],
    ['0 23 * * 5-7', '0 23 * * 0,5,6'],
    ['@DAILY', '@daily'],
    // Both day fields restricted: the re-written field stays a list, so either day still fires it.
    ['0 23 1 * 7', '0 23 1 * 0'],
    // A step that runs to 7 in the store's range, and only to 6 in Kubernetes'.
    ['0 23 * * 1/3', '0 23 * * 0,1,4'],
    // Ordinary schedules are copied as they are.
    ['30 2 * * 1-5', '30 2 * * 1-5'],
    ['0 23 * * */2', '0 23 * * */2'],
    // "*/1" selects the same days in both ranges, and a list in its place would no longer count as
    // unrestricted: the 15th would fire every day.
    ['0 23 15 * */1', '0 23 15 * */1'],
    ['0 23 * * SUN', '0 23 * * SUN'],
    ['@weekly', '@weekly'],
  ];
  const runs = await Promise.all(cases.map(([schedule]) => objects(['--instance', 'wa'], cleanEnv({ STORE_BACKUP_SCHEDULE: schedule }))));
  runs.forEach((objs, i) => {
    const [given, expected] = cases[i]!;
    const emitted = find(objs, 'CronJob', 'wa-store-cronjob').spec.schedule;
    assert.equal(emitted, expected, given);
    const { source: _a, ...meaning } = parseCron(given);
    const { source: _b, ...emittedMeaning } = parseCron(emitted);
    assert.deepEqual(emittedMeaning, meaning, `${given}: the same days and times`);
  });
});

test('every pod runs as non-root with the runtime\'s seccomp profile, every container without privileges', { timeout: 60_000 }, async () => {
  const [plain, fixed] = await Promise.all([objects(['--instance', 'wa']), objects(['--instance', 'wa', '--run-as', '1001'])]);
  for (const [objs, ids] of [[plain, {}], [fixed, { runAsUser: 1001, runAsGroup: 1001, fsGroup: 1001 }]] as const) {
    const pods = podTemplates(objs);
    assert.equal(pods.length, 4);
    for (const { owner, template } of pods) {
      // Without --run-as no id is written: OpenShift's restricted SCC assigns one from the namespace's range.
      assert.deepEqual(template.spec.securityContext, { runAsNonRoot: true, ...ids, seccompProfile: { type: 'RuntimeDefault' } }, owner);
    }
    for (const { owner, container } of containers(objs)) {
      assert.deepEqual(container.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }, owner);
    }
  }
});

test('every container requests CPU and memory, and sets no limits', { timeout: 60_000 }, async () => {
  const requests = Object.fromEntries(containers(await objects(['--instance', 'wa'])).map(({ owner, container }) => {
    assert.deepEqual(Object.keys(container.resources), ['requests'], owner);
    return [owner, container.resources.requests];
  }));
  assert.deepEqual(requests, {
    'CronJob/wa-store-cronjob/export-key': { cpu: '50m', memory: '64Mi' },
    'CronJob/wa-store-cronjob/backup-job': { cpu: '250m', memory: '256Mi' },
    'Deployment/wa-store/serve': { cpu: '500m', memory: '512Mi' },
    'Deployment/wa-clu-training/train-worker': { cpu: '1', memory: '1Gi' },
    'Deployment/wa-store-admin/store-admin': { cpu: '50m', memory: '128Mi' },
  });
});
