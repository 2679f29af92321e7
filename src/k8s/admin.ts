/**
 * The seeds' store-admin: a Deployment of one `astore store-admin` (pods labelled
 * `component=store-admin`, container `store-admin`), where the seeds' retraining switches live.
 * Their TemporaryPatch sets AUTO_RETRAIN and the AUTO_RETRAIN_ALL_* variables on this container,
 * so that `kubectl set env deployment/NAME-store-admin -c store-admin …` does here what it does
 * there, restarting no API replica, and their validation reads this pod's log.
 */
import { autoRetrainAllEnv } from './auto-retrain.ts';
import type { ManifestDocument } from './document.ts';
import { databaseAccess, keyAccess, type StoreFiles } from './mounts.ts';
import type { ManifestOptions } from './options.ts';
import { deployment, type ContainerPlan } from './pod.ts';

export function adminManifests(o: ManifestOptions, files: StoreFiles): ManifestDocument[] {
  const db = databaseAccess(files);
  const key = keyAccess(files);
  const admin: ContainerPlan = {
    name: 'store-admin',
    args: ['store-admin'],
    env: [...key.env, ...db.env, ...autoRetrainAllEnv(o.autoRetrainAllSchedule, o.trainingReplicas)],
    files: [...db.files, ...key.files],
    // It only queues work and waits: the training is the workers'.
    requests: { cpu: '50m', memory: '128Mi' },
  };
  return [{
    comment: `${o.names.admin}: astore store-admin, the AUTO_RETRAIN sweep and the AUTO_RETRAIN_ALL_* schedule (kubectl set env deployment/${o.names.admin} -c store-admin …); `
      + `its log has the [RETRAIN-ALL-SUMMARY] lines`,
    // One replica: a second would sweep twice and wait on the first's retrain-all (one runs at a time).
    object: deployment(o, o.names.admin, 'store-admin', 1, admin),
  }];
}
