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
    // --no-sweep: the store-admin pod sweeps, under the seeds' AUTO_RETRAIN set there; the workers
    // train what is queued, so with AUTO_RETRAIN=false that is retrain-all's batches alone.
    args: ['train-worker', '--concurrency', '1', '--no-sweep'],
    env: [...key.env, ...db.env],
    files: [...db.files, ...key.files],
    // A whole CPU for its one training: the seeds want CPUs dedicated to training.
    requests: { cpu: '1', memory: '1Gi' },
  };
  return [{
    comment: `${o.names.training}: astore train-worker, ${o.trainingReplicas} replica(s); on SIGTERM a worker finishes or hands back its trainings within the 30 s grace period`,
    object: deployment(o, o.names.training, 'clu-training', o.trainingReplicas, worker),
  }];
}
