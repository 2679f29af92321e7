/** The training replicas: a Deployment of `astore train-worker`, named as the seeds name theirs. */
import type { ManifestDocument } from './document.ts';
import { databaseAccess, keyAccess, type StoreFiles } from './mounts.ts';
import type { ManifestOptions } from './options.ts';
import { deployment, type ContainerPlan } from './pod.ts';

export function trainingManifests(o: ManifestOptions, files: StoreFiles): ManifestDocument[] {
  const db = databaseAccess(files);
  const key = keyAccess(files);
  const worker: ContainerPlan = {
    name: 'train-worker',
    // One training per pod: capacity is then counted in replicas, as the seeds' batch rule counts
    // it, and the default (the node's cores − 1) would not see the pod's CPU share.
    args: ['train-worker', '--concurrency', '1'],
    // With the auto-retrain-all schedule, the workers train only what retrain-all submits: their
    // sweep would otherwise queue every stale workspace at once, as serve's no longer does.
    env: [...key.env, ...db.env, ...(o.autoRetrainAllSchedule === undefined ? [] : [{ name: 'AUTO_RETRAIN', value: 'false' }])],
    files: [...db.files, ...key.files],
    // A whole CPU for its one training: the seeds want CPUs dedicated to training.
    requests: { cpu: '1', memory: '1Gi' },
  };
  return [{
    comment: `${o.names.training}: astore train-worker, ${o.trainingReplicas} replica(s); on SIGTERM a worker finishes or hands back its trainings within the 30 s grace period`,
    object: deployment(o, o.names.training, 'clu-training', o.trainingReplicas, worker),
  }];
}
