/**
 * Kubernetes manifests for one store deployment (`astore k8s manifests`): `astore serve`, the
 * `astore train-worker` replicas, and the seeds' backup CronJob with its PVC and settings, each
 * container running a command line of this CLI against Secrets the operator creates.
 */
export { generateManifests } from './manifests.ts';
export type { ManifestInput } from './options.ts';
export { INSTANCE_MAX_LENGTH } from './names.ts';
export { defaultImage } from './version.ts';
export { writeManifestsFile } from './write.ts';
