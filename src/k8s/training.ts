/** The training replicas: a Deployment of `astore train-worker`, named as the seeds name theirs. */
import type { ManifestDocument } from './document.ts';
import { databaseAccess, keyAccess, type StoreFiles } from './mounts.ts';
import { labels, objectMeta } from './names.ts';
import type { ManifestOptions } from './options.ts';
import { podSpec, type ContainerPlan } from './pod.ts';

export function trainingManifests(o: ManifestOptions, files: StoreFiles): ManifestDocument[] {
  const db = databaseAccess(files);
  const key = keyAccess(files);
  const selector = labels(o.instance, 'clu-training');
  const worker: ContainerPlan = {
    name: 'train-worker',
    // One training per pod: capacity is then counted in replicas, as the seeds' batch rule counts
    // it, and the default (the node's cores − 1) would not see the pod's CPU share.
    args: ['train-worker', '--concurrency', '1', ...db.args],
    env: [...key.env, ...db.env],
    files: [...db.files, ...key.files],
  };
  return [{
    comment: `${o.names.training}: astore train-worker, ${o.trainingReplicas} replica(s); on SIGTERM a worker finishes or hands back its trainings within the 30 s grace period`,
    object: {
      apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: objectMeta(o.names.training, o.instance, o.namespace, 'clu-training'),
      spec: {
        replicas: o.trainingReplicas,
        selector: { matchLabels: selector },
        template: { metadata: { labels: selector }, spec: podSpec(o.image, { containers: [worker] }) },
      },
    },
  }];
}
