/**
 * The API: a Deployment of `astore serve` (the seeds find it by `component=store`) and the Service
 * in front of it, which is also what pgmig's resourceController.yaml points at.
 */
import type { ManifestDocument } from './document.ts';
import { databaseAccess, keyAccess, type StoreFiles } from './mounts.ts';
import { labels, objectMeta } from './names.ts';
import type { ManifestOptions } from './options.ts';
import { deployment, type ContainerPlan } from './pod.ts';

const SERVE_PORT = 8080;

export function storeManifests(o: ManifestOptions, files: StoreFiles): ManifestDocument[] {
  const db = databaseAccess(files);
  const key = keyAccess(files);
  const selector = labels(o.instance, 'store');
  const serve: ContainerPlan = {
    name: 'serve',
    // Training is the train-worker Deployment's work: threads here would size themselves by the
    // node's cores, not the pod's share, and compete with the API for them.
    args: ['serve', '--host', '0.0.0.0', '--port', String(SERVE_PORT), '--training-threads', '0'],
    env: [
      ...key.env, ...db.env,
      // Scheduled backups are the CronJob's: serve's own scheduler would write them into the
      // pod's filesystem, not the backup PVC.
      { name: 'STORE_BACKUP_SUSPEND', value: 'true' },
      // Retrain-all runs in the store-admin pod. With its schedule serve has AUTO_RETRAIN off too,
      // so opening a skill does not queue it outside retrain-all's batches.
      ...(o.autoRetrainAllSchedule === undefined ? [] : [{ name: 'AUTO_RETRAIN', value: 'false' }]),
    ],
    files: [...db.files, ...key.files],
    requests: { cpu: '500m', memory: '512Mi' },
    extra: {
      ports: [{ name: 'http', containerPort: SERVE_PORT }],
      // Readiness only: /health answers 503 while PostgreSQL is unreachable and recovers by
      // itself, so a liveness probe on it would restart every replica during a database outage.
      readinessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 10 },
    },
  };
  return [
    {
      comment: `${o.names.store}: astore serve, the v1 API (migrates the schema on start)`,
      object: deployment(o, o.names.store, 'store', o.storeReplicas, serve),
    },
    {
      comment: `${o.names.store}: the API's address inside the cluster (resourceController.yaml host for pgmig)`,
      object: {
        apiVersion: 'v1', kind: 'Service',
        metadata: objectMeta(o.names.store, o.instance, o.namespace, 'store'),
        spec: { selector, ports: [{ name: 'http', port: SERVE_PORT, targetPort: 'http' }] },
      },
    },
  ];
}
